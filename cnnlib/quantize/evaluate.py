"""What a bit width buys: LeNet-5's accuracy, weight memory and energy per inference at b bits.

- Accuracy: on the course's 1,000 test digits (``cnnlib.train.lenet5_split``), the integer
  network calibrated on the 500 validation digits (never on test digits).
- Weight memory: weights packed at b bits, biases at 32 bits (``IntegerLeNet5.weight_bytes``);
  the float model at 4 bytes per parameter.
- Energy per inference: every CONV/FC layer mapped on the Eyeriss-like array with row stationary
  (``cnnlib.hardware.network.map_network``), with the chip's words b bits wide and its accesses
  and MACs priced with Horowitz's 45 nm table (``cnnlib.hardware.precision``): storage energy in
  proportion to the bits moved, a MAC as a b-bit multiply plus a 32-bit add. Horowitz gives
  integer figures for 8 and 32 bits; between them the hardware model interpolates on a power
  law, and **below 8 bits it has no figure**: there a MAC is priced as an int8 MAC (an upper
  bound, a b-bit operand on an 8-bit multiplier) while the words still move at b bits.
"""

from __future__ import annotations

import numpy as np

from ..hardware.network import map_network
from ..hardware.precision import PRECISIONS, Precision
from .affine import check_bits


class _NarrowInt(Precision):
    """Integers below 8 bits: words of ``bits``, MACs priced as int8's (Horowitz's table stops at 8)."""

    @property
    def mac_pj(self) -> float:
        return PRECISIONS["int8"].mac_pj


def chip_precision(bits) -> Precision:
    """The hardware model's number format for b-bit integers (None: fp32).

    Examples
    --------
    >>> chip_precision(8) == PRECISIONS["int8"], chip_precision(None).name
    (True, 'fp32')
    >>> round(chip_precision(4).mac_pj, 2), chip_precision(4).bits
    (0.3, 4)
    """
    if bits is None:
        return PRECISIONS["fp32"]
    bits = check_bits(bits)
    kind = Precision if bits >= 8 else _NarrowInt
    return kind(f"int{bits}", "int", bits, 32)


def energy_per_inference_pj(bits, model: str = "lenet5") -> float:
    """Energy in pJ of one inference of ``model`` on the Eyeriss-like array (row stationary) at b bits.

    Parameters
    ----------
    bits : int in 2 ... 16, or None
        Integer word size; None for fp32.
    model : str
        A name from ``cnnlib.models.names()``.

    Returns
    -------
    float
        ``map_network(model, prec=chip_precision(bits)).total()["energy_per_inference_pj"]``.
    """
    return float(map_network(model, prec=chip_precision(bits)).total()["energy_per_inference_pj"])


def lenet5_report(bits, *, per_channel: bool = False) -> dict:
    """Float and b-bit integer LeNet-5 side by side: accuracy, weight memory, energy per inference.

    Parameters
    ----------
    bits : int
        2 ... 16, weights and activations.
    per_channel : bool
        One weight scale per filter.

    Returns
    -------
    dict
        model, bits, per_channel, calibration_digits, test_digits, float_accuracy,
        quantized_accuracy, weight_bytes {float32, quantized}, energy_per_inference_pj
        {float32, quantized}, energy_model (how the energy is computed).
    """
    from ..data import load_mnist
    from ..models import lenet5
    from ..train import lenet5_split
    from .model import quantize_model

    bits = check_bits(bits)
    images, labels = load_mnist()
    _, val, test = lenet5_split(labels.astype(np.int64))
    model = lenet5(pretrained=True, dtype=np.float64)  # calibration independent of float32 rounding
    net = quantize_model(model, bits, images[val], per_channel=per_channel)
    float_bytes = 4 * sum(p.size for p in model.parameters().values())
    mac = f"int{bits} x int{bits} + int32 add" if bits >= 8 else "int8 MAC (upper bound: no figure below 8)"
    return {
        "model": "lenet5", "bits": bits, "per_channel": bool(per_channel),
        "calibration_digits": int(len(val)), "test_digits": int(len(test)),
        "float_accuracy": float(np.mean(model.predict(images[test]) == labels[test])),
        "quantized_accuracy": float(np.mean(net.predict(images[test]) == labels[test])),
        "weight_bytes": {"float32": int(float_bytes), "quantized": int(net.weight_bytes())},
        "energy_per_inference_pj": {"float32": energy_per_inference_pj(None),
                                    "quantized": energy_per_inference_pj(bits)},
        "energy_model": f"Eyeriss-like array, row stationary, Horowitz 45 nm; {bits}-bit words, {mac}",
    }
