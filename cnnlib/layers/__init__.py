"""Functional layers: plain functions on numpy arrays, in the lecture's notation.

Forward functions take and return arrays; backward functions take the upstream gradient
``dout`` and return the gradients of the inputs and parameters.
"""

from .conv import col2im, conv2d, conv2d_backward, conv2d_naive, im2col
from .linear import flatten, linear, linear_backward
from .normalization import (
    batch_norm,
    batch_norm_backward,
    batch_norm_train,
    fold_batch_norm,
    local_response_norm,
    local_response_norm_backward,
)
from .pooling import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_train",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv2d_naive",
    "flatten",
    "fold_batch_norm",
    "im2col",
    "linear",
    "linear_backward",
    "local_response_norm",
    "local_response_norm_backward",
    "max_pool2d",
    "max_pool2d_backward",
]
