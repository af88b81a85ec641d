"""2-D convolution (the CONV layer): a readable 7-loop version, a fast one, and its backward pass.

Notation of the lecture (Sze et al.): N batch, C input channels, H x W input fmap, M filters
of R x S, E x F output fmap, U stride. ``conv2d_naive`` (the lecture's 7 loops, for reading) and
``conv2d`` (im2col or Winograd F(2x2, 3x3) with BLAS, for running) both compute

    O[n][m][x][y] = B[m] + sum_{i<R} sum_{j<S} sum_{k<C} I[n][k][U x + i][U y + j] x W[m][k][i][j]

on the zero-padded input, extended with dilation D (filter taps D apart) and groups (the C
input channels and M filters split into ``groups`` independent convolutions, as AlexNet's
two GPUs did). ``conv2d_backward`` returns its gradients.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import activations as _act
from .._checks import as_float_array, as_int, as_pair, check_ndim
from ..counting import conv_output_size


def _check_conv_args(x, w, b, stride, padding, dilation, groups):
    """Validate conv2d's arguments; return them normalised, with the output size (E, F)."""
    x = as_float_array(x, "x")
    w = as_float_array(w, "w")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    check_ndim(w, 4, "w", "(M, C/groups, R, S)")
    U, V = as_pair(stride, "stride", 1)
    P, Q = as_pair(padding, "padding", 0)
    D, G = as_pair(dilation, "dilation", 1)
    groups = as_int(groups, "groups", 1)
    N, C, H, W = x.shape
    M, Cg, R, S = w.shape
    if C % groups:
        raise ValueError(f"groups={groups} must divide the input channels C={C} of x")
    if M % groups:
        raise ValueError(f"groups={groups} must divide the number of filters M={M} of w")
    if Cg != C // groups:
        raise ValueError(
            f"w must have C/groups = {C}/{groups} = {C // groups} channels (w.shape[1]) "
            f"to match x of shape {x.shape}; got w of shape {w.shape}"
        )
    if min(x.shape) == 0 or min(w.shape) == 0:
        raise ValueError(f"x and w must not be empty; got x {x.shape} and w {w.shape}")
    if b is not None:
        b = as_float_array(b, "b")
        if b.shape != (M,):
            raise ValueError(f"b must have shape (M,) = ({M},); got {b.shape}")
    E = conv_output_size(H, R, P, U, D)
    F = conv_output_size(W, S, Q, V, G, names=("W", "S"))
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, (U, V), (P, Q), (D, G), groups, E, F


# Column-buffer size per block: 4 MiB stays in the L3 cache (32 MiB on the reference machine), so
# the columns are written and read back from cache instead of DRAM.
_BUFFER_BYTES = 4 * 2**20


class _Scratch(threading.local):
    """Work buffers kept from one call to the next, one set per thread (see ``_scratch``)."""

    def __init__(self):
        self.buffers = {}


_SCRATCH = _Scratch()


def _scratch(name, size, dtype):
    """A 1-D work buffer of ``size`` elements that later calls reuse (per thread, name and dtype).

    A call needs several MB of scratch (columns, GEMM results, Winograd tiles), like the
    scratchpad a library such as oneDNN keeps. Allocated afresh each time, it costs page faults
    whenever the allocator has handed the memory back to the operating system in between. On the
    reference machine, in a fresh process: VGG-16's conv1_1 took 8.4 ms with 1,700 faults per
    call, 2.6 ms with none; a whole VGG-16 forward pass faults 2,400-3,000 times instead of 15,800
    (kernel time 0.025 s instead of 0.06 s). The buffers only grow (a few tens of MB for VGG-16);
    their contents are garbage, and nothing returned to the caller points into them.
    """
    key = (name, np.dtype(dtype))
    buf = _SCRATCH.buffers.get(key)
    if buf is None or buf.size < size:
        buf = _SCRATCH.buffers[key] = np.empty(size, dtype)
    return buf[:size]


