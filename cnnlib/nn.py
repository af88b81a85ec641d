"""Layer objects: parameters, output shapes and counts, built on the functions of ``cnnlib.layers``.

A network is a tree of :class:`Module` objects: leaves (Conv2d, Linear, pooling, normalization,
activations) and containers (Sequential, Concat for inception modules, Residual for ResNet's
shortcut modules). One definition of a network serves three purposes:

- the forward pass (``model(x)`` with x of shape (N, C, H, W)), and backward for training
  (``model.train()``, ``y = model(x)``, ``dx = model.backward(dout)``, then ``model.gradients()``
  holds dL/d(parameter) under the names of ``model.parameters()``);
- counting (``model.counts(in_shape)``, and per layer via ``model.layers(in_shape)``);
- the hardware model (``layer.conv_shape(in_shape)`` gives each CONV/FC layer's ConvShape;
  ``layer.layer_kind`` is "CONV" or "FC" for exactly those layers).

Layer shapes come from ``cnnlib.shapes`` and per-layer counts from ``cnnlib.counting``; neither
imports this module (``counting.summary`` reads a network only through the methods below).

Shapes without the batch axis are called ``in_shape``/``out_shape``: (C, H, W) for fmaps, (K,)
for vectors.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from . import activations as _act
from ._checks import as_float_array, as_int, as_pair
from .counting import LayerCounts, conv_counts, elementwise_counts, pool_counts, weighted_counts
from .layers import (
    avg_pool2d,
    avg_pool2d_backward,
    batch_norm,
    batch_norm_backward,
    batch_norm_train,
    conv2d,
    conv2d_backward,
    flatten,
    linear,
    linear_backward,
    local_response_norm,
    local_response_norm_backward,
    max_pool2d,
    max_pool2d_backward,
)
from .shapes import ConvShape, conv_output_size


def _check_in_shape(in_shape, ndim: int, layer: Module) -> tuple:
    in_shape = tuple(int(v) for v in in_shape)
    if len(in_shape) != ndim:
        layout = "(C, H, W)" if ndim == 3 else "(K,)"
        raise ValueError(f"{layer!r} needs a per-sample input shape {layout}; got {in_shape}")
    return in_shape


class Module:
    """Base class: a layer or a container of layers."""

    name: str = ""
    training: bool = False
    #: "CONV" or "FC" for the layers the hardware model maps (they have ``conv_shape``), else "".
    #: ``counting.summary`` and ``counting.conv_layers`` both use this one test.
    layer_kind: str = ""

    # -- what every module provides ----------------------------------------------------------
    def forward(self, x):
        """Compute the output for a batch x (N, *in_shape); in training mode, remember what backward needs."""
        raise NotImplementedError

    def backward(self, dout):
        """Back-propagate dL/dy of the last training-mode forward: store this module's parameter
        gradients (see :meth:`gradients`) and return dL/dx, the shape of that forward's input."""
        raise NotImplementedError

    def output_shape(self, in_shape) -> tuple:
        """Per-sample output shape for a per-sample input shape."""
        raise NotImplementedError

    def counts(self, in_shape) -> LayerCounts:
        """Weights, MACs, activations... of this module for one sample (containers: the sum)."""
        if not self.children():
            raise NotImplementedError(f"{type(self).__name__} does not define counts(in_shape)")
        return sum((layer.counts(s) for _, layer, s, _ in self.layers(in_shape)), LayerCounts())

    def children(self) -> list[tuple[str, Module]]:
        """(name, module) pairs of the modules this one contains (none for a leaf)."""
        return []

    # -- derived ---------------------------------------------------------------------------
    def __call__(self, x):
        return self.forward(x)

    def own_parameters(self) -> dict[str, np.ndarray]:
        """Learned arrays of this module itself, by short name ("w", "b", "gamma", ...)."""
        return {}

    def parameters(self) -> dict[str, np.ndarray]:
        """Every learned array, with qualified names ("conv1.w")."""
        params = dict(self.own_parameters())
        for name, child in self.children():
            params.update({f"{name}.{k}": v for k, v in child.parameters().items()})
        return params

    def own_buffers(self) -> dict[str, np.ndarray]:
        """Arrays of this module that are state but not learned (batch norm's running statistics)."""
        return {}

    def state(self) -> dict[str, np.ndarray]:
        """Everything a trained model needs: parameters and buffers, with qualified names."""
        state = {**self.own_parameters(), **self.own_buffers()}
        for name, child in self.children():
            state.update({f"{name}.{k}": v for k, v in child.state().items()})
        return state

    def load_state(self, arrays) -> Module:
        """Copy ``arrays`` (a mapping name -> array, e.g. an npz file) into :meth:`state`, in place.

        Every parameter and buffer must be given, with its shape; other keys are ignored.
        """
        state = self.state()
        missing = sorted(set(state) - set(arrays))
        if missing:
            raise ValueError(f"arrays must hold every parameter and buffer of the model; missing {missing}")
        for name, p in state.items():
            value = np.asarray(arrays[name])
            if value.shape != p.shape:
                raise ValueError(f"arrays[{name!r}] must have shape {p.shape}; got {value.shape}")
            p[...] = value
        return self

    def own_gradients(self) -> dict[str, np.ndarray]:
        """dL/d(parameter) from the last backward, by the short names of :meth:`own_parameters`."""
        if not self.own_parameters():
            return {}
        if getattr(self, "_grads", None) is None:
            raise RuntimeError(f"{self!r} has no gradients yet: run forward in training mode, then backward")
        return self._grads

    def gradients(self) -> dict[str, np.ndarray]:
        """Every parameter's gradient from the last backward, named as in :meth:`parameters`."""
        grads = dict(self.own_gradients())
        for name, child in self.children():
            grads.update({f"{name}.{k}": v for k, v in child.gradients().items()})
        return grads

    def _remember(self, **arrays) -> None:
        """Keep what backward needs, in training mode only (inference keeps nothing, and forgets)."""
        self._cache = arrays if self.training else None

    def _recall(self) -> dict:
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise RuntimeError(f"{self!r}: backward needs a forward pass in training mode first "
                               "(call model.train() before the forward pass)")
        return cache

    def train(self, mode: bool = True) -> Module:
        """Switch to training mode (batch statistics, dropout, caches for backward)."""
        self.training = mode
        for _, child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Switch to inference mode."""
        return self.train(False)

    @property
    def type_name(self) -> str:
        """The layer's type as a summary table shows it: the class name."""
        return type(self).__name__

    def layers(self, in_shape, prefix: str = ""):
        """Yield (qualified name, leaf, in_shape, out_shape) for every leaf, in execution order."""
        in_shape = tuple(in_shape)
        yield prefix or self.name or type(self).__name__, self, in_shape, self.output_shape(in_shape)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self._repr_args().items())
        return f"{type(self).__name__}({args})"

    def _repr_args(self) -> dict:
        return {}


