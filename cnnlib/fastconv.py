"""Fast convolution algorithms: fewer multiplications than the direct 7-loop sum.

Beyond the lecture (Sze et al., *Efficient Processing of Deep Neural Networks*, 2020, ch. 4;
Lavin and Gray, *Fast Algorithms for Convolutional Neural Networks*, CVPR 2016). Each function
computes what :func:`cnnlib.layers.conv2d` computes (stride 1 where noted), in the lecture's
notation: x (N, C, H, W), w (M, C, R, S), output (N, M, E, F), padding P.

- ``conv2d_toeplitz``: the layer as one matrix-vector product per sample with a sparse,
  doubly-blocked Toeplitz matrix (for teaching: the matrix is mostly zeros).
- ``conv2d_fft``: pointwise products in the frequency domain (``numpy.fft``).
- ``conv2d_winograd``: Winograd's minimal filtering F(m x m, r x r), from transform matrices
  that ``winograd_matrices`` builds by the Cook-Toom (Vandermonde) construction.
- ``direct_ops``, ``winograd_ops``, ``fft_ops``: multiplications, additions and transform cost
  of each, for a ``cnnlib.counting.ConvShape``.

Winograd's algorithms keep Lavin and Gray's names: F(m, r) makes m outputs of an r-tap
filter from n = m + r - 1 inputs (m and n here are tile sizes, not the lecture's filter and
sample indices), with transform matrices A^T, G, B^T; the transformed filters and inputs are
``filt_t`` and ``data_t`` (the paper's U and V; U is the lecture's stride).

This module is a leaf: it imports only numpy and ``cnnlib``'s checks and shapes, so
``cnnlib.layers`` can use its Winograd matrices for the fast ``conv2d``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._checks import as_float_array, as_int, as_pair, check_instance, check_ndim
from .shapes import ConvShape, conv_output_size

# The usual interpolation points, best first (small numbers keep the transforms exact and the
# rounding error low; Lavin and Gray 2016, Barabasz et al. 2020). F(m, r) uses the first
# m + r - 2 of them plus the point at infinity.
POINTS = (0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2), 4, -4, Fraction(1, 4), Fraction(-1, 4))


def _poly_mul(p, q):
    """Coefficients (lowest power first) of the product of two polynomials."""
    out = [Fraction(0)] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


def winograd_matrices(m, r, points=None):
    """Transform matrices (A^T, G, B^T) of Winograd's F(m, r), by the Cook-Toom construction.

    F(m, r) computes m outputs of a 1-D, r-tap correlation from n = m + r - 1 inputs d:
    ``y = A^T [(G g) * (B^T d)]`` with * elementwise, so n multiplications instead of m r.
    In 2-D, F(m x m, r x r) nests it: ``Y = A^T [(G g G^T) * (B^T d B)] A``.

    Parameters
    ----------
    m : int
        Outputs per tile (>= 1).
    r : int
        Filter taps (>= 1).
    points : sequence of n - 1 distinct numbers, optional
        Finite interpolation points; the point at infinity is always added. Default: the first
        n - 1 of ``POINTS`` (0, 1, -1, 2, -2, 1/2, -1/2, ...).

    Returns
    -------
    AT : array (m, n)
    G : array (n, r)
    BT : array (n, n)
        float64 (computed exactly with fractions, then rounded once).

    Notes
    -----
    Read a linear convolution s = g * h (g of r taps, h of m) as the product of two polynomials
    g(x) h(x), of degree n - 1. It is fixed by its values at n points: evaluate both factors at
    n - 1 points a_j and at infinity (the leading coefficients), multiply the n pairs (the only
    n multiplications) and interpolate back (Lagrange). As matrices, with V_k the n x k
    Vandermonde matrix (row j = 1, a_j, ..., a_j^(k-1); the infinity row picks the last
    coefficient), ``s = V_n^-1 [(V_r g) * (V_m h)]``. The correlation y = T^T d is the
    transpose of that Toeplitz map h -> s, so ``A^T = V_m^T``, ``G = V_r``, ``B^T = V_n^-T``.
    Row j of G and of B^T may be rescaled by any f_j and 1/f_j; as Lavin and Gray, G carries
    1/f_j, with f_j = prod over k != j of (a_j - a_k), the Lagrange denominators, which keeps
    B^T integer (and the first row's sign positive, as Lavin's ``wincnn``). F(4, 3)'s matrices
    are then exactly the paper's; F(2, 3)'s differ from the paper's only in the sign of B^T's
    last row and A^T's last column, which cancel.

    Examples
    --------
    >>> AT, G, BT = winograd_matrices(2, 3)
    >>> AT.shape, G.shape, BT.shape
    ((2, 4), (4, 3), (4, 4))
    >>> G.tolist()
    [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]]
    >>> d, g = np.array([1.0, 2, 3, 4]), np.array([1.0, 0, -1])
    >>> (AT @ ((G @ g) * (BT @ d))).tolist()  # y_i = d_i - d_(i+2)
    [-2.0, -2.0]
    """
    m, r = as_int(m, "m", 1), as_int(r, "r", 1)
    n = m + r - 1
    if points is None:
        if n - 1 > len(POINTS):
            raise ValueError(f"m + r - 2 = {n - 1} points needed; POINTS holds {len(POINTS)}: pass points")
        points = POINTS[: n - 1]
    points = [Fraction(p) for p in points]
    if len(points) != n - 1 or len(set(points)) != n - 1:
        raise ValueError(f"points must be {n - 1} distinct numbers for F({m}, {r}); got {points}")

    def vander(k):  # n x k: the finite points' rows, then infinity's (picks the top coefficient)
        return [[a**i for i in range(k)] for a in points] + [[0] * (k - 1) + [1]]

    # Lagrange basis: column j of V_n^-1 is the polynomial that is 1 at a_j and 0 at the other
    # points, scaled by f_j; infinity's column is prod (x - a_k), the coefficient of x^(n-1).
    BT = []
    for j in range(n - 1):
        basis = [Fraction(1)]
        for k, b in enumerate(points):
            if k != j:
                basis = _poly_mul(basis, [-b, 1])
        BT.append(basis + [Fraction(0)])  # f_j L_j(x) has degree n - 2
    top = [Fraction(1)]
    for b in points:
        top = _poly_mul(top, [-b, 1])
    BT.append(top)
    f = [math.prod(a - b for k, b in enumerate(points) if k != j) for j, a in enumerate(points)] + [1]
    if f[0] < 0:  # as Lavin's wincnn: a positive first row (any row's sign may flip)
        f[0], BT[0] = -f[0], [-v for v in BT[0]]
    G = [[v / f_j for v in row] for row, f_j in zip(vander(r), f, strict=True)]
    AT = np.array(vander(m), dtype=float).T
    return AT, np.array(G, dtype=float), np.array(BT, dtype=float)


def winograd_tiles(x, m, r, padding=(0, 0)):
    """Overlapping n x n input tiles (n = m + r - 1) of x, a view: (N, C, tE, tF, n, n).

    Tile (t, u) starts at row m t, column m u of the zero-padded input; tE = ceil(E / m) tiles
    cover the E output rows (the input gets extra zeros at the bottom and right so the last
    tile is whole). Returns the view and (E, F).
    """
    Ph, Pw = padding
    H, W = x.shape[2:]
    E, F = H + 2 * Ph - r + 1, W + 2 * Pw - r + 1
    tE, tF = -(-E // m), -(-F // m)
    xp = np.pad(x, ((0, 0), (0, 0), (Ph, Ph + tE * m - E), (Pw, Pw + tF * m - F)))
    return tile_view(xp, m, r, tE, tF), (E, F)


def tile_view(xp, m, r, tE, tF):
    """The tE x tF overlapping n x n tiles (n = m + r - 1) of an already padded input, a view.

    Parameters
    ----------
    xp : array (N, C, Hp, Wp)
        Zero-padded input fmaps.
    m, r : int
        Outputs per tile and filter taps of F(m, r).
    tE, tF : int
        Tiles down and across; xp must hold them all: Hp >= m (tE - 1) + n, likewise Wp.

    Returns
    -------
    array (N, C, tE, tF, n, n)
        Tile (t, u) is ``xp[:, :, m t : m t + n, m u : m u + n]``, read-only, copying nothing.

    Examples
    --------
    >>> xp = np.arange(36.0).reshape(1, 1, 6, 6)
    >>> tiles = tile_view(xp, 2, 3, 2, 2)  # F(2, 3): 4 x 4 tiles, 2 apart
    >>> tiles.shape, tiles[0, 0, 1, 0, 0].tolist()  # tile (1, 0) starts at row 2
    ((1, 1, 2, 2, 4, 4), [12.0, 13.0, 14.0, 15.0])
    """
    N, C, Hp, Wp = xp.shape
    n = m + r - 1
    if m * (tE - 1) + n > Hp or m * (tF - 1) + n > Wp:
        raise ValueError(f"xp must hold {tE} x {tF} tiles of {n} x {n}, {m} apart: at least "
                         f"{m * (tE - 1) + n} x {m * (tF - 1) + n}; got {Hp} x {Wp}")
    sn, sc, sh, sw = xp.strides
    return as_strided(xp, (N, C, tE, tF, n, n), (sn, sc, m * sh, m * sw, sh, sw), writeable=False)


def _check_stride1(x, w, padding, square=False):
    """Validate x, w and padding of a stride-1, ungrouped convolution; return them and (E, F)."""
    x, w = as_float_array(x, "x"), as_float_array(w, "w")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    check_ndim(w, 4, "w", "(M, C, R, S)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w must have C = {x.shape[1]} channels (w.shape[1]) to match x {x.shape}; "
                         f"got {w.shape}")
    if square and w.shape[2] != w.shape[3]:
        raise ValueError(f"w must hold square filters (R = S) for Winograd F(m x m, r x r); got {w.shape}")
    Ph, Pw = as_pair(padding, "padding", 0)
    E = conv_output_size(x.shape[2], w.shape[2], Ph)
    F = conv_output_size(x.shape[3], w.shape[3], Pw, names=("W", "S"))
    dtype = np.result_type(x, w)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), (Ph, Pw), (E, F)


def conv2d_winograd(x, w, m=2, padding=0):
    """Stride-1 convolution by Winograd F(m x m, r x r): (m + r - 1)^2 multiplications per tile.

    Parameters
    ----------
    x : array (N, C, H, W)
    w : array (M, C, r, r)
        Square filters; no groups, stride 1, no dilation.
    m : int
        Output tile size: F(2 x 2, 3 x 3) does 16 multiplications for 4 outputs (direct: 36),
        F(4 x 4, 3 x 3) 36 for 16 (direct: 144).
    padding : int or (vertical, horizontal) pair

    Returns
    -------
    array (N, M, E, F), the dtype of x and w (the transforms are rounded to it).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_winograd(x, np.ones((1, 1, 3, 3))).shape
    (1, 1, 2, 2)
    >>> np.round(conv2d_winograd(x, np.ones((1, 1, 3, 3)))[0, 0], 9).tolist()
    [[45.0, 54.0], [81.0, 90.0]]
    """
    x, w, padding, (E, F) = _check_stride1(x, w, padding, square=True)
    m, r = as_int(m, "m", 1), w.shape[2]
    N, M = x.shape[0], w.shape[0]
    AT, G, BT = (k.astype(x.dtype) for k in winograd_matrices(m, r))
    tiles, _ = winograd_tiles(x, m, r, padding)  # (N, C, tE, tF, n, n)
    data_t = BT @ tiles @ BT.T  # B^T d B for every tile and channel
    filt_t = G @ w @ G.T  # G g G^T for every filter and channel: (M, C, n, n)
    # the only multiplications of data by weights: for each of the n x n positions, a sum over c
    prod = np.einsum("mcij,nctuij->nmtuij", filt_t, data_t)
    y = AT @ prod @ AT.T  # (N, M, tE, tF, m, m): each tile's m x m outputs
    out = y.transpose(0, 1, 2, 4, 3, 5).reshape(N, M, y.shape[2] * m, y.shape[3] * m)
    return np.ascontiguousarray(out[:, :, :E, :F])


def conv2d_fft(x, w, padding=0):
    """Stride-1 convolution by the FFT: one pointwise product per frequency, summed over C.

    The zero-padded input (Hp x Wp) and each filter, zero-filled to Hp x Wp, are transformed
    (``numpy.fft.rfft2``); the correlation of the two is the inverse transform of X times the
    complex conjugate of W's transform (circular, but its first E x F values never wrap).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> np.round(conv2d_fft(x, np.ones((1, 1, 3, 3)))[0, 0], 9).tolist()
    [[45.0, 54.0], [81.0, 90.0]]
    """
    x, w, (Ph, Pw), (E, F) = _check_stride1(x, w, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (Ph, Ph), (Pw, Pw)))
    size = xp.shape[2:]
    X = np.fft.rfft2(xp)  # (N, C, Hp, Wp // 2 + 1), complex
    Wf = np.fft.rfft2(w, s=size)  # (M, C, Hp, Wp // 2 + 1)
    out = np.fft.irfft2(np.einsum("nckl,mckl->nmkl", X, Wf.conj()), s=size)
    return np.ascontiguousarray(out[:, :, :E, :F], dtype=x.dtype)


def toeplitz_matrix(w, H, W, stride=1, padding=0):
    """The convolution with filters w on an H x W input as one matrix T: (M E F, C H W).

    ``O[n].ravel() = T @ I[n].ravel()``. Row (m, e, f) holds filter m's weights at the inputs
    its window covers, zeros elsewhere: each (m, c) block is a Toeplitz matrix of Toeplitz
    blocks (constant along diagonals at stride 1). Zero padding just drops the columns of
    padded positions.

    Examples
    --------
    >>> T = toeplitz_matrix(np.ones((1, 1, 3, 3)), 4, 4)
    >>> T.shape, int((T != 0).sum())
    ((4, 16), 36)
    """
    T = _toeplitz(w, H, W, stride, padding)
    M, E, F, C = T.shape[:4]
    return T.reshape(M * E * F, C * H * W)


def _toeplitz(w, H, W, stride, padding):
    """``toeplitz_matrix`` before flattening: (M, E, F, C, H, W)."""
    w = as_float_array(w, "w")
    check_ndim(w, 4, "w", "(M, C, R, S)")
    H, W = as_int(H, "H", 1), as_int(W, "W", 1)
    Uh, Uw = as_pair(stride, "stride", 1)
    Ph, Pw = as_pair(padding, "padding", 0)
    M, C, R, S = w.shape
    E = conv_output_size(H, R, Ph, Uh)
    F = conv_output_size(W, S, Pw, Uw, names=("W", "S"))
    T = np.zeros((M, E, F, C, H, W), dtype=w.dtype)
    e, f = np.meshgrid(np.arange(E), np.arange(F), indexing="ij")
    for r in range(R):
        for s in range(S):
            h, v = Uh * e + r - Ph, Uw * f + s - Pw  # the input each output's tap (r, s) reads
            inside = (h >= 0) & (h < H) & (v >= 0) & (v < W)  # padded positions read zeros
            T[:, e[inside], f[inside], :, h[inside], v[inside]] = w[:, :, r, s]
    return T


def conv2d_toeplitz(x, w, stride=1, padding=0):
    """Convolution as a matrix product with ``toeplitz_matrix``: (N, C H W) @ T^T.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_toeplitz(x, np.ones((1, 1, 3, 3)))[0, 0].tolist()
    [[45.0, 54.0], [81.0, 90.0]]
    """
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    N, C, H, W = x.shape
    T = _toeplitz(w, H, W, stride, padding)  # (M, E, F, C, H, W)
    if T.shape[3] != C:
        raise ValueError(f"w must have C = {C} channels (w.shape[1]) to match x {x.shape}; got {np.shape(w)}")
    M, E, F = T.shape[:3]
    return (x.reshape(N, C * H * W) @ T.reshape(M * E * F, C * H * W).T).reshape(N, M, E, F)


@dataclass(frozen=True)
class OpCounts:
    """Arithmetic of one algorithm on one layer (real operations).

    ``multiplications`` and ``additions`` are the data x weight products and the additions that
    accumulate them; ``transform_multiplications``/``transform_additions`` the operations of the
    input and output transforms (multiplications by constants other than 0 and +-1); the filter
    transform is done once per set of weights and not counted. ``weights`` is how many values
    the filters take once transformed (what an accelerator must store).
    """

    multiplications: int
    additions: int
    transform_multiplications: int
    transform_additions: int
    weights: int

    @property
    def total(self) -> int:
        """All operations: multiplications and additions, core and transforms."""
        core = self.multiplications + self.additions
        return core + self.transform_multiplications + self.transform_additions


def direct_ops(shape):
    """Operations of the direct convolution (the 7 loops): one multiplication per MAC.

    Examples
    --------
    >>> direct_ops(ConvShape(N=1, C=1, H=4, W=4, M=1, R=3, S=3)).multiplications
    36
    """
    check_instance(shape, ConvShape, "shape")
    s = shape
    Cg = s.C // s.groups
    return OpCounts(
        multiplications=s.N * s.M * s.E * s.F * Cg * s.R * s.S,
        additions=s.N * s.M * s.E * s.F * (Cg * s.R * s.S - 1),
        transform_multiplications=0, transform_additions=0,
        weights=s.M * Cg * s.R * s.S,
    )


def matvec_ops(K):
    """(multiplications, additions) of ``K @ v`` done naively, skipping zeros and +-1 factors."""
    K = np.asarray(K)
    nonzero = K != 0
    mults = int((nonzero & (np.abs(K) != 1)).sum())
    adds = int(np.maximum(nonzero.sum(axis=1) - 1, 0).sum())
    return mults, adds


def transform2d_ops(K):
    """(multiplications, additions) of the 2-D transform ``K X K^T`` (K: a x b, X: b x b).

    Separable: K times each of X's b columns, then each of the a rows of the result times K^T.

    Examples
    --------
    >>> AT, G, BT = winograd_matrices(2, 3)
    >>> transform2d_ops(BT), transform2d_ops(AT)  # F(2x2, 3x3): input and output transforms
    ((0, 32), (0, 24))
    """
    a, b = np.shape(K)
    mults, adds = matvec_ops(K)
    return (a + b) * mults, (a + b) * adds


def winograd_ops(shape, m=2):
    """Operations of Winograd F(m x m, R x R) on a stride-1 layer with square filters.

    Per tile of m x m outputs and per (filter, channel): n^2 = (m + R - 1)^2 multiplications
    instead of m^2 R^2; per (tile, channel) one input transform, per (tile, filter) one output
    transform (see ``transform2d_ops``). Partial tiles at the edges count as whole ones.

    Examples
    --------
    >>> s = ConvShape(N=1, C=64, H=56, W=56, M=64, R=3, S=3, P=1)
    >>> [direct_ops(s).multiplications / winograd_ops(s, m).multiplications for m in (2, 4)]
    [2.25, 4.0]
    """
    check_instance(shape, ConvShape, "shape")
    s = shape
    if s.R != s.S or s.U != 1:
        raise ValueError(f"Winograd F(m x m, r x r) needs square filters and stride 1; "
                         f"got R={s.R}, S={s.S}, U={s.U}")
    AT, _, BT = winograd_matrices(m, s.R)
    n, Cg = m + s.R - 1, s.C // s.groups
    tiles = s.N * -(-s.E // m) * -(-s.F // m)
    (in_mul, in_add), (out_mul, out_add) = transform2d_ops(BT), transform2d_ops(AT)
    return OpCounts(
        multiplications=tiles * s.M * Cg * n * n,
        additions=tiles * s.M * (Cg - 1) * n * n,
        transform_multiplications=tiles * (s.C * in_mul + s.M * out_mul),
        transform_additions=tiles * (s.C * in_add + s.M * out_add),
        weights=s.M * Cg * n * n,
    )


def fft_ops(shape):
    """Operations of FFT convolution on a stride-1 layer, under a radix-2 cost model.

    Model: a real 2-D FFT of K = Hp Wp points costs K log2(K) real multiplications and as many
    additions (half of a complex FFT's (K/2) log2(K) complex multiplications, 4 real ones each,
    and K log2(K) complex additions); an inverse the same. Per (sample, filter, channel), the
    Hp (Wp // 2 + 1) complex pointwise products cost 4 real multiplications and 2 additions
    each, and summing them over channels 2 additions each. Transforms: one per input channel
    and one inverse per output map (the filters' are done once and not counted).

    Examples
    --------
    >>> s = ConvShape(N=1, C=64, H=56, W=56, M=64, R=3, S=3, P=1)
    >>> fft_ops(s).weights // direct_ops(s).weights  # transformed 3 x 3 filters grow 387-fold
    386
    """
    check_instance(shape, ConvShape, "shape")
    s = shape
    if s.U != 1:
        raise ValueError(f"FFT convolution here needs stride 1; got U={s.U}")
    Hp, Wp = s.H + 2 * s.P, s.W + 2 * s.P
    K, bins = Hp * Wp, Hp * (Wp // 2 + 1)
    Cg = s.C // s.groups
    fft = round(K * math.log2(K))
    products = s.N * s.M * Cg * bins
    return OpCounts(
        multiplications=4 * products,
        additions=2 * products + 2 * s.N * s.M * (Cg - 1) * bins,
        transform_multiplications=s.N * (s.C + s.M) * fft,
        transform_additions=s.N * (s.C + s.M) * fft,
        weights=s.M * Cg * 2 * bins,
    )
