"""2-D convolution (the CONV layer): a readable 7-loop version and a fast one.

Notation of the lecture (Sze et al.): N batch, C input channels, H x W input fmap, M filters
of R x S, E x F output fmap, U stride. Both functions compute

    O[n][m][x][y] = B[m] + sum_{i<R} sum_{j<S} sum_{k<C} I[n][k][U x + i][U y + j] x W[m][k][i][j]

on the zero-padded input, extended with dilation D (filter taps D apart) and groups (the C
input channels and M filters split into ``groups`` independent convolutions, as AlexNet's
two GPUs did).
"""

from __future__ import annotations

import numpy as np

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
        E = floor((H + 2P - D(R - 1) - 1) / U) + 1 and likewise F from W, S.

    Raises
    ------
    TypeError
        Non-numeric arrays, or a non-integer stride, padding, dilation or groups.
    ValueError
        Wrong number of dimensions, channels that do not match or do not divide into groups,
        stride/dilation < 1, negative padding, a filter larger than the padded input, or a
        bias that is not (M,).

    Notes
    -----
    Why it is fast: the R x S window positions are gathered into a matrix (im2col, here with a
    zero-copy strided view, ``numpy.lib.stride_tricks.sliding_window_view``) so the whole layer
    becomes one matrix multiply per group, (M/groups) x (C/groups R S) times
    (C/groups R S) x (N E F), which BLAS runs at close to the machine's peak. The copy that
    lays the columns out costs C R S x N E F elements of memory, so for VGG-16's first layers
    (C R S = 576, E F = 50,176) that is about 115 MB in float32.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 3, 3))
    >>> conv2d(x, w).shape
    (1, 1, 2, 2)
    >>> conv2d(x, w)[0, 0].tolist()
    [[45.0, 54.0], [81.0, 90.0]]
    """
    x, w, b, (U, V), (P, Q), (D, G), groups, E, F = _check_conv_args(
        x, w, b, stride, padding, dilation, groups
    )
    N = x.shape[0]
    M, Cg, R, S = w.shape
    Mg = M // groups
    xp = _pad(x, P, Q)
    # (N, C, E, F, R, S) view: windows[n, c, e, f] is the R x S patch that output (e, f) sees
    span = (D * (R - 1) + 1, G * (S - 1) + 1)
    windows = np.lib.stride_tricks.sliding_window_view(xp, span, axis=(2, 3))
    windows = windows[:, :, : U * (E - 1) + 1 : U, : V * (F - 1) + 1 : V, ::D, ::G]
    out = np.empty((N, M, E, F), dtype=x.dtype)
    for g in range(groups):
        cols = windows[:, g * Cg : (g + 1) * Cg]  # (N, Cg, E, F, R, S)
        wg = w[g * Mg : (g + 1) * Mg]  # (Mg, Cg, R, S)
        res = np.tensordot(wg, cols, axes=([1, 2, 3], [1, 4, 5]))  # (Mg, N, E, F)
        out[:, g * Mg : (g + 1) * Mg] = res.transpose(1, 0, 2, 3)
    if b is not None:
        out += b[None, :, None, None]
    return out