class _Weighted(Module):
    """A layer with weights ``w`` and optional biases ``b`` (Conv2d, Linear).

    The weights are drawn (He-normal, std = sqrt(2 / fan-in), from a seeded generator) the first
    time they are used, so building VGG-16 only to count its 138M weights or to map its layers
    on hardware allocates nothing.
    """

    def _init_weights(self, shape, seed, dtype, bias):
        self._w_shape, self._seed, self._dtype = shape, seed, dtype
        self._w = None
        self.b = np.zeros(shape[0], dtype=dtype) if bias else None

    # Weights drawn per call of the generator: float64 draws a million at a time go straight into
    # the layer's dtype, with the same values as one draw of the whole tensor cast afterwards but
    # without its float64 copy (VGG-16's fc6 alone is 103M weights: 0.8 GB in float64).
    _DRAW = 2**20

    def _initial_w(self):
        rng = np.random.default_rng(self._seed)
        scale = np.sqrt(2 / int(np.prod(self._w_shape[1:])))  # std = sqrt(2 / fan-in)
        w = np.empty(self._w_shape, dtype=self._dtype)
        flat = w.reshape(-1)
        for i in range(0, flat.size, self._DRAW):
            flat[i : i + self._DRAW] = rng.standard_normal(min(self._DRAW, flat.size - i)) * scale
        return w

    @property
    def w(self) -> np.ndarray:
        """The weights, (M, C/groups, R, S) for Conv2d, (M, K) for Linear."""
        if self._w is None:
            self._w = self._initial_w()
        return self._w

    @w.setter
    def w(self, value):
        value = as_float_array(value, "w")
        if value.shape != self._w_shape:
            raise ValueError(f"w must have this layer's weight shape {self._w_shape}; got {value.shape}")
        self._w = value

    def own_parameters(self):
        return {"w": self.w} if self.b is None else {"w": self.w, "b": self.b}


