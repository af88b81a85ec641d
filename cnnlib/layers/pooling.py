"""Pooling layers: a function (max or mean) applied to each R x S window, each channel separately.

The window slides with stride U (Uh rows, Uw columns; by default the window size, so windows
do not overlap) over the input, padded by Ph rows and Pw columns on each side. Pooling has no
weights: C channels in, the same C channels out, each E x F with E = floor((H + 2Ph - R) / Uh) + 1.
"""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array, as_pair, check_ndim
from ..shapes import conv_output_size


def _pool_args(x, size, stride, padding):
    """Validate the pooling arguments; return x, (R, S), (Uh, Uw), (Ph, Pw), (E, F)."""
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    R, S = as_pair(size, "size", 1)
    Uh, Uw = as_pair((R, S) if stride is None else stride, "stride", 1)
    Ph, Pw = as_pair(padding, "padding", 0)
    if Ph > R // 2 or Pw > S // 2:
        raise ValueError(f"padding must be at most half the window size {(R, S)}; got {(Ph, Pw)}")
    if min(x.shape) == 0:
        raise ValueError(f"x must not be empty; got shape {x.shape}")
    H, W = x.shape[2:]
    E = conv_output_size(H, R, Ph, Uh)
    F = conv_output_size(W, S, Pw, Uw, names=("W", "S"))
    return x, (R, S), (Uh, Uw), (Ph, Pw), (E, F)


def _windows(x, R, S, Uh, Uw, Ph, Pw, E, F, fill):
    """The (N, C, E, F, R, S) windows of x padded with ``fill`` (a view, no copy when Ph = Pw = 0)."""
    xp = np.pad(x, ((0, 0), (0, 0), (Ph, Ph), (Pw, Pw)), constant_values=fill) if Ph or Pw else x
    win = np.lib.stride_tricks.sliding_window_view(xp, (R, S), axis=(2, 3))
    return win[:, :, : Uh * (E - 1) + 1 : Uh, : Uw * (F - 1) + 1 : Uw]


def _scatter(parts, x_shape, R, S, Uh, Uw, Ph, Pw, E, F):
    """Add each window tap's (N, C, E, F) contribution back onto the input positions it came from.

    ``parts(i, j)`` gives the gradient that flows to tap (i, j) of every window. Overlapping
    windows (stride < size) add up; padding rows and columns are cut off at the end.
    """
    N, C, H, W = x_shape
    dxp = np.zeros((N, C, H + 2 * Ph, W + 2 * Pw), dtype=parts(0, 0).dtype)
    for i in range(R):
        for j in range(S):
            dxp[:, :, i : i + Uh * (E - 1) + 1 : Uh, j : j + Uw * (F - 1) + 1 : Uw] += parts(i, j)
    return dxp[:, :, Ph : Ph + H, Pw : Pw + W]


def _check_dout(dout, shape):
    dout = as_float_array(dout, "dout")
    if dout.shape != shape:
        raise ValueError(f"dout must have the output's shape (N, C, E, F) = {shape}; got {dout.shape}")
    return dout


def max_pool2d(x, size, stride=None, padding=0):
    """Max pooling: the largest value of each window, per channel.

    Parameters
    ----------
    x : array (N, C, H, W)
    size : int or (R, S)
        Window size.
    stride : int or (Uh, Uw), optional
        Distance between windows; defaults to ``size`` (non-overlapping windows).
    padding : int or (Ph, Pw)
        Padding on each side with -inf (never selected), at most half the window.

    Returns
    -------
    array (N, C, E, F)

    Raises
    ------
    TypeError
        Non-numeric x, or a non-integer size, stride or padding.
    ValueError
        x not 4-D or empty, size or stride < 1, padding < 0 or more than half the window, or a
        window larger than the padded input.

    Examples
    --------
    The lecture's 2x2 max pooling:

    >>> x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[None, None]
    >>> max_pool2d(x, 2)[0, 0].tolist()
    [[6.0, 8.0], [3.0, 4.0]]
    """
    x, (R, S), (Uh, Uw), (Ph, Pw), (E, F) = _pool_args(x, size, stride, padding)
    return _windows(x, R, S, Uh, Uw, Ph, Pw, E, F, -np.inf).max(axis=(4, 5))


def max_pool2d_backward(dout, x, size, stride=None, padding=0):
    """Gradient of :func:`max_pool2d`: each window's dout goes to the position of its maximum.

    Parameters
    ----------
    dout : array (N, C, E, F)
        dL/dy, the gradient of the loss with respect to the pooled output.
    x : array (N, C, H, W)
        The input of the forward pass; size, stride and padding as in the forward pass.

    Returns
    -------
    dx : array (N, C, H, W)
        dL/dx: zero except at each window's maximum (the first one if several tie).
    """
    x, (R, S), (Uh, Uw), (Ph, Pw), (E, F) = _pool_args(x, size, stride, padding)
    dout = _check_dout(dout, (*x.shape[:2], E, F)).astype(x.dtype, copy=False)
    win = _windows(x, R, S, Uh, Uw, Ph, Pw, E, F, -np.inf)
    argmax = win.reshape(*win.shape[:4], R * S).argmax(axis=-1)  # (N, C, E, F)
    return _scatter(lambda i, j: dout * (argmax == i * S + j), x.shape, R, S, Uh, Uw, Ph, Pw, E, F)


def avg_pool2d(x, size, stride=None, padding=0):
    """Average pooling: the mean of each window, per channel (padding zeros count in the mean).

    Same parameters, shapes and errors as :func:`max_pool2d`.

    Examples
    --------
    >>> x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[None, None]
    >>> avg_pool2d(x, 2)[0, 0].tolist()
    [[3.25, 5.25], [2.0, 2.0]]
    """
    x, (R, S), (Uh, Uw), (Ph, Pw), (E, F) = _pool_args(x, size, stride, padding)
    return _windows(x, R, S, Uh, Uw, Ph, Pw, E, F, 0.0).mean(axis=(4, 5))


def avg_pool2d_backward(dout, x, size, stride=None, padding=0):
    """Gradient of :func:`avg_pool2d`: each window's dout is shared equally by its R S taps.

    Same parameters as :func:`max_pool2d_backward`; returns dx (N, C, H, W).
    """
    x, (R, S), (Uh, Uw), (Ph, Pw), (E, F) = _pool_args(x, size, stride, padding)
    share = _check_dout(dout, (*x.shape[:2], E, F)).astype(x.dtype, copy=False) / x.dtype.type(R * S)
    return _scatter(lambda i, j: share, x.shape, R, S, Uh, Uw, Ph, Pw, E, F)
