import numpy as np
import pytest
from gradcheck import assert_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cnnlib.layers import (
    batch_norm,
    batch_norm_backward,
    batch_norm_train,
    conv2d,
    fold_batch_norm,
    linear,
    local_response_norm,
    local_response_norm_backward,
)


def channel_params(rng, C):
    """mean, var (> 0), gamma, beta for C channels."""
    return rng.standard_normal(C), rng.uniform(0.5, 2, C), rng.standard_normal(C), rng.standard_normal(C)


# -- batch normalization ------------------------------------------------------------------

def test_inference_form_is_the_lecture_formula_per_channel():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 4, 5))
    mean, var, gamma, beta = channel_params(rng, 2)
    y = batch_norm(x, mean, var, gamma, beta, eps=1e-3)
    for c in range(2):
        assert_allclose(y[:, c], (x[:, c] - mean[c]) / np.sqrt(var[c] + 1e-3) * gamma[c] + beta[c])


def test_training_form_uses_batch_statistics():
    rng = np.random.default_rng(1)
    x = 3 + 2 * rng.standard_normal((8, 3, 5, 5))
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 4.0])
    y, mean, var = batch_norm_train(x, gamma, beta)
    assert_allclose(mean, x.mean(axis=(0, 2, 3)))
    assert_allclose(var, x.var(axis=(0, 2, 3)))  # biased: divided by N H W
    assert_allclose(y.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    assert_allclose(y.std(axis=(0, 2, 3)), gamma, rtol=1e-5)
    y2, mean2, _ = batch_norm_train(x[:, :, 0, 0], gamma, beta)  # FC outputs (N, C)
    assert_allclose(mean2, x[:, :, 0, 0].mean(axis=0))
    assert_allclose(y2.mean(axis=0), beta, atol=1e-12)


@st.composite
def bn_cases(draw):
    shape = draw(st.sampled_from([(4, 3), (2, 3, 3, 2), (3, 2, 1, 4), (1, 2, 3, 3)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal(shape), *channel_params(rng, shape[1]), rng.standard_normal(shape)


@settings(max_examples=25, deadline=None)
@given(bn_cases())
def test_training_backward_matches_numeric_gradient(case):
    x, _, _, gamma, beta, dout = case
    dx, dgamma, dbeta = batch_norm_backward(dout, x, gamma)
    assert_grad(lambda v: batch_norm_train(v, gamma, beta)[0], x, dout, dx)
    assert_grad(lambda v: batch_norm_train(x, v, beta)[0], gamma, dout, dgamma)
    assert_grad(lambda v: batch_norm_train(x, gamma, v)[0], beta, dout, dbeta)


@settings(max_examples=25, deadline=None)
@given(bn_cases())
def test_inference_backward_matches_numeric_gradient(case):
    x, mean, var, gamma, beta, dout = case
    dx, dgamma, dbeta = batch_norm_backward(dout, x, gamma, mean=mean, var=var)
    assert_grad(lambda v: batch_norm(v, mean, var, gamma, beta), x, dout, dx)
    assert_grad(lambda v: batch_norm(x, mean, var, v, beta), gamma, dout, dgamma)
    assert_grad(lambda v: batch_norm(x, mean, var, gamma, v), beta, dout, dbeta)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("groups, stride, bias", [(1, 1, True), (2, 2, False), (4, 1, True)])
def test_folding_into_the_conv_equals_conv_then_bn(dtype, groups, stride, bias):
    rng = np.random.default_rng(groups)
    x = rng.standard_normal((2, 4, 7, 7)).astype(dtype)
    w = rng.standard_normal((8, 4 // groups, 3, 3)).astype(dtype)
    b = rng.standard_normal(8).astype(dtype) if bias else None
    mean, var, gamma, beta = (v.astype(dtype) for v in channel_params(rng, 8))
    kw = dict(stride=stride, groups=groups, padding=1)
    reference = batch_norm(conv2d(x, w, b, **kw), mean, var, gamma, beta)
    wf, bf = fold_batch_norm(w, b, mean, var, gamma, beta)
    assert wf.dtype == bf.dtype == dtype and wf.shape == w.shape and bf.shape == (8,)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(conv2d(x, wf, bf, **kw), reference, rtol=tol, atol=tol)


def test_folding_into_an_fc_layer():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((3, 6)), rng.standard_normal((4, 6)), rng.standard_normal(4)
    stats = channel_params(rng, 4)
    wf, bf = fold_batch_norm(w, b, *stats)
    assert_allclose(linear(x, wf, bf), batch_norm(linear(x, w, b), *stats), atol=1e-12)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: batch_norm(np.zeros((2, 3, 4)), *np.ones((4, 3))), ValueError,
         r"x must be a 2-D \(N, C\) or 4-D \(N, C, H, W\) array; got shape \(2, 3, 4\)"),
        (lambda: batch_norm(np.zeros((2, 3)), np.zeros(2), *np.ones((3, 3))), ValueError,
         r"mean must have shape \(C,\) = \(3,\); got \(2,\)"),
        (lambda: batch_norm(np.zeros((2, 3)), *np.ones((4, 3)), eps=0), ValueError, "eps must be a finite number > 0"),
        (lambda: batch_norm(np.zeros((2, 3)), *np.ones((4, 3)), eps="1"), TypeError, "eps must be a real number"),
        (lambda: batch_norm(np.zeros((2, 2)), [0, 0], [1, -1], [1, 1], [0, 0]), ValueError, "var must be >= 0"),
        (lambda: batch_norm_train(np.zeros((0, 3)), np.ones(3), np.zeros(3)), ValueError, "x must not be empty"),
        (lambda: batch_norm_backward(np.zeros((2, 2)), np.zeros((2, 3)), np.ones(3)), ValueError,
         r"dout must have the shape of x \(2, 3\); got \(2, 2\)"),
        (lambda: batch_norm_backward(np.zeros((2, 3)), np.zeros((2, 3)), np.ones(3), mean=np.zeros(3)),
         ValueError, "mean and var must be given together"),
        (lambda: fold_batch_norm(np.zeros(3), None, *np.ones((4, 3))), ValueError, "w must be a 4-D"),
        (lambda: fold_batch_norm(np.zeros((2, 3)), np.zeros(3), *np.ones((4, 2))), ValueError,
         r"b must have shape \(C,\) = \(2,\)"),
    ],
)
def test_bn_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- local response normalization -----------------------------------------------------------

def loop_lrn(x, size, alpha, beta, k):
    """Reference: the paper's sum written as a loop over channels, window clipped at the ends."""
    out = np.empty_like(x)
    C = x.shape[1]
    for c in range(C):
        lo, hi = max(0, c - size // 2), min(C - 1, c + (size - 1) // 2)
        s = sum(x[:, j] ** 2 for j in range(lo, hi + 1))
        out[:, c] = x[:, c] / (k + alpha * s) ** beta
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 6), st.floats(0, 0.5), st.floats(0, 1.5), st.floats(0.5, 3),
       st.integers(0, 2**32 - 1))
def test_lrn_matches_loop_and_numeric_gradient(C, size, alpha, beta, k, seed):
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((2, C, 2, 3)), rng.standard_normal((2, C, 2, 3))
    y = local_response_norm(x, size, alpha, beta, k)
    assert_allclose(y, loop_lrn(x, size, alpha, beta, k), rtol=1e-12)
    dx = local_response_norm_backward(dout, x, size, alpha, beta, k)
    assert_grad(lambda v: local_response_norm(v, size, alpha, beta, k), x, dout, dx)


def test_lrn_uses_the_papers_alpha_not_divided_by_size():
    x = np.full((1, 5, 1, 1), 10.0)
    # centre channel: k + alpha * (5 values of 100) = 2 + 1e-4 * 500 = 2.05 (PyTorch would use alpha/5)
    assert_allclose(local_response_norm(x)[0, 2, 0, 0], 10 / 2.05**0.75)
    assert local_response_norm(x.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(x=np.zeros((2, 3))), ValueError, r"x must be a 4-D array \(N, C, H, W\)"),
        (dict(size=0), ValueError, "size must be >= 1; got 0"),
        (dict(size=2.5), TypeError, "size must be an int"),
        (dict(alpha=-1), ValueError, "alpha must be a finite number >= 0"),
        (dict(beta=float("nan")), ValueError, "beta must be a finite number >= 0"),
        (dict(k=0), ValueError, "k must be a finite number > 0; got 0.0"),
    ],
)
def test_lrn_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        local_response_norm(**(dict(x=np.zeros((1, 3, 2, 2))) | kwargs))
