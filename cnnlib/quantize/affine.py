"""Uniform affine quantization: a real number r stored as a b-bit integer q, r = s (q - z).

The scale s (a positive real) and the zero point z (an integer, the code of r = 0) are chosen
from a range [lo, hi] that the tensor should cover:

- **asymmetric** (unsigned codes 0 ... 2^b - 1): s = (hi - lo) / (2^b - 1) and z = round(-lo / s),
  with the range first widened to contain 0, so that r = 0 (zero padding, ReLU's zeros) is
  exact. Jacob et al. (CVPR 2018) use it for activations.
- **symmetric** (signed codes -(2^(b-1) - 1) ... 2^(b-1) - 1, z = 0): s = max(|lo|, |hi|) /
  (2^(b-1) - 1). One code (-2^(b-1)) is left unused so that the range is symmetric, as in
  TensorFlow Lite's int8 weights; z = 0 keeps the zero-point terms out of the MACs.

A range is found by **calibration**: the tensor's min and max ("minmax"), or a percentile of its
values ("percentile", e.g. 99.99 %), which clips rare outliers to give the rest a finer step.
**Per tensor** one (s, z) covers the whole tensor; **per output channel** (axis 0 of a weight
tensor (M, C, R, S) or (M, K)) each filter m gets its own (s_m, z_m).

Rounding is half up everywhere, q = floor(r / s + 1/2) (then clipped to the codes), the rule
the integer-only path (``cnnlib.quantize.integer``) applies with a shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import as_float_array

#: Bit widths this package supports: 2 (ternary-like) to 16.
MIN_BITS, MAX_BITS = 2, 16

#: Rounding tolerance, in steps: x / s within TIE below k + 1/2 rounds up to k + 1.
TIE = 5e-5


def check_bits(bits, name: str = "bits") -> int:
    """Return ``bits`` as an int after checking it is in 2 ... 16.

    Examples
    --------
    >>> check_bits(8)
    8
    >>> check_bits(1)
    Traceback (most recent call last):
    ...
    ValueError: bits must be an int in 2 ... 16; got 1
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError(f"{name} must be an int in {MIN_BITS} ... {MAX_BITS}; got {bits!r}")
    if not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"{name} must be an int in {MIN_BITS} ... {MAX_BITS}; got {bits}")
    return int(bits)


def storage_dtype(bits: int, signed: bool) -> np.dtype:
    """The smallest numpy integer type that holds b-bit codes: int8/uint8 up to 8 bits, else 16.

    Examples
    --------
    >>> storage_dtype(4, signed=True), storage_dtype(12, signed=False)
    (dtype('int8'), dtype('uint16'))
    """
    bits = check_bits(bits)
    return np.dtype(f"{'int' if signed else 'uint'}{8 if bits <= 8 else 16}")


