"""Numeric gradients by central differences, to check every backward function.

For a function f and an upstream gradient ``dout`` (dL/dy, the shape of f's output), the
gradient of L = sum(f(x) * dout) with respect to x is what a backward function returns.
Central differences, (L(x + h) - L(x - h)) / 2h, have an error of order h^2; in float64 with
h = 1e-6 that is far below the 1e-7 relative error the tests ask for.
"""

from __future__ import annotations

import numpy as np


def numeric_grad(f, x, dout, h=1e-6):
    """dL/dx for L = sum(f(x) * dout), by central differences, one element of x at a time.

    ``x`` (float64) is perturbed in place and restored; ``f`` is called twice per element.
    """
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = np.sum(f(x) * dout)
        flat[i] = old - h
        minus = np.sum(f(x) * dout)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def rel_error(a, b):
    """Relative error ||a - b|| / (||a|| + ||b||) (0 when both are zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def assert_grad(f, x, dout, analytic, tol=1e-7):
    """Assert that ``analytic`` is dL/dx of L = sum(f(x) * dout) to a relative error < ``tol``."""
    err = rel_error(analytic, numeric_grad(f, x, dout))
    assert err < tol, f"relative error {err:.2e} >= {tol:.0e}"
