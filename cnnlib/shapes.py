"""Layer shapes in the lecture's notation: the one output-size formula and a CONV layer's shape.

N batch, C input channels, H x W input fmap, R x S filter, M filters, E x F output fmap,
U stride, P padding, D dilation.

- ``conv_output_size``: E = floor((H + 2P - D(R - 1) - 1) / U) + 1, the one output-size formula
  that ``conv2d``, pooling, every layer and the hardware model use.
- ``ConvShape``: the shape of one CONV (or FC) layer, what counting and the hardware model share.
- ``check_conv_args``: the checks every convolution of arrays runs first (``conv2d`` and its
  backward pass, ``conv2d_naive``, ``loopnest.run``), returning the output size E x F.

This module imports nothing else from ``cnnlib`` but ``_checks``: every other module may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, as_int, as_pair, check_ndim


def conv_output_size(H, R, padding=0, stride=1, dilation=1, *, strict=False, names=("H", "R")):
    """Output size along one axis: E = floor((H + 2P - D(R - 1) - 1) / U) + 1.

    With D = 1 this is the lecture's E = (H - R + 2P) / U + 1. ``conv2d`` and every layer use
    this one formula.

    Parameters
    ----------
    H : int
        Input size (rows; pass W and S for columns).
    R : int
        Filter size.
    padding : int
        Zeros on each side, P >= 0.
    stride : int
        U >= 1.
    dilation : int
        D >= 1.
    strict : bool
        If True, raise when the last window does not end exactly at the padded input's edge,
        i.e. when (H + 2P - D(R - 1) - 1) is not a multiple of U: the stride "skips part of
        the input".
    names : (str, str)
        How error messages name the input and filter sizes, e.g. ("W", "S") for columns.

    Examples
    --------
    >>> conv_output_size(7, 3), conv_output_size(7, 3, padding=1), conv_output_size(7, 3, stride=2)
    (5, 7, 3)
    >>> conv_output_size(32, 5)
    28
    """
    h, r = names
    H = as_int(H, h, 1)
    R = as_int(R, r, 1)
    P = as_int(padding, "padding", 0)
    U = as_int(stride, "stride", 1)
    D = as_int(dilation, "dilation", 1)
    span = D * (R - 1) + 1
    if span > H + 2 * P:
        raise ValueError(
            f"the filter ({r}={R}, dilation {D}, spanning {span}) is larger than the padded "
            f"input ({h}={H} + 2 x padding {P} = {H + 2 * P})"
        )
    reach = H + 2 * P - span
    if strict and reach % U:
        raise ValueError(
            f"stride={U} does not fit: (H + 2P - D(R-1) - 1) = {reach} is not a multiple of "
            f"the stride, so the last {reach % U} row(s) of the padded input are skipped"
        )
    return reach // U + 1


def check_conv_args(x, w, b, stride, padding, dilation, groups):
    """Validate a convolution's arguments; return them normalised, with the output size E x F.

    Parameters
    ----------
    x : array (N, C, H, W)
    w : array (M, C/groups, R, S)
    b : array (M,) or None
    stride, padding, dilation : int or (vertical, horizontal) pair
    groups : int

    Returns
    -------
    tuple
        ``(x, w, b, stride, padding, dilation, groups, E, F)``: x and w as arrays of one float
        dtype (float32 stays float32), b as a float array or None, stride, padding and dilation
        as (vertical, horizontal) pairs.
    """
    x = as_float_array(x, "x")
    w = as_float_array(w, "w")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    check_ndim(w, 4, "w", "(M, C/groups, R, S)")
    stride = as_pair(stride, "stride", 1)
    padding = as_pair(padding, "padding", 0)
    dilation = as_pair(dilation, "dilation", 1)
    groups = as_int(groups, "groups", 1)
    N, C, H, W = x.shape
    M, Cg, R, S = w.shape
    if C % groups:
        raise ValueError(f"groups={groups} must divide the input channels C={C} of x")
    if M % groups:
        raise ValueError(f"groups={groups} must divide the number of filters M={M} of w")
    if Cg != C // groups:
        raise ValueError(
            f"w must have C/groups = {C}/{groups} = {C // groups} channels (w.shape[1]) "
            f"to match x of shape {x.shape}; got w of shape {w.shape}"
        )
    if min(x.shape) == 0 or min(w.shape) == 0:
        raise ValueError(f"x and w must not be empty; got x {x.shape} and w {w.shape}")
    if b is not None:
        b = as_float_array(b, "b")
        if b.shape != (M,):
            raise ValueError(f"b must have shape (M,) = ({M},); got {b.shape}")
    E = conv_output_size(H, R, padding[0], stride[0], dilation[0])
    F = conv_output_size(W, S, padding[1], stride[1], dilation[1], names=("W", "S"))
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    return x, w, b, stride, padding, dilation, groups, E, F


@dataclass(frozen=True)
class ConvShape:
    """The shape of one CONV (or FC) layer in the lecture's notation; what the hardware model maps.

    A fully-connected layer is the special case R = H, S = W, E = F = 1 (``ConvShape.fc``).
    Stride U and padding P apply to both axes; ``groups`` splits C and M into independent
    convolutions (each filter is C/groups deep).

    Examples
    --------
    AlexNet's conv1: 96 filters of 11 x 11 x 3 at stride 4 on a 227 x 227 image.

    >>> conv1 = ConvShape(N=1, C=3, H=227, W=227, M=96, R=11, S=11, U=4)
    >>> conv1.E, conv1.F, conv1.weights, conv1.macs
    (55, 55, 34848, 105415200)
    """

    N: int  # batch
    C: int  # input channels
    H: int  # input height
    W: int  # input width
    M: int  # filters (output channels)
    R: int  # filter height
    S: int  # filter width
    U: int = 1  # stride
    P: int = 0  # zero padding on each side
    groups: int = 1

    def __post_init__(self):
        for name in ("N", "C", "H", "W", "M", "R", "S", "U", "groups"):
            as_int(getattr(self, name), name, 1)
        as_int(self.P, "P", 0)
        if self.C % self.groups or self.M % self.groups:
            raise ValueError(f"groups={self.groups} must divide C={self.C} and M={self.M}")
        conv_output_size(self.H, self.R, self.P, self.U)  # raises if the filter does not fit
        conv_output_size(self.W, self.S, self.P, self.U, names=("W", "S"))

    @classmethod
    def fc(cls, N, C, M, H=1, W=1):
        """A fully-connected layer from C x H x W inputs to M outputs, as a convolution."""
        return cls(N=N, C=C, H=H, W=W, M=M, R=H, S=W)

    @property
    def E(self) -> int:
        """Output height."""
        return conv_output_size(self.H, self.R, self.P, self.U)

    @property
    def F(self) -> int:
        """Output width."""
        return conv_output_size(self.W, self.S, self.P, self.U, names=("W", "S"))

    @property
    def weights(self) -> int:
        """M x (C/groups) x R x S filter weights."""
        return self.M * (self.C // self.groups) * self.R * self.S

    @property
    def macs(self) -> int:
        """N x M x E x F x (C/groups) x R x S multiply-accumulates (bias adds not included)."""
        return self.N * self.M * self.E * self.F * (self.C // self.groups) * self.R * self.S

    @property
    def input_activations(self) -> int:
        """N x C x H x W input activations (unpadded)."""
        return self.N * self.C * self.H * self.W

    @property
    def output_activations(self) -> int:
        """N x M x E x F output activations."""
        return self.N * self.M * self.E * self.F
