"""Argument checks shared by every module: precise errors instead of silent broadcasts.

Each helper names the argument, says what was expected and what was given, and raises
``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, wrong value or shape).
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_float_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a floating-point array (float32 and float64 kept, integers -> float64).

    Raises ``TypeError`` for booleans, complex numbers, strings and objects.
    """
    arr = np.asarray(x)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def check_ndim(arr: np.ndarray, ndim: int, name: str, layout: str) -> None:
    """Raise ``ValueError`` unless ``arr`` has ``ndim`` dimensions, named by ``layout``."""
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array {layout}; got shape {arr.shape}")


def as_int(value, name: str, minimum: int) -> int:
    """Return ``value`` as an int >= ``minimum`` (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def as_real(value, name: str, minimum: float, *, strict: bool = False) -> float:
    """Return ``value`` as a finite float >= ``minimum`` (> ``minimum`` if ``strict``).

    Bools, strings and other non-numbers are refused with ``TypeError``; NaN, infinities and
    values below the minimum with ``ValueError``.

    Examples
    --------
    >>> as_real(2, "alpha", 0)
    2.0
    >>> as_real(0, "eps", 0, strict=True)
    Traceback (most recent call last):
    ...
    ValueError: eps must be a finite number > 0; got 0.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {minimum}; got {value}")
    return value


def as_pair(value, name: str, minimum: int) -> tuple[int, int]:
    """Return an int or a (vertical, horizontal) pair of ints as a pair, each >= ``minimum``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a (vertical, horizontal) pair; got {value!r}"
            )
        return as_int(value[0], name, minimum), as_int(value[1], name, minimum)
    v = as_int(value, name, minimum)
    return v, v


def check_instance(value, cls: type, name: str) -> None:
    """Raise ``TypeError`` unless ``value`` is a ``cls`` (e.g. a ``ConvShape``)."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__module__}.{cls.__name__}; got {type(value).__name__}")