def _pad(x, P, Q):
    """Zero-pad the two spatial axes of x (N, C, H, W) by P rows and Q columns on each side."""
    if P == 0 and Q == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (P, P), (Q, Q)))


def conv2d_naive(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, activation=None):
    """The lecture's naive 7-loop convolution, for teaching (slow: one Python step per MAC).

    Parameters
    ----------
    x : array (N, C, H, W)
        Input fmaps I.
    w : array (M, C/groups, R, S)
        Filter weights W.
    b : array (M,), optional
        Biases B.
    stride, padding, dilation : int or (vertical, horizontal) pair
        Stride U (>= 1), zero padding P on each side (>= 0), dilation D (>= 1).
    groups : int
        Split channels and filters into this many independent convolutions.
    activation : str or callable, optional
        Applied to each output, as on the slide (a name from ``cnnlib.activations.ACTIVATIONS``).

    Returns
    -------
    array (N, M, E, F)
        Output fmaps O.

    Notes
    -----
    The loop order is the slide's: n, m, x, y, then i, j, k. The slide runs x up to F and y up
    to E, but x indexes rows (``I[n][k][U x + i]``), so here x runs over the E output rows and
    y over the F output columns; for a square output both read the same.
    """
    x, w, b, (U, V), (P, Q), (D, G), groups, E, F = _check_conv_args(
        x, w, b, stride, padding, dilation, groups
    )
    act = _act.get(activation)[0] if isinstance(activation, str) else activation
    N = x.shape[0]
    M, Cg, R, S = w.shape
    Mg = M // groups  # filters per group
    I = _pad(x, P, Q)  # noqa: E741 (the lecture's name)
    O = np.zeros((N, M, E, F), dtype=x.dtype)  # noqa: E741
    for n in range(N):
        for m in range(M):
            c0 = (m // Mg) * Cg  # first input channel of m's group
            for x_ in range(E):
                for y in range(F):
                    O[n, m, x_, y] = b[m] if b is not None else 0
                    for i in range(R):
                        for j in range(S):
                            for k in range(Cg):
                                O[n, m, x_, y] += I[n, c0 + k, U * x_ + D * i, V * y + G * j] * w[m, k, i, j]
                    if act is not None:
                        O[n, m, x_, y] = act(O[n, m, x_, y])
    return O


def _windows(xp, R, S, E, F, stride, dilation, writeable=False):
    """Strided view (N, C, R, S, E, F) of the padded input xp (N, C, Hp, Wp), copying nothing.

    ``windows[n, c, r, s, e, f] = xp[n, c, U e + D r, V f + G s]``: for each output (e, f), the
    C x R x S input values its filters see. Reshaped to (C R S) x (E F) it is im2col's matrix.
    With ``writeable=True`` the view aliases xp; the backward pass adds into it one (r, s) at a
    time (for a fixed (r, s) no two outputs share an input, so ``+=`` is safe).
    """
    (U, V), (D, G) = stride, dilation
    N, C = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    return as_strided(
        xp, (N, C, R, S, E, F), (sn, sc, D * sh, G * sw, U * sh, V * sw), writeable=writeable
    )


def _blocks(N, E, row_bytes):
    """List the buffer blocks (n0, n1, e0, e1): samples n0:n1, rows e0:e1 of E rows.

    ``row_bytes`` is the buffer one row needs: for im2col an output row's columns,
    (C/groups) R S F values; for Winograd a row of 2 x 2 tiles' patches, 16 (C/groups) F/2.
    Small images are grouped several to a block (LeNet-5's C3 at N = 64: all of them); a large
    image is cut into bands of rows (VGG-16 conv1_2, float32: 8 output rows), so each block
    fits in ``_BUFFER_BYTES``.
    """
    rows = max(1, _BUFFER_BYTES // row_bytes)  # output rows that fit in the buffer
    if rows >= E:
        step = rows // E  # whole samples per block
        return [(n0, min(N, n0 + step), 0, E) for n0 in range(0, N, step)]
    return [(n, n + 1, e0, min(E, e0 + rows)) for n in range(N) for e0 in range(0, E, rows)]


def _columns(buf, windows, n0, n1, c0, c1, e0, e1):
    """Copy the windows of samples n0:n1, channels c0:c1, output rows e0:e1 into ``buf``.

    Returns the column matrix, ((c1 - c0) R S) x ((n1 - n0) (e1 - e0) F) with columns ordered
    (n, e, f), contiguous: the layout the GEMM wants, so the copy is one pass of contiguous
    writes and the samples of a block share one GEMM.
    """
    src = windows[n0:n1, c0:c1, :, :, e0:e1].transpose(1, 2, 3, 0, 4, 5)  # (c, r, s, n, e, f)
    cols = buf[: src.size].reshape(src.shape)
    np.copyto(cols, src)
    return cols.reshape(-1, (n1 - n0) * (e1 - e0) * src.shape[-1])


def _full_row_windows(x, padding, R, S, E, dilation):
    """Like ``_windows`` for stride 1, but over whole padded rows: a view (N, C, R, S, E, Wp).

    ``windows[n, c, r, s, e, v] = xp[n, c, e + D r, v + G s]`` read from the flattened padded
    input, so for fixed (n, c, r, s) the E x Wp values are one contiguous run. Columns
    v >= F run into the next row: junk that the caller drops. The buffer has G (S - 1) zeros
    of slack so the last run stays inside it.
    """
    (P, Q), (D, G) = padding, dilation
    N, C, H, W = x.shape
    Hp, Wp = H + 2 * P, W + 2 * Q
    flat = np.zeros(N * C * Hp * Wp + G * (S - 1), dtype=x.dtype)
    flat[: N * C * Hp * Wp].reshape(N, C, Hp, Wp)[:, :, P : P + H, Q : Q + W] = x
    strides = np.array([C * Hp * Wp, Hp * Wp, D * Wp, G, Wp, 1]) * x.itemsize
    return as_strided(flat, (N, C, R, S, E, Wp), tuple(strides), writeable=False)


# Layers with few filters per group do little GEMM work per copied value, so the copy decides
# their speed: below this many, stride-1 layers copy whole padded rows (long contiguous runs)
# and pay for (Wp - F) junk columns per row instead.
_FULL_ROWS_MAX_FILTERS = 32


def _conv2d_im2col(x, w, stride, padding, dilation, groups, E, F):
    """im2col + GEMM, block by block (see conv2d's Notes); arguments already checked."""
    N = x.shape[0]
    M, Cg, R, S = w.shape
    Mg = M // groups
    if _method(w.shape, stride, dilation, groups, E, F) == "im2col, whole rows":
        windows = _full_row_windows(x, padding, R, S, E, dilation)
    else:
        windows = _windows(_pad(x, *padding), R, S, E, F, stride, dilation)
    width = windows.shape[-1]  # F, or Wp with junk columns
    wmat = w.reshape(groups, Mg, Cg * R * S)
    out = np.empty((N, M, E, F), dtype=x.dtype)
    out3 = out.reshape(N, M, E * F)  # a view: each GEMM writes a slice of it
    per_row = Cg * R * S * width  # column-matrix elements per output row
    blocks = _blocks(N, E, per_row * x.itemsize)
    rows_max = max((n1 - n0) * (e1 - e0) for n0, n1, e0, e1 in blocks)
    buf = _scratch("columns", rows_max * per_row, x.dtype)
    direct = width == F and all(n1 - n0 == 1 for n0, n1, _, _ in blocks)  # GEMMs write into out
    gemm_buf = None if direct else _scratch("gemm", rows_max * Mg * width, x.dtype)  # to rearrange
    for n0, n1, e0, e1 in blocks:
        n, rows = n1 - n0, e1 - e0
        for g in range(groups):
            cols = _columns(buf, windows, n0, n1, g * Cg, (g + 1) * Cg, e0, e1)
            m0 = g * Mg
            if n == 1 and width == F:  # the GEMM writes straight into the output
                np.matmul(wmat[g], cols, out=out3[n0, m0 : m0 + Mg, e0 * F : e1 * F])
            else:  # columns (n, e, v): move n in front of m and drop any junk columns
                res = np.matmul(wmat[g], cols, out=gemm_buf[: Mg * cols.shape[1]].reshape(Mg, -1))
                res = res.reshape(Mg, n, rows, width)[..., :F]
                out[n0:n1, m0 : m0 + Mg, e0:e1] = res.transpose(1, 0, 2, 3)
    return out


# Winograd F(2x2, 3x3) (Lavin and Gray, 2016): a 2 x 2 output tile from a 4 x 4 input tile d
# and a 3 x 3 filter g is A^T [(G g G^T) * (B^T d B)] A, with * elementwise: 16 multiplies
# instead of 36. Flattening the 4 x 4 tiles to 16 values, the transforms are the Kronecker
# products below (B^T d B -> WINO_B @ d, and so on).
_B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=float)
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
_A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=float)
WINO_B, WINO_G, WINO_A = np.kron(_B_T, _B_T), np.kron(_G, _G), np.kron(_A_T, _A_T)  # 16x16, 16x9, 4x16
# Winograd pays off when the GEMMs dominate its transforms: deep layers (C/groups >= 128)
# with enough 2 x 2 tiles (E F >= 28 x 28) to keep the 16 GEMMs wide.
_WINOGRAD_MIN_CHANNELS = 128
_WINOGRAD_MIN_OUTPUTS = 28 * 28


