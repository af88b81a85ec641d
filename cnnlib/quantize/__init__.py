"""cnnlib.quantize: reduced precision, from the rounding of one number to an integer-only LeNet-5.

Modules, each with one job:

- ``affine``: uniform affine quantization r = s (q - z): scales and zero points, symmetric and
  asymmetric, per tensor and per output channel, 2 to 16 bits; calibration by min/max or
  percentile (:func:`calibrate`, :class:`QParams`).
- ``fake``: fake-quantized layers for quantization-aware training with the straight-through
  estimator (:class:`FakeQuant`, :class:`FakeQuantWeights`).
- ``integer``: the integer-only kernels of Jacob et al. (CVPR 2018): b-bit x b-bit -> int32
  sums, requantization by a fixed-point multiplier M0 and a shift, integer pooling, activation
  lookup tables.
- ``model``: a trained LeNet-5 calibrated, fake-quantized and converted to integer stages
  (:func:`quantize_model`, :func:`fake_quantize_model`, :func:`to_integer`).
- ``evaluate``: what a bit width buys: LeNet-5's accuracy, weight memory and energy per
  inference from the hardware model (``python -m cnnlib quantize lenet5 --bits B``).

Sources: Jacob et al., "Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference", CVPR 2018; Sze et al., *Efficient Processing of Deep Neural
Networks*, 2020, ch. 7.
"""

from .affine import QParams, calibrate, check_bits, qparams, storage_dtype
from .fake import FakeQuant, FakeQuantWeights
from .integer import quantize_multiplier, requantize
from .model import IntegerLeNet5, fake_quantize_model, quantize_model, to_integer

__all__ = [
    "FakeQuant",
    "FakeQuantWeights",
    "IntegerLeNet5",
    "QParams",
    "calibrate",
    "check_bits",
    "fake_quantize_model",
    "qparams",
    "quantize_model",
    "quantize_multiplier",
    "requantize",
    "storage_dtype",
    "to_integer",
]
