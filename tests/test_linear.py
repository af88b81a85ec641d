import numpy as np
import pytest
from gradcheck import assert_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cnnlib.layers import conv2d, flatten, linear, linear_backward


def test_lecture_example_is_a_10_by_3072_matrix_multiply():
    rng = np.random.default_rng(0)
    image = rng.standard_normal((1, 3, 32, 32))
    w = rng.standard_normal((10, 3072))
    scores = linear(flatten(image), w)
    assert scores.shape == (1, 10)
    # one score = a 3072-long dot product between a row of w and the stretched image
    assert_allclose(scores[0, 4], w[4] @ image.reshape(-1))
    # the same layer as a CONV with R = H, S = W: E = F = 1
    as_conv = conv2d(image, w.reshape(10, 3, 32, 32))
    assert as_conv.shape == (1, 10, 1, 1)
    assert_allclose(as_conv[:, :, 0, 0], scores)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.booleans(), st.integers(0, 2**32 - 1))
def test_backward_matches_numeric_gradient(N, K, M, bias, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((N, K)), rng.standard_normal((M, K))
    b = rng.standard_normal(M) if bias else None
    dout = rng.standard_normal((N, M))
    dx, dw, db = linear_backward(dout, x, w)
    assert_grad(lambda v: linear(v, w, b), x, dout, dx)
    assert_grad(lambda v: linear(x, v, b), w, dout, dw)
    if bias:
        assert_grad(lambda v: linear(x, w, v), b, dout, db)


def test_float32_in_float32_out():
    x = np.ones((2, 3), np.float32)
    w = np.ones((4, 3), np.float32)
    assert linear(x, w, np.zeros(4, np.float32)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in linear_backward(np.ones((2, 4), np.float32), x, w))


def test_flatten_keeps_the_batch_axis():
    assert flatten(np.zeros((2, 16, 5, 5))).shape == (2, 400)
    with pytest.raises(ValueError, match=r"x must have a batch axis and at least one more; got shape \(3,\)"):
        flatten(np.zeros(3))


@pytest.mark.parametrize(
    "x, w, b, message",
    [
        (np.zeros(3), np.zeros((2, 3)), None, r"x must be a 2-D array \(N, K\)"),
        (np.zeros((1, 3)), np.zeros(3), None, r"w must be a 2-D array \(M, K\)"),
        (np.zeros((1, 3)), np.zeros((2, 4)), None, r"w must have K = 3 columns to match x \(1, 3\); got w \(2, 4\)"),
        (np.zeros((1, 3)), np.zeros((2, 3)), np.zeros(3), r"b must have shape \(M,\) = \(2,\); got \(3,\)"),
    ],
)
def test_bad_arguments_are_named(x, w, b, message):
    with pytest.raises(ValueError, match=message):
        linear(x, w, b)


def test_bad_dout_is_named():
    with pytest.raises(ValueError, match=r"dout must have shape \(N, M\) = \(1, 2\); got \(2, 1\)"):
        linear_backward(np.zeros((2, 1)), np.zeros((1, 3)), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="w must hold real numbers"):
        linear(np.zeros((1, 3)), np.array([["a", "b", "c"]]))
