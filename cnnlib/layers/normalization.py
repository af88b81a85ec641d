"""Normalization layers: batch normalization and AlexNet's local response normalization.

Batch normalization (Ioffe and Szegedy 2015), per channel c, sits between a CONV/FC layer and
its activation:

    y = (x - mu) / sqrt(sigma^2 + eps) * gamma + beta

- training form (:func:`batch_norm_train`): mu and sigma^2 are the mean and (biased) variance
  of channel c over the batch, N x E x F values for a CONV output (N for an FC output); the
  layer keeps running averages of them for inference.
- inference form (:func:`batch_norm`): mu and sigma^2 are fixed numbers (those running
  averages), so y is an affine function of x per channel, which :func:`fold_batch_norm` merges
  into the preceding layer's weights and bias.
"""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array, as_int, as_real, check_ndim


def _bn_input(x):
    """x as a float array (N, C) or (N, C, H, W); return it with its reduction axes and stat shape."""
    x = as_float_array(x, "x")
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be a 2-D (N, C) or 4-D (N, C, H, W) array; got shape {x.shape}")
    if min(x.shape) == 0:
        raise ValueError(f"x must not be empty; got shape {x.shape}")
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    return x, axes, (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _per_channel(v, C, name, dtype, shape):
    v = as_float_array(v, name)
    if v.shape != (C,):
        raise ValueError(f"{name} must have shape (C,) = ({C},); got {v.shape}")
    return v.astype(dtype, copy=False).reshape(shape)


def batch_norm(x, mean, var, gamma, beta, eps=1e-5):
    """Batch normalization with given statistics (the inference form), per channel.

    y = (x - mu) / sqrt(sigma^2 + eps) * gamma + beta

    Parameters
    ----------
    x : array (N, C, H, W) or (N, C)
    mean, var : arrays (C,)
        Channel mean mu and variance sigma^2 (from the training data), var >= 0.
    gamma, beta : arrays (C,)
        Learned scale and shift.
    eps : float
        Small constant > 0 that keeps the division finite.

    Returns
    -------
    array, same shape and dtype as x

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])  # N = 2 samples, C = 2 channels
    >>> batch_norm(x, [2, 20], [1, 100], [1, 1], [0, 0]).round(4).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    x, _, shape = _bn_input(x)
    C, t = x.shape[1], x.dtype.type
    mean, var, gamma, beta = (
        _per_channel(v, C, n, x.dtype, shape)
        for v, n in ((mean, "mean"), (var, "var"), (gamma, "gamma"), (beta, "beta"))
    )
    eps = as_real(eps, "eps", 0, strict=True)
    if np.any(var < 0):
        raise ValueError(f"var must be >= 0 in every channel; got minimum {var.min()}")
    return (x - mean) / np.sqrt(var + t(eps)) * gamma + beta


def batch_norm_train(x, gamma, beta, eps=1e-5):
    """Batch normalization in training: normalise each channel with the batch's own statistics.

    Parameters
    ----------
    x : array (N, C, H, W) or (N, C)
    gamma, beta : arrays (C,)
    eps : float

    Returns
    -------
    y : array, same shape as x
        Per channel, mean beta and standard deviation about |gamma|.
    mean, var : arrays (C,)
        The batch statistics mu and sigma^2 (biased: divided by N H W, not N H W - 1), which the
        caller folds into its running averages.
    """
    x, axes, _ = _bn_input(x)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    return batch_norm(x, mean, var, gamma, beta, eps), mean, var


def batch_norm_backward(dout, x, gamma, eps=1e-5, mean=None, var=None):
    """Gradients of batch normalization, training form or (given ``mean`` and ``var``) inference form.

    Parameters
    ----------
    dout : array, shape of x
        dL/dy.
    x : array (N, C, H, W) or (N, C)
        The forward pass's input.
    gamma : array (C,)
    eps : float
    mean, var : arrays (C,), optional
        Fixed statistics of the inference form. If omitted, the batch statistics were used
        (training form) and the gradient also flows through them.

    Returns
    -------
    dx : array, shape of x
    dgamma, dbeta : arrays (C,)

    Notes
    -----
    With x_hat = (x - mu) / sqrt(sigma^2 + eps) and m values per channel:
    dbeta = sum(dout), dgamma = sum(dout x_hat), and in the training form

        dx = gamma / (m sqrt(sigma^2 + eps)) (m dout - sum(dout) - x_hat sum(dout x_hat))

    where the two sums are the gradient through mu and sigma^2. In the inference form only the
    first term remains: dx = gamma dout / sqrt(sigma^2 + eps).
    """
    x, axes, shape = _bn_input(x)
    dout = as_float_array(dout, "dout")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}; got {dout.shape}")
    dout = dout.astype(x.dtype, copy=False)
    C, t = x.shape[1], x.dtype.type
    gamma = _per_channel(gamma, C, "gamma", x.dtype, shape)
    eps = as_real(eps, "eps", 0, strict=True)
    training = mean is None and var is None
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    elif mean is None or var is None:
        raise ValueError("mean and var must be given together (inference form) or both omitted")
    mean = _per_channel(mean, C, "mean", x.dtype, shape)
    inv_std = 1 / np.sqrt(_per_channel(var, C, "var", x.dtype, shape) + t(eps))
    x_hat = (x - mean) * inv_std
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    if not training:
        return dout * gamma * inv_std, dgamma, dbeta
    m = t(x.size // C)
    dx = gamma * inv_std / m * (m * dout - dbeta.reshape(shape) - x_hat * dgamma.reshape(shape))
    return dx, dgamma, dbeta


def fold_batch_norm(w, b, mean, var, gamma, beta, eps=1e-5):
    """Fold an inference-form batch norm into the CONV or FC layer before it.

    BN(conv(x, w) + b) = conv(x, w') + b' per output channel m, with the scale
    s = gamma / sqrt(sigma^2 + eps):

        w'[m] = s[m] w[m],    b'[m] = s[m] (b[m] - mu[m]) + beta[m]

    so inference needs no separate normalization step (no extra pass over the fmaps, no
    divider): a standard trick of inference hardware.

    Parameters
    ----------
    w : array (M, C/groups, R, S) or (M, K)
        Weights of the CONV (or FC) layer whose M outputs the batch norm normalizes.
    b : array (M,) or None
        Its biases (None: no bias, taken as zeros).
    mean, var, gamma, beta : arrays (M,)
        The batch norm's statistics and parameters (its C is the layer's M).
    eps : float

    Returns
    -------
    w_folded : array, shape of w
    b_folded : array (M,)
    """
    w = as_float_array(w, "w")
    if w.ndim not in (2, 4):
        raise ValueError(f"w must be a 4-D (M, C/groups, R, S) or 2-D (M, K) array; got shape {w.shape}")
    M, shape = w.shape[0], (w.shape[0],)
    mean, var, gamma, beta = (
        _per_channel(v, M, n, w.dtype, shape)
        for v, n in ((mean, "mean"), (var, "var"), (gamma, "gamma"), (beta, "beta"))
    )
    eps = as_real(eps, "eps", 0, strict=True)
    b = np.zeros(M, w.dtype) if b is None else _per_channel(b, M, "b", w.dtype, shape)
    scale = gamma / np.sqrt(var + w.dtype.type(eps))
    return w * scale.reshape((M,) + (1,) * (w.ndim - 1)), (b - mean) * scale + beta


def _lrn_args(x, size, alpha, beta, k):
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    return (x, as_int(size, "size", 1), as_real(alpha, "alpha", 0), as_real(beta, "beta", 0),
            as_real(k, "k", 0, strict=True))


def _channel_sum(v, before, after):
    """Sum of v (N, C, H, W) over channels c - before ... c + after (clipped at the ends)."""
    padded = np.pad(v, ((0, 0), (before, after), (0, 0), (0, 0)))
    return np.lib.stride_tricks.sliding_window_view(padded, before + after + 1, axis=1).sum(axis=-1)


def local_response_norm(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """Local response normalization across channels, as in AlexNet (Krizhevsky et al. 2012).

    b[c] = a[c] / (k + alpha * sum_{c' = c - size//2}^{c + (size-1)//2} a[c']^2) ^ beta

    The sum runs over ``size`` neighbouring channels, clipped at the first and last channel
    (for AlexNet's odd size 5: two channels on each side). This is the paper's formula, with
    its constants as defaults; PyTorch's ``LocalResponseNorm`` divides ``alpha`` by ``size``.

    Parameters
    ----------
    x : array (N, C, H, W)
    size : int >= 1
    alpha, beta : float >= 0
    k : float > 0

    Returns
    -------
    array (N, C, H, W)
    """
    x, size, alpha, beta, k = _lrn_args(x, size, alpha, beta, k)
    t = x.dtype.type
    d = t(k) + t(alpha) * _channel_sum(x * x, size // 2, (size - 1) // 2)
    return x / d ** t(beta)


def local_response_norm_backward(dout, x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """Gradient of :func:`local_response_norm` with respect to its input.

    Notes
    -----
    With d[c] = k + alpha sum_{window(c)} a^2 and b[c] = a[c] d[c]^-beta, channel c appears in
    the denominator of every channel c' whose window holds it, so

        dL/da[c] = dout[c] d[c]^-beta
                   - 2 alpha beta a[c] sum_{c' : c in window(c')} dout[c'] a[c'] d[c']^(-beta-1)

    The second sum runs over the mirrored window (c - (size-1)//2 ... c + size//2).

    Returns
    -------
    dx : array (N, C, H, W)
    """
    x, size, alpha, beta, k = _lrn_args(x, size, alpha, beta, k)
    dout = as_float_array(dout, "dout")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}; got {dout.shape}")
    t = x.dtype.type
    dout = dout.astype(x.dtype, copy=False)
    d = t(k) + t(alpha) * _channel_sum(x * x, size // 2, (size - 1) // 2)
    through_d = _channel_sum(dout * x * d ** t(-beta - 1), (size - 1) // 2, size // 2)
    return dout * d ** t(-beta) - t(2 * alpha * beta) * x * through_d
