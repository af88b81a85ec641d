"""Word size: what a MAC and a memory access cost at 8, 16 or 32 bits, integer or floating point.

Two rules, each from Horowitz's 45 nm table (``energy.HOROWITZ_45NM``, ISSCC 2014):

- **Arithmetic.** A MAC is a multiply at the operands' width plus an add at the accumulator's
  width. The table gives int8 and int32 add and multiply, fp16 and fp32 add and multiply. It
  has no int16 figures: they are interpolated on a power law through the 8- and 32-bit
  entries, E(b) = E(8) (b / 8)^k with k = log(E(32) / E(8)) / log 4 (k = 1.98 for the
  multiply, close to the quadratic growth of an array multiplier; k = 0.87 for the add, close
  to an adder's linear growth): int16 multiply 0.79 pJ, int16 add 0.055 pJ. Integer MACs
  accumulate at 32 bits (int8 x int8 -> int32, as in Jacob et al., CVPR 2018); floating-point
  MACs at the operands' width.
- **Storage.** Energy scales with the bits moved: a word of b bits costs b / 64 of a 64-bit
  access. SRAM: the table's 8 kB, 32 kB and 1 MB figures (10, 20, 100 pJ per 64 bits),
  interpolated log-log in between (Eyeriss's 108 kB global buffer: 35 pJ); a smaller memory (a
  0.5 kB scratchpad) gets the 8 kB figure, an upper bound, since the table has nothing smaller.
  DRAM: 1.3 nJ per 64 bits, the low end of the table's 1.3-2.6 nJ. The table has no
  network-on-chip figure: a NoC transfer costs 2 RF accesses, Sze et al.'s normalized ratio.

``priced(arch, precision, table)`` turns an architecture (capacities in words, Sze's normalized
energies) into the same chip at another word size, and prices every access and MAC either
relative to one int16 MAC (``table="sze"``: Sze's normalized costs, which are for Eyeriss's
16-bit words, scaled by bits / 16; the MAC by its Horowitz energy over the int16 MAC's) or in pJ
(``table="45nm"``). By default the chip keeps its capacities and bandwidths in *words* (each
memory and bus as wide as the words: the same mappings fit, and only the cost of each access
changes); ``keep="bytes"`` keeps its bytes instead (the same silicon holds 2x the int8 words and
half the fp32 words, which can leave row stationary no room for a filter row at fp32). The
mapper then searches the priced chip as any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .._checks import as_int, check_instance
from .arch import Architecture
from .energy import horowitz_pj

_TABLE_BITS = (8, 32)  # the integer widths Horowitz's table gives


@dataclass(frozen=True)
class Precision:
    """The number format of a chip's operands.

    Attributes
    ----------
    name : str
        E.g. "int8", "fp32".
    kind : {"int", "fp"}
    bits : int
        Width of weights, input and output activations (and of the stored partial sums).
    acc_bits : int
        Width of the accumulator (the add of each MAC).
    """

    name: str
    kind: str
    bits: int
    acc_bits: int

    def __post_init__(self):
        if self.kind not in ("int", "fp"):
            raise ValueError(f"kind must be 'int' or 'fp'; got {self.kind!r}")
        as_int(self.bits, "bits", 1)
        as_int(self.acc_bits, "acc_bits", self.bits)

    @property
    def mac_pj(self) -> float:
        """Energy of one MAC in pJ at 45 nm: a multiply at ``bits``, an add at ``acc_bits``."""
        return op_pj(self.kind, "mult", self.bits) + op_pj(self.kind, "add", self.acc_bits)


#: The precisions the course compares: the name is the key.
PRECISIONS = {
    "fp32": Precision("fp32", "fp", 32, 32),
    "fp16": Precision("fp16", "fp", 16, 16),
    "int32": Precision("int32", "int", 32, 32),
    "int16": Precision("int16", "int", 16, 32),
    "int8": Precision("int8", "int", 8, 32),
}


def precision(name: str | Precision) -> Precision:
    """The ``Precision`` called ``name`` (a key of ``PRECISIONS``), or ``name`` itself."""
    if isinstance(name, Precision):
        return name
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {name!r}")
    return PRECISIONS[name]


def op_pj(kind: str, op: str, bits: int) -> float:
    """Energy in pJ of one ``op`` ("add" or "mult") on ``bits``-bit operands of ``kind``
    ("int" or "fp") at 45 nm: Horowitz's figure, or for int16 the power-law interpolation
    between his 8- and 32-bit figures (module docstring).

    Examples
    --------
    >>> op_pj("int", "mult", 8), op_pj("fp", "add", 32)
    (0.2, 0.9)
    >>> round(op_pj("int", "mult", 16), 3), round(op_pj("int", "add", 16), 4)
    (0.787, 0.0548)
    """
    if op not in ("add", "mult"):
        raise ValueError(f"op must be 'add' or 'mult'; got {op!r}")
    if kind == "fp":
        if bits not in (16, 32):
            raise ValueError(f"bits must be 16 or 32 for floating point (Horowitz's table); got {bits!r}")
        return horowitz_pj(f"fp{bits}_{op}")
    if kind != "int":
        raise ValueError(f"kind must be 'int' or 'fp'; got {kind!r}")
    bits = as_int(bits, "bits", 1)
    if bits in _TABLE_BITS:
        return horowitz_pj(f"int{bits}_{op}")
    if not _TABLE_BITS[0] < bits < _TABLE_BITS[1]:
        raise ValueError(f"bits must be 8 ... 32 for an integer {op} (Horowitz's table spans 8 to 32); "
                         f"got {bits}")
    low, high = (horowitz_pj(f"int{b}_{op}") for b in _TABLE_BITS)
    k = math.log(high / low) / math.log(_TABLE_BITS[1] / _TABLE_BITS[0])
    return low * (bits / _TABLE_BITS[0]) ** k


def sram_pj_per_bit(size_bytes: float) -> float:
    """pJ per bit read from an SRAM of ``size_bytes`` (Horowitz's 8 kB, 32 kB, 1 MB figures per
    64 bits, log-log interpolated; the 8 kB figure below 8 kB).

    Examples
    --------
    >>> sram_pj_per_bit(32 * 1024) * 64, round(sram_pj_per_bit(108 * 1024) * 64, 1)
    (20.0, 35.2)
    """
    points = [(8 * 1024, horowitz_pj("sram_8KB_64bit")), (32 * 1024, horowitz_pj("sram_32KB_64bit")),
              (1024 * 1024, horowitz_pj("sram_1MB_64bit"))]
    if not size_bytes > 0:
        raise ValueError(f"size_bytes must be > 0; got {size_bytes}")
    if size_bytes > points[-1][0]:
        raise ValueError(f"size_bytes must be at most 1 MB, the largest SRAM of Horowitz's table; "
                         f"got {size_bytes}")
    if size_bytes <= points[0][0]:
        return points[0][1] / 64
    for (s0, e0), (s1, e1) in zip(points, points[1:], strict=False):
        if size_bytes <= s1:
            k = math.log(e1 / e0) / math.log(s1 / s0)
            return e0 * (size_bytes / s0) ** k / 64
    raise AssertionError("unreachable")  # pragma: no cover


def dram_pj_per_bit() -> float:
    """pJ per bit moved from or to DRAM: the low end of Horowitz's 1.3-2.6 nJ per 64 bits."""
    return horowitz_pj("dram_64bit") / 64


