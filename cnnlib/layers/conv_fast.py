"""The fast path of ``conv2d``: the same im2col + GEMM, organised for the caches, and Winograd.

``cnnlib.layers.conv2d`` checks its arguments and calls :func:`conv2d_fast`; read
``cnnlib.layers.conv`` first, for what is computed. This module only changes how:

- **blocks**: the column matrix is built a block at a time in a 4 MiB buffer that stays in
  the cache (a band of output rows of one sample, or several whole samples), never whole;
- **whole rows**: stride-1 layers with few filters copy whole padded rows (long contiguous
  runs) and compute junk columns they then drop, since for them the copy costs more than the
  GEMM;
- **Winograd F(4x4, 3x3)** on 3 x 3 stride-1 layers with 64 or more channels per group and
  28 x 28 or more outputs: 36 GEMMs on transformed tiles, with the transform matrices of
  ``cnnlib.fastconv`` (4 times fewer multiplications);
- **scratch buffers** kept from call to call, one set per thread, for everything that is not
  returned: the padded input, the columns, the transformed filters and tiles;
- the backward pass (``conv2d_backward``'s products) on the same blocks.

Why each layer gets its method, and what it costs, is measured in ``benchmarks/README.md``.
Notation: x (N, C, H, W) checked by ``conv2d``, w (M, C/groups, R, S), output (N, M, E, F),
stride (Uh, Uw), padding (Ph, Pw), dilation (Dh, Dw) along H and W.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..fastconv import tile_view, winograd_matrices
from .windows import pad, windows

# Column-buffer size per block: 4 MiB stays in the L3 cache, so the columns are written and
# read back from cache instead of DRAM.
_BUFFER_BYTES = 4 * 2**20
# Layers with few filters per group do little GEMM work per copied value, so the copy decides
# their speed: below this many, stride-1 layers copy whole padded rows.
_FULL_ROWS_MAX_FILTERS = 32
# Winograd pays off when the GEMMs dominate its transforms: layers with C/groups >= 64 (each
# transformed input tile serves all filters) and enough tiles (E F >= 28 x 28) to keep the
# GEMMs wide. F(4x4, 3x3) was faster than F(2x2, 3x3) on every such VGG-16 layer, and agrees
# with the direct sum to about 1e-5 relative in float32 (F(2x2): 1e-6); benchmarks/README.md.
_WINOGRAD_MIN_CHANNELS = 64
_WINOGRAD_MIN_OUTPUTS = 28 * 28
_WINOGRAD_TILE = 4  # F(4x4, 3x3)


def method(w_shape, stride, dilation, groups, E, F):
    """The method conv2d_fast uses for a layer: "winograd", "im2col, whole rows" or "im2col"."""
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


def conv2d_fast(x, w, stride, padding, dilation, groups, E, F):
    """conv2d without bias on arguments ``conv2d`` has checked: (N, M, E, F), C-contiguous."""
    if method(w.shape, stride, dilation, groups, E, F) == "winograd":
        return conv2d_winograd_blocked(x, w, padding, groups, E, F)
    return conv2d_im2col_blocked(x, w, stride, padding, dilation, groups, E, F)


class _Scratch(threading.local):
    """Work buffers kept from one call to the next, one set per thread (see ``_scratch``)."""

    def __init__(self):
        self.buffers = {}


_SCRATCH = _Scratch()


def _scratch(name, size, dtype):
    """A 1-D work buffer of ``size`` elements that later calls reuse (per thread, name and dtype).

    A call needs several MB of scratch (columns, GEMM results, Winograd tiles), like the
    scratchpad a library such as oneDNN keeps. Allocated afresh each time, it costs page faults
    whenever the allocator has handed the memory back to the operating system in between. The
    buffers only grow (a few tens of MB for VGG-16); their contents are garbage, and nothing
    returned to the caller points into them.
    """
    key = (name, np.dtype(dtype))
    buf = _SCRATCH.buffers.get(key)
    if buf is None or buf.size < size:
        buf = _SCRATCH.buffers[key] = np.empty(size, dtype)
    return buf[:size]


def _padded(x, before, after, slack=0):
    """x (N, C, H, W) zero-padded into a kept buffer: what ``windows.pad`` (``np.pad``) gives.

    ``before`` = (rows above, columns left), ``after`` = (rows below, columns right); ``slack``
    zeros follow the padded array in the buffer. Returns the flat buffer (1-D) and the padded
    array (N, C, Hp, Wp), a view of its start. A fresh padded array per call costs a page fault
    per 4 KiB page whenever the allocator maps new memory for it (benchmarks/README.md, session
    4, measures it); so only the border is zeroed here and the interior copied, into ``_scratch``.
    """
    (top, left), (bottom, right) = before, after
    N, C, H, W = x.shape
    Hp, Wp = top + H + bottom, left + W + right
    flat = _scratch("padded", N * C * Hp * Wp + slack, x.dtype)
    xp = flat[: N * C * Hp * Wp].reshape(N, C, Hp, Wp)
    xp[:, :, :top] = 0
    xp[:, :, top + H :] = 0
    xp[:, :, top : top + H, :left] = 0
    xp[:, :, top : top + H, left + W :] = 0
    xp[:, :, top : top + H, left : left + W] = x
    flat[N * C * Hp * Wp :] = 0
    return flat, xp


def _blocks(N, E, row_bytes):
    """List the buffer blocks (n0, n1, e0, e1): samples n0:n1, rows e0:e1 of E rows.

    ``row_bytes`` is the buffer one row needs: for im2col an output row's columns,
    (C/groups) R S F values; for Winograd a row of tiles' transformed patches. Small images are
    grouped several to a block (LeNet-5's C3 at N = 64: all of them, one GEMM of
    16 x 150 x 6,400); a large image is cut into bands of rows (VGG-16 conv1_2, float32: 8
    output rows, 28 GEMMs of 64 x 576 x (8 x 224)), so each block fits in ``_BUFFER_BYTES``.
    The bands are as even as possible (AlexNet's conv1: 28 and 27 rows, not 52 and 3).
    """
    rows = max(1, _BUFFER_BYTES // row_bytes)  # output rows that fit in the buffer
    if rows >= E:
        step = rows // E  # whole samples per block
        return [(n0, min(N, n0 + step), 0, E) for n0 in range(0, N, step)]
    bands = -(-E // rows)  # bands of rows per sample
    rows = -(-E // bands)
    return [(n, n + 1, e0, min(E, e0 + rows)) for n in range(N) for e0 in range(0, E, rows)]


def _columns(buf, view, n0, n1, c0, c1, e0, e1):
    """Copy the windows of samples n0:n1, channels c0:c1, output rows e0:e1 into ``buf``.

    Returns the block's im2col matrix, ((c1 - c0) R S) x ((n1 - n0) (e1 - e0) F), contiguous.
    """
    src = view[n0:n1, c0:c1, :, :, e0:e1].transpose(1, 2, 3, 0, 4, 5)  # (c, r, s, n, e, f)
    cols = buf[: src.size].reshape(src.shape)
    np.copyto(cols, src)
    return cols.reshape(-1, (n1 - n0) * (e1 - e0) * src.shape[-1])


def _full_row_windows(x, padding, R, S, E, dilation):
    """Like ``windows`` for stride 1, but over whole padded rows: a view (N, C, R, S, E, Wp).

    ``view[n, c, r, s, e, v] = xp[n, c, e + Dh r, v + Dw s]`` read from the flattened padded
    input, so for fixed (n, c, r, s) the E x Wp values are one contiguous run (the "flat
    shift" trick). Columns v >= F run into the next row: junk that the caller drops. The
    buffer has Dw (S - 1) zeros of slack so the last run stays inside it.
    """
    Dh, Dw = dilation
    N, C = x.shape[:2]
    flat, xp = _padded(x, padding, padding, slack=Dw * (S - 1))
    Hp, Wp = xp.shape[2:]
    strides = np.array([C * Hp * Wp, Hp * Wp, Dh * Wp, Dw, Wp, 1]) * x.itemsize
    return as_strided(flat, (N, C, R, S, E, Wp), tuple(strides), writeable=False)


def conv2d_im2col_blocked(x, w, stride, padding, dilation, groups, E, F):
    """im2col + GEMM, a cache-sized block at a time; arguments already checked."""
    N = x.shape[0]
    M, Cg, R, S = w.shape
    Mg = M // groups
    if method(w.shape, stride, dilation, groups, E, F) == "im2col, whole rows":
        view = _full_row_windows(x, padding, R, S, E, dilation)
    else:
        view = windows(_padded(x, padding, padding)[1], R, S, E, F, stride, dilation)
    width = view.shape[-1]  # F, or Wp with junk columns
    wmat = w.reshape(groups, Mg, Cg * R * S)
    out = np.empty((N, M, E, F), dtype=x.dtype)
    out3 = out.reshape(N, M, E * F)  # a view: each GEMM writes a slice of it
    per_row = Cg * R * S * width  # column-matrix elements per output row
    blocks = _blocks(N, E, per_row * x.itemsize)
    buf = _scratch("columns", max((n1 - n0) * (e1 - e0) for n0, n1, e0, e1 in blocks) * per_row, x.dtype)
    for n0, n1, e0, e1 in blocks:
        n, rows = n1 - n0, e1 - e0
        for g in range(groups):
            cols = _columns(buf, view, n0, n1, g * Cg, (g + 1) * Cg, e0, e1)
            m0 = g * Mg
            if n == 1 and width == F:  # the GEMM writes straight into the output
                np.matmul(wmat[g], cols, out=out3[n0, m0 : m0 + Mg, e0 * F : e1 * F])
            else:  # columns (n, e, v): move n in front of m and drop any junk columns
                res = _scratch("gemm", Mg * cols.shape[1], x.dtype).reshape(Mg, -1)
                res = np.matmul(wmat[g], cols, out=res).reshape(Mg, n, rows, width)[..., :F]
                out[n0:n1, m0 : m0 + Mg, e0:e1] = res.transpose(1, 0, 2, 3)
    return out


def _transforms(m, r):
    """``cnnlib.fastconv``'s F(m, r) matrices, as this module applies them.

    With row-major flattening, B^T d B is kron(B^T, B^T) @ d.ravel(), and G g G^T likewise:
    one matrix product per block instead of two. A^T Y A stays two products with A^T itself:
    the second one leaves the tile's columns last, so the tiles reach the output in whole rows.
    """
    AT, G, BT = winograd_matrices(m, r)
    return AT, np.kron(G, G), np.kron(BT, BT)  # (m, n), (n^2, r^2), (n^2, n^2)


_WINOGRAD = _transforms(_WINOGRAD_TILE, 3)


def conv2d_winograd_blocked(x, w, padding, groups, E, F):
    """Winograd F(4x4, 3x3) for a 3 x 3, stride-1, undilated layer; arguments already checked.

    The output is cut into tE x tF tiles of ``tile`` x ``tile`` outputs (4 x 4); each reads a
    ``span`` x ``span`` input patch (6 x 6, ``cnnlib.fastconv.tile_view``). The filters are
    transformed once (G g G^T). Then per block of tile rows and per group:

    1. copy the patches as a (span^2, C/groups, T) array d (T tiles), transform: B^T d B;
    2. span^2 GEMMs, one per position in the patch: (M/groups x C/groups) @ (C/groups x T);
    3. transform back, A^T Y A, in two products: (tile, M/groups, T, tile), the outputs of each
       tile with its rows first and its columns last, and write them out a row at a time.
    """
    tile = _WINOGRAD_TILE
    span = tile + 2
    per_patch, per_tile = span * span, tile * tile  # values per input patch (36), per output tile (16)
    N = x.shape[0]
    M, Cg, _, _ = w.shape
    Mg = M // groups
    dt = x.dtype
    at, g_, bt = (k.astype(dt) for k in _WINOGRAD)
    tE, tF = -(-E // tile), -(-F // tile)  # tiles cover the output, the last ones may overhang
    (Ph, Pw) = padding
    xp = _padded(x, padding, (Ph + tile * tE - E, Pw + tile * tF - F))[1]
    patches = tile_view(xp, tile, 3, tE, tF)  # (N, C, tE, tF, span, span)
    filt_t = np.matmul(g_, w.reshape(M * Cg, 9).T,  # G g G^T, for all filters at once
                       out=_scratch("filters", per_patch * M * Cg, dt).reshape(per_patch, M * Cg))
    filt_t = filt_t.reshape(per_patch, groups, Mg, Cg)
    out = np.empty((N, M, tile * tE, tile * tF), dtype=dt)
    blocks = _blocks(N, tE, per_patch * Cg * tF * x.itemsize)  # a row of tiles' patches per row
    T_max = max((n1 - n0) * (t1 - t0) for n0, n1, t0, t1 in blocks) * tF
    d_buf = _scratch("patches", per_patch * Cg * T_max, dt)
    v_buf = _scratch("transformed", per_patch * Cg * T_max, dt)
    p_buf = _scratch("products", per_patch * Mg * T_max, dt)
    h_buf = _scratch("half", tile * span * Mg * T_max, dt)
    y_buf = _scratch("tiles", per_tile * Mg * T_max, dt)
    for n0, n1, t0, t1 in blocks:
        nb, tb = n1 - n0, t1 - t0
        T = nb * tb * tF
        d = d_buf[: per_patch * Cg * T].reshape(span, span, Cg, nb, tb, tF)
        data_t = v_buf[: per_patch * Cg * T].reshape(per_patch, Cg * T)
        prod = p_buf[: per_patch * Mg * T].reshape(per_patch, Mg, T)
        half = h_buf[: tile * span * Mg * T].reshape(tile, span, Mg * T)
        y = y_buf[: per_tile * Mg * T].reshape(tile, Mg * T, tile)
        for g in range(groups):
            np.copyto(d, patches[n0:n1, g * Cg : (g + 1) * Cg, t0:t1].transpose(4, 5, 1, 0, 2, 3))
            np.matmul(bt, d.reshape(per_patch, Cg * T), out=data_t)  # B^T d B
            np.matmul(filt_t[:, g], data_t.reshape(per_patch, Cg, T), out=prod)  # Y: (span, span, Mg, T)
            np.matmul(at, prod.reshape(span, span * Mg * T), out=half.reshape(tile, -1))  # A^T Y
            np.matmul(half.transpose(0, 2, 1), at.T, out=y)  # (A^T Y) A: (row, Mg, T, column)
            tiles = out[n0:n1, g * Mg : (g + 1) * Mg, tile * t0 : tile * t1]  # splitting axes: a view
            tiles = tiles.reshape(nb, Mg, tb, tile, tF * tile)
            tiles[...] = y.reshape(tile, Mg, nb, tb, tF * tile).transpose(2, 1, 3, 0, 4)
    return out if out.shape[2:] == (E, F) else np.ascontiguousarray(out[:, :, :E, :F])


def conv2d_backward_blocked(dout, x, w, stride, padding, dilation, groups, E, F):
    """conv2d_backward's dx, dw (no db) a cache-sized block at a time; arguments already checked.

    The same products as ``conv2d_backward`` (dW = dO cols^T, dcols = W^T dO, then col2im),
    on the blocks of the forward pass, so the column matrix is never built whole.
    """
    N, C, H, W = x.shape
    M, Cg, R, S = w.shape
    Mg = M // groups
    (Ph, Pw), dtype = padding, x.dtype
    view = windows(pad(x, padding), R, S, E, F, stride, dilation)
    dxp = np.zeros((N, C, H + 2 * Ph, W + 2 * Pw), dtype=dtype)  # gradient of the padded input
    dview = windows(dxp, R, S, E, F, stride, dilation, writeable=True)
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
            cols = _columns(buf, view, n0, n1, c0, c0 + Cg, e0, e1)  # (Cg R S, n rows F)
            dwmat[g] += dO @ cols.T
            dcols = (wmat[g].T @ dO).reshape(Cg, R, S, n1 - n0, e1 - e0, F)
            for r in range(R):
                for s in range(S):
                    dview[n0:n1, c0 : c0 + Cg, r, s, e0:e1] += dcols[:, r, s].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(dxp[:, :, Ph : Ph + H, Pw : Pw + W]), dwmat.reshape(w.shape)
