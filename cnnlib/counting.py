"""Counting the size of a CNN: output sizes, weights, MACs and memory, in the lecture's notation.

N batch, C input channels, H x W input fmap, R x S filter, M filters, E x F output fmap,
U stride, P padding, D dilation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ._checks import as_int


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


@dataclass(frozen=True)
class ConvShape:
    """The shape of one CONV (or FC) layer in the lecture's notation; what the hardware model maps.

    A fully-connected layer is the special case R = H, S = W, E = F = 1 (``ConvShape.fc``).
    Stride U and padding P apply to both axes; ``groups`` splits C and M into independent
    convolutions (each filter is C/groups deep).
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


@dataclass(frozen=True)
class LayerCounts:
    """What one layer holds and does, for one input sample (N = 1), before any convention is applied.

    Attributes
    ----------
    weights : int
        Filter or FC weights (biases not included).
    biases : int
        One per filter or neuron.
    other_params : int
        Other learned parameters (batch norm's gamma and beta).
    macs : int
        Multiply-accumulates of the weighted sums; bias adds not included.
    bias_adds : int
        One per output of a layer with biases (LeCun counts these as connections).
    other_ops : int
        Work that is not a MAC: pooling compares/adds, batch-norm, activation and LRN operations,
        one per element each.
    input_activations : int
        Input values the layer reads.
    output_activations : int
        Output values the layer stores.
    """

    weights: int = 0
    biases: int = 0
    other_params: int = 0
    macs: int = 0
    bias_adds: int = 0
    other_ops: int = 0
    input_activations: int = 0
    output_activations: int = 0

    def __add__(self, other: LayerCounts) -> LayerCounts:
        return LayerCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def params(self) -> int:
        """Every learned parameter: weights + biases + other_params."""
        return self.weights + self.biases + self.other_params


def conv_counts(shape: ConvShape, bias: bool = True, connected: int | None = None) -> LayerCounts:
    """Counts of a CONV (or FC, as a ConvShape.fc) layer per sample.

    ``connected`` is the number of (filter, input channel) pairs that exist when a sparse connection
    table is used (LeNet-5's C3); by default every filter sees its C/groups channels.
    """
    pairs = shape.M * (shape.C // shape.groups) if connected is None else connected
    per_pair = shape.R * shape.S
    outputs = shape.M * shape.E * shape.F
    return LayerCounts(
        weights=pairs * per_pair,
        biases=shape.M if bias else 0,
        macs=pairs * per_pair * shape.E * shape.F,
        bias_adds=outputs if bias else 0,
        input_activations=shape.C * shape.H * shape.W,
        output_activations=outputs,
    )


def pool_counts(C: int, H: int, W: int, E: int, F: int, R: int, S: int) -> LayerCounts:
    """Counts of an R x S pooling layer from C x H x W to C x E x F: R S - 1 compares/adds per output."""
    return LayerCounts(
        other_ops=C * E * F * (R * S - 1),
        input_activations=C * H * W,
        output_activations=C * E * F,
    )


def elementwise_counts(n: int, params: int = 0) -> LayerCounts:
    """Counts of a layer that does one operation per element of n (activation, batch norm, LRN)."""
    return LayerCounts(other_params=params, other_ops=n, input_activations=n, output_activations=n)


def conv_layers(model, input_shape, N: int = 1) -> list[tuple[str, ConvShape]]:
    """The CONV and FC layers of ``model`` in execution order, as (qualified name, ConvShape).

    ``input_shape`` is one sample's shape, (C, H, W). This is what the benchmarks and the
    hardware model map; FC layers appear as ``ConvShape.fc``.
    """
    result = []
    for name, layer, in_shape, _ in model.layers(tuple(input_shape)):
        shape = layer.conv_shape(in_shape, N) if hasattr(layer, "conv_shape") else None
        if shape is not None:
            result.append((name, shape))
    return result
