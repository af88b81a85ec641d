import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from cnnlib.activations import sigmoid, tanh
from cnnlib.approx import lut, sigmoid_pwl

X = np.linspace(-10, 10, 200_001)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pwl_keeps_dtype_and_shape(dtype):
    x = np.linspace(-6, 6, 12, dtype=dtype).reshape(3, 4)
    y = sigmoid_pwl(x)
    assert y.dtype == dtype and y.shape == (3, 4)


def test_pwl_max_error_is_plan_published_value():
    err = np.abs(sigmoid_pwl(X) - sigmoid(X))
    assert 0.0189 < err.max() < 0.0190
    assert abs(abs(X[err.argmax()]) - 1.0) < 1e-9


def test_pwl_symmetric_bounded_and_monotone_but_for_the_jump():
    y = sigmoid_pwl(X)
    assert_allclose(sigmoid_pwl(-X), 1 - y, atol=1e-15)
    assert y.min() == 0.0 and y.max() == 1.0
    drops = np.flatnonzero(np.diff(y) < 0)
    assert len(drops) == 2  # the only places it goes down: the steps across x = -2.375 and 2.375
    for d in drops:
        assert min(abs(X[d]), abs(X[d + 1])) <= 2.375 <= max(abs(X[d]), abs(X[d + 1]))


def test_pwl_continuous_at_1_and_5_jumps_by_1_256_at_2_375():
    for b in (1.0, 5.0):
        assert_allclose(sigmoid_pwl(np.array([b - 1e-12])), sigmoid_pwl(np.array([b])), atol=1e-11)
    jump = sigmoid_pwl(np.array([2.375])) - sigmoid_pwl(np.array([2.375 - 1e-12]))
    assert_allclose(jump, -1 / 256, atol=1e-11)


def test_lut_exact_on_grid_points_and_clamps_outside():
    grid = np.linspace(-8, 8, 17)
    for interpolate in (False, True):
        assert_allclose(lut(sigmoid, grid, entries=17, lo=-8, hi=8, interpolate=interpolate), sigmoid(grid), atol=1e-15)
        assert_array_equal(
            lut(sigmoid, np.array([-50.0, 50.0]), entries=17, lo=-8, hi=8, interpolate=interpolate),
            sigmoid(np.array([-8.0, 8.0])),
        )


@given(entries=st.integers(2, 1024))
def test_lut_errors_within_textbook_bounds(entries):
    """Nearest entry: max|f'| step / 2; interpolation: max|f''| step^2 / 8 (inside [lo, hi])."""
    x = np.linspace(-8, 8, 20_001)
    step = 16 / (entries - 1)
    near = np.abs(lut(sigmoid, x, entries=entries, lo=-8, hi=8) - sigmoid(x)).max()
    inter = np.abs(lut(sigmoid, x, entries=entries, lo=-8, hi=8, interpolate=True) - sigmoid(x)).max()
    assert near <= 0.25 * step / 2 + 1e-12
    assert inter <= 0.0963 * step**2 / 8 + 1e-12


def test_lut_serves_tanh_through_sigmoid():
    x = np.linspace(-4, 4, 1001)
    via_sigmoid = 2 * lut(sigmoid, 2 * x, entries=4096, lo=-8, hi=8, interpolate=True) - 1
    assert_allclose(via_sigmoid, tanh(x), atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lut_keeps_dtype(dtype):
    assert lut(sigmoid, np.zeros(3, dtype=dtype), entries=8, lo=-1, hi=1).dtype == dtype


def test_lut_bad_arguments():
    with pytest.raises(TypeError, match="f must be a function"):
        lut(1.0, np.zeros(3), entries=8, lo=-1, hi=1)
    with pytest.raises(ValueError, match="entries must be >= 2; got 1"):
        lut(sigmoid, np.zeros(3), entries=1, lo=-1, hi=1)
    with pytest.raises(ValueError, match="lo < hi; got lo=1.0, hi=-1.0"):
        lut(sigmoid, np.zeros(3), entries=8, lo=1, hi=-1)
    with pytest.raises(TypeError, match="x must hold real numbers"):
        sigmoid_pwl(np.array(["a"]))