@dataclass(frozen=True)
class QParams:
    """Scale and zero point of a b-bit quantizer, per tensor or per output channel.

    Attributes
    ----------
    scale : float64 array, shape () per tensor or (M,) per channel
    zero_point : int64 array, same shape as ``scale``
    bits : int
    signed : bool
        Symmetric signed codes (z = 0) or asymmetric unsigned codes.

    Per-channel parameters apply along axis 0 of the tensor (the filters M).
    """

    scale: np.ndarray
    zero_point: np.ndarray
    bits: int
    signed: bool

    @property
    def qmin(self) -> int:
        """Smallest code: -(2^(b-1) - 1) signed, 0 unsigned."""
        return -(2 ** (self.bits - 1) - 1) if self.signed else 0

    @property
    def qmax(self) -> int:
        """Largest code: 2^(b-1) - 1 signed, 2^b - 1 unsigned."""
        return 2 ** (self.bits - 1) - 1 if self.signed else 2**self.bits - 1

    @property
    def dtype(self) -> np.dtype:
        """Storage type of the codes (:func:`storage_dtype`)."""
        return storage_dtype(self.bits, self.signed)

    @property
    def per_channel(self) -> bool:
        return self.scale.ndim == 1

    def _along_axis0(self, a: np.ndarray, ndim: int) -> np.ndarray:
        return a.reshape(a.shape + (1,) * (ndim - 1)) if self.per_channel else a

    def _codes(self, x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Float64 codes clip(floor(x / s + 1/2) + z, qmin, qmax), and s and z shaped to match."""
        x = as_float_array(x, "x")
        self._check_channels(x)
        s = self._along_axis0(self.scale, x.ndim)
        z = self._along_axis0(self.zero_point, x.ndim)
        codes = np.asarray(x / s, dtype=np.float64)
        codes += z + (0.5 + TIE)
        np.floor(codes, out=codes)
        return np.clip(codes, self.qmin, self.qmax, out=codes), s, z

    def quantize(self, x) -> np.ndarray:
        """Codes q = clip(floor(x / s + 1/2) + z, qmin, qmax), stored as :attr:`dtype`.

        Values up to :data:`TIE` of a step below a tie round up too: a value exactly half-way
        between two levels in exact arithmetic (the mean of four codes often is) then rounds up
        as in the integer path, even when float error put it a hair below.
        """
        return self._codes(x)[0].astype(self.dtype)

    def dequantize(self, q, dtype=np.float64) -> np.ndarray:
        """Reals s (q - z) of codes ``q``."""
        q = np.asarray(q)
        self._check_channels(q)
        s = self._along_axis0(self.scale, q.ndim)
        z = self._along_axis0(self.zero_point, q.ndim)
        return (s * (q.astype(np.int64) - z)).astype(dtype)

    def fake_quantize(self, x) -> np.ndarray:
        """Quantize and dequantize: x rounded to the nearest of the 2^b levels, in x's dtype."""
        dtype = as_float_array(x, "x").dtype
        codes, s, z = self._codes(x)
        codes -= z
        codes *= s
        return codes.astype(dtype, copy=False)

    def _check_channels(self, x: np.ndarray) -> None:
        if self.per_channel and (x.ndim == 0 or x.shape[0] != self.scale.shape[0]):
            raise ValueError(f"x must have M = {self.scale.shape[0]} channels along axis 0 for per-channel "
                             f"parameters; got shape {x.shape}")

    def __repr__(self) -> str:
        kind = "signed, symmetric" if self.signed else "unsigned, asymmetric"
        if self.per_channel:
            where = (f"per channel (M = {self.scale.size}), "
                     f"s in {self.scale.min():.3g} ... {self.scale.max():.3g}")
        else:
            where = f"s = {float(self.scale):.4g}, z = {int(self.zero_point)}"
        return f"QParams({self.bits} bits {kind}, {where})"


def qparams(lo, hi, bits, *, symmetric: bool) -> QParams:
    """Scale and zero point that cover [lo, hi] with b-bit codes.

    Parameters
    ----------
    lo, hi : float or array (M,)
        The range (per channel if arrays); lo <= hi. Asymmetric ranges are widened to contain 0.
    bits : int
        2 ... 16.
    symmetric : bool
        Signed codes with z = 0 (s from max(|lo|, |hi|)), or unsigned codes with a zero point.

    Returns
    -------
    QParams

    Notes
    -----
    A range of width 0 (a constant tensor, e.g. all-zero) gets s = 1, so every value stays
    representable and nothing divides by zero.

    Examples
    --------
    >>> qp = qparams(-0.1, 1.175, 8, symmetric=False)   # LeNet-5's input range
    >>> round(float(qp.scale), 6), int(qp.zero_point)
    (0.005, 20)
    >>> qp = qparams(-0.5, 0.25, 4, symmetric=True)
    >>> round(float(qp.scale), 4), int(qp.zero_point), qp.qmin, qp.qmax
    (0.0714, 0, -7, 7)
    """
    bits = check_bits(bits)
    lo, hi = as_float_array(lo, "lo").astype(np.float64), as_float_array(hi, "hi").astype(np.float64)
    if lo.shape != hi.shape or lo.ndim > 1:
        raise ValueError(f"lo and hi must be two floats or two arrays (M,); "
                         f"got shapes {lo.shape}, {hi.shape}")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)):
        raise ValueError(f"lo and hi must be finite with lo <= hi; got lo={lo}, hi={hi}")
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        scale = np.maximum(np.abs(lo), np.abs(hi)) / qmax
        zero_point = np.zeros(lo.shape, dtype=np.int64)
    else:
        lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
        scale = (hi - lo) / (2**bits - 1)
        zero_point = np.floor(-lo / np.where(scale > 0, scale, 1.0) + 0.5).astype(np.int64)
    scale = np.where(scale > 0, scale, 1.0)
    return QParams(scale, zero_point, bits, signed=symmetric)


def calibrate(x, bits, *, symmetric: bool, per_channel: bool = False, method: str = "minmax",
              percentile: float = 99.99) -> QParams:
    """Quantization parameters for the values of ``x``: the range from its min/max or percentiles.

    Parameters
    ----------
    x : array
        Sample values: a weight tensor (M, ...) or activations recorded on calibration data.
    bits : int
        2 ... 16.
    symmetric : bool
        See :func:`qparams`.
    per_channel : bool
        One range per index of axis 0 (the filters M of a weight tensor).
    method : "minmax" or "percentile"
        The range [min, max], or [P(100 - p), P(p)] with p = ``percentile`` (outliers clipped).
    percentile : float
        p, in (50, 100].

    Returns
    -------
    QParams

    Examples
    --------
    >>> x = np.r_[np.linspace(-1, 1, 9999), 50.0]           # one outlier
    >>> round(float(calibrate(x, 8, symmetric=True).scale), 4)
    0.3937
    >>> round(float(calibrate(x, 8, symmetric=True, method="percentile", percentile=99.9).scale), 4)
    0.0079
    """
    x = as_float_array(x, "x")
    if x.size == 0:
        raise ValueError("x must hold at least one value to calibrate on; got an empty array")
    if method not in ("minmax", "percentile"):
        raise ValueError(f"method must be 'minmax' or 'percentile'; got {method!r}")
    if not 50 < percentile <= 100:
        raise ValueError(f"percentile must be in (50, 100]; got {percentile}")
    if per_channel and x.ndim < 1:
        raise ValueError(f"x must have a channel axis 0 for per_channel=True; got shape {x.shape}")
    values = x.reshape(x.shape[0], -1) if per_channel else x.reshape(1, -1)
    if method == "minmax":
        lo, hi = values.min(axis=1), values.max(axis=1)
    else:
        lo, hi = np.percentile(values, [100 - percentile, percentile], axis=1)
    if not per_channel:
        lo, hi = lo[0], hi[0]
    return qparams(lo, hi, bits, symmetric=symmetric)
