"""Pooling layers: a function (max or mean) applied to each R x S window, each channel separately."""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array, as_pair, check_ndim
from ..counting import conv_output_size


def _windows(x, size, stride, padding, fill):
    """Return the (N, C, E, F, R, S) windows of x padded with ``fill``, after checking arguments."""
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    R, S = as_pair(size, "size", 1)
    U, V = as_pair(size if stride is None else stride, "stride", 1)
    P, Q = as_pair(padding, "padding", 0)
    if P > R // 2 or Q > S // 2:
        raise ValueError(f"padding must be at most half the window size {(R, S)}; got {(P, Q)}")
    H, W = x.shape[2:]
    E = conv_output_size(H, R, P, U)
    F = conv_output_size(W, S, Q, V, names=("W", "S"))
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (Q, Q)), constant_values=fill) if P or Q else x
    win = np.lib.stride_tricks.sliding_window_view(xp, (R, S), axis=(2, 3))
    return win[:, :, : U * (E - 1) + 1 : U, : V * (F - 1) + 1 : V]


def max_pool2d(x, size, stride=None, padding=0):
    """Max pooling: the largest value of each window, per channel.

    Parameters
    ----------
    x : array (N, C, H, W)
    size : int or (R, S)
        Window size.
    stride : int or (U, V), optional
        Distance between windows; defaults to ``size`` (non-overlapping windows).
    padding : int or (P, Q)
        Padding on each side with -inf (never selected), at most half the window.

    Returns
    -------
    array (N, C, E, F)

    Examples
    --------
    >>> x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[None, None]
    >>> max_pool2d(x, 2)[0, 0].tolist()
    [[6.0, 8.0], [3.0, 4.0]]
    """
    return _windows(x, size, stride, padding, -np.inf).max(axis=(4, 5))


def avg_pool2d(x, size, stride=None, padding=0):
    """Average pooling: the mean of each window, per channel (padding zeros count in the mean).

    Same parameters and shapes as :func:`max_pool2d`.
    """
    return _windows(x, size, stride, padding, 0.0).mean(axis=(4, 5))