def _method(w_shape, stride, dilation, groups, E, F):
    """The method conv2d uses for a layer: "winograd", "im2col, whole rows" or "im2col".

    See conv2d's Notes for why each layer shape gets its method.
    """
    M, Cg, R, S = w_shape
    if (
        (R, S) == (3, 3)
        and stride == (1, 1)
        and dilation == (1, 1)
        and Cg >= _WINOGRAD_MIN_CHANNELS
        and E * F >= _WINOGRAD_MIN_OUTPUTS
    ):
        return "winograd"
    if stride == (1, 1) and M // groups < _FULL_ROWS_MAX_FILTERS:
        return "im2col, whole rows"
    return "im2col"


def _conv2d_winograd(x, w, padding, groups, E, F):
    """Winograd F(2x2, 3x3) for a 3 x 3, stride-1, undilated layer; arguments already checked.

    The output is cut into tE x tF tiles of 2 x 2; tile (t, u) reads the 4 x 4 input patch at
    (2t, 2u) of the padded input. Per block of tiles and per group:

    1. copy the patches as a (16, C/groups, T) array d (T tiles), transform: V = WINO_B @ d;
    2. 16 GEMMs, one per tile position k: Mk = Uk @ Vk, (M/groups x C/groups) @ (C/groups x T),
       with U = WINO_G @ w the transformed filters (computed once);
    3. transform back: Y = WINO_A @ M, (4, M/groups, T), the 2 x 2 outputs of each tile.
    """
    N = x.shape[0]
    M, Cg, _, _ = w.shape
    Mg = M // groups
    (P, Q), tE, tF = padding, (E + 1) // 2, (F + 1) // 2
    xp = np.pad(x, ((0, 0), (0, 0), (P, P + E % 2), (Q, Q + F % 2)))  # whole 4 x 4 patches
    sn, sc, sh, sw = xp.strides
    patches = as_strided(xp, (N, x.shape[1], tE, tF, 4, 4), (sn, sc, 2 * sh, 2 * sw, sh, sw), writeable=False)
    dt = x.dtype
    wino_b, wino_a = WINO_B.astype(dt), WINO_A.astype(dt)
    U = (WINO_G.astype(dt) @ w.reshape(M * Cg, 9).T).reshape(16, groups, Mg, Cg)
    out = np.empty((N, M, 2 * tE, 2 * tF), dtype=dt)
    blocks = _blocks(N, tE, 16 * Cg * tF * x.itemsize)
    T_max = max((n1 - n0) * (t1 - t0) for n0, n1, t0, t1 in blocks) * tF
    d_buf, v_buf = _scratch("patches", 16 * Cg * T_max, dt), _scratch("transformed", 16 * Cg * T_max, dt)
    m_buf, y_buf = _scratch("products", 16 * Mg * T_max, dt), _scratch("tiles", 4 * Mg * T_max, dt)
    for n0, n1, t0, t1 in blocks:
        nb, tb = n1 - n0, t1 - t0
        T = nb * tb * tF
        for g in range(groups):
            d = d_buf[: 16 * Cg * T].reshape(4, 4, Cg, nb, tb, tF)
            np.copyto(d, patches[n0:n1, g * Cg : (g + 1) * Cg, t0:t1].transpose(4, 5, 1, 0, 2, 3))
            V = np.matmul(wino_b, d.reshape(16, Cg * T), out=v_buf[: 16 * Cg * T].reshape(16, Cg * T))
            Mk = np.matmul(U[:, g], V.reshape(16, Cg, T), out=m_buf[: 16 * Mg * T].reshape(16, Mg, T))
            Y = np.matmul(wino_a, Mk.reshape(16, Mg * T), out=y_buf[: 4 * Mg * T].reshape(4, Mg * T))
            tiles = out[n0:n1, g * Mg : (g + 1) * Mg, 2 * t0 : 2 * t1].reshape(nb, Mg, tb, 2, tF, 2)
            tiles[...] = Y.reshape(2, 2, Mg, nb, tb, tF).transpose(3, 2, 4, 0, 5, 1)
    return out if out.shape[2:] == (E, F) else np.ascontiguousarray(out[:, :, :E, :F])


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in every CNN library), the fast path.

    Parameters
    ----------
    x : array (N, C, H, W)
        Input fmaps, float32 or float64 (integers are converted to float64).
    w : array (M, C/groups, R, S)
        M filters, each as deep as the C/groups channels of its group.
    b : array (M,), optional
        One bias per filter.
    stride : int or (U_vertical, U_horizontal)
        Distance between window positions, >= 1.
    padding : int or (P_vertical, P_horizontal)
        Zeros added on each side of H and W, >= 0.
    dilation : int or (D_vertical, D_horizontal)
        Distance between filter taps, >= 1 (1 is a dense filter).
    groups : int
        C and M are split into ``groups`` independent convolutions; must divide both.

    Returns
    -------
    array (N, M, E, F)
        E = floor((H + 2P - D(R - 1) - 1) / U) + 1 and likewise F from W, S; the dtype of x
        and w (float32 stays float32).

    Raises
    ------
    TypeError
        Non-numeric arrays, or a non-integer stride, padding, dilation or groups.
    ValueError
        Wrong number of dimensions, channels that do not match or do not divide into groups,
        stride/dilation < 1, negative padding, a filter larger than the padded input, or a
        bias that is not (M,).

    See Also
    --------
    conv2d_naive : the same result from the lecture's 7 loops.
    conv2d_backward : the gradients.

    Notes
    -----
    Why it is fast: both methods turn the layer into a few large matrix multiplies (GEMM),
    which BLAS runs near the machine's peak, and Python only loops over blocks.

    **im2col + GEMM** (the layers Winograd does not take). For one sample and one group,
    the windows the outputs see are laid out as a matrix of (C/groups) R S rows and E F
    columns (a strided view of the padded input, ``_windows``, copied into a contiguous
    buffer in the order the GEMM reads it); then

        O[m, (e, f)] = sum over (c, r, s) of W[m, (c, r, s)] x cols[(c, r, s), (e, f)],

    an (M/groups) x (C/groups R S) by (C/groups R S) x (E F) product written straight into
    the output with ``matmul(..., out=)``: no transposes and no temporaries. The copy costs
    memory: the column matrix repeats each input value R S times. For VGG-16's conv1_2
    (C R S = 64 x 3 x 3 = 576 rows, E F = 224 x 224 = 50,176 columns) it is 28.9 million
    values, 116 MB in float32, nine times the 12.8 MB input; writing that to DRAM and reading
    it back costs about half as long as the GEMM. So the columns are built block by block
    in a 4 MiB buffer that stays in cache (``_blocks``); there a block of conv1_2's columns
    (a million values) is copied in about 0.1 ms, a tenth of its GEMM's time:

    - a large image is cut into bands of output rows (conv1_2: 28 GEMMs of
      64 x 576 x (8 x 224));
    - small images are grouped several samples to a block, whose columns (n, e, f) go
      through one GEMM (LeNet-5's C3 at N = 64: 49 samples per block, a GEMM of
      16 x 150 x 6,860 with whole rows, below), so Python's per-call overhead stays small;
      one copy then moves n in front of m.

    The copy is (C/groups) R S E F moves against M E F (C/groups) R S MACs, 1/M of the work:
    im2col loses most on layers with few filters, and on short rows, which the copy moves a
    few values at a time (LeNet-5's C3: runs of F = 10). So stride-1 layers with fewer than
    32 filters per group copy **whole padded rows**: for each (c, r, s) the E x Wp values
    starting at input row r, column s are one contiguous run of the flattened input (the
    "flat shift" trick), the GEMM computes Wp - F junk columns per row (they wrap into the
    next row) and only the first F are kept. C3 then copies runs of 140 values and does 40 %
    more MACs, and takes about 30 % less time.

    **Winograd F(2x2, 3x3)** (3 x 3, stride 1, undilated, C/groups >= 128 and E F >= 28 x 28:
    VGG-16's conv2_2 to conv4_3). Each 2 x 2 output tile costs 16 multiplies per (m, c)
    instead of 36: transform the 4 x 4 input patches (V = B^T d B) and the filters
    (U = G g G^T), do 16 GEMMs of (M/groups) x (C/groups) x tiles (U_k V_k for each of the
    16 tile positions), transform back (A^T M A). The GEMMs do 2.25 times fewer MACs; the
    transforms cost (C + M) per tile against C M saved, so they pay off on deep layers with
    many tiles. Results differ from the direct sum by rounding only (about 1e-6 relative in
    float32). GFLOP/s quoted for these layers count the direct method's 2 M E F C R S
    FLOPs, so they can exceed the GEMM's.

    Both methods keep their work buffers from one call to the next (``_scratch``), so a layer
    run again does not pay page faults for fresh scratch memory.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 3, 3))
    >>> conv2d(x, w).shape
    (1, 1, 2, 2)
    >>> conv2d(x, w)[0, 0].tolist()
    [[45.0, 54.0], [81.0, 90.0]]
    """
    x, w, b, stride, padding, dilation, groups, E, F = _check_conv_args(
        x, w, b, stride, padding, dilation, groups
    )
    if _method(w.shape, stride, dilation, groups, E, F) == "winograd":
        out = _conv2d_winograd(x, w, padding, groups, E, F)
    else:
        out = _conv2d_im2col(x, w, stride, padding, dilation, groups, E, F)
    if b is not None:
        out += b[None, :, None, None]
    return out


def conv2d_backward(dout, x, w, *, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`conv2d`: from dL/dO to dL/dI, dL/dW and dL/dB.

    Parameters
    ----------
    dout : array (N, M, E, F)
        Upstream gradient dL/dO, the shape of conv2d's output.
    x : array (N, C, H, W)
        The input of the forward pass.
    w : array (M, C/groups, R, S)
        The filters of the forward pass.
    stride, padding, dilation, groups
        As in the forward pass.

    Returns
    -------
    dx : array (N, C, H, W)
    dw : array (M, C/groups, R, S)
    db : array (M,)

    Raises
    ------
    ValueError
        As :func:`conv2d`, or a ``dout`` whose shape is not the forward output's (N, M, E, F).

    Notes
    -----
    Each output is O[m, (e, f)] = sum over (c, r, s) of W[m, (c, r, s)] cols[(c, r, s), (e, f)]
    plus B[m] (im2col, see :func:`conv2d`), so with dO the (M/groups) x (E F) gradient of one
    sample and group the three gradients are matrix products:

    - dB[m] = sum of dO[m, :] over samples and positions;
    - dW = dO cols^T, summed over samples: (M/groups) x (C/groups R S), built block by block
      from the same column buffer as the forward pass;
    - dcols = W^T dO, (C/groups R S) x (E F); each input value was copied into R S columns, so
      its gradient is the sum of those R S entries (col2im): for every tap (r, s) the slice
      dcols[(., r, s), :] is added into the input positions it was read from.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 3, 3))
    >>> dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), x, w)
    >>> dx[0, 0].tolist()[0], db.tolist()
    ([1.0, 2.0, 2.0, 1.0], [4.0])
    >>> dw[0, 0].tolist()[0]
    [10.0, 14.0, 18.0]
    """
    x, w, _, stride, (P, Q), dilation, groups, E, F = _check_conv_args(
        x, w, None, stride, padding, dilation, groups
    )
    N, C, H, W = x.shape
    M, Cg, R, S = w.shape
    Mg = M // groups
    dout = as_float_array(dout, "dout")
    if dout.shape != (N, M, E, F):
        raise ValueError(
            f"dout must have the forward output's shape (N, M, E, F) = {(N, M, E, F)}; got {dout.shape}"
        )
    dtype = np.result_type(x, dout)
    x, w, dout = x.astype(dtype, copy=False), w.astype(dtype, copy=False), dout.astype(dtype, copy=False)
    windows = _windows(_pad(x, P, Q), R, S, E, F, stride, dilation)
    dxp = np.zeros((N, C, H + 2 * P, W + 2 * Q), dtype=dtype)  # gradient of the padded input
    dwindows = _windows(dxp, R, S, E, F, stride, dilation, writeable=True)
    wmat = w.reshape(groups, Mg, Cg * R * S)
    dwmat = np.zeros_like(wmat)
    per_row = Cg * R * S * F
    blocks = _blocks(N, E, per_row * dtype.itemsize)
    buf = _scratch("columns", max((n1 - n0) * (e1 - e0) for n0, n1, e0, e1 in blocks) * per_row, dtype)
    for n0, n1, e0, e1 in blocks:
        for g in range(groups):
            c0, m0 = g * Cg, g * Mg
            # dO as (M/groups) x (n, rows, F), the column order of _columns
            dO = dout[n0:n1, m0 : m0 + Mg, e0:e1].transpose(1, 0, 2, 3).reshape(Mg, -1)
            cols = _columns(buf, windows, n0, n1, c0, c0 + Cg, e0, e1)  # (Cg R S, n rows F)
            dwmat[g] += dO @ cols.T
            dcols = (wmat[g].T @ dO).reshape(Cg, R, S, n1 - n0, e1 - e0, F)
            for r in range(R):
                for s in range(S):
                    dwindows[n0:n1, c0 : c0 + Cg, r, s, e0:e1] += dcols[:, r, s].transpose(1, 0, 2, 3)
    dx = dxp[:, :, P : P + H, Q : Q + W]
    return np.ascontiguousarray(dx), dwmat.reshape(w.shape), dout.sum(axis=(0, 2, 3))