def _words(capacity, factor_num: int, factor_den: int):
    if capacity is None:
        return None
    if isinstance(capacity, dict):
        return {op: w * factor_num // factor_den for op, w in capacity.items()}
    return capacity * factor_num // factor_den


def _level_bytes(capacity, word_bits: int) -> float:
    """Bytes of one instance of a level of ``capacity`` words (its largest partition)."""
    words = max(capacity.values()) if isinstance(capacity, dict) else capacity
    return words * word_bits / 8


def priced(arch: Architecture, prec: str | Precision, table: str = "sze",
           keep: str = "words") -> Architecture:
    """``arch`` at another word size, its accesses and MACs priced by ``table``.

    Parameters
    ----------
    arch : Architecture
        Capacities in words of ``arch.word_bits``; energies Sze's normalized (x MAC) ones.
    prec : str or Precision
        The new operands' format (``PRECISIONS``).
    table : {"sze", "45nm"}
        "sze": energies relative to one int16 MAC, Sze's per-word costs times bits / 16.
        "45nm": energies in pJ from Horowitz's table (module docstring); the outermost level
        is DRAM, the others SRAM of their size (in bytes, at the new word size).
    keep : {"words", "bytes"}
        What capacities and bandwidths keep: their words (default) or their bytes.

    Returns
    -------
    Architecture
        Same levels and array, ``word_bits = prec.bits``, capacities and bandwidths as ``keep``
        says, and the new energies.

    Examples
    --------
    >>> from cnnlib.hardware.arch import eyeriss_like
    >>> chip = priced(eyeriss_like(), "int8", "45nm")
    >>> chip.levels[1].capacity, round(chip.levels[0].energy, 1), round(chip.mac_energy, 2)
    (55296, 162.5, 0.3)
    >>> priced(eyeriss_like(), "int8", "45nm", keep="bytes").levels[1].capacity
    110592
    """
    prec = precision(prec)
    check_instance(arch, Architecture, "arch")
    if table not in ("sze", "45nm"):
        raise ValueError(f"table must be 'sze' or '45nm'; got {table!r}")
    if keep not in ("words", "bytes"):
        raise ValueError(f"keep must be 'words' or 'bytes'; got {keep!r}")
    bits = prec.bits
    old = arch.word_bits if keep == "bytes" else bits  # capacities scale by old / bits
    levels = []
    for i, lv in enumerate(arch.levels):
        capacity = _words(lv.capacity, old, bits)
        if table == "sze":
            energy = lv.energy * bits / 16
        elif i == 0:
            energy = dram_pj_per_bit() * bits
        else:
            energy = sram_pj_per_bit(_level_bytes(capacity, bits)) * bits
        bandwidth = None if lv.bandwidth is None else lv.bandwidth * old / bits  # same bus width
        levels.append(replace(lv, capacity=capacity, energy=energy, bandwidth=bandwidth))
    if table == "sze":
        mac, noc, unit = prec.mac_pj / PRECISIONS["int16"].mac_pj, arch.noc_energy * bits / 16, "x MAC"
    else:
        rf = sram_pj_per_bit(1) * bits  # a scratchpad access: the table's smallest SRAM
        mac, noc, unit = prec.mac_pj, 2 * rf, "pJ"
    name = f"{arch.name}, {prec.name}" + (", 45 nm" if table == "45nm" else "")
    return replace(arch, name=name, levels=tuple(levels), word_bits=bits, mac_energy=mac, noc_energy=noc,
                   energy_unit=unit)
