"""The roofline model: is a layer limited by arithmetic or by the memory bandwidth feeding it?

A machine does at most ``peak`` operations per second and moves at most ``bandwidth`` bytes per
second from DRAM. A layer doing ``ops`` operations on ``bytes`` bytes has the *operational
intensity* I = ops / bytes, and can run at most at

    attainable = min(peak, I x bandwidth)

(Williams, Waterman and Patterson, "Roofline: an insightful visual performance model for
multicore architectures", CACM 52(4), 2009). Below the *ridge point* I = peak / bandwidth a
layer is memory-bound; above it, compute-bound.

Conventions used throughout (say them out loud, because papers differ):

- **ops** count 2 per MAC (a multiply and an add), as peak TOPS and GFLOP/s figures do.
- **bytes** are the *compulsory* DRAM traffic: every weight, every input activation and every
  output activation moved once, (weights + N C H W + N M E F) x word size. Real dataflows move
  more (``cnnlib.hardware.analytical`` counts how much); the compulsory traffic is the lower bound,
  so the intensity here is the highest a layer can reach.
- the **word size** is the machine's: 1 byte on an 8-bit TPU-like chip, 2 bytes on the 16-bit
  Eyeriss-like array, 4 bytes for float32 on a CPU. The same layer has a different intensity on
  each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._checks import as_int, as_real, check_instance
from ..counting import ConvShape, conv_layers


@dataclass(frozen=True)
class Machine:
    """Peak compute and DRAM bandwidth of a machine, with the word size its layers move.

    Attributes
    ----------
    name : str
    peak : float
        Operations per second (2 per MAC).
    bandwidth : float
        DRAM bytes per second.
    word_bytes : int
        Bytes per weight or activation.
    source : str
        Where the numbers come from.
    """

    name: str
    peak: float
    bandwidth: float
    word_bytes: int
    source: str

    def __post_init__(self):
        for field in ("peak", "bandwidth"):
            as_real(getattr(self, field), field, 0, strict=True)
        as_int(self.word_bytes, "word_bytes", 1)

    @property
    def ridge(self) -> float:
        """Operational intensity (ops/byte) where the bandwidth roof meets the compute roof."""
        return self.peak / self.bandwidth

    def attainable(self, intensity):
        """min(peak, intensity x bandwidth), ops/s, for a scalar or an array of intensities."""
        return np.minimum(self.peak, np.asarray(intensity, dtype=float) * self.bandwidth)

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.peak / 1e9:,.1f} GOPS, {self.bandwidth / 1e9:,.2f} GB/s, "
            f"{8 * self.word_bytes}-bit words, ridge at {self.ridge:,.0f} ops/byte"
        )


TPU_V1 = Machine(
    name="TPU-v1-like",
    peak=256 * 256 * 700e6 * 2,
    bandwidth=34e9,
    word_bytes=1,
    source=(
        "Jouppi et al., 'In-Datacenter Performance Analysis of a Tensor Processing Unit', ISCA 2017: "
        "256 x 256 8-bit MACs at 700 MHz (92 TOPS), 34 GB/s DDR3"
    ),
)

EYERISS = Machine(
    name="Eyeriss-like",
    peak=168 * 200e6 * 2,
    bandwidth=64 / 8 * 60e6,
    word_bytes=2,
    source=(
        "Chen, Krishna, Emer and Sze, 'Eyeriss: An Energy-Efficient Reconfigurable Accelerator for "
        "Deep Convolutional Neural Networks', IEEE JSSC 52(1), 2017: 168 PEs (12 x 14), 16-bit, "
        "200 MHz core clock; a 64-bit off-chip data bus on the 60 MHz link clock of the measured "
        "AlexNet/VGG-16 runs = 0.48 GB/s (the link clock goes up to 90 MHz)"
    ),
)


def measure_machine(n: int = 1024, megabytes: int = 64, repeats: int = 3) -> Machine:
    """Measure this machine with numpy: float32 matmul GFLOP/s and a large-array copy's GB/s.

    Parameters
    ----------
    n : int
        The matmul is (n x n) @ (n x n) in float32: 2 n^3 operations.
    megabytes : int
        Size of the float32 array copied; a copy reads and writes it, 2 x size bytes moved.
        Keep it well above the last-level cache so the copy runs from DRAM.
    repeats : int
        Best of this many runs of each (the machine may be busy with other work).

    Returns
    -------
    Machine
        ``word_bytes`` 4 (float32). The numbers vary between runs and machines: print them,
        do not assert them.
    """
    n = as_int(n, "n", 1)
    size = as_int(megabytes, "megabytes", 1) * 2**20 // 4
    repeats = as_int(repeats, "repeats", 1)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    src = np.ones(size, dtype=np.float32)
    dst = np.empty_like(src)
    a @ b  # warm up BLAS threads
    np.copyto(dst, src)
    matmul = min(_timed(lambda: a @ b) for _ in range(repeats))
    copy = min(_timed(lambda: np.copyto(dst, src)) for _ in range(repeats))
    return Machine(
        name="this machine (numpy)",
        peak=2 * n**3 / matmul,
        bandwidth=2 * src.nbytes / copy,
        word_bytes=4,
        source=f"measured: float32 {n} x {n} matmul, {megabytes} MB array copy, best of {repeats}",
    )


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


@dataclass(frozen=True)
class LayerPoint:
    """One layer placed on one machine's roofline.

    Attributes
    ----------
    name : str
    shape : ConvShape
    ops : int
        2 x MACs.
    bytes : int
        Compulsory DRAM traffic at the machine's word size.
    intensity : float
        ops / bytes.
    attainable : float
        min(peak, intensity x bandwidth), ops/s.
    bound : str
        "memory" below the ridge point, "compute" at or above it.
    """

    name: str
    shape: ConvShape
    ops: int
    bytes: int
    intensity: float
    attainable: float
    bound: str


def compulsory_bytes_unpadded(shape: ConvShape, word_bytes: int) -> int:
    """Bytes moved from and to DRAM if every weight, input and output moves exactly once.

    (M C/groups R S + N C H W + N M E F) x word_bytes, with the *unpadded* input: the padding
    zeros are made on chip. (``mapper.compulsory_words_padded`` counts the padded input, in
    words, because the mapper stores and moves the padding zeros like any input.)

    >>> compulsory_bytes_unpadded(ConvShape(N=1, C=3, H=32, W=32, M=10, R=5, S=5), 1)
    11662
    """
    check_instance(shape, ConvShape, "shape")
    words = shape.weights + shape.input_activations + shape.output_activations
    return words * as_int(word_bytes, "word_bytes", 1)


def intensity(shape: ConvShape, word_bytes: int) -> float:
    """Operational intensity: 2 x MACs / compulsory bytes (ops per byte).

    An FC layer for one sample uses each weight once, so its intensity is below 2 / word_bytes:

    >>> f"{intensity(ConvShape.fc(N=1, C=4096, M=1000), 1):.4f}"
    '1.9975'
    """
    nbytes = compulsory_bytes_unpadded(shape, word_bytes)  # checks shape first
    return 2 * shape.macs / nbytes


def layer_point(name: str, shape: ConvShape, machine: Machine) -> LayerPoint:
    """Place one layer on ``machine``'s roofline."""
    nbytes = compulsory_bytes_unpadded(shape, machine.word_bytes)
    ops = 2 * shape.macs
    oi = ops / nbytes
    return LayerPoint(
        name=name,
        shape=shape,
        ops=ops,
        bytes=nbytes,
        intensity=oi,
        attainable=float(machine.attainable(oi)),
        bound="memory" if oi < machine.ridge else "compute",
    )


def model_points(model, input_shape, machine: Machine, N: int = 1) -> list[LayerPoint]:
    """Every CONV and FC layer of a ``cnnlib.models`` network on ``machine``'s roofline.

    ``input_shape`` is one sample's (C, H, W); N the batch (it amortizes the weights' traffic).
    """
    return [layer_point(name, shape, machine) for name, shape in conv_layers(model, input_shape, N)]
