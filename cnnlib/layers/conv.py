"""2-D convolution (the CONV layer): the lecture's 7 loops, im2col + GEMM, and the backward pass.

Notation of the lecture (Sze et al.): N batch, C input channels, H x W input fmap, M filters
of R x S, E x F output fmap, U stride, P padding, D dilation. Every function here computes

    O[n][m][x][y] = B[m] + sum_{i<R} sum_{j<S} sum_{k<C} I[n][k][U x + D i][U y + D j] x W[m][k][i][j]

on the zero-padded input; with ``groups`` the C input channels and M filters split into
independent convolutions (as AlexNet's two GPUs did). Stride, padding and dilation may differ
along H and W: (Uh, Uw), (Ph, Pw), (Dh, Dw).

- ``conv2d_naive``: the 7 loops, one Python step per MAC (for reading).
- ``im2col``: the windows as the columns of a matrix; ``conv2d``: im2col and one matrix
  multiply (GEMM) per group. By default ``conv2d`` hands the same computation to
  ``cnnlib.layers.conv_fast`` (cache-sized blocks, Winograd), which gives the same results
  faster; ``conv2d(..., fast=False)`` runs the readable version below.
- ``col2im`` and ``conv2d_backward``: the gradients, as matrix products on the same columns
  (also handed to ``conv_fast`` by default, ``fast=False`` for the readable version).
"""

from __future__ import annotations

import numpy as np

from .. import loopnest
from .._checks import as_float_array, as_int, as_pair, check_ndim
from ..shapes import check_conv_args, conv_output_size
from .conv_fast import conv2d_backward_blocked, conv2d_fast
from .windows import pad, windows


