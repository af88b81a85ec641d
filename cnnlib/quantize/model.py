"""A trained LeNet-5 made integer-only: calibrate, fake-quantize, convert.

Three steps, each a function:

1. :func:`fake_quantize_model`: run the float model on calibration digits and record the range
   of every tensor between integer operations (input, each CONV/FC output, each activation
   output); return a copy of the model with :class:`~cnnlib.quantize.fake.FakeQuantWeights`
   around CONV/FC layers and a :class:`~cnnlib.quantize.fake.FakeQuant` after each of those
   tensors. It predicts like the integer network (up to rounding) and it can be fine-tuned
   (quantization-aware training) with ``cnnlib.train.train``. Weights or activations may stay
   float (``weight_bits=None`` / ``activation_bits=None``) to study one at a time.
2. :func:`to_integer`: turn a fully fake-quantized model into an :class:`IntegerLeNet5` of
   integer stages (``cnnlib.quantize.integer``).
3. :func:`quantize_model` = both steps at one bit width (post-training quantization).

Integer-only pipeline of the tanh LeNet-5 (b-bit activations unsigned with zero points, b-bit
weights signed and symmetric, biases and accumulators int32, or int64 where 32 bits cannot hold
the sums):

    digits uint8 -> requantize to the input's b-bit codes (digits are already codes: s = 0.005, z = 20)
    c1: conv (int32 acc) -> requantize -> a1: tanh table -> s2: rounded integer mean
    c3: conv -> requantize -> a3: tanh table -> s4: integer mean -> flatten
    f5, f6: FC -> requantize -> tanh table;  output: FC -> requantize -> argmax of the codes

tanh is a lookup table indexed by the b-bit code of its input (2^b entries, 256 at 8 bits), as
integer-only pipelines do for tanh and sigmoid (TensorFlow Lite's int8 kernels use a table too):
computed once from the float function, read at run time. Average pooling keeps the scale and
zero point of its input (a mean of codes is a code), so no requantization is needed there.
"""

from __future__ import annotations

import copy

import numpy as np

from ..models.lenet import LeNet5, mnist_input
from ..nn import Activation, AvgPool2d, Conv2d, Flatten, MaxPool2d
from .affine import QParams, calibrate, check_bits
from .fake import FakeQuant, FakeQuantWeights
from .integer import (
    accumulator_bits,
    activation_table,
    conv2d_int,
    linear_int,
    pool2d_int,
    quantize_multiplier,
    requantize,
)


