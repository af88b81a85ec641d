"""Normalization layers: batch normalization and AlexNet's local response normalization."""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array, check_ndim


def _per_channel(v, C, name, dtype):
    v = as_float_array(v, name)
    if v.shape != (C,):
        raise ValueError(f"{name} must have shape (C,) = ({C},); got {v.shape}")
    return v.astype(dtype, copy=False)


def batch_norm(x, mean, var, gamma, beta, eps=1e-5):
    """Batch normalization with given statistics (the inference form), per channel.

    y = (x - mu) / sqrt(sigma^2 + eps) * gamma + beta

    Parameters
    ----------
    x : array (N, C, H, W) or (N, C)
    mean, var, gamma, beta : arrays (C,)
        Channel mean mu and variance sigma^2 (from the training data), learned scale and shift.
    eps : float
        Small constant that keeps the division finite.

    Returns
    -------
    array, same shape as x
    """
    x = as_float_array(x, "x")
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be a 2-D (N, C) or 4-D (N, C, H, W) array; got shape {x.shape}")
    C = x.shape[1]
    shape = (1, C) + (1,) * (x.ndim - 2)
    mean, var, gamma, beta = (
        _per_channel(v, C, n, x.dtype).reshape(shape)
        for v, n in ((mean, "mean"), (var, "var"), (gamma, "gamma"), (beta, "beta"))
    )
    if eps <= 0:
        raise ValueError(f"eps must be > 0; got {eps}")
    return (x - mean) / np.sqrt(var + x.dtype.type(eps)) * gamma + beta


def local_response_norm(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """Local response normalization across channels, as in AlexNet (Krizhevsky et al. 2012).

    b[c] = a[c] / (k + alpha * sum_{c' = c - size//2}^{c + size//2} a[c']^2) ^ beta

    The sum runs over ``size`` neighbouring channels (clipped at the ends). This is the paper's
    formula; PyTorch's ``LocalResponseNorm`` divides ``alpha`` by ``size``.

    Parameters
    ----------
    x : array (N, C, H, W)

    Returns
    -------
    array (N, C, H, W)
    """
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    half = size // 2
    sq = np.pad(x * x, ((0, 0), (half, half), (0, 0), (0, 0)))
    window = np.lib.stride_tricks.sliding_window_view(sq, size, axis=1).sum(axis=-1)
    t = x.dtype.type
    return x / (t(k) + t(alpha) * window) ** t(beta)
