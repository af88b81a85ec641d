"""Activation functions of the lecture and their derivatives for back-propagation.

Every function takes an array ``x`` of any shape (float32 or float64; integers become
float64), returns an array of the same shape and dtype, and stays finite for very large
inputs (|x| up to 1e4 and beyond): no overflow warning and no NaN. ``*_grad(x)`` returns the
elementwise derivative dy/dx at ``x``; softmax, whose derivative is a Jacobian, has
``softmax_grad(x, dout)`` that returns the vector-Jacobian product instead.

In hardware, ReLU and leaky ReLU cost a comparator (and a shift or multiply for alpha);
sigmoid, tanh, ELU and softmax need an exponential, usually a lookup table or a piecewise
approximation.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, as_int, as_real


def sigmoid(x):
    """Sigmoid, y = 1 / (1 + exp(-x)).

    Computed as ``1 / (1 + exp(-x))`` for x >= 0 and ``exp(x) / (1 + exp(x))`` for x < 0, so
    the exponential never overflows.

    Examples
    --------
    >>> sigmoid(np.array([-1e4, 0.0, 1e4])).tolist()
    [0.0, 0.5, 1.0]
    """
    x = as_float_array(x, "x")
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


def sigmoid_grad(x):
    """Derivative of the sigmoid, y (1 - y)."""
    y = sigmoid(x)
    return y * (1 - y)


def tanh(x):
    """Hyperbolic tangent, y = (e^x - e^-x) / (e^x + e^-x) (``np.tanh``, stable for any x)."""
    return np.tanh(as_float_array(x, "x"))


def tanh_grad(x):
    """Derivative of tanh, 1 - y^2."""
    y = tanh(x)
    return 1 - y * y


def relu(x):
    """Rectified linear unit, y = max(0, x)."""
    x = as_float_array(x, "x")
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def relu_grad(x):
    """Derivative of ReLU: 1 where x > 0, else 0 (0 is used at x = 0)."""
    x = as_float_array(x, "x")
    return (x > 0).astype(x.dtype)


def relu6(x):
    """ReLU capped at 6, y = min(max(0, x), 6) (MobileNet v2; TensorFlow's MobileNet v1).

    The cap keeps activations in [0, 6], a range that low-precision arithmetic holds well
    (Sandler et al. 2018, Section 3.2).

    Examples
    --------
    >>> relu6(np.array([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    x = as_float_array(x, "x")
    return np.clip(x, 0, 6).astype(x.dtype, copy=False)


def relu6_grad(x):
    """Derivative of ReLU6: 1 where 0 < x < 6, else 0 (0 is used at x = 0 and x = 6)."""
    x = as_float_array(x, "x")
    return ((x > 0) & (x < 6)).astype(x.dtype)


def leaky_relu(x, alpha=0.1):
    """Leaky ReLU, y = max(alpha x, x) for a small constant 0 <= alpha < 1 (lecture: 0.1)."""
    x = as_float_array(x, "x")
    alpha = as_real(alpha, "alpha", 0)
    return np.where(x >= 0, x, x * x.dtype.type(alpha))


def leaky_relu_grad(x, alpha=0.1):
    """Derivative of leaky ReLU: 1 where x > 0, alpha elsewhere."""
    x = as_float_array(x, "x")
    alpha = as_real(alpha, "alpha", 0)
    return np.where(x > 0, 1, alpha).astype(x.dtype)


def elu(x, alpha=1.0):
    """Exponential linear unit: y = x for x >= 0, alpha (e^x - 1) for x < 0.

    ``expm1`` is evaluated on ``min(x, 0)`` only, so large positive inputs never overflow
    and small negative ones keep full precision.
    """
    x = as_float_array(x, "x")
    alpha = as_real(alpha, "alpha", 0)
    neg = x.dtype.type(alpha) * np.expm1(np.minimum(x, 0))
    return np.where(x >= 0, x, neg)


def elu_grad(x, alpha=1.0):
    """Derivative of ELU: 1 for x >= 0, alpha e^x for x < 0."""
    x = as_float_array(x, "x")
    alpha = as_real(alpha, "alpha", 0)
    return np.where(x >= 0, 1, x.dtype.type(alpha) * np.exp(np.minimum(x, 0))).astype(x.dtype)


def softmax(x, axis=-1):
    """Softmax along ``axis``: y_i = e^{x_i} / sum_j e^{x_j}.

    The maximum along ``axis`` is subtracted first (softmax is unchanged by a shift), so every
    exponent is <= 0: no overflow, and the largest term is exactly 1 so the sum is >= 1.

    Examples
    --------
    >>> softmax(np.array([1e4, 0.0, -1e4])).tolist()
    [1.0, 0.0, 0.0]
    """
    x = as_float_array(x, "x")
    axis = as_int(axis, "axis", minimum=-x.ndim)
    if axis >= x.ndim:
        raise ValueError(f"axis must be in [-{x.ndim}, {x.ndim - 1}] for x of shape {x.shape}; got {axis}")
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_grad(x, dout, axis=-1):
    """Back-propagate ``dout`` (dL/dy, same shape as ``x``) through softmax: returns dL/dx.

    With y = softmax(x), dL/dx = y * (dout - sum(dout * y, axis)).
    """
    y = softmax(x, axis=axis)
    dout = as_float_array(dout, "dout")
    if dout.shape != y.shape:
        raise ValueError(f"dout must have the shape of x {y.shape}; got {dout.shape}")
    return y * (dout - np.sum(dout * y, axis=axis, keepdims=True))


#: name -> (function, derivative) for the elementwise activations; used by layers and nn.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "relu6": (relu6, relu6_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
}


def get(name):
    """Return the (function, derivative) pair of the activation called ``name``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}")
    return ACTIVATIONS[name]
