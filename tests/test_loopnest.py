"""cnnlib.loopnest: every loop order and tiling computes the same convolution as conv2d."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cnnlib import activations
from cnnlib.counting import ConvShape
from cnnlib.layers import conv2d
from cnnlib.loopnest import LOOPS, iterate, run


@st.composite
def cases(draw):
    groups = draw(st.integers(1, 2))
    N, C, M = draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    R, S, P, U = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(0, 1)), draw(st.integers(1, 2))
    U = (U, draw(st.integers(1, 2)))  # (vertical, horizontal) stride
    D = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))  # dilation
    H = draw(st.integers(max(1, D[0] * (R - 1) + 1 - 2 * P), 6))
    W = draw(st.integers(max(1, D[1] * (S - 1) + 1 - 2 * P), 6))
    order = "".join(draw(st.permutations(LOOPS)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((M, C // groups, R, S)).astype(dtype)
    b = rng.standard_normal(M).astype(dtype)
    return x, w, b, U, P, D, groups, order


@settings(max_examples=60, deadline=None)
@given(cases())
def test_any_order_equals_conv2d(case):
    x, w, b, U, P, D, groups, order = case
    out = run(x, w, b, stride=U, padding=P, dilation=D, groups=groups, order=order)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    assert out.dtype == x.dtype
    assert_allclose(out, conv2d(x, w, b, stride=U, padding=P, dilation=D, groups=groups), rtol=tol, atol=tol)


def test_activation_applies_to_each_output():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    ref = conv2d(x, w, b, padding=1)
    assert_allclose(run(x, w, b, padding=1, activation="relu"), activations.relu(ref), atol=1e-12)
    assert_allclose(run(x, w, b, padding=1, activation=np.tanh, order="kijnmxy"), np.tanh(ref), atol=1e-12)


def test_tiled_loop_with_a_partial_last_tile():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 5, 4, 4)), rng.standard_normal((3, 5, 2, 2))
    ref = conv2d(x, w)
    # k (5 channels) in tiles of 2: tiles {0,1}, {2,3}, {4}; the tile loop outside m
    assert_allclose(run(x, w, order="n k1 m x y i j k0", tile={"k": 2}), ref, atol=1e-12)
    # two loops tiled at once, in another order
    out = run(x, w, order="x1 y1 n m k x0 y0 i j", tile={"x": 2, "y": 2})
    assert_allclose(out, ref, atol=1e-12)


def test_iterate_visits_every_mac_once_in_the_given_order():
    shape = ConvShape(N=1, C=3, H=4, W=4, M=2, R=2, S=2)
    slide = list(iterate(shape, "nmxyijk"))
    assert len(slide) == shape.macs == 2 * 3 * 3 * 3 * 4
    assert len(set(slide)) == shape.macs
    assert slide[:3] == [(0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 1), (0, 0, 0, 0, 0, 0, 2)]
    ws = list(iterate(shape, "mkijnxy"))  # weight stationary: one weight, every output it feeds
    assert set(ws) == set(slide)
    assert ws[:2] == [(0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 1, 0, 0, 0)]
    tiled = list(iterate(shape, "n m x y i j k1 k0", tile={"k": 2}))
    assert tiled == slide  # k1, k0 innermost in that order is plain k
    grouped = ConvShape(N=1, C=4, H=3, W=3, M=2, R=1, S=1, groups=2)
    assert {idx[-1] for idx in iterate(grouped)} == {0, 1}  # k counts within a group


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"order": "nmxyij"}, ValueError, r"order must name each loop once"),
        ({"order": "nmxyijj"}, ValueError, r"order must name each loop once"),
        ({"order": "nmxyijk", "tile": {"k": 2}}, ValueError, r"a tiled loop v appears as v1"),
        ({"tile": {"q": 2}}, ValueError, r"tile keys must be loop names"),
        ({"order": "n k1 m x y i j k0", "tile": {"k": 0}}, ValueError, r"tile\['k'\] must be >= 1"),
    ],
)
def test_bad_orders_are_named(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        run(np.zeros((1, 2, 3, 3)), np.zeros((1, 2, 2, 2)), **kwargs)


def test_bad_arrays_are_named():
    with pytest.raises(TypeError, match=r"shape must be a cnnlib.shapes.ConvShape; got tuple"):
        next(iterate((1, 2, 3)))
    with pytest.raises(ValueError, match=r"w must have C/groups = 2/1 = 2 channels"):
        run(np.zeros((1, 2, 3, 3)), np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"b must have shape \(M,\) = \(1,\)"):
        run(np.zeros((1, 2, 3, 3)), np.zeros((1, 2, 2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"x must be a 4-D array"):
        run(np.zeros((2, 3, 3)), np.zeros((1, 2, 2, 2)))