def conv2d_naive(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, activation=None):
    """The lecture's naive 7-loop convolution, for teaching (slow: one Python step per MAC).

    It is ``cnnlib.loopnest.run`` in the slide's loop order; ``loopnest`` runs the same seven
    loops in any order, tiled or not.

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
    return loopnest.run(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups,
                        activation=activation, order="nmxyijk")


def im2col(x, R, S, stride=1, padding=0, dilation=1):
    """The windows of x as the columns of one matrix: (C R S, N E F).

    Column (n, e, f) holds the C x R x S input values that output (e, f) of sample n sees,
    ordered (c, r, s) like a flattened filter, so one matrix product with the filters as rows
    computes the layer (see :func:`conv2d`).

    Parameters
    ----------
    x : array (N, C, H, W)
        Input fmaps.
    R, S : int
        Filter height and width.
    stride, padding, dilation : int or (vertical, horizontal) pair
        As in :func:`conv2d`.

    Returns
    -------
    array (C R S, N E F)
        A new array (a copy: each input value appears in up to R S columns).

    Notes
    -----
    Memory: at stride 1 the matrix is about R S times the input. VGG-16's conv1_2 (C = 64,
    224 x 224, 3 x 3, padding 1) gives 576 x 50,176 values: 116 MB in float32 for a 12.8 MB
    input. ``conv2d``'s fast path builds it a cache-sized block at a time instead.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> cols = im2col(x, 2, 2)
    >>> cols.shape
    (4, 9)
    >>> cols[:, 0].tolist()  # the window at (0, 0): inputs 0, 1, 4, 5
    [0.0, 1.0, 4.0, 5.0]
    >>> im2col(np.zeros((2, 3, 32, 32)), 5, 5, stride=1, padding=2).shape  # 75 x (2 x 32 x 32)
    (75, 2048)
    """
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    R, S = as_int(R, "R", 1), as_int(S, "S", 1)
    stride, padding = as_pair(stride, "stride", 1), as_pair(padding, "padding", 0)
    dilation = as_pair(dilation, "dilation", 1)
    N, C, H, W = x.shape
    E = conv_output_size(H, R, padding[0], stride[0], dilation[0])
    F = conv_output_size(W, S, padding[1], stride[1], dilation[1], names=("W", "S"))
    view = windows(pad(x, padding), R, S, E, F, stride, dilation)  # (N, C, R, S, E, F), no copy
    return view.transpose(1, 2, 3, 0, 4, 5).reshape(C * R * S, N * E * F)  # the copy


def col2im(cols, x_shape, R, S, stride=1, padding=0, dilation=1):
    """The adjoint of :func:`im2col`: add each column entry back into the input it came from.

    ``cols`` is (C R S, N E F); the result, of ``x_shape`` (N, C, H, W), sums the up to R S
    entries each input value was copied into. That sum is the gradient of im2col.

    Examples
    --------
    >>> col2im(np.ones((4, 9)), (1, 1, 4, 4), 2, 2)[0, 0, 0].tolist()  # windows per input
    [1.0, 2.0, 2.0, 1.0]
    """
    cols = as_float_array(cols, "cols")
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W); got {x_shape!r}")
    N, C, H, W = (as_int(v, "x_shape", 1) for v in x_shape)
    R, S = as_int(R, "R", 1), as_int(S, "S", 1)
    stride, padding = as_pair(stride, "stride", 1), as_pair(padding, "padding", 0)
    dilation = as_pair(dilation, "dilation", 1)
    Ph, Pw = padding
    E = conv_output_size(H, R, Ph, stride[0], dilation[0])
    F = conv_output_size(W, S, Pw, stride[1], dilation[1], names=("W", "S"))
    if cols.shape != (C * R * S, N * E * F):
        raise ValueError(f"cols must have im2col's shape (C R S, N E F) = {(C * R * S, N * E * F)} "
                         f"for x_shape {tuple(x_shape)}; got {cols.shape}")
    xp = np.zeros((N, C, H + 2 * Ph, W + 2 * Pw), dtype=cols.dtype)
    view = windows(xp, R, S, E, F, stride, dilation, writeable=True)  # aliases xp
    cols = cols.reshape(C, R, S, N, E, F)
    for r in range(R):
        for s in range(S):
            view[:, :, r, s] += cols[:, r, s].transpose(1, 0, 2, 3)
    return xp[:, :, Ph : Ph + H, Pw : Pw + W]


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, fast=True):
    """2-D convolution (cross-correlation, as in every CNN library) by im2col and GEMM.

    Parameters
    ----------
    x : array (N, C, H, W)
        Input fmaps, float32 or float64 (integers are converted to float64).
    w : array (M, C/groups, R, S)
        M filters, each as deep as the C/groups channels of its group.
    b : array (M,), optional
        One bias per filter.
    stride : int or (vertical, horizontal) pair
        U, the distance between window positions, >= 1.
    padding : int or (vertical, horizontal) pair
        P, zeros added on each side of H and W, >= 0.
    dilation : int or (vertical, horizontal) pair
        D, the distance between filter taps, >= 1 (1 is a dense filter).
    groups : int
        C and M are split into ``groups`` independent convolutions; must divide both.
    fast : bool
        True (default): the same computation by ``cnnlib.layers.conv_fast`` (cache-sized
        blocks, Winograd F(4x4, 3x3) on deep 3 x 3 layers), equal up to float rounding.
        False: the readable im2col + GEMM below.

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
    im2col : the column matrix.
    conv2d_backward : the gradients.

    Notes
    -----
    ``im2col(x)`` is a (C R S) x (N E F) matrix, one column per window, its rows ordered
    (c, r, s): the channels of group g are a band of C/groups R S consecutive rows. With the
    filters of group g as the rows of an (M/groups) x (C/groups R S) matrix, the layer is one
    matrix product (GEMM) per group:

        O[m, (n, e, f)] = sum over (c, r, s) of W[m, (c, r, s)] x cols[(c, r, s), (n, e, f)].

    A GEMM runs near the processor's peak (BLAS tiles it for registers and caches), which is
    why CPU and GPU libraries lower convolutions this way.

    Memory: the column matrix repeats each input value up to R S times. For VGG-16's conv1_2
    (C R S = 64 x 3 x 3 = 576 rows, N E F = 224 x 224 = 50,176 columns) it holds 28.9 million
    values, 116 MB in float32, nine times the 12.8 MB input. The fast path never builds it
    whole: it fills a 4 MiB buffer (a band of output rows, or a few samples) that stays in the
    cache, multiplies, and moves on (``cnnlib.layers.conv_fast``; timings in
    ``benchmarks/README.md``).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 3, 3))
    >>> conv2d(x, w).shape
    (1, 1, 2, 2)
    >>> conv2d(x, w, fast=False)[0, 0].tolist()  # each output sums a 3 x 3 window
    [[45.0, 54.0], [81.0, 90.0]]
    >>> im2col(x, 3, 3).shape  # (C R S, N E F): the matrix the GEMM reads
    (9, 4)
    >>> conv2d(np.zeros((2, 3, 32, 32)), np.zeros((6, 3, 5, 5)), stride=1, padding=2).shape
    (2, 6, 32, 32)
    """
    x, w, b, stride, padding, dilation, groups, E, F = check_conv_args(
        x, w, b, stride, padding, dilation, groups
    )
    if fast:
        out = conv2d_fast(x, w, stride, padding, dilation, groups, E, F)
    else:
        N = x.shape[0]
        M, Cg, R, S = w.shape
        cols = im2col(x, R, S, stride, padding, dilation)  # (C R S, N E F)
        cols = cols.reshape(groups, Cg * R * S, N * E * F)  # the rows of each group
        wmat = w.reshape(groups, M // groups, Cg * R * S)  # each group's filters as rows
        out = wmat @ cols  # one GEMM per group: (groups, M/groups, N E F)
        out = np.ascontiguousarray(out.reshape(M, N, E, F).transpose(1, 0, 2, 3))
    if b is not None:
        out += b[None, :, None, None]
    return out


def conv2d_backward(dout, x, w, *, stride=1, padding=0, dilation=1, groups=1, fast=True):
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
    fast : bool
        True (default): the same products on the forward pass's cache-sized blocks
        (``cnnlib.layers.conv_fast``). False: the readable version below.

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
    The forward pass is O = W cols + B per group (see :func:`conv2d`), so with dO the
    (M/groups) x (N E F) gradient of one group the three gradients are matrix products:

    - dB[m] = sum of dO[m, :] over samples and positions;
    - dW = dO cols^T: (M/groups) x (C/groups R S);
    - dcols = W^T dO, (C/groups R S) x (N E F); each input value was copied into up to R S
      columns, so its gradient is the sum of those entries (:func:`col2im`).

    The readable version (``fast=False``) builds the column matrix whole (N E F columns), so
    its memory grows with the batch; the fast one builds it a block at a time.

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
    x, w, _, stride, padding, dilation, groups, E, F = check_conv_args(
        x, w, None, stride, padding, dilation, groups
    )
    N = x.shape[0]
    M, Cg, R, S = w.shape
    dout = as_float_array(dout, "dout")
    if dout.shape != (N, M, E, F):
        raise ValueError(
            f"dout must have the forward output's shape (N, M, E, F) = {(N, M, E, F)}; got {dout.shape}"
        )
    dtype = np.result_type(x, dout)
    x, w, dout = x.astype(dtype, copy=False), w.astype(dtype, copy=False), dout.astype(dtype, copy=False)
    db = dout.sum(axis=(0, 2, 3))
    if fast:
        return *conv2d_backward_blocked(dout, x, w, stride, padding, dilation, groups, E, F), db
    cols = im2col(x, R, S, stride, padding, dilation).reshape(groups, Cg * R * S, N * E * F)
    dO = dout.transpose(1, 0, 2, 3).reshape(groups, M // groups, N * E * F)
    wmat = w.reshape(groups, M // groups, Cg * R * S)
    dw = dO @ cols.transpose(0, 2, 1)  # (groups, M/groups, C/groups R S)
    dcols = wmat.transpose(0, 2, 1) @ dO  # (groups, C/groups R S, N E F)
    dx = col2im(dcols.reshape(-1, N * E * F), x.shape, R, S, stride, padding, dilation)  # (C R S, N E F)
    return np.ascontiguousarray(dx), dw.reshape(w.shape), db
