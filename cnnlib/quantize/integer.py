"""Integer-only kernels (Jacob et al., CVPR 2018): what an int8 accelerator computes.

A CONV or FC layer with input codes q_x (scale s_x, zero point z_x), symmetric weight codes q_w
(scale s_w, zero point 0) and output codes q_y (s_y, z_y) computes

    acc[m] = sum_k (q_x[k] - z_x) q_w[m, k] + q_b[m]           (integers: b-bit x b-bit -> int32)
    q_y[m] = z_y + round(M acc[m]),   M = s_x s_w[m] / s_y      (requantization)

with the bias stored as an integer at the accumulator's scale, q_b = round(b / (s_x s_w)). The
real multiplier M (about 1e-3 ... 1) is the only non-integer: it is stored as a fixed-point
multiplier M0 (an integer in [2^30, 2^31), i.e. Q31 with the binary point after bit 31) and a
right shift, M = M0 2^-shift, so round(M acc) = (acc M0 + 2^(shift-1)) >> shift: one integer
multiply (64-bit product), one add and one shift. The rounding is half up (towards +inf); gemmlowp
rounds twice, half away from zero, which differs only on exact ties.

Accumulator width: |acc| <= K (2^(b_w-1) - 1)(2^(b_x) - 1) + max|q_b|. For 8-bit LeNet-5 that is
at most 2^24, well inside int32; from about 11 bits on, a 400-input FC layer needs more than 32
bits, and :func:`accumulator_bits` says how many (then int64 is used, and M0 gets fewer bits so
that acc M0 still fits in 64).

Activation functions become lookup tables over the b-bit input codes (:func:`activation_table`),
pooling an integer max or a rounded integer mean.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import as_int
from .affine import QParams


def accumulator_bits(bound) -> int:
    """Bits of a signed accumulator that holds every value of magnitude <= ``bound``.

    Examples
    --------
    >>> accumulator_bits(2**31 - 1), accumulator_bits(2**31)
    (32, 33)
    """
    return int(bound).bit_length() + 1


def quantize_multiplier(M, bits: int = 31):
    """A positive real multiplier M as an integer M0 and a right shift: M ~ M0 2^-shift.

    Parameters
    ----------
    M : float or array (M,)
        0 < M < 2^(bits - 2).
    bits : int
        M0 is in [2^(bits-1), 2^bits): 31 for the Q31 multiplier of int32 pipelines.

    Returns
    -------
    M0 : int array, same shape as M
        int32 for ``bits`` <= 31 (Q31: the binary point after bit 31), else int64.
    shift : int64 array, same shape as M, >= 1

    Notes
    -----
    M = m 2^e with m in [0.5, 1) (``np.frexp``); M0 = round(m 2^bits) and shift = bits - e.
    The relative error of M0 2^-shift is at most 2^-bits.

    Examples
    --------
    >>> M0, shift = quantize_multiplier(0.003)
    >>> int(M0), int(shift), f"{float(M0 * 2.0**-shift):.12f}"
    (1649267442, 39, '0.003000000001')
    """
    bits = as_int(bits, "bits", 2)
    M = np.asarray(M, dtype=np.float64)
    if not np.all(np.isfinite(M) & (M > 0) & (M < 2.0 ** (bits - 2))):
        raise ValueError(f"M must be finite and in (0, 2^{bits - 2}); got {M}")
    mantissa, exponent = np.frexp(M)
    M0 = np.round(mantissa * 2.0**bits).astype(np.int64)
    carry = M0 == 2**bits  # the mantissa rounded up to 1.0
    M0 = np.where(carry, 2 ** (bits - 1), M0)
    shift = bits - (exponent + carry).astype(np.int64)
    if np.any(shift > 62):
        raise ValueError(f"M must be at least 2^{bits - 63} to be shifted within 64 bits; got {M.min():g}")
    return M0.astype(np.int32 if bits <= 31 else np.int64), shift


def _per_channel(a, ndim: int):
    """A scalar or (M,) array shaped to broadcast along axis 1 of an (N, M, ...) array."""
    a = np.asarray(a)
    return a.reshape((1, -1) + (1,) * (ndim - 2)) if a.ndim == 1 else a


def requantize(acc, M0, shift, out: QParams) -> np.ndarray:
    """Accumulators to output codes: q_y = clip(z_y + ((acc M0 + 2^(shift-1)) >> shift), qmin, qmax).

    Parameters
    ----------
    acc : int array (N, M, ...)
        Accumulators (int32 or int64).
    M0, shift : int arrays, shape () or (M,)
        From :func:`quantize_multiplier` (per output channel along axis 1 if (M,)).
    out : QParams
        Per-tensor parameters of the output.

    Returns
    -------
    array (N, M, ...) of ``out.dtype``

    Examples
    --------
    >>> from cnnlib.quantize.affine import qparams
    >>> M0, shift = quantize_multiplier(0.25)   # -1.5, -0.5, 0.5, 1.5, 500 round half up
    >>> requantize(np.array([[-6, -2, 2, 6, 2000]]), M0, shift, qparams(-1, 1, 8, symmetric=False)).tolist()
    [[127, 128, 129, 130, 255]]
    """
    acc = np.asarray(acc)
    if not np.issubdtype(acc.dtype, np.integer):
        raise TypeError(f"acc must be an integer array; got dtype {acc.dtype}")
    M0, shift = _per_channel(M0, acc.ndim), _per_channel(shift, acc.ndim)
    product = acc.astype(np.int64) * M0
    rounded = (product + (np.int64(1) << (shift - 1))) >> shift
    return np.clip(rounded + int(out.zero_point), out.qmin, out.qmax).astype(out.dtype)


def conv2d_int(q_x, z_x: int, q_w, q_b, *, stride: int = 1, padding: int = 0, dtype=np.int32):
    """Integer convolution: acc[n, m, e, f] = sum_{c,r,s} (q_x - z_x) q_w[m, c, r, s] + q_b[m].

    Parameters
    ----------
    q_x : int array (N, C, H, W)
        Input codes with zero point ``z_x``; padding adds codes z_x (the real value 0).
    q_w : int array (M, C, R, S)
        Symmetric weight codes (zero point 0).
    q_b : int array (M,)
        Bias at the accumulator's scale s_x s_w.
    stride, padding : int
        U and P.
    dtype : int32 or int64
        The accumulator (see :func:`accumulator_bits`).

    Returns
    -------
    array (N, M, E, F) of ``dtype``
    """
    N, C, H, W = q_x.shape
    M, _, R, S = q_w.shape
    x = q_x.astype(dtype) - dtype(z_x)
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(x, (R, S), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, E, F, R, S)
    E, F = windows.shape[2:4]
    columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * E * F, C * R * S)
    acc = columns @ q_w.reshape(M, -1).T.astype(dtype) + q_b.astype(dtype)
    return acc.reshape(N, E, F, M).transpose(0, 3, 1, 2)


def linear_int(q_x, z_x: int, q_w, q_b, *, dtype=np.int32):
    """Integer FC layer: acc[n, m] = sum_k (q_x[n, k] - z_x) q_w[m, k] + q_b[m]; (N, K) -> (N, M)."""
    return (q_x.astype(dtype) - dtype(z_x)) @ q_w.T.astype(dtype) + q_b.astype(dtype)


def pool2d_int(q_x, size: int, kind: str) -> np.ndarray:
    """Integer pooling over size x size windows (stride = size): the max, or the mean rounded half up.

    Codes share one scale and zero point, so max and mean of codes are codes of the max and
    mean: floor((sum + size^2 / 2) / size^2) keeps the input's parameters (a shift for 2 x 2).

    Examples
    --------
    >>> pool2d_int(np.array([[[[1, 2], [3, 4]]]], dtype=np.uint8), 2, "avg").tolist()
    [[[[3]]]]
    """
    N, C, H, W = q_x.shape
    E, F = H // size, W // size
    blocks = q_x[:, :, : E * size, : F * size].reshape(N, C, E, size, F, size)
    if kind == "max":
        return blocks.max(axis=(3, 5))
    count = size * size
    total = blocks.sum(axis=(3, 5), dtype=np.int64)
    return ((total + count // 2) // count).astype(q_x.dtype)


def activation_table(f, in_q: QParams, out_q: QParams) -> np.ndarray:
    """The activation as a lookup table: entry q - qmin holds the output code of f(s_x (q - z_x)).

    One entry per input code (256 at 8 bits), computed once, offline; at run time the activation
    is a table read, ``table[q_x - in_q.qmin]``, as integer-only pipelines do for tanh and sigmoid.

    Examples
    --------
    >>> from cnnlib.activations import tanh
    >>> from cnnlib.quantize.affine import qparams
    >>> table = activation_table(tanh, qparams(-4, 4, 3, symmetric=False), qparams(-1, 1, 3, symmetric=False))
    >>> table.tolist()
    [1, 1, 1, 1, 4, 7, 7, 7]
    """
    codes = np.arange(in_q.qmin, in_q.qmax + 1)
    return out_q.quantize(f(in_q.dequantize(codes)))
