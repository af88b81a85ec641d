"""Fake quantization: float layers that round what they compute to b-bit levels, and can train.

Quantization-aware training (Jacob et al., CVPR 2018, section 3) runs the float network with
every weight and activation rounded to the levels the integer network will use, so the loss sees
the rounding error and the weights learn to live with it. Rounding has a zero gradient almost
everywhere, so backward uses the **straight-through estimator** (STE, Bengio et al. 2013): the
rounding is treated as the identity, dL/dx = dL/dq, except where the value was clipped to the
range (there the gradient is 0).

- :class:`FakeQuant` rounds an activation tensor to fixed calibrated levels (a layer of its own).
- :class:`FakeQuantWeights` wraps a Conv2d or Linear: forward uses its weights rounded to
  symmetric b-bit levels (range from the current weights, per tensor or per filter), backward
  hands the gradient to the float weights unchanged, so the optimizer keeps updating them
  (``cnnlib.train.train`` works on a model made of these as on any other).

Simplification: the activation ranges are calibrated once, before fine-tuning, and stay fixed
(Jacob et al. track them with moving averages during training).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..nn import Module
from .affine import QParams, calibrate, check_bits


class FakeQuant(Module):
    """Round activations to the levels of ``qparams`` (per tensor); STE backward with clipping.

    Parameters
    ----------
    qparams : QParams
        Per-tensor parameters (calibrated on real activations).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnlib.quantize.affine import qparams
    >>> layer = FakeQuant(qparams(0.0, 1.0, 2, symmetric=False))   # levels 0, 1/3, 2/3, 1
    >>> layer(np.array([0.1, 0.2, 0.9, 1.5])).round(3).tolist()
    [0.0, 0.333, 1.0, 1.0]
    """

    def __init__(self, qparams: QParams):
        if not isinstance(qparams, QParams) or qparams.per_channel:
            raise TypeError(f"qparams must be per-tensor QParams; got {qparams!r}")
        self.qparams = qparams
        self.lo = qparams.dequantize(qparams.qmin)
        self.hi = qparams.dequantize(qparams.qmax)

    def forward(self, x):
        self._remember(inside=(x >= self.lo) & (x <= self.hi))
        return self.qparams.fake_quantize(x)

    def backward(self, dout):
        return dout * self._recall()["inside"]

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def counts(self, in_shape):
        from ..counting import LayerCounts

        return LayerCounts()

    def __repr__(self):
        return f"FakeQuant({self.qparams!r})"


@contextmanager
def _parameters(layer, w, b):
    """Run ``layer`` with weights ``w`` and biases ``b`` in place of its own, then put its own back."""
    own = layer.w, layer.b
    layer.w, layer.b = w, b
    try:
        yield
    finally:
        layer.w, layer.b = own


class FakeQuantWeights(Module):
    """A Conv2d or Linear whose forward pass uses its weights rounded to symmetric b-bit levels.

    Parameters
    ----------
    layer : cnnlib.nn.Conv2d or cnnlib.nn.Linear
        Keeps its float weights (the "shadow" weights training updates).
    bits : int
        2 ... 16.
    per_channel : bool
        One scale per filter m (axis 0 of w) instead of one for the whole tensor.

    input_qparams : QParams, optional
        Parameters of the layer's input codes. If given, the biases are rounded as the integer
        network stores them: to integers at the accumulator's scale s_x s_w (a far finer step
        than the weights', Jacob et al.); otherwise they stay float.

    Notes
    -----
    The wrapper's parameters are the layer's own arrays under the layer's names ("w", "b"), so
    a fake-quantized model loads and saves the same state as the float one.
    """

    def __init__(self, layer, bits, per_channel: bool = False, input_qparams: QParams | None = None):
        if not getattr(layer, "layer_kind", "") or not hasattr(layer, "w"):
            raise TypeError(f"layer must be a cnnlib.nn.Conv2d or Linear; got {layer!r}")
        per_tensor = isinstance(input_qparams, QParams) and not input_qparams.per_channel
        if input_qparams is not None and not per_tensor:
            raise TypeError(f"input_qparams must be per-tensor QParams or None; got {input_qparams!r}")
        self.layer, self.bits, self.per_channel = layer, check_bits(bits), bool(per_channel)
        self.input_qparams = input_qparams

    def weight_qparams(self) -> QParams:
        """Symmetric parameters of the current weights: s = max|w| / (2^(b-1) - 1), per tensor or filter."""
        return calibrate(self.layer.w, self.bits, symmetric=True, per_channel=self.per_channel)

    def integer_bias(self, w_q: QParams) -> np.ndarray:
        """The biases as the integer network stores them: q_b = round(b / (s_x s_w)), int64 (M,).

        Needs ``input_qparams`` (s_x); a layer without biases gets zeros.
        """
        if self.input_qparams is None:
            raise ValueError(f"{self!r}: integer biases need input_qparams (the input's scale)")
        step = float(self.input_qparams.scale) * w_q.scale  # () or (M,)
        b = np.zeros(self.layer.w.shape[0]) if self.layer.b is None else self.layer.b.astype(np.float64)
        return np.floor(b / step + 0.5).astype(np.int64)

    def _rounded(self):
        """Weights rounded to b-bit levels; biases to the accumulator's scale if the input's is known."""
        w_q = self.weight_qparams()
        w, b = w_q.fake_quantize(self.layer.w), self.layer.b
        if b is not None and self.input_qparams is not None:
            b = (self.integer_bias(w_q) * float(self.input_qparams.scale) * w_q.scale).astype(b.dtype)
        return w, b

    def forward(self, x):
        w, b = self._rounded()
        self._remember(w=w, b=b)
        with _parameters(self.layer, w, b):
            return self.layer.forward(x)

    def backward(self, dout):
        cache = self._recall()
        with _parameters(self.layer, cache["w"], cache["b"]):
            return self.layer.backward(dout)  # STE: dL/dw = dL/dq (symmetric min/max ranges clip nothing)

    @property
    def w(self):
        """The float (shadow) weights of the wrapped layer."""
        return self.layer.w

    def own_parameters(self):
        return self.layer.own_parameters()

    def own_gradients(self):
        return self.layer.own_gradients()

    def train(self, mode: bool = True):
        self.layer.train(mode)
        return super().train(mode)

    def output_shape(self, in_shape):
        return self.layer.output_shape(in_shape)

    def counts(self, in_shape):
        return self.layer.counts(in_shape)

    def conv_shape(self, in_shape, N=1):
        return self.layer.conv_shape(in_shape, N)

    def __repr__(self):
        granularity = "per channel" if self.per_channel else "per tensor"
        return f"FakeQuantWeights({self.layer!r}, {self.bits} bits {granularity})"
