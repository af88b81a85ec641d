import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from cnnlib import activations as A

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "elu"]
DTYPES = [np.float32, np.float64]


def reference(name, x):
    """The lecture's formulas, evaluated in long double on moderate inputs."""
    x = x.astype(np.longdouble)
    return {
        "sigmoid": 1 / (1 + np.exp(-x)),
        "tanh": (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
        "relu": np.maximum(0, x),
        "leaky_relu": np.maximum(0.1 * x, x),
        "elu": np.where(x >= 0, x, np.exp(x) - 1),
    }[name]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_lecture_formula(name, dtype):
    x = np.linspace(-20, 20, 401).astype(dtype)
    f, _ = A.get(name)
    y = f(x)
    assert y.dtype == dtype and y.shape == x.shape
    tol = 1e-6 if dtype == np.float32 else 1e-12
    assert_allclose(y, reference(name, x).astype(np.float64), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_stable_for_huge_inputs(name, dtype):
    x = np.array([-1e4, -700.0, -1.0, 0.0, 1.0, 700.0, 1e4], dtype=dtype)
    f, df = A.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for y in (f(x), df(x)):
            assert np.all(np.isfinite(y)) and y.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_stable_and_normalised(dtype):
    x = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [3.0, 1.0, 0.2]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = A.softmax(x)
    assert y.dtype == dtype
    assert_allclose(y.sum(axis=-1), 1, rtol=1e-6)
    assert_allclose(y[0], [1, 0, 0])
    assert_allclose(y[1], [1 / 3] * 3, rtol=1e-6)
    e = np.exp([3.0, 1.0, 0.2])
    assert_allclose(y[2], e / e.sum(), rtol=1e-6)


def test_softmax_axis():
    x = np.arange(6.0).reshape(2, 3)
    assert_allclose(A.softmax(x, axis=0), A.softmax(x.T, axis=-1).T)
    with pytest.raises(ValueError, match="axis"):
        A.softmax(x, axis=2)


def numeric_derivative(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


finite = st.floats(-30, 30, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(x=arrays(np.float64, st.integers(1, 20), elements=finite))
def test_derivatives_match_numeric(name, x):
    f, df = A.get(name)
    assert_allclose(df(x), numeric_derivative(f, x), rtol=1e-5, atol=1e-7)


@given(
    x=arrays(np.float64, (3, 5), elements=st.floats(-10, 10)),
    dout=arrays(np.float64, (3, 5), elements=st.floats(-1, 1)),
)
def test_softmax_grad_matches_numeric(x, dout):
    grad = A.softmax_grad(x, dout)
    num = np.zeros_like(x)
    h = 1e-6
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        num[idx] = np.sum((A.softmax(xp) - A.softmax(xm)) * dout) / (2 * h)
    assert_allclose(grad, num, rtol=1e-5, atol=1e-8)


def test_alpha_parameters():
    x = np.array([-2.0, 3.0])
    assert_allclose(A.leaky_relu(x, alpha=0.2), [-0.4, 3.0])
    assert_allclose(A.elu(x, alpha=0.5), [0.5 * (np.exp(-2) - 1), 3.0])
    assert_allclose(A.leaky_relu_grad(x, alpha=0.2), [0.2, 1.0])
    with pytest.raises(ValueError, match="alpha"):
        A.elu(x, alpha=-1)
    with pytest.raises(TypeError, match="alpha"):
        A.leaky_relu(x, alpha="big")


def test_bad_input_types():
    with pytest.raises(TypeError, match="x must hold real numbers"):
        A.relu(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        A.sigmoid(np.array([1 + 2j]))
    with pytest.raises(ValueError, match="activation must be one of"):
        A.get("swish")


def test_integers_become_float64():
    assert A.relu(np.array([-1, 2])).dtype == np.float64
