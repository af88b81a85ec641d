from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import signal

from cnnlib.layers import col2im, conv2d, conv2d_naive, conv_fast, im2col

# conv2d(fast=False) is the readable im2col + GEMM; conv2d(fast=True) picks a method by shape
# (conv_fast.method) and cuts the layer into blocks by shape (conv_fast._blocks). Small test
# shapes take the default fast path (im2col with whole rows at stride 1, plain im2col
# otherwise; the whole batch in one block); these settings force the others.
WINOGRAD = {"_WINOGRAD_MIN_CHANNELS": 1, "_WINOGRAD_MIN_OUTPUTS": 1}
PATHS = {  # name: (fast, conv_fast settings forced)
    "readable im2col (fast=False)": (False, {}),
    "fast, default": (True, {}),
    "fast, one output row per block": (True, {"_BUFFER_BYTES": 1}),
    "fast, a few rows or samples per block": (True, {"_BUFFER_BYTES": 700}),
    "fast, plain im2col": (True, {"_FULL_ROWS_MAX_FILTERS": 0}),
    "fast, plain im2col, one output row per block": (True, {"_FULL_ROWS_MAX_FILTERS": 0, "_BUFFER_BYTES": 1}),
    "fast, winograd where it applies": (True, WINOGRAD),
    "fast, winograd, one tile row per block": (True, {**WINOGRAD, "_BUFFER_BYTES": 1}),
    "fast, winograd, a few tile rows or samples per block": (True, {**WINOGRAD, "_BUFFER_BYTES": 2000}),
}


def conv_on_path(path, x, w, b=None, **kw):
    """conv2d on one of PATHS: the readable im2col, or the fast path with its settings forced."""
    fast, settings = PATHS[path]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setattr(conv_fast, name, value)
        return conv2d(x, w, b, fast=fast, **kw)


