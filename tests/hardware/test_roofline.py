"""The roofline: the published machines, the compulsory traffic by hand, properties, a model."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib import nn
from cnnlib.counting import ConvShape, conv_layers
from cnnlib.hardware.roofline import (
    EYERISS,
    TPU_V1,
    Machine,
    compulsory_bytes_unpadded,
    intensity,
    layer_point,
    measure_machine,
    model_points,
)


def test_tpu_v1_numbers():
    assert TPU_V1.peak == pytest.approx(91.75e12, rel=1e-4)  # the paper's "92 TOPS"
    assert TPU_V1.bandwidth == 34e9 and TPU_V1.word_bytes == 1
    # Jouppi et al. put the ridge at ~1350 counting MACs; we count 2 ops per MAC
    assert TPU_V1.ridge / 2 == pytest.approx(1350, rel=0.01)


def test_eyeriss_numbers():
    assert EYERISS.peak == pytest.approx(67.2e9)  # 168 PEs x 2 ops x 200 MHz
    assert EYERISS.bandwidth == pytest.approx(0.48e9)  # 64 bits x 60 MHz
    assert EYERISS.word_bytes == 2
    assert EYERISS.ridge == pytest.approx(140)


def test_compulsory_bytes_unpadded_by_hand():
    shape = ConvShape(N=2, C=3, H=8, W=8, M=4, R=3, S=3, P=1)
    words = 4 * 3 * 3 * 3 + 2 * 3 * 8 * 8 + 2 * 4 * 8 * 8
    assert compulsory_bytes_unpadded(shape, 2) == 2 * words
    assert intensity(shape, 2) == pytest.approx(2 * shape.macs / (2 * words))


def test_fc_is_memory_bound_and_batching_helps():
    fc1, fc64 = ConvShape.fc(N=1, C=9216, M=4096), ConvShape.fc(N=64, C=9216, M=4096)
    for machine in (TPU_V1, EYERISS):
        assert layer_point("fc", fc1, machine).bound == "memory"
    assert intensity(fc1, 1) < 2 < intensity(fc64, 1)


@given(st.floats(1e-3, 1e6), st.floats(1e-3, 1e6))
def test_attainable_is_the_lower_roof(a, b):
    lo, hi = sorted((a, b))
    for m in (TPU_V1, EYERISS):
        assert m.attainable(lo) <= m.attainable(hi) <= m.peak
        assert m.attainable(lo) == pytest.approx(min(m.peak, lo * m.bandwidth))
    np.testing.assert_allclose(EYERISS.attainable([EYERISS.ridge, 10 * EYERISS.ridge]), EYERISS.peak)


@given(st.integers(1, 8), st.integers(1, 32), st.integers(3, 20), st.integers(1, 32), st.integers(1, 3))
def test_layer_point_is_consistent(N, C, H, M, R):
    shape = ConvShape(N=N, C=C, H=H, W=H, M=M, R=R, S=R)
    p = layer_point("x", shape, EYERISS)
    assert p.ops == 2 * shape.macs
    assert p.intensity == pytest.approx(p.ops / p.bytes)
    assert p.attainable <= EYERISS.peak
    assert p.bound == ("memory" if p.intensity < EYERISS.ridge else "compute")


def test_model_points_cover_every_conv_and_fc_layer():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Activation("relu"), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    points = model_points(model, (3, 6, 6), TPU_V1, N=2)
    assert [p.name for p in points] == [name for name, _ in conv_layers(model, (3, 6, 6), 2)]
    assert [p.shape.N for p in points] == [2, 2]
    assert points[1].shape == ConvShape.fc(N=2, C=288, M=10)


def test_measure_machine_runs_small():
    m = measure_machine(n=64, megabytes=1, repeats=1)
    assert m.peak > 0 and m.bandwidth > 0 and m.word_bytes == 4
    assert "64 x 64 matmul" in m.source


def test_bad_input():
    with pytest.raises(ValueError, match="bandwidth must be a finite number > 0; got 0.0"):
        Machine("x", peak=1e9, bandwidth=0, word_bytes=1, source="")
    with pytest.raises(ValueError, match="word_bytes must be >= 1"):
        Machine("x", peak=1e9, bandwidth=1e9, word_bytes=0, source="")
    with pytest.raises(TypeError, match="shape must be a cnnlib.shapes.ConvShape"):
        intensity((1, 2, 3), 1)


def test_plot_roofline_draws_the_roof_and_the_points():
    import matplotlib.pyplot as plt

    from cnnlib.viz import plot_roofline

    fig, ax = plt.subplots()
    points = [
        layer_point("conv", ConvShape(N=1, C=64, H=56, W=56, M=64, R=3, S=3, P=1), EYERISS),
        layer_point("fc", ConvShape.fc(N=1, C=4096, M=1000), EYERISS),
    ]
    plot_roofline(EYERISS, points, xlim=(1, 1e4), ax=ax)
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(y, np.minimum(67.2, x * 0.48))  # GOPS
    assert [len(c.get_offsets()) for c in ax.collections] == [1, 1]  # one CONV circle, one FC cross
    plt.close(fig)
