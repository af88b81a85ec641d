"""Fully-connected (FC) layer: a matrix multiply, the CONV layer with R = H, S = W and E = F = 1."""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array, check_ndim


def flatten(x):
    """Stretch each sample into a vector: (N, C, H, W) -> (N, C H W) (any trailing shape works)."""
    x = as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more; got shape {x.shape}")
    return x.reshape(x.shape[0], -1)


def linear(x, w, b=None):
    """Fully-connected layer: y = x w^T + b.

    Parameters
    ----------
    x : array (N, K)
        N input vectors of K values (e.g. a flattened 32x32x3 image: K = 3072).
    w : array (M, K)
        One row of K weights per output neuron (the lecture's 10 x 3072 example: M = 10).
    b : array (M,), optional

    Returns
    -------
    array (N, M)

    Raises
    ------
    TypeError
        Non-numeric x, w or b.
    ValueError
        x not (N, K), w not (M, K) with the K of x, or b not (M,).

    Examples
    --------
    >>> linear(np.ones((2, 3)), np.arange(6).reshape(2, 3), np.array([0.5, -0.5])).tolist()
    [[3.5, 11.5], [3.5, 11.5]]
    """
    x = as_float_array(x, "x")
    w = as_float_array(w, "w")
    check_ndim(x, 2, "x", "(N, K)")
    check_ndim(w, 2, "w", "(M, K)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w must have K = {x.shape[1]} columns to match x {x.shape}; got w {w.shape}")
    y = x @ w.T
    if b is not None:
        b = as_float_array(b, "b")
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape (M,) = ({w.shape[0]},); got {b.shape}")
        y += b
    return y


def linear_backward(dout, x, w):
    """Gradients of :func:`linear`.

    Parameters
    ----------
    dout : array (N, M)
        dL/dy.
    x : array (N, K)
    w : array (M, K)

    Returns
    -------
    dx : array (N, K)
        dout w.
    dw : array (M, K)
        dout^T x (summed over the batch).
    db : array (M,)
        dout summed over the batch.
    """
    x = as_float_array(x, "x")
    w = as_float_array(w, "w")
    check_ndim(x, 2, "x", "(N, K)")
    check_ndim(w, 2, "w", "(M, K)")
    dout = as_float_array(dout, "dout")
    if dout.shape != (x.shape[0], w.shape[0]):
        raise ValueError(f"dout must have shape (N, M) = {(x.shape[0], w.shape[0])}; got {dout.shape}")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w must have K = {x.shape[1]} columns to match x {x.shape}; got w {w.shape}")
    dtype = np.result_type(x, w)
    dout = dout.astype(dtype, copy=False)
    return dout @ w, dout.T @ x, dout.sum(axis=0)
