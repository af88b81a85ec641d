"""Energy per operation and per memory access, as data with its source.

Two tables every hardware lesson of the course uses:

``SZE_NORMALIZED``
    The energy of one access to each level of a spatial accelerator's hierarchy, relative to one
    MAC in the ALU (Sze et al., "Efficient Processing of Deep Neural Networks: A Tutorial and
    Survey", Proc. IEEE 105(12), 2017, figure "normalized energy cost"; measured on Eyeriss in
    65 nm, Chen et al., ISCA 2016 / JSSC 2017): ALU 1x, register file (RF, 0.5-1 kB) 1x, PE-to-PE
    network (NoC) 2x, global buffer (100-500 kB) 6x, DRAM 200x.
``HOROWITZ_45NM``
    Absolute energies in pJ from M. Horowitz, "Computing's energy problem (and what we can do
    about it)", ISSCC 2014, 45 nm at 0.9 V: integer and floating-point add and multiply, a 64-bit
    read from an 8 kB, 32 kB or 1 MB SRAM (cache), and a DRAM access. Horowitz gives DRAM as a
    range, 1.3-2.6 nJ per 64-bit access; ``"dram_64bit"`` stores that range (``value`` the low end,
    ``high`` the high end). ``"dram_32bit"`` is 640 pJ, the per-32-bit-word figure that Han et
    al. give (EIE, ISCA 2016, Table I; also Deep Compression, ICLR 2016), citing the same
    source. It is not exactly half the 1.3 nJ low end (that is 650 pJ); they state 640 pJ
    without the derivation. It is the value to use for a 32-bit word because it is the
    documented one every later paper cites; the range reminds you it is an estimate.

Each entry is an ``EnergyCost`` (value, unit, source); look entries up with ``sze_normalized``
and ``horowitz_pj``, which raise a ``KeyError`` listing the known keys.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnergyCost:
    """One energy figure with its unit and source.

    Attributes
    ----------
    name : str
        What is being done, e.g. "32-bit int add" or "global buffer access".
    value : float
        The energy (the low end if the source gives a range).
    unit : str
        "pJ" for absolute energies, "x MAC" for energies relative to one MAC.
    source : str
        Where the number comes from.
    high : float or None
        The high end of a range, when the source gives one.
    """

    name: str
    value: float
    unit: str
    source: str
    high: float | None = None

    def __str__(self) -> str:
        amount = f"{self.value:g}" if self.high is None else f"{self.value:g}-{self.high:g}"
        return f"{self.name}: {amount} {self.unit}"


_SZE = "Sze et al., Proc. IEEE 2017, normalized energy cost (Eyeriss, Chen et al., ISCA 2016), 65 nm"
_HOROWITZ = "Horowitz, ISSCC 2014, 45 nm, 0.9 V"

#: Energy per access relative to one MAC (Sze et al. 2017). Keys: MAC, RF, NoC, GLB, DRAM.
SZE_NORMALIZED: dict[str, EnergyCost] = {
    "MAC": EnergyCost("MAC in the ALU", 1.0, "x MAC", _SZE),
    "RF": EnergyCost("register file (0.5-1 kB) access", 1.0, "x MAC", _SZE),
    "NoC": EnergyCost("PE-to-PE network (NoC) transfer", 2.0, "x MAC", _SZE),
    "GLB": EnergyCost("global buffer (100-500 kB) access", 6.0, "x MAC", _SZE),
    "DRAM": EnergyCost("DRAM access", 200.0, "x MAC", _SZE),
}

#: Absolute energy in pJ (Horowitz, ISSCC 2014, 45 nm, 0.9 V).
HOROWITZ_45NM: dict[str, EnergyCost] = {
    "int8_add": EnergyCost("8-bit int add", 0.03, "pJ", _HOROWITZ),
    "int32_add": EnergyCost("32-bit int add", 0.1, "pJ", _HOROWITZ),
    "fp16_add": EnergyCost("16-bit float add", 0.4, "pJ", _HOROWITZ),
    "fp32_add": EnergyCost("32-bit float add", 0.9, "pJ", _HOROWITZ),
    "int8_mult": EnergyCost("8-bit int multiply", 0.2, "pJ", _HOROWITZ),
    "int32_mult": EnergyCost("32-bit int multiply", 3.1, "pJ", _HOROWITZ),
    "fp16_mult": EnergyCost("16-bit float multiply", 1.1, "pJ", _HOROWITZ),
    "fp32_mult": EnergyCost("32-bit float multiply", 3.7, "pJ", _HOROWITZ),
    "sram_8KB_64bit": EnergyCost("64-bit read, 8 kB SRAM", 10.0, "pJ", _HOROWITZ),
    "sram_32KB_64bit": EnergyCost("64-bit read, 32 kB SRAM", 20.0, "pJ", _HOROWITZ),
    "sram_1MB_64bit": EnergyCost("64-bit read, 1 MB SRAM", 100.0, "pJ", _HOROWITZ),
    "dram_64bit": EnergyCost("64-bit DRAM access", 1300.0, "pJ", _HOROWITZ, high=2600.0),
    "dram_32bit": EnergyCost(
        "32-bit DRAM access", 640.0, "pJ", "Han et al., EIE, ISCA 2016, Table I (from " + _HOROWITZ + ")"
    ),
}


def _lookup(table: dict[str, EnergyCost], key: str, table_name: str) -> EnergyCost:
    if not isinstance(key, str):
        raise TypeError(f"key must be a str naming an entry of {table_name}; got {key!r}")
    try:
        return table[key]
    except KeyError:
        raise KeyError(f"{key!r} is not in {table_name}; known keys: {', '.join(table)}") from None


def sze_normalized(key: str) -> float:
    """Energy of one access/operation relative to one MAC (``SZE_NORMALIZED[key].value``).

    Examples
    --------
    >>> sze_normalized("DRAM") / sze_normalized("RF")
    200.0
    """
    return _lookup(SZE_NORMALIZED, key, "SZE_NORMALIZED").value


def horowitz_pj(key: str) -> float:
    """Energy in pJ of one operation or access at 45 nm (``HOROWITZ_45NM[key].value``).

    For ``"dram_64bit"`` this is the low end of the 1.3-2.6 nJ range.

    Examples
    --------
    >>> horowitz_pj("fp32_mult"), horowitz_pj("int8_add")
    (3.7, 0.03)
    >>> round(horowitz_pj("dram_32bit") / horowitz_pj("int32_add"))
    6400
    """
    return _lookup(HOROWITZ_45NM, key, "HOROWITZ_45NM").value
