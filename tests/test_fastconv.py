import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from cnnlib import fastconv
from cnnlib.fastconv import (
    conv2d_fft,
    conv2d_toeplitz,
    conv2d_winograd,
    direct_ops,
    fft_ops,
    toeplitz_matrix,
    transform2d_ops,
    winograd_matrices,
    winograd_ops,
)
from cnnlib.layers import conv2d, conv_fast
from cnnlib.shapes import ConvShape

# Lavin and Gray (2016), section 4: F(2x2, 3x3) and F(4x4, 3x3) as published
LAVIN = {
    2: (
        [[1, 1, 1, 0], [0, 1, -1, -1]],
        [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
        [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    ),
    4: (
        [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
        [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
         [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
        [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
         [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
    ),
}


def per_point(AT, G, BT):
    """What F(m, r) computes through point j: A^T[:, j] (x) G[j] (x) B^T[j], for each j.

    Rescaling row j of G and B^T (and column j of A^T) by factors whose product is 1 leaves
    these tensors, and so the algorithm, unchanged."""
    return np.einsum("ij,jk,jl->jikl", AT, G, BT)


def test_cook_toom_gives_lavin_and_grays_matrices():
    for m, (AT, G, BT) in LAVIN.items():
        ours = winograd_matrices(m, 3)
        assert_allclose(per_point(*ours), per_point(np.array(AT), np.array(G), np.array(BT)), atol=1e-15)
    for ours, theirs in zip(winograd_matrices(4, 3), LAVIN[4], strict=True):  # F(4, 3): exactly
        assert_allclose(ours, theirs, atol=1e-15)
    AT, G, BT = winograd_matrices(2, 3)  # F(2, 3): the sign of the point at infinity differs
    assert_array_equal(G, LAVIN[2][1])
    assert_array_equal(AT[:, -1], -np.array(LAVIN[2][0])[:, -1])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_one_dimensional_winograd_is_a_correlation(m, r, seed):
    rng = np.random.default_rng(seed)
    d, g = rng.standard_normal(m + r - 1), rng.standard_normal(r)
    AT, G, BT = winograd_matrices(m, r)
    assert AT.shape == (m, m + r - 1) and G.shape == (m + r - 1, r) and BT.shape == (m + r - 1,) * 2
    assert_allclose(AT @ ((G @ g) * (BT @ d)), np.correlate(d, g, mode="valid"), rtol=1e-9, atol=1e-9)


@st.composite
def stride1_cases(draw, square=False):
    """Stride-1, ungrouped, undilated layers (what Winograd and the FFT handle), float64."""
    N, C, M = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    R = draw(st.integers(1, 5))
    S = R if square else draw(st.integers(1, 5))
    P, Q = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H, W = draw(st.integers(max(1, R - 2 * P), 11)), draw(st.integers(max(1, S - 2 * Q), 11))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((N, C, H, W)), rng.standard_normal((M, C, R, S)), (P, Q)


@settings(max_examples=80, deadline=None)
@given(stride1_cases(square=True), st.integers(1, 6))
def test_winograd_agrees_with_conv2d(case, m):
    x, w, padding = case
    assert_allclose(conv2d_winograd(x, w, m, padding), conv2d(x, w, padding=padding), rtol=1e-8, atol=1e-8)


@settings(max_examples=80, deadline=None)
@given(stride1_cases())
def test_fft_agrees_with_conv2d(case):
    x, w, padding = case
    assert_allclose(conv2d_fft(x, w, padding), conv2d(x, w, padding=padding), rtol=1e-9, atol=1e-9)


@settings(max_examples=80, deadline=None)
@given(stride1_cases(), st.integers(1, 3))
def test_toeplitz_agrees_with_conv2d(case, stride):
    x, w, padding = case
    H, W = x.shape[2:]
    if (H + 2 * padding[0] - w.shape[2]) < 0 or (W + 2 * padding[1] - w.shape[3]) < 0:
        return
    want = conv2d(x, w, stride=stride, padding=padding)
    assert_allclose(conv2d_toeplitz(x, w, stride, padding), want, rtol=1e-10, atol=1e-10)


def test_toeplitz_matrix_is_sparse_and_banded():
    T = toeplitz_matrix(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), 5, 5)  # 9 outputs x 25 inputs
    assert T.shape == (9, 25) and (T != 0).sum() == 9 * 9  # each row holds the 9 weights, once
    assert_array_equal(T[1], np.roll(T[0], 1))  # one output to the right: the row shifted by one
    assert_array_equal(T[3], np.roll(T[0], 5))  # one output down: shifted by a whole input row


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 6, 6), dtype=np.float32), rng.standard_normal((3, 2, 3, 3), dtype=np.float32)
    for f in (conv2d_winograd, conv2d_fft, conv2d_toeplitz):
        assert f(x, w).dtype == np.float32


def test_fast_conv2d_uses_fastconvs_matrices():
    # conv2d's blocked Winograd is F(4x4, 3x3) built from fastconv's matrices, not its own copy
    AT, G, BT = winograd_matrices(conv_fast._WINOGRAD_TILE, 3)
    at, g_flat, bt_flat = conv_fast._WINOGRAD
    assert_array_equal(at, AT)
    assert_array_equal(g_flat, np.kron(G, G))
    assert_array_equal(bt_flat, np.kron(BT, BT))


def layer(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((1, 16, 12, 12)), rng.standard_normal((8, 16, 3, 3))


def relative_error(conv, dtype, *args):
    """Largest error of ``conv`` run in ``dtype`` against float64 conv2d, relative to the outputs' scale."""
    x, w = layer()
    ref = conv2d(x, w)
    return float(np.abs(conv(x.astype(dtype), w.astype(dtype), *args) - ref).max() / np.abs(ref).max())


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float16, 1e-1)])
def test_error_grows_with_tile_size(dtype, tol):
    errors = [relative_error(conv2d_winograd, dtype, m) for m in (2, 4, 6)]
    assert errors[0] < errors[1] < errors[2] < tol
    assert errors[2] > 5 * errors[0]  # F(6x6) loses several times the precision of F(2x2)
    assert relative_error(conv2d, dtype) <= 2 * errors[0]  # the direct sum is as good as F(2x2)
    assert relative_error(conv2d_winograd, np.float64, 6) < 1e-12  # float64: all exact enough


def test_multiplication_counts():
    s = ConvShape(N=1, C=128, H=56, W=56, M=128, R=3, S=3, P=1)
    assert direct_ops(s).multiplications == s.macs
    assert direct_ops(s).multiplications / winograd_ops(s, 2).multiplications == 2.25  # 36 / 16
    assert direct_ops(s).multiplications / winograd_ops(s, 4).multiplications == 4.0  # 144 / 36
    # Lavin and Gray 2016, section 4.1: F(2x2, 3x3)'s data transform takes 32 additions, the
    # inverse transform 24; neither multiplies
    AT, _, BT = winograd_matrices(2, 3)
    assert transform2d_ops(BT) == (0, 32) and transform2d_ops(AT) == (0, 24)
    tiles = 28 * 28
    assert winograd_ops(s, 2).transform_additions == tiles * (128 * 32 + 128 * 24)
    # F(4x4, 3x3)'s transforms multiply (by 2, 4, 5, 8): more cost per tile, on 4x fewer tiles
    AT4, _, BT4 = winograd_matrices(4, 3)
    assert transform2d_ops(BT4)[0] > 0 and transform2d_ops(AT4)[0] > 0
    # transformed filters take (n / r)^2 times the storage of the 3 x 3 ones
    assert winograd_ops(s, 2).weights / direct_ops(s).weights == 16 / 9
    assert winograd_ops(s, 4).weights / direct_ops(s).weights == 4.0


def test_fft_counts_favour_large_filters():
    def ratio(R, H):
        s = ConvShape(N=1, C=64, H=H, W=H, M=64, R=R, S=R, P=R // 2)
        return direct_ops(s).multiplications / (fft_ops(s).multiplications + fft_ops(s).transform_multiplications)

    assert ratio(11, 56) > ratio(5, 56) > ratio(3, 56)  # larger filters: the FFT gains more
    assert ratio(11, 112) > 10  # 11 x 11 on a 112 x 112 map: over 10x fewer multiplications
    s = ConvShape(N=2, C=3, H=8, W=8, M=4, R=3, S=3, P=1)
    bins = 10 * (10 // 2 + 1)  # an rfft2 of the 10 x 10 padded input keeps 10 x 6 frequencies
    assert fft_ops(s).multiplications == 4 * 2 * 4 * 3 * bins
    assert fft_ops(s).weights == 4 * 3 * 2 * bins  # complex transformed filters, as large as the map


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: conv2d_winograd(np.zeros((1, 2, 5, 5)), np.zeros((1, 2, 3, 2))), ValueError, r"square filters"),
        (lambda: conv2d_winograd(np.zeros((1, 2, 5, 5)), np.zeros((1, 3, 3, 3))), ValueError, r"C = 2 channels"),
        (lambda: conv2d_winograd(np.zeros((1, 2, 5, 5)), np.zeros((1, 2, 3, 3)), m=0), ValueError, r"m must be >= 1"),
        (lambda: conv2d_fft(np.zeros((2, 5, 5)), np.zeros((1, 2, 3, 3))), ValueError, r"x must be a 4-D array"),
        (lambda: conv2d_fft(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3))), ValueError, r"larger than the padded"),
        (lambda: conv2d_toeplitz(np.zeros((1, 2, 5, 5)), np.zeros((1, 3, 3, 3))), ValueError, r"C = 2 channels"),
        (lambda: winograd_matrices(2, 3, points=[0, 1, 1]), ValueError, r"3 distinct numbers"),
        (lambda: winograd_matrices(20, 3), ValueError, r"POINTS holds"),
        (lambda: winograd_ops(ConvShape(N=1, C=1, H=8, W=8, M=1, R=3, S=3, U=2), 2), ValueError, r"stride 1"),
        (lambda: fft_ops("layer"), TypeError, r"shape must be a cnnlib.shapes.ConvShape"),
    ],
)
def test_bad_input_is_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_points_are_distinct_and_start_with_the_usual_ones():
    assert len(set(fastconv.POINTS)) == len(fastconv.POINTS)
    assert fastconv.POINTS[:5] == (0, 1, -1, 2, -2)


def test_tile_view_matches_slices_and_refuses_too_small_inputs():
    from cnnlib.fastconv import tile_view

    xp = np.random.default_rng(0).standard_normal((2, 3, 11, 10))
    tiles = tile_view(xp, 4, 3, 2, 2)  # F(4, 3): 6 x 6 tiles, 4 apart, need 10 x 10
    for t in range(2):
        for u in range(2):
            assert_array_equal(tiles[:, :, t, u], xp[:, :, 4 * t : 4 * t + 6, 4 * u : 4 * u + 6])
    with pytest.raises(ValueError, match=r"xp must hold 3 x 2 tiles of 6 x 6, 4 apart: at least 14 x 10; got 11 x 10"):
        tile_view(xp, 4, 3, 3, 2)