def check_digits(images, name: str = "images") -> np.ndarray:
    """Return ``images`` as uint8 (N, 28, 28) after checking they are MNIST grey levels.

    Refuses other dtypes (floats, including digits scaled to 0 ... 1), other shapes and empty
    arrays, each with a message that names ``name``. A single (28, 28) digit gives N = 1.
    """
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        hint = ""
        if np.issubdtype(arr.dtype, np.floating) and arr.size and arr.max() <= 1:
            hint = " (these look scaled to 0 ... 1: pass (images * 255).round().astype(np.uint8))"
        raise TypeError(f"{name} must be uint8 grey levels 0 ... 255, shape (N, 28, 28); "
                        f"got dtype {arr.dtype}{hint}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (28, 28):
        raise ValueError(f"{name} must be MNIST digits (N, 28, 28) or (28, 28); got shape {np.shape(images)}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one digit; got shape {arr.shape}")
    return arr


def _check_optional_bits(bits, name):
    return None if bits is None else check_bits(bits, name)


def fake_quantize_model(model, calibration, *, weight_bits=8, activation_bits=8, per_channel=False,
                        method="minmax", percentile=99.99) -> LeNet5:
    """A copy of ``model`` that rounds weights and activations as its integer version would.

    Parameters
    ----------
    model : LeNet5
        Trained (``cnnlib.models.lenet5(pretrained=True)``); left unchanged.
    calibration : uint8 array (N, 28, 28)
        Digits whose activations set the ranges (a few hundred suffice).
    weight_bits, activation_bits : int in 2 ... 16, or None
        None keeps that kind of tensor float.
    per_channel : bool
        One weight scale per filter (axis 0) instead of one per layer.
    method : "minmax" or "percentile"
        How activation ranges are calibrated (see :func:`cnnlib.quantize.calibrate`); weights
        always use their min/max.
    percentile : float
        For ``method="percentile"``.

    Returns
    -------
    LeNet5
        Layers c1, ..., output as before (CONV/FC wrapped), with a FakeQuant "<name>_q" after the
        input ("input_q"), after each CONV/FC layer, activation and pooling layer. Its
        ``predict`` takes digits like the float model's; ``state()`` has the same names.
    """
    if not isinstance(model, LeNet5):
        raise TypeError(f"model must be a cnnlib LeNet5 (cnnlib.models.lenet5); got {type(model).__name__}")
    weight_bits = _check_optional_bits(weight_bits, "weight_bits")
    activation_bits = _check_optional_bits(activation_bits, "activation_bits")
    images = check_digits(calibration, "calibration")
    model = copy.deepcopy(model).eval()
    x = mnist_input(images, dtype=model["c1"].w.dtype)
    layers, last = [], None

    def quantizer(name, x, qp=None):
        nonlocal last
        last = qp or calibrate(x, activation_bits, symmetric=False, method=method, percentile=percentile)
        layers.append((f"{name}_q", FakeQuant(last)))
        return layers[-1][1](x)

    if activation_bits is not None:
        x = quantizer("input", x)
    for name, module in model.children():
        if weight_bits is not None and module.layer_kind:  # a CONV or FC layer
            module = FakeQuantWeights(module, weight_bits, per_channel, input_qparams=last)
        layers.append((name, module))
        x = module(x)
        if activation_bits is not None and not isinstance(module, Flatten):
            pooled = isinstance(module, (AvgPool2d, MaxPool2d))
            x = quantizer(name, x, last if pooled else None)  # pooling keeps its input's levels
    return LeNet5(*layers).eval()


def quantize_model(model, bits, calibration, *, per_channel=False, method="minmax", percentile=99.99):
    """Post-training quantization: ``model`` as an integer-only network of b-bit weights and activations.

    Parameters
    ----------
    model : LeNet5
        A trained float LeNet-5.
    bits : int
        2 ... 16, for weights and activations.
    calibration : uint8 array (N, 28, 28)
        Digits that set the activation ranges (the same input ``LeNet5.predict`` takes).
    per_channel, method, percentile
        As in :func:`fake_quantize_model`.

    Returns
    -------
    IntegerLeNet5
        ``predict(uint8 digits (N, 28, 28))`` runs integer arithmetic only.

    Examples
    --------
    >>> from cnnlib.data import load_mnist
    >>> from cnnlib.models import lenet5
    >>> from cnnlib.train import lenet5_split
    >>> images, labels = load_mnist()
    >>> _, val, test = lenet5_split(labels.astype(int))
    >>> int8 = quantize_model(lenet5(pretrained=True), 8, images[val])   # calibrated on 500 digits
    >>> int8["c1"]  # doctest: +ELLIPSIS
    conv c1: int8 w (6, 1, 5, 5) x uint8 -> int32 acc, requantize M0 = ... 2^-..., uint8 out
    >>> float((int8.predict(images[test]) == labels[test]).mean())
    0.98
    """
    bits = check_bits(bits)
    fake = fake_quantize_model(model, calibration, weight_bits=bits, activation_bits=bits,
                               per_channel=per_channel, method=method, percentile=percentile)
    return to_integer(fake)


def _digit_codes() -> QParams:
    """The raw digits as codes of LeNet-5's input: real = s (pixel - z), read off ``mnist_input``."""
    black, white = (float(mnist_input(np.full((28, 28), v, np.uint8), np.float64)[0, 0, 2, 2])
                    for v in (0, 255))
    scale = (white - black) / 255
    zero_point = round(-black / scale)
    if abs(scale * zero_point + black) > 1e-9:
        raise ValueError(f"mnist_input's background {black} is not a whole number of steps {scale}")
    return QParams(np.asarray(scale), np.asarray(zero_point, dtype=np.int64), 8, signed=False)


# -- the integer stages ---------------------------------------------------------------------------

class _Requantized:
    """Common part of the stages that end with a requantization to ``out`` (input, CONV, FC)."""

    def _set_multiplier(self, M, acc_bound):
        self.acc_bits = accumulator_bits(acc_bound)
        if self.acc_bits > 62:
            raise ValueError(f"{self.name}: sums need {self.acc_bits} bits, more than 64-bit words allow")
        self.acc_dtype = np.dtype(np.int32 if self.acc_bits <= 32 else np.int64)
        self.M0, self.shift = quantize_multiplier(M, bits=min(31, 63 - self.acc_bits))

    def _multiplier_text(self):
        if self.M0.ndim:
            return f"M0 per channel ({self.M0.size}), shift {self.shift.min()} ... {self.shift.max()}"
        return f"M0 = {int(self.M0)} 2^-{int(self.shift)}"


class InputStage(_Requantized):
    """Raw uint8 digits -> input codes: pad 28 x 28 to 32 x 32 with background, then requantize."""

    def __init__(self, out: QParams):
        self.name, self.out, self.digits = "input", out, _digit_codes()
        M = float(self.digits.scale / out.scale)
        self._set_multiplier(M, 255)

    def __call__(self, digits):
        padded = np.pad(digits, ((0, 0), (2, 2), (2, 2)))[:, None]  # pixel 0 is the background -0.1
        acc = padded.astype(self.acc_dtype) - self.acc_dtype.type(self.digits.zero_point)
        return requantize(acc, self.M0, self.shift, self.out)

    def __repr__(self):
        return f"input: uint8 digits (s = {float(self.digits.scale):g}, z = {int(self.digits.zero_point)}) " \
               f"-> {self._multiplier_text()} -> {self.out.dtype} codes"


class WeightedStage(_Requantized):
    """A CONV or FC layer in integers: b-bit codes in, int32 (or int64) sums, requantized codes out.

    Attributes
    ----------
    q_w : int array (M, C, R, S) or (M, K)
        Weight codes (symmetric, zero point 0).
    q_b : int array (M,)
        Bias at the accumulator's scale s_x s_w.
    z_x : int
        Input zero point.
    M0, shift : int arrays, () or (M,)
        Requantization, M = s_x s_w / s_y ~ M0 2^-shift (M0 int32 with int32 sums).
    out : QParams
        Output codes.
    """

    def __init__(self, name, fake: FakeQuantWeights, out: QParams):
        layer, w_q, in_q = fake.layer, fake.weight_qparams(), fake.input_qparams
        self.name, self.kind, self.in_q, self.w_q, self.out = name, type(layer).__name__, in_q, w_q, out
        self.stride = layer.stride[0] if isinstance(layer, Conv2d) else 1
        self.padding = layer.padding[0] if isinstance(layer, Conv2d) else 0
        self.q_w = w_q.quantize(layer.w)
        self.z_x = int(in_q.zero_point)
        q_b = fake.integer_bias(w_q)
        K = int(np.prod(layer.w.shape[1:]))
        bound = K * w_q.qmax * max(in_q.qmax - self.z_x, self.z_x - in_q.qmin) + int(np.abs(q_b).max())
        self._set_multiplier(float(in_q.scale) * w_q.scale / float(out.scale), bound)  # M = s_x s_w / s_y
        self.q_b = q_b.astype(self.acc_dtype)

    def accumulate(self, q_x):
        """The integer sums (N, M, E, F) or (N, M), before requantization."""
        if self.kind == "Conv2d":
            return conv2d_int(q_x, self.z_x, self.q_w, self.q_b, stride=self.stride, padding=self.padding,
                              dtype=self.acc_dtype.type)
        return linear_int(q_x, self.z_x, self.q_w, self.q_b, dtype=self.acc_dtype.type)

    def __call__(self, q_x):
        return requantize(self.accumulate(q_x), self.M0, self.shift, self.out)

    @property
    def weight_bits(self) -> int:
        """Bits a weight occupies in memory, packed: b (e.g. 4 bits = two weights per byte)."""
        return self.w_q.bits

    def __repr__(self):
        kind = "conv" if self.kind == "Conv2d" else "fc"
        return (f"{kind} {self.name}: {self.q_w.dtype} w {self.q_w.shape} x {self.in_q.dtype} -> "
                f"{self.acc_dtype} acc, requantize {self._multiplier_text()}, {self.out.dtype} out")


class TableStage:
    """An activation as a lookup table over its input codes (``integer.activation_table``)."""

    def __init__(self, name, activation: Activation, in_q: QParams, out: QParams):
        self.name, self.kind, self.in_q, self.out = name, activation.kind, in_q, out
        self.table = activation_table(lambda v: activation.function(v, **activation.kwargs), in_q, out)

    def __call__(self, q_x):
        return self.table[q_x.astype(np.intp) - self.in_q.qmin]

    def __repr__(self):
        return f"{self.kind} {self.name}: table of {self.table.size} {self.table.dtype} entries"


class PoolStage:
    """Integer pooling (:func:`~cnnlib.quantize.integer.pool2d_int`); the codes keep their parameters."""

    def __init__(self, name, layer):
        if layer.stride != layer.size or layer.padding != (0, 0) or layer.size[0] != layer.size[1]:
            raise ValueError(f"layer {name}: integer pooling needs square windows, stride = size and "
                             f"no padding; got {layer!r}")
        self.name, self.size = name, layer.size[0]
        self.kind = "max" if isinstance(layer, MaxPool2d) else "avg"

    def __call__(self, q_x):
        return pool2d_int(q_x, self.size, self.kind)

    def __repr__(self):
        return f"{self.kind} pool {self.name}: {self.size} x {self.size}"


class FlattenStage:
    """(N, C, H, W) codes -> (N, C H W) codes."""

    name = "flatten"

    def __call__(self, q_x):
        return q_x.reshape(len(q_x), -1)

    def __repr__(self):
        return "flatten"


class IntegerLeNet5:
    """LeNet-5 as a list of integer stages; ``predict`` takes uint8 digits and uses no floats.

    Index a stage by name (``net["c1"]``); iterate over ``net.stages``. ``codes(digits)`` returns
    the output codes (N, 10); ``trace(digits)`` every stage's codes.
    """

    def __init__(self, stages):
        self.stages = list(stages)

    def __getitem__(self, name):
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage {name!r}; stages: {', '.join(s.name for s in self.stages)}")

    def trace(self, images) -> dict:
        """Every stage's output codes for ``images`` (uint8 (N, 28, 28)), by stage name."""
        q = check_digits(images)
        out = {}
        for stage in self.stages:
            q = out[stage.name] = stage(q)
        return out

    def codes(self, images, batch_size: int = 500) -> np.ndarray:
        """Output codes (N, 10) of uint8 digits (N, 28, 28), computed in batches."""
        images = check_digits(images)
        parts = []
        for i in range(0, len(images), batch_size):
            q = images[i : i + batch_size]
            for stage in self.stages:
                q = stage(q)
            parts.append(q)
        return np.concatenate(parts)

    def predict(self, images):
        """Predicted digits: uint8 (N, 28, 28) -> int array (N,); (28, 28) -> int.

        Ties between output codes go to the lower digit.
        """
        labels = self.codes(images).argmax(axis=1)
        return int(labels[0]) if np.ndim(images) == 2 else labels

    def weighted(self) -> list[WeightedStage]:
        """The CONV and FC stages, in order."""
        return [s for s in self.stages if isinstance(s, WeightedStage)]

    def weight_bytes(self) -> int:
        """Memory of the weights packed at b bits each, plus the biases at their word size (4 bytes).

        Scales, zero points and multipliers (a few words per layer or filter) are not counted.
        """
        return sum(-(-s.q_w.size * s.weight_bits // 8) + s.q_b.size * s.q_b.itemsize for s in self.weighted())

    def __repr__(self):
        return "IntegerLeNet5(\n" + "\n".join(f"  {s!r}" for s in self.stages) + "\n)"


def to_integer(fake: LeNet5) -> IntegerLeNet5:
    """The integer-only network of a fully fake-quantized LeNet-5 (e.g. after quantization-aware training).

    Parameters
    ----------
    fake : LeNet5
        From :func:`fake_quantize_model` with both ``weight_bits`` and ``activation_bits`` set.

    Returns
    -------
    IntegerLeNet5
        Uses the fake model's activation ranges and its current weights.
    """
    if not isinstance(fake, LeNet5):
        raise TypeError(f"fake must be a LeNet5 from fake_quantize_model; got {type(fake).__name__}")
    children = fake.children()
    if not (children and isinstance(children[0][1], FakeQuant)):
        raise ValueError("fake must have quantized activations "
                         "(fake_quantize_model with activation_bits set)")
    in_q = children[0][1].qparams
    stages, i = [InputStage(in_q)], 1
    while i < len(children):
        name, module = children[i]
        if isinstance(module, Flatten):
            stages.append(FlattenStage())
            i += 1
            continue
        if i + 1 >= len(children) or not isinstance(children[i + 1][1], FakeQuant):
            raise ValueError(f"fake: layer {name} must be followed by its FakeQuant")
        out = children[i + 1][1].qparams
        if isinstance(module, FakeQuantWeights):
            stages.append(WeightedStage(name, module, out))
        elif module.layer_kind:
            raise ValueError(f"fake: layer {name} has float weights "
                             "(fake_quantize_model with weight_bits set)")
        elif isinstance(module, Activation):
            stages.append(TableStage(name, module, in_q, out))
        elif isinstance(module, (AvgPool2d, MaxPool2d)):
            stages.append(PoolStage(name, module))
        else:
            raise ValueError(f"fake: layer {name} ({module!r}) has no integer version")
        in_q, i = out, i + 2
    return IntegerLeNet5(stages)
