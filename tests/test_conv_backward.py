import numpy as np
import pytest
from gradcheck import assert_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from test_conv import PATHS, conv_cases

from cnnlib.layers import col2im, conv2d, conv2d_backward, conv_fast, im2col

# the backward pass has the readable path and the fast one on its blocks (Winograd is forward only)
BACKWARD_PATHS = [p for p in sorted(PATHS) if "winograd" not in p]


def check_gradients(x, w, b, stride, padding, dilation, groups, seed=0, path="fast, default"):
    """dx, dw, db of conv2d_backward on ``path`` against central differences of conv2d, in float64."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    b = np.zeros(w.shape[0]) if b is None else b.astype(np.float64)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    dout = np.random.default_rng(seed).standard_normal(conv2d(x, w, b, **kw).shape)
    fast, settings = PATHS[path]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setattr(conv_fast, name, value)
        dx, dw, db = conv2d_backward(dout, x, w, fast=fast, **kw)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert_grad(lambda x_: conv2d(x_, w, b, **kw), x, dout, dx)
    assert_grad(lambda w_: conv2d(x, w_, b, **kw), w, dout, dw)
    assert_grad(lambda b_: conv2d(x, w, b_, **kw), b, dout, db)


@settings(max_examples=60, deadline=None)
@given(conv_cases(), st.sampled_from(BACKWARD_PATHS))
def test_gradients_match_numeric(case, path):
    check_gradients(*case, path=path)


@pytest.mark.parametrize("path", BACKWARD_PATHS)
def test_gradients_with_mixed_pairs_and_groups(path):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    check_gradients(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2, path=path)


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_col2im_is_the_adjoint_of_im2col(case):
    # <im2col(x), Y> = <x, col2im(Y)> for every x, Y: col2im is im2col's transpose (its gradient)
    x, w, _, stride, padding, dilation, _ = case
    x = x.astype(np.float64)
    R, S = w.shape[2:]
    cols = im2col(x, R, S, stride, padding, dilation)
    y = np.random.default_rng(0).standard_normal(cols.shape)
    back = col2im(y, x.shape, R, S, stride, padding, dilation)
    assert back.shape == x.shape
    assert_allclose(np.sum(cols * y), np.sum(x * back), rtol=1e-10, atol=1e-10)


def test_known_values():
    # one 4x4 input, a 3x3 box filter, dO = 1: each input pixel gets the number of windows it
    # is in (dx), each weight the sum of the pixels it met (dw), the bias the number of outputs
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), x, np.ones((1, 1, 3, 3)))
    assert_allclose(dx[0, 0], np.outer([1, 2, 2, 1], [1, 2, 2, 1]))
    windows = np.lib.stride_tricks.sliding_window_view(x[0, 0], (3, 3))
    assert_allclose(dw[0, 0], windows.sum(axis=(0, 1)))
    assert_allclose(db, [4.0])


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype, fast):
    x = np.ones((2, 3, 5, 5), dtype=dtype)
    w = np.ones((4, 3, 3, 3), dtype=dtype)
    grads = conv2d_backward(np.ones((2, 4, 3, 3), dtype=dtype), x, w, fast=fast)
    assert [g.dtype for g in grads] == [dtype] * 3


@pytest.mark.parametrize(
    "dout_shape, kwargs, match",
    [
        ((2, 4, 3), {}, r"dout must have the forward output's shape \(N, M, E, F\) = \(2, 4, 3, 3\); got \(2, 4, 3\)"),
        ((2, 4, 5, 5), {}, r"= \(2, 4, 3, 3\); got \(2, 4, 5, 5\)"),
        ((2, 4, 3, 3), {"padding": 1}, r"= \(2, 4, 5, 5\); got \(2, 4, 3, 3\)"),
        ((1, 4, 3, 3), {}, r"got \(1, 4, 3, 3\)"),
    ],
)
def test_wrong_dout_shape_is_named(dout_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv2d_backward(np.zeros(dout_shape), np.zeros((2, 3, 5, 5)), np.zeros((4, 3, 3, 3)), **kwargs)


def test_bad_arguments_are_named():
    x, w, dout = np.zeros((1, 4, 6, 6)), np.zeros((2, 4, 3, 3)), np.zeros((1, 2, 4, 4))
    with pytest.raises(TypeError, match=r"dout must hold real numbers"):
        conv2d_backward(dout.astype(str), x, w)
    with pytest.raises(ValueError, match=r"groups=3 must divide the input channels C=4"):
        conv2d_backward(dout, x, w, groups=3)
    with pytest.raises(ValueError, match=r"w must be a 4-D array"):
        conv2d_backward(dout, x, w[0])