@st.composite
def winograd_cases(draw):
    """3 x 3, stride-1, undilated layers: the ones Winograd F(2x2, 3x3) handles."""
    groups = draw(st.integers(1, 2))
    N, C, M = draw(st.integers(1, 3)), groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    P, Q = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H, W = draw(st.integers(max(1, 3 - 2 * P), 9)), draw(st.integers(max(1, 3 - 2 * Q), 9))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((M, C // groups, 3, 3)).astype(dtype)
    b = rng.standard_normal(M).astype(dtype) if draw(st.booleans()) else None
    return x, w, b, (1, 1), (P, Q), (1, 1), groups


def scipy_conv2d(x, w, b, stride, padding, dilation, groups):
    """Reference: scipy.signal.correlate2d per (n, m, channel), then stride by slicing."""
    N, C, H, W = x.shape
    M, Cg, R, S = w.shape
    (U, V), (P, Q), (D, G) = stride, padding, dilation
    Mg = M // groups
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (Q, Q)))
    wd = np.zeros((M, Cg, D * (R - 1) + 1, G * (S - 1) + 1), dtype=x.dtype)
    wd[:, :, ::D, ::G] = w  # a dilated filter is a sparse dense one
    out = []
    for n in range(N):
        maps = []
        for m in range(M):
            g = m // Mg
            acc = sum(
                signal.correlate2d(xp[n, g * Cg + k], wd[m, k], mode="valid") for k in range(Cg)
            )
            maps.append(acc[::U, ::V] + (b[m] if b is not None else 0))
        out.append(maps)
    return np.array(out, dtype=x.dtype)


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 3))
    N = draw(st.integers(1, 2))
    C = groups * draw(st.integers(1, 3))
    M = groups * draw(st.integers(1, 3))
    R, S = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    D, G = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    P, Q = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    U, V = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H = draw(st.integers(max(1, D * (R - 1) + 1 - 2 * P), 9))
    W = draw(st.integers(max(1, G * (S - 1) + 1 - 2 * Q), 9))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((M, C // groups, R, S)).astype(dtype)
    b = rng.standard_normal(M).astype(dtype) if draw(st.booleans()) else None
    return x, w, b, (U, V), (P, Q), (D, G), groups


@settings(max_examples=150, deadline=None)
@given(conv_cases())
def test_fast_naive_and_scipy_agree(case):
    x, w, b, stride, padding, dilation, groups = case
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    fast = conv2d(x, w, b, **kw)
    naive = conv2d_naive(x, w, b, **kw)
    ref = scipy_conv2d(x, w, b, stride, padding, dilation, groups)
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    assert fast.dtype == x.dtype and naive.dtype == x.dtype
    assert fast.shape == ref.shape
    assert_allclose(fast, ref, rtol=tol, atol=tol)
    assert_allclose(naive, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("path", sorted(PATHS))
@settings(max_examples=30, deadline=None)
@given(case=conv_cases())
def test_every_path_agrees_with_scipy(path, case):
    x, w, b, stride, padding, dilation, groups = case
    out = conv_on_path(path, x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    assert out.dtype == x.dtype and out.flags.c_contiguous
    assert_allclose(out, scipy_conv2d(x, w, b, stride, padding, dilation, groups), rtol=tol, atol=tol)


@pytest.mark.parametrize("path", [p for p in sorted(PATHS) if "winograd" in p])
@settings(max_examples=40, deadline=None)
@given(case=winograd_cases())
def test_winograd_agrees_with_scipy(path, case):
    x, w, b, stride, padding, dilation, groups = case
    E, F = (x.shape[2] + 2 * padding[0] - 2, x.shape[3] + 2 * padding[1] - 2)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in PATHS[path][1].items():
            patch.setattr(conv_fast, name, value)
        assert conv_fast.method(w.shape, stride, dilation, groups, E, F) == "winograd"
    fast = conv_on_path(path, x, w, b, padding=padding, groups=groups)
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    assert fast.dtype == x.dtype and fast.flags.c_contiguous
    assert_allclose(fast, scipy_conv2d(x, w, b, stride, padding, dilation, groups), rtol=tol, atol=tol)


@settings(max_examples=100, deadline=None)
@given(conv_cases())
def test_readable_and_fast_paths_agree(case):
    # conv2d(fast=True) is an implementation of conv2d(fast=False): the same numbers up to rounding
    x, w, b, stride, padding, dilation, groups = case
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    assert_allclose(conv2d(x, w, b, **kw), conv2d(x, w, b, fast=False, **kw), rtol=tol, atol=tol)


def test_method_by_shape():
    def method(C, M, R, E, stride=(1, 1), dilation=(1, 1), groups=1):
        return conv_fast.method((M, C // groups, R, R), stride, dilation, groups, E, E)

    assert method(3, 64, 3, 224) == "im2col"  # VGG-16 conv1_1: too few channels for Winograd
    assert method(64, 64, 3, 224) == method(512, 512, 3, 28) == "winograd"  # conv1_2 ... conv4_3
    assert method(512, 512, 3, 14) == "im2col"  # conv5_x: too few tiles
    assert method(256, 384, 3, 13) == "im2col"  # AlexNet conv3
    assert method(256, 256, 3, 56, groups=4) == "winograd"  # C/groups = 64
    assert method(256, 256, 3, 56, groups=8) == "im2col"  # C/groups = 32
    assert method(256, 256, 5, 56) == "im2col"  # 5 x 5
    assert method(256, 256, 3, 56, stride=(2, 2)) == "im2col"
    assert method(256, 256, 3, 56, dilation=(1, 2)) == "im2col"
    assert method(1, 6, 5, 28) == method(6, 16, 5, 10) == "im2col, whole rows"  # LeNet-5 C1, C3
    assert method(3, 6, 5, 28, stride=(2, 2)) == "im2col"  # whole rows need stride 1


def test_blocks_by_shape():
    # VGG-16 conv1_2, float32: 576 x 224 values per output row, 8 rows per 4 MiB block
    assert conv_fast._blocks(1, 224, 576 * 224 * 4)[:2] == [(0, 1, 0, 8), (0, 1, 8, 16)]
    assert len(conv_fast._blocks(1, 224, 576 * 224 * 4)) == 28
    # LeNet-5 C3 at N = 64: 150 x 10 values per row, 100 rows of E = 10 fit: 69 samples, so one block
    assert conv_fast._blocks(64, 10, 150 * 10 * 4) == [(0, 64, 0, 10)]
    # a row larger than the buffer still makes one-row blocks, sample by sample
    assert conv_fast._blocks(2, 2, 2**30) == [(0, 1, 0, 1), (0, 1, 1, 2), (1, 2, 0, 1), (1, 2, 1, 2)]


def test_lecture_example_shapes():
    # 32x32x3 input, six 5x5x3 filters -> 28x28x6 (slide "Multiple Filters")
    x = np.zeros((1, 3, 32, 32))
    assert conv2d(x, np.zeros((6, 3, 5, 5))).shape == (1, 6, 28, 28)
    # 7x7 input, 3x3 filter: 5x5; zero padding 1: 7x7; stride 2: 3x3
    x = np.zeros((1, 1, 7, 7))
    w = np.zeros((1, 1, 3, 3))
    assert conv2d(x, w).shape[2:] == (5, 5)
    assert conv2d(x, w, padding=1).shape[2:] == (7, 7)
    assert conv2d(x, w, stride=2).shape[2:] == (3, 3)


def test_pairs_and_known_values():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, -1.0]]]])  # horizontal difference
    out = conv2d(x, w, stride=(1, 2), padding=(0, 0))
    assert_allclose(out[0, 0], -np.ones((4, 2)))


def test_naive_activation():
    x = np.array([[[[-1.0, 2.0]]]])
    w = np.ones((1, 1, 1, 1))
    assert_allclose(conv2d_naive(x, w, activation="relu")[0, 0, 0], [0.0, 2.0])
    assert_allclose(conv2d_naive(x, w, np.array([1.0]), activation=np.tanh)[0, 0, 0], np.tanh([0.0, 3.0]))


def test_integer_input_is_float64():
    x = np.ones((1, 1, 3, 3), dtype=np.int32)
    w = np.ones((1, 1, 3, 3), dtype=np.int64)
    assert conv2d(x, w).dtype == np.float64
    assert conv2d(x, w)[0, 0, 0, 0] == 9.0


X = np.zeros((1, 4, 6, 6))
Wt = np.zeros((2, 4, 3, 3))


@pytest.mark.parametrize("fn", [conv2d, partial(conv2d, fast=False), conv2d_naive])
@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.zeros((4, 6, 6)), Wt), {}, ValueError, r"x must be a 4-D array \(N, C, H, W\); got shape \(4, 6, 6\)"),
        ((X, np.zeros((2, 4, 3))), {}, ValueError, r"w must be a 4-D array"),
        ((X, np.zeros((2, 3, 3, 3))), {}, ValueError, r"w must have C/groups = 4/1 = 4 channels"),
        ((X, np.zeros((2, 4, 3, 3))), {"groups": 3}, ValueError, r"groups=3 must divide the input channels C=4"),
        ((X, np.zeros((3, 2, 3, 3))), {"groups": 2}, ValueError, r"groups=2 must divide the number of filters M=3"),
        ((X, Wt), {"stride": 0}, ValueError, r"stride must be >= 1; got 0"),
        ((X, Wt), {"dilation": (1, 0)}, ValueError, r"dilation must be >= 1; got 0"),
        ((X, Wt), {"padding": -1}, ValueError, r"padding must be >= 0; got -1"),
        ((X, Wt), {"padding": (1, 2, 3)}, ValueError, r"padding must be an int or a \(vertical, horizontal\) pair"),
        ((X, Wt), {"stride": 1.5}, TypeError, r"stride must be an int; got 1.5"),
        ((X, np.zeros((2, 4, 9, 3))), {}, ValueError, r"filter \(R=9.*larger than the padded input \(H=6"),
        ((X, np.zeros((2, 4, 3, 4))), {"dilation": 2}, ValueError, r"filter \(S=4, dilation 2, spanning 7\).*\(W=6"),
        ((np.array([["a"]]), Wt), {}, TypeError, r"x must hold real numbers"),
        ((X, Wt, np.zeros(3)), {}, ValueError, r"b must have shape \(M,\) = \(2,\); got \(3,\)"),
        ((X, Wt), {"groups": 0}, ValueError, r"groups must be >= 1"),
    ],
)
def test_bad_input_is_named(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_scratch_buffers_are_per_thread_and_never_returned():
    """conv2d reuses work buffers between calls: results must not alias them, and threads
    convolving at once (each with its own buffers) must all get the answer of a lone call."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    cases = [(rng.standard_normal((2, 3, 12, 12)), rng.standard_normal((4, 3, 3, 3))),  # im2col
             (rng.standard_normal((1, 128, 30, 30)).astype(np.float32),  # Winograd
              rng.standard_normal((8, 128, 3, 3)).astype(np.float32))]
    assert [conv_fast.method(w.shape, (1, 1), (1, 1), 1, 10, 10) for _, w in cases[:1]] == ["im2col, whole rows"]
    assert conv_fast.method(cases[1][1].shape, (1, 1), (1, 1), 1, 28, 28) == "winograd"
    first = conv2d(*cases[0])
    alone = [first.copy(), conv2d(*cases[1])]  # the second call reuses the first one's scratch
    assert_allclose(first, conv2d_naive(*cases[0]), rtol=1e-10)

    with ThreadPoolExecutor(4) as pool:
        for i, got in enumerate(pool.map(lambda i: conv2d(*cases[i % 2]), range(16))):
            np.testing.assert_array_equal(got, alone[i % 2])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: im2col(np.zeros((4, 6, 6)), 3, 3), ValueError, r"x must be a 4-D array \(N, C, H, W\)"),
        (lambda: im2col(np.zeros((1, 4, 6, 6)), 0, 3), ValueError, r"R must be >= 1; got 0"),
        (lambda: im2col(np.zeros((1, 4, 6, 6)), 3, 3, stride=(1, 0)), ValueError, r"stride must be >= 1"),
        (lambda: im2col(np.zeros((1, 4, 6, 6)), 9, 3), ValueError, r"filter \(R=9.*larger than the padded input"),
        (lambda: col2im(np.zeros((36, 15)), (1, 4, 6, 6), 3, 3), ValueError,
         r"cols must have im2col's shape \(C R S, N E F\) = \(36, 16\) for x_shape \(1, 4, 6, 6\); got \(36, 15\)"),
        (lambda: col2im(np.zeros((36, 16)), (4, 6, 6), 3, 3), ValueError, r"x_shape must be \(N, C, H, W\)"),
    ],
)
def test_im2col_bad_input_is_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_im2col_layout_matches_conv2d():
    # column (n, e, f) holds the window of output (e, f) of sample n, rows ordered (c, r, s)
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    cols = im2col(x, 3, 2, stride=(2, 1), padding=1, dilation=(1, 2))
    out = conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2))
    assert cols.shape == (3 * 3 * 2, 2 * out.shape[2] * out.shape[3])
    assert_allclose((w.reshape(4, -1) @ cols).reshape(4, 2, *out.shape[2:]).transpose(1, 0, 2, 3), out, atol=1e-12)
