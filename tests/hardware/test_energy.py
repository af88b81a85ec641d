import doctest

import pytest

from cnnlib.hardware import energy
from cnnlib.hardware.energy import HOROWITZ_45NM, SZE_NORMALIZED, horowitz_pj, sze_normalized


def test_sze_ratios_are_the_published_ones():
    assert [sze_normalized(k) for k in ("MAC", "RF", "NoC", "GLB", "DRAM")] == [1, 1, 2, 6, 200]
    assert all(e.unit == "x MAC" and "Sze" in e.source for e in SZE_NORMALIZED.values())


def test_horowitz_values_and_units():
    assert horowitz_pj("int8_add") == 0.03
    assert horowitz_pj("fp32_mult") == 3.7
    assert horowitz_pj("sram_1MB_64bit") == 100.0
    assert all(e.unit == "pJ" for e in HOROWITZ_45NM.values())
    dram = HOROWITZ_45NM["dram_64bit"]
    assert (dram.value, dram.high) == (1300.0, 2600.0)
    assert str(dram) == "64-bit DRAM access: 1300-2600 pJ"


def test_memory_costs_grow_with_size_and_distance():
    sram = [horowitz_pj(k) for k in ("sram_8KB_64bit", "sram_32KB_64bit", "sram_1MB_64bit")]
    assert sram == sorted(sram)
    assert horowitz_pj("dram_32bit") > 6 * sram[-1] / 2  # per 32 bits, DRAM far above a 1 MB SRAM


def test_unknown_keys_list_the_known_ones():
    with pytest.raises(KeyError, match="known keys: MAC, RF, NoC, GLB, DRAM"):
        sze_normalized("L2")
    with pytest.raises(KeyError, match="'fp64_add' is not in HOROWITZ_45NM"):
        horowitz_pj("fp64_add")
    with pytest.raises(TypeError, match="key must be a str"):
        horowitz_pj(3)


def test_docstring_examples():
    assert doctest.testmod(energy).failed == 0
