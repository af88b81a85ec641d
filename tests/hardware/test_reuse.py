"""Reuse counts of a conv layer: identities with the MAC count and a brute-force coverage count."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.counting import ConvShape
from cnnlib.hardware.reuse import reuse
from cnnlib.viz import window_coverage


@st.composite
def shapes(draw):
    R, S = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    P = draw(st.integers(0, 2))
    groups = draw(st.sampled_from([1, 2]))
    return ConvShape(
        N=draw(st.integers(1, 3)),
        C=groups * draw(st.integers(1, 3)),
        H=draw(st.integers(max(1, R - 2 * P), 12)),
        W=draw(st.integers(max(1, S - 2 * P), 12)),
        M=groups * draw(st.integers(1, 4)),
        R=R,
        S=S,
        U=draw(st.integers(1, 3)),
        P=P,
        groups=groups,
    )


def brute_force_coverage(shape):
    """Walk the output positions and filter taps of the lecture's loop nest, one at a time."""
    cover = np.zeros((shape.H + 2 * shape.P, shape.W + 2 * shape.P), dtype=int)
    for x in range(shape.E):
        for y in range(shape.F):
            for i in range(shape.R):
                for j in range(shape.S):
                    cover[shape.U * x + i, shape.U * y + j] += 1
    return cover


@given(shapes())
def test_reuse_times_data_is_the_mac_count(shape):
    r = reuse(shape)
    padded_inputs = shape.N * shape.C * (shape.H + 2 * shape.P) * (shape.W + 2 * shape.P)
    assert r.per_weight * shape.weights == shape.macs
    assert r.per_output * shape.output_activations == shape.macs
    assert r.per_input * padded_inputs == pytest.approx(shape.macs)
    cover = brute_force_coverage(shape)
    assert r.convolutional_input == pytest.approx(cover.mean())
    along_h = window_coverage(shape.H, shape.R, shape.P, shape.U)
    np.testing.assert_array_equal(np.outer(along_h, window_coverage(shape.W, shape.S, shape.P, shape.U)), cover)
    assert r.per_weight == r.convolutional_weight * r.filter


def test_interior_pixel_is_used_R_S_times_at_stride_one():
    shape = ConvShape(N=1, C=1, H=10, W=12, M=1, R=3, S=5)
    cover = np.outer(window_coverage(10, 3), window_coverage(12, 5))  # rows and columns separate
    np.testing.assert_array_equal(cover, brute_force_coverage(shape))
    assert cover.max() == cover[4, 6] == 3 * 5
    assert reuse(shape).convolutional_input == pytest.approx(cover.mean())


def test_fc_layer_has_no_convolutional_reuse():
    r = reuse(ConvShape.fc(N=4, C=256, M=10, H=6, W=6))
    assert (r.convolutional_weight, r.convolutional_input, r.input_fmap, r.filter) == (1, 1.0, 10, 4)
    assert r.per_weight == 4  # one use per sample: nothing for a small memory to keep


def test_bad_shape():
    with pytest.raises(TypeError, match="shape must be a cnnlib.shapes.ConvShape; got dict"):
        reuse({"N": 1})