class Conv2d(_Weighted):
    """CONV layer: M filters of C/groups x R x S (see :func:`cnnlib.layers.conv2d`).

    Parameters
    ----------
    C, M : int
        Input channels and filters.
    R, S : int
        Filter height and width (S defaults to R).
    stride, padding, dilation : int or pair
    groups : int
    bias : bool
    connections : bool array (M, C), optional
        Sparse connection table (LeNet-5's C3): filter m sees input channel c only where
        ``connections[m, c]``. Unconnected weights are held at zero and not counted. Needs groups=1.
    seed : int
        Seed of the He-normal initialisation, std = sqrt(2 / (C/groups R S)).
    dtype : float32 or float64
    """

    layer_kind = "CONV"

    def __init__(self, C, M, R, S=None, *, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 connections=None, seed=0, dtype=np.float32):
        self.C, self.M = as_int(C, "C", 1), as_int(M, "M", 1)
        self.R = as_int(R, "R", 1)
        self.S = self.R if S is None else as_int(S, "S", 1)
        self.stride = as_pair(stride, "stride", 1)
        self.padding = as_pair(padding, "padding", 0)
        self.dilation = as_pair(dilation, "dilation", 1)
        self.groups = as_int(groups, "groups", 1)
        if self.C % self.groups or self.M % self.groups:
            raise ValueError(f"groups={self.groups} must divide C={self.C} and M={self.M}")
        Cg = self.C // self.groups
        self.mask = None
        if connections is not None:
            mask = np.asarray(connections, dtype=bool)
            if mask.shape != (self.M, self.C) or self.groups != 1:
                raise ValueError(
                    f"connections must be a bool array (M, C) = ({self.M}, {self.C}) with groups=1; "
                    f"got shape {mask.shape} with groups={self.groups}"
                )
            self.mask = mask[:, :, None, None]
        self._init_weights((self.M, Cg, self.R, self.S), seed, dtype, bias)

    def _initial_w(self):
        w = super()._initial_w()
        return w if self.mask is None else w * self.mask

    def forward(self, x):
        self._remember(x=x)
        return conv2d(x, self.w, self.b, stride=self.stride, padding=self.padding,
                      dilation=self.dilation, groups=self.groups)

    def backward(self, dout):
        dx, dw, db = conv2d_backward(dout, self._recall()["x"], self.w, stride=self.stride,
                                     padding=self.padding, dilation=self.dilation, groups=self.groups)
        if self.mask is not None:
            dw = dw * self.mask  # unconnected weights stay at zero
        self._grads = {"w": dw} if self.b is None else {"w": dw, "b": db}
        return dx

    def output_shape(self, in_shape):
        C, H, W = _check_in_shape(in_shape, 3, self)
        if C != self.C:
            raise ValueError(f"{self!r} expects C={self.C} input channels; got in_shape {in_shape}")
        stride, padding, dilation = self.stride, self.padding, self.dilation  # (rows, columns) pairs
        E = conv_output_size(H, self.R, padding[0], stride[0], dilation[0])
        F = conv_output_size(W, self.S, padding[1], stride[1], dilation[1], names=("W", "S"))
        return (self.M, E, F)

    def conv_shape(self, in_shape, N=1) -> ConvShape:
        """This layer as a ConvShape (square stride, padding and dilation 1 only)."""
        C, H, W = _check_in_shape(in_shape, 3, self)
        if len(set(self.stride)) > 1 or len(set(self.padding)) > 1 or self.dilation != (1, 1):
            raise ValueError(f"{self!r}: ConvShape needs equal strides/paddings and dilation 1")
        return ConvShape(N=N, C=C, H=H, W=W, M=self.M, R=self.R, S=self.S, U=self.stride[0],
                         P=self.padding[0], groups=self.groups)

    def counts(self, in_shape):
        M, E, F = self.output_shape(in_shape)
        C, H, W = in_shape
        pairs = M * (C // self.groups) if self.mask is None else int(self.mask.sum())
        return weighted_counts(pairs * self.R * self.S, M, E, F, C * H * W, bias=self.b is not None)

    def _repr_args(self):
        args = {"C": self.C, "M": self.M, "R": self.R, "S": self.S}
        for key, default in (("stride", (1, 1)), ("padding", (0, 0)), ("dilation", (1, 1))):
            value = getattr(self, key)
            if value != default:
                args[key] = value[0] if value[0] == value[1] else value
        if self.groups != 1:
            args["groups"] = self.groups
        if self.mask is not None:
            args["connections"] = f"{int(self.mask.sum())}/{self.M * self.C}"
        return args


class Linear(_Weighted):
    """FC layer: K inputs to M outputs, w (M, K), b (M,) (see :func:`cnnlib.layers.linear`)."""

    layer_kind = "FC"

    def __init__(self, K, M, *, bias=True, seed=0, dtype=np.float32):
        self.K, self.M = as_int(K, "K", 1), as_int(M, "M", 1)
        self._init_weights((self.M, self.K), seed, dtype, bias)

    def forward(self, x):
        self._remember(x=x)
        return linear(x, self.w, self.b)

    def backward(self, dout):
        dx, dw, db = linear_backward(dout, self._recall()["x"], self.w)
        self._grads = {"w": dw} if self.b is None else {"w": dw, "b": db}
        return dx

    def output_shape(self, in_shape):
        (K,) = _check_in_shape(in_shape, 1, self)
        if K != self.K:
            raise ValueError(f"{self!r} expects K={self.K} inputs; got in_shape {in_shape}")
        return (self.M,)

    def conv_shape(self, in_shape, N=1) -> ConvShape:
        """An FC layer is a convolution with R = H, S = W and E = F = 1."""
        self.output_shape(in_shape)  # validates
        return ConvShape.fc(N=N, C=self.K, M=self.M)

    def counts(self, in_shape):
        return conv_counts(self.conv_shape(in_shape), bias=self.b is not None)

    def _repr_args(self):
        return {"K": self.K, "M": self.M}


class _Pool2d(Module):
    function = None
    backward_function = None

    def __init__(self, size, stride=None, padding=0):
        self.size = as_pair(size, "size", 1)
        self.stride = self.size if stride is None else as_pair(stride, "stride", 1)
        self.padding = as_pair(padding, "padding", 0)

    def forward(self, x):
        self._remember(x=x)
        return type(self).function(x, self.size, self.stride, self.padding)

    def backward(self, dout):
        return type(self).backward_function(dout, self._recall()["x"], self.size, self.stride, self.padding)

    def output_shape(self, in_shape):
        C, H, W = _check_in_shape(in_shape, 3, self)
        (R, S), stride, padding = self.size, self.stride, self.padding
        return (C, conv_output_size(H, R, padding[0], stride[0]),
                conv_output_size(W, S, padding[1], stride[1], names=("W", "S")))

    def counts(self, in_shape):
        C, E, F = self.output_shape(in_shape)
        return pool_counts(C, in_shape[1], in_shape[2], E, F, *self.size)

    def _repr_args(self):
        args = {"size": self.size[0] if self.size[0] == self.size[1] else self.size}
        if self.stride != self.size:
            args["stride"] = self.stride[0] if self.stride[0] == self.stride[1] else self.stride
        if self.padding != (0, 0):
            args["padding"] = self.padding
        return args


class MaxPool2d(_Pool2d):
    """Max pooling over size x size windows, per channel (stride defaults to size).

    With ``ceil_mode=True`` the output size rounds up, E = ceil((H + 2P - R) / U) + 1, as in
    Caffe and torchvision's SqueezeNet: a last, partial window at the bottom (right) edge is
    kept when it starts inside the input. It is computed by padding the bottom (right) edge
    with -inf, which max never selects.

    Examples
    --------
    >>> MaxPool2d(3, 2).output_shape((1, 54, 54)), MaxPool2d(3, 2, ceil_mode=True).output_shape((1, 54, 54))
    ((1, 26, 26), (1, 27, 27))
    """

    function = staticmethod(max_pool2d)
    backward_function = staticmethod(max_pool2d_backward)

    def __init__(self, size, stride=None, padding=0, ceil_mode=False):
        super().__init__(size, stride, padding)
        self.ceil_mode = bool(ceil_mode)

    def _extra(self, H, W):
        """Rows and columns of -inf that ceil mode adds at the bottom and right edges."""
        if not self.ceil_mode:
            return 0, 0
        extra = []
        for n, R, U, P in zip((H, W), self.size, self.stride, self.padding, strict=True):
            reach = n + 2 * P - R  # the floor formula's E - 1 = reach // U
            starts_inside = (reach // U + 1) * U < n + P  # an extra window starts in the input
            extra.append(U - reach % U if reach >= 0 and reach % U and starts_inside else 0)
        return tuple(extra)

    def _pad(self, x):
        Eh, Ew = self._extra(*np.shape(x)[2:])
        return np.pad(x, ((0, 0), (0, 0), (0, Eh), (0, Ew)), constant_values=-np.inf) if Eh or Ew else x

    def forward(self, x):
        x = as_float_array(x, "x")
        self._remember(x=x)
        return max_pool2d(self._pad(x), self.size, self.stride, self.padding)

    def backward(self, dout):
        x = self._recall()["x"]
        dx = max_pool2d_backward(dout, self._pad(x), self.size, self.stride, self.padding)
        return dx[:, :, : x.shape[2], : x.shape[3]]

    def output_shape(self, in_shape):
        C, H, W = _check_in_shape(in_shape, 3, self)
        Eh, Ew = self._extra(H, W)
        return super().output_shape((C, H + Eh, W + Ew))

    def counts(self, in_shape):
        C, E, F = self.output_shape(in_shape)
        return pool_counts(C, in_shape[1], in_shape[2], E, F, *self.size)

    def _repr_args(self):
        args = super()._repr_args()
        if self.ceil_mode:
            args["ceil_mode"] = True
        return args


class AvgPool2d(_Pool2d):
    """Average pooling over size x size windows, per channel (stride defaults to size)."""

    function = staticmethod(avg_pool2d)
    backward_function = staticmethod(avg_pool2d_backward)


class GlobalAvgPool2d(Module):
    """Global average pooling: (N, C, H, W) -> (N, C), the mean of each channel's H x W map.

    What ends MobileNet, SqueezeNet and ShuffleNet (and ResNet's 7x7 average pool on a 7x7 map):
    one value per channel, whatever H x W, so no Flatten is needed before the FC layer.

    Examples
    --------
    >>> GlobalAvgPool2d()(np.arange(8.0).reshape(1, 2, 2, 2)).tolist()
    [[1.5, 5.5]]
    """

    def forward(self, x):
        x = as_float_array(x, "x")
        self._remember(shape=x.shape)
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        N, C, H, W = self._recall()["shape"]
        return np.broadcast_to(dout[:, :, None, None] / (H * W), (N, C, H, W)).copy()

    def output_shape(self, in_shape):
        return (_check_in_shape(in_shape, 3, self)[0],)

    def counts(self, in_shape):
        C, H, W = _check_in_shape(in_shape, 3, self)
        return pool_counts(C, H, W, 1, 1, H, W)


class ChannelShuffle(Module):
    """ShuffleNet's channel shuffle: interleave the channels of ``groups`` groups.

    Channels (g0c0, g0c1, ..., g1c0, g1c1, ...) become (g0c0, g1c0, ..., g0c1, g1c1, ...): view
    C as (groups, C / groups), transpose, flatten. A permutation: no MAC, no weight, data moved.

    Examples
    --------
    >>> x = np.arange(6.0).reshape(1, 6, 1, 1)
    >>> ChannelShuffle(2)(x).ravel().tolist()
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """

    def __init__(self, groups):
        self.groups = as_int(groups, "groups", 1)

    def _shuffle(self, x, groups):
        N, C, H, W = x.shape
        return x.reshape(N, groups, C // groups, H, W).swapaxes(1, 2).reshape(N, C, H, W)

    def forward(self, x):
        x = as_float_array(x, "x")
        self.output_shape(x.shape[1:])
        return self._shuffle(x, self.groups)

    def backward(self, dout):
        return self._shuffle(as_float_array(dout, "dout"), dout.shape[1] // self.groups)  # the inverse

    def output_shape(self, in_shape):
        in_shape = _check_in_shape(in_shape, 3, self)
        if in_shape[0] % self.groups:
            raise ValueError(f"{self!r} needs C divisible by groups={self.groups}; got in_shape {in_shape}")
        return in_shape

    def counts(self, in_shape):
        n = int(np.prod(self.output_shape(in_shape)))
        return LayerCounts(input_activations=n, output_activations=n)

    def _repr_args(self):
        return {"groups": self.groups}


class ChannelSlice(Module):
    """Channels ``start:stop`` of the input: ShuffleNet v2's channel split, one half per branch.

    Inside a :class:`Concat` each branch takes its own slice of the same input; backward puts
    the gradient back in the slice's channels (zeros elsewhere), and Concat adds the branches'.

    Examples
    --------
    >>> ChannelSlice(2, 4).output_shape((4, 7, 7))
    (2, 7, 7)
    """

    def __init__(self, start, stop):
        self.start = as_int(start, "start", 0)
        self.stop = as_int(stop, "stop", self.start + 1)

    def forward(self, x):
        x = as_float_array(x, "x")
        self.output_shape(x.shape[1:])
        self._remember(shape=x.shape)
        return x[:, self.start : self.stop]

    def backward(self, dout):
        dx = np.zeros(self._recall()["shape"], dtype=np.result_type(dout))
        dx[:, self.start : self.stop] = dout
        return dx

    def output_shape(self, in_shape):
        C, H, W = _check_in_shape(in_shape, 3, self)
        if self.stop > C:
            raise ValueError(f"{self!r} needs at least {self.stop} input channels; got in_shape {in_shape}")
        return (self.stop - self.start, H, W)

    def counts(self, in_shape):
        n = int(np.prod(self.output_shape(in_shape)))
        return LayerCounts(input_activations=n, output_activations=n)

    def _repr_args(self):
        return {"start": self.start, "stop": self.stop}


class _Elementwise(Module):
    """A layer that keeps the shape and does one operation per element."""

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def counts(self, in_shape):
        return elementwise_counts(int(np.prod(in_shape)))


class Activation(_Elementwise):
    """An activation function by name: 'relu', 'relu6', 'sigmoid', 'tanh', 'leaky_relu', 'elu'."""

    def __init__(self, name, **kwargs):
        self.function, self.derivative = _act.get(name)
        self.kind, self.kwargs = name, kwargs

    def forward(self, x):
        self._remember(x=x)
        return self.function(x, **self.kwargs)

    def backward(self, dout):
        x = self._recall()["x"]
        return dout * self.derivative(x, **self.kwargs)

    @property
    def type_name(self):
        return f"Activation({self.kind})"

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"{self.kind}({args})"


def ReLU():  # noqa: N802 (layer-style constructor)
    """Rectified linear unit layer."""
    return Activation("relu")


def ReLU6():  # noqa: N802
    """ReLU capped at 6, y = min(max(0, x), 6) (MobileNet)."""
    return Activation("relu6")


def Sigmoid():  # noqa: N802
    """Sigmoid layer."""
    return Activation("sigmoid")


def Tanh():  # noqa: N802
    """Hyperbolic tangent layer."""
    return Activation("tanh")


def LeakyReLU(alpha=0.1):  # noqa: N802
    """Leaky ReLU layer, y = max(alpha x, x)."""
    return Activation("leaky_relu", alpha=alpha)


def ELU(alpha=1.0):  # noqa: N802
    """Exponential linear unit layer."""
    return Activation("elu", alpha=alpha)


class BatchNorm2d(_Elementwise):
    """Batch normalization per channel: y = (x - mu) / sqrt(sigma^2 + eps) gamma + beta.

    In training mode it normalizes with the batch's own mean and variance (over N, H and W) and
    updates the running averages, ``running = (1 - momentum) running + momentum batch`` (the
    variance unbiased, m / (m - 1) times the batch's, for m values per channel); in inference
    mode it uses the running statistics. Parameters gamma (C,) and beta (C,).
    """

    def __init__(self, C, eps=1e-5, momentum=0.1, dtype=np.float32):
        self.C = as_int(C, "C", 1)
        self.eps, self.momentum = eps, momentum
        self.gamma, self.beta = np.ones(self.C, dtype=dtype), np.zeros(self.C, dtype=dtype)
        self.running_mean, self.running_var = np.zeros(self.C, dtype=dtype), np.ones(self.C, dtype=dtype)

    def own_parameters(self):
        return {"gamma": self.gamma, "beta": self.beta}

    def own_buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def forward(self, x):
        if not self.training:
            return batch_norm(x, self.running_mean, self.running_var, self.gamma, self.beta, self.eps)
        y, mean, var = batch_norm_train(x, self.gamma, self.beta, self.eps)
        count, momentum = y.size // self.C, self.momentum  # count: values per channel
        self.running_mean[...] = (1 - momentum) * self.running_mean + momentum * mean
        self.running_var[...] = (1 - momentum) * self.running_var + momentum * var * count / max(count - 1, 1)
        self._remember(x=x)
        return y

    def backward(self, dout):
        dx, dgamma, dbeta = batch_norm_backward(dout, self._recall()["x"], self.gamma, self.eps)
        self._grads = {"gamma": dgamma, "beta": dbeta}
        return dx

    def counts(self, in_shape):
        return elementwise_counts(int(np.prod(in_shape)), params=2 * self.C)

    def _repr_args(self):
        return {"C": self.C}


class LocalResponseNorm(_Elementwise):
    """AlexNet's local response normalization across channels (see cnnlib.layers)."""

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0):
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        self._remember(x=x)
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def backward(self, dout):
        return local_response_norm_backward(dout, self._recall()["x"], self.size, self.alpha, self.beta,
                                            self.k)

    def _repr_args(self):
        return {"size": self.size}


class Dropout(_Elementwise):
    """Dropout with probability p during training; the identity at inference (no work counted)."""

    def __init__(self, p=0.5, seed=0):
        if not 0 <= p < 1:
            raise ValueError(f"p must be in [0, 1); got {p}")
        self.p, self.rng = p, np.random.default_rng(seed)

    def forward(self, x):
        x = as_float_array(x, "x")
        if not self.training or self.p == 0:
            self._remember(keep=None)
            return x
        keep = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / x.dtype.type(1 - self.p)
        self._remember(keep=keep)
        return x * keep

    def backward(self, dout):
        keep = self._recall()["keep"]
        return dout if keep is None else dout * keep

    def counts(self, in_shape):
        n = int(np.prod(in_shape))
        return LayerCounts(input_activations=n, output_activations=n)

    def _repr_args(self):
        return {"p": self.p}


class Flatten(Module):
    """(N, C, H, W) -> (N, C H W): the bridge from CONV to FC layers."""

    def forward(self, x):
        self._remember(shape=np.shape(x))
        return flatten(x)

    def backward(self, dout):
        return np.reshape(dout, self._recall()["shape"])

    def output_shape(self, in_shape):
        return (int(np.prod(in_shape)),)

    def counts(self, in_shape):
        return LayerCounts()


@contextmanager
def _named(name):
    """Prefix a ValueError/TypeError raised inside layer ``name`` with its qualified name.

    A LeNet-5 fed 28 x 28 digits then says "layer f5: w must have K = 256 columns ..." instead of
    leaving the student to guess which layer met the wrong shape; nested containers join the
    names with dots ("layer conv2_x.block1.main.conv1: ...").
    """
    try:
        yield
    except (ValueError, TypeError) as err:
        msg = str(err)
        msg = f"layer {name}.{msg[len('layer '):]}" if msg.startswith("layer ") else f"layer {name}: {msg}"
        raise type(err)(msg) from err


class _Container(Module):
    """Named child modules, kept in order: what Sequential and Concat share (naming, indexing)."""

    def __init__(self, *modules):
        self._modules = []
        for i, item in enumerate(modules):
            name, module = item if isinstance(item, tuple) else (str(i), item)
            if not isinstance(module, Module):
                raise TypeError(f"{type(self).__name__} takes Modules or (name, Module) pairs; got {item!r}")
            module.name = name
            self._modules.append((name, module))
        names = [n for n, _ in self._modules]
        if len(set(names)) != len(names):
            raise ValueError(f"{type(self).__name__} layer names must be unique; got {names}")

    def children(self):
        return list(self._modules)

    def __getitem__(self, key):
        if isinstance(key, str):
            return dict(self._modules)[key]
        return self._modules[key][1]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return (m for _, m in self._modules)

    def __repr__(self):
        lines = [f"  ({name}): {module!r}".replace("\n", "\n  ") for name, module in self._modules]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


class Sequential(_Container):
    """Modules applied one after the other.

    ``Sequential(Conv2d(...), ReLU())`` names them "0", "1", ...;
    ``Sequential(("conv1", Conv2d(...)), ("relu1", ReLU()))`` gives them names.
    Index by position or name: ``net[0]``, ``net["conv1"]``.
    """

    def forward(self, x):
        for name, module in self._modules:
            with _named(name):
                x = module(x)
        return x

    def backward(self, dout):
        for name, module in reversed(self._modules):
            with _named(name):
                dout = module.backward(dout)
        return dout

    def output_shape(self, in_shape):
        for _, module in self._modules:
            in_shape = module.output_shape(in_shape)
        return tuple(in_shape)

    def layers(self, in_shape, prefix=""):
        in_shape = tuple(in_shape)
        for name, module in self._modules:
            yield from module.layers(in_shape, f"{prefix}.{name}" if prefix else name)
            in_shape = module.output_shape(in_shape)


class Concat(_Container):
    """Branches that all see the same input, outputs concatenated along channels (inception).

    Built and indexed like ``Sequential``: ``Concat(("b1", ...), ("b2", ...))``.
    """

    def forward(self, x):
        outputs = []
        for name, module in self._modules:
            with _named(name):
                outputs.append(module(x))
        self._remember(channels=[y.shape[1] for y in outputs])
        return np.concatenate(outputs, axis=1)

    def backward(self, dout):
        parts = np.split(dout, np.cumsum(self._recall()["channels"])[:-1], axis=1)
        dx = 0
        for (name, module), part in zip(self._modules, parts, strict=True):
            with _named(name):
                dx = dx + module.backward(part)
        return dx

    def output_shape(self, in_shape):
        shapes = [module.output_shape(in_shape) for _, module in self._modules]
        if len({s[1:] for s in shapes}) != 1:
            raise ValueError(f"Concat branches must agree on H x W; got output shapes {shapes}")
        return (sum(s[0] for s in shapes), *shapes[0][1:])

    def layers(self, in_shape, prefix=""):
        for name, module in self._modules:
            yield from module.layers(in_shape, f"{prefix}.{name}" if prefix else name)


class Residual(Module):
    """ResNet's shortcut module: activation(main(x) + shortcut(x)); the shortcut is x if None."""

    def __init__(self, main: Module, shortcut: Module | None = None, activation="relu"):
        self.main, self.shortcut = main, shortcut
        self.main.name = "main"
        if shortcut is not None:
            shortcut.name = "shortcut"
        self.act = Activation(activation) if activation else None
        if self.act is not None:
            self.act.name = "act"

    def children(self):
        kids = [("main", self.main)]
        if self.shortcut is not None:
            kids.append(("shortcut", self.shortcut))
        if self.act is not None:
            kids.append(("act", self.act))
        return kids

    def forward(self, x):
        with _named("main"):
            y = self.main(x)
        if self.shortcut is not None:
            with _named("shortcut"):
                x = self.shortcut(x)
        y = y + x
        return y if self.act is None else self.act(y)

    def backward(self, dout):
        if self.act is not None:
            with _named("act"):
                dout = self.act.backward(dout)
        with _named("main"):
            dx = self.main.backward(dout)
        if self.shortcut is None:
            return dx + dout
        with _named("shortcut"):
            return dx + self.shortcut.backward(dout)

    def output_shape(self, in_shape):
        out = self.main.output_shape(in_shape)
        short = tuple(in_shape) if self.shortcut is None else self.shortcut.output_shape(in_shape)
        if out != short:
            raise ValueError(f"Residual: main gives {out} but the shortcut gives {short}; "
                             "use a projection shortcut")
        return out

    def layers(self, in_shape, prefix=""):
        in_shape = tuple(in_shape)
        join = (lambda n: f"{prefix}.{n}") if prefix else (lambda n: n)
        yield from self.main.layers(in_shape, join("main"))
        if self.shortcut is not None:
            yield from self.shortcut.layers(in_shape, join("shortcut"))
        if self.act is not None:
            yield from self.act.layers(self.output_shape(in_shape), join("act"))

    def __repr__(self):
        inner = f"  (main): {self.main!r}".replace("\n", "\n  ")
        if self.shortcut is not None:
            inner += "\n" + f"  (shortcut): {self.shortcut!r}".replace("\n", "\n  ")
        then = "then add" if self.act is None else f"then add and {self.act!r}"
        return f"Residual(\n{inner}\n  {then}\n)"
