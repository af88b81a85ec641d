"""Functional layers: plain functions on numpy arrays, in the lecture's notation.

Forward functions take and return arrays; backward functions take the upstream gradient
``dout`` and return the gradients of the inputs and parameters.
"""

from .conv import conv2d, conv2d_naive
from .linear import flatten, linear
from .normalization import batch_norm, local_response_norm
from .pooling import avg_pool2d, max_pool2d

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "conv2d",
    "conv2d_naive",
    "flatten",
    "linear",
    "local_response_norm",
    "max_pool2d",
]
