"""Functional layers: plain functions on numpy arrays, in the lecture's notation.

Forward functions take and return arrays; backward functions take the upstream gradient
``dout`` and return the gradients of the inputs and parameters.
"""

from .conv import conv2d, conv2d_naive

__all__ = ["conv2d", "conv2d_naive"]
