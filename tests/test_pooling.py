import numpy as np
import pytest
from gradcheck import assert_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from cnnlib.layers import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

SLIDE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])


def loop_pool(x, size, stride, padding, op, fill):
    """Reference: one window at a time, on an explicitly padded copy."""
    (R, S), (U, V), (P, Q) = size, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (Q, Q)), constant_values=fill)
    N, C, Hp, Wp = xp.shape
    E, F = (Hp - R) // U + 1, (Wp - S) // V + 1
    out = np.empty((N, C, E, F), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for e in range(E):
                for f in range(F):
                    out[n, c, e, f] = op(xp[n, c, e * U : e * U + R, f * V : f * V + S])
    return out


def test_slide_example():
    assert_array_equal(max_pool2d(SLIDE[None, None], 2)[0, 0], [[6, 8], [3, 4]])
    assert_array_equal(avg_pool2d(SLIDE[None, None], 2)[0, 0], [[3.25, 5.25], [2, 2]])


@st.composite
def pool_cases(draw):
    R, S = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    U, V = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    P, Q = draw(st.integers(0, R // 2)), draw(st.integers(0, S // 2))
    H = draw(st.integers(max(1, R - 2 * P), 7))
    W = draw(st.integers(max(1, S - 2 * Q), 7))
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # distinct values 0.1 apart: no ties, so max pooling is differentiable everywhere
    x = (rng.permutation(N * C * H * W) * 0.1 - 3).reshape(N, C, H, W).astype(dtype)
    return x, (R, S), (U, V), (P, Q)


@settings(max_examples=80, deadline=None)
@given(pool_cases())
def test_forward_matches_loops(case):
    x, size, stride, padding = case
    mx = max_pool2d(x, size, stride, padding)
    av = avg_pool2d(x, size, stride, padding)
    assert mx.dtype == av.dtype == x.dtype
    assert_array_equal(mx, loop_pool(x, size, stride, padding, np.max, -np.inf))
    tol = 1e-6 if x.dtype == np.float32 else 1e-12
    assert_allclose(av, loop_pool(x, size, stride, padding, np.mean, 0.0), rtol=tol, atol=tol)


@settings(max_examples=40, deadline=None)
@given(pool_cases())
def test_backward_matches_numeric_gradient(case):
    x, size, stride, padding = case
    x = x.astype(np.float64)
    dout = np.random.default_rng(0).standard_normal(max_pool2d(x, size, stride, padding).shape)
    for forward, backward in ((max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)):
        dx = backward(dout, x, size, stride, padding)
        assert dx.shape == x.shape
        assert_grad(lambda v, f=forward: f(v, size, stride, padding), x, dout, dx)


def test_channels_are_pooled_separately():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 6))
    whole = max_pool2d(x, 3, 2)
    for c in range(3):
        assert_array_equal(whole[:, c : c + 1], max_pool2d(x[:, c : c + 1], 3, 2))


def test_stride_defaults_to_size_and_max_gradient_goes_to_the_maximum():
    x = SLIDE[None, None].astype(float)
    assert_array_equal(max_pool2d(x, 2), max_pool2d(x, 2, stride=2))
    dx = max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2)
    expected = np.zeros((4, 4))
    expected[1, 1] = expected[1, 3] = expected[2, 0] = expected[3, 3] = 1
    assert_array_equal(dx[0, 0], expected)


def test_float32_backward_keeps_dtype():
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 4)).astype(np.float32)
    assert max_pool2d_backward(np.ones((1, 2, 2, 2), np.float32), x, 2).dtype == np.float32
    assert avg_pool2d_backward(np.ones((1, 2, 2, 2), np.float32), x, 2).dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(x=np.zeros((4, 4))), ValueError, r"x must be a 4-D array \(N, C, H, W\); got shape \(4, 4\)"),
        (dict(x=np.zeros((1, 1, 4, 4), bool)), TypeError, "x must hold real numbers"),
        (dict(size=0), ValueError, "size must be >= 1; got 0"),
        (dict(size=2.0), TypeError, "size must be an int"),
        (dict(stride=0), ValueError, "stride must be >= 1; got 0"),
        (dict(padding=-1), ValueError, "padding must be >= 0; got -1"),
        (dict(padding=2), ValueError, r"padding must be at most half the window size \(2, 2\); got \(2, 2\)"),
        (dict(size=5), ValueError, r"larger than the padded input \(H=4"),
        (dict(x=np.zeros((1, 0, 4, 4))), ValueError, "x must not be empty"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    args = dict(x=np.zeros((1, 1, 4, 4)), size=2, stride=None, padding=0) | kwargs
    for function in (max_pool2d, avg_pool2d):
        with pytest.raises(error, match=message):
            function(**args)


def test_bad_dout_is_named():
    with pytest.raises(ValueError, match=r"dout must have the output's shape \(N, C, E, F\) = \(1, 1, 2, 2\)"):
        max_pool2d_backward(np.ones((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), 2)


def test_pooling_explorer_redraws_for_each_setting():
    from cnnlib.widgets import pooling_explorer

    box = pooling_explorer(np.random.default_rng(3).random((12, 12)))
    kind, size, stride = box.children[0].children
    first = box.children[1].value
    size.value, stride.value, kind.value = 3, 1, "average"
    assert box.children[1].value[:4] == b"\x89PNG" and box.children[1].value != first
    with pytest.raises(ValueError, match=r"fmap must be a 2-D array \(H, W\)"):
        pooling_explorer(np.zeros((1, 12, 12)))
