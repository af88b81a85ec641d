"""What a chip computes instead of an exponential: hardware approximations of activations.

ReLU costs a comparator (in two's complement, the sign bit selects 0 or x) and leaky ReLU adds a
shift (alpha a power of two) or a multiply. Sigmoid, tanh, ELU and softmax need e^x, which is far
larger and slower than a multiplier, so accelerators approximate them:

- ``sigmoid_pwl``: a piecewise-linear sigmoid whose slopes are powers of two, so each segment is
  a shift and an add (PLAN: H. Amin, K. M. Curtis, B. R. Hayes-Gill, "Piecewise linear
  approximation applied to nonlinear function of a neural network", IEE Proc. Circuits, Devices
  and Systems 144(6), 1997).
- ``lut``: any function sampled into a lookup table (a small ROM), read at the nearest entry or
  interpolated linearly between two entries (one more multiply-add).

Since tanh(x) = 2 sigmoid(2x) - 1, one sigmoid unit also serves tanh.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, as_int

#: PLAN's segments for |x|: (start of the segment, slope, intercept); y(-x) = 1 - y(x).
PLAN_SEGMENTS = ((5.0, 0.0, 1.0), (2.375, 0.03125, 0.84375), (1.0, 0.125, 0.625), (0.0, 0.25, 0.5))


def sigmoid_pwl(x):
    """Piecewise-linear sigmoid (PLAN): four segments with power-of-two slopes.

    For a = |x|: y = 1 (a >= 5), a/32 + 0.84375 (2.375 <= a < 5), a/8 + 0.625 (1 <= a < 2.375),
    a/4 + 0.5 (a < 1); for x < 0, y = 1 - y(|x|). The largest error against the exact sigmoid
    is 0.0189, at |x| = 1. The breakpoint 2.375 (binary 10.011) is cheap to compare against,
    but the two segments meet at 7/3, so y drops by 1/256 there: PLAN is not quite monotone.

    Parameters
    ----------
    x : array
        Any shape, float32 or float64 (integers become float64).

    Returns
    -------
    array
        Same shape and dtype as ``x``, in [0, 1].

    Examples
    --------
    >>> sigmoid_pwl(np.array([-6.0, -1.0, 0.0, 1.0, 6.0])).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    x = as_float_array(x, "x")
    magnitude = np.abs(x)
    starts, slopes, intercepts = zip(*PLAN_SEGMENTS, strict=True)
    segments = [magnitude >= start for start in starts]
    lines = [slope * magnitude + intercept for slope, intercept in zip(slopes, intercepts, strict=True)]
    y = np.select(segments, lines)
    return np.where(x >= 0, y, 1 - y).astype(x.dtype, copy=False)


def lut(f, x, *, entries, lo, hi, interpolate=False):
    """Evaluate ``f`` through a lookup table of ``entries`` samples of f on [lo, hi].

    The table holds f at ``entries`` evenly spaced points lo, lo + step, ..., hi (step =
    (hi - lo) / (entries - 1)). An input is clamped to [lo, hi] (so a saturating function such
    as sigmoid keeps its end values), then either the nearest entry is returned or the two
    neighbouring entries are interpolated linearly.

    Parameters
    ----------
    f : callable
        The exact function, array -> array (e.g. ``cnnlib.activations.sigmoid``).
    x : array
        Inputs, any shape, float32 or float64.
    entries : int
        Table size, >= 2 (a ROM of ``entries`` words).
    lo, hi : float
        Range covered by the table, lo < hi.
    interpolate : bool
        Linear interpolation between entries instead of the nearest entry.

    Returns
    -------
    array
        Same shape and dtype as ``x``.

    Notes
    -----
    Inside [lo, hi], the nearest entry is off by at most max|f'| step / 2 and linear
    interpolation by at most max|f''| step^2 / 8. For the sigmoid (max|f'| = 1/4,
    max|f''| = 0.0962) on [-8, 8] with 256 entries (step = 16/255): 7.8e-3 and 4.7e-5.
    Outside the range the error is that of the clamp, |f(x) - f(hi)|: 3.4e-4 for the sigmoid
    beyond 8.

    Examples
    --------
    >>> from cnnlib.activations import sigmoid
    >>> lut(sigmoid, np.array([0.0, 100.0]), entries=3, lo=-8.0, hi=8.0).round(4).tolist()
    [0.5, 0.9997]
    """
    if not callable(f):
        raise TypeError(f"f must be a function of an array; got {f!r}")
    x = as_float_array(x, "x")
    entries = as_int(entries, "entries", 2)
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"lo and hi must be finite with lo < hi; got lo={lo}, hi={hi}")
    table = np.asarray(f(np.linspace(lo, hi, entries)), dtype=np.float64)
    position = (np.clip(x.astype(np.float64), lo, hi) - lo) * ((entries - 1) / (hi - lo))
    if interpolate:
        below = np.minimum(np.floor(position).astype(np.intp), entries - 2)  # the entry at or below
        y = table[below] + (position - below) * (table[below + 1] - table[below])
    else:
        y = table[np.rint(position).astype(np.intp)]
    return y.astype(x.dtype, copy=False)
