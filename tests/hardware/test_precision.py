"""Word size: Horowitz's table where it has figures, the stated interpolation where it has none,
and a priced chip that the mapper searches like any other."""

import math
from dataclasses import replace

import pytest

from cnnlib.counting import ConvShape
from cnnlib.hardware.arch import eyeriss_like
from cnnlib.hardware.dataflows import dataflow
from cnnlib.hardware.energy import horowitz_pj
from cnnlib.hardware.mapper import search
from cnnlib.hardware.precision import PRECISIONS, op_pj, precision, priced, sram_pj_per_bit

LAYER = ConvShape(N=1, C=8, H=10, W=10, M=8, R=3, S=3, P=1)


def test_table_figures_are_horowitz():
    for kind, bits in (("int", 8), ("int", 32), ("fp", 16), ("fp", 32)):
        for op in ("add", "mult"):
            assert op_pj(kind, op, bits) == horowitz_pj(f"{kind}{bits}_{op}")
    for size, key in ((8, "sram_8KB_64bit"), (32, "sram_32KB_64bit"), (1024, "sram_1MB_64bit")):
        assert sram_pj_per_bit(size * 1024) * 64 == pytest.approx(horowitz_pj(key))


def test_int16_is_the_power_law_through_8_and_32_bits():
    for op in ("add", "mult"):
        e8, e16, e32 = (op_pj("int", op, b) for b in (8, 16, 32))
        assert e8 < e16 < e32
        assert e16 == pytest.approx(math.sqrt(e8 * e32))  # 16 is the geometric middle of 8 and 32
    assert PRECISIONS["int8"].mac_pj == pytest.approx(0.2 + 0.1)  # int8 mult, int32 accumulate
    assert PRECISIONS["fp32"].mac_pj == pytest.approx(3.7 + 0.9)


def test_sram_energy_grows_with_size_between_the_table_points():
    sizes = [1, 8 * 1024, 20 * 1024, 32 * 1024, 108 * 1024, 1024 * 1024]
    energies = [sram_pj_per_bit(s) for s in sizes]
    assert energies[0] == energies[1] and energies == sorted(energies)


def test_priced_chip_keeps_words_and_scales_energy_with_bits():
    base = eyeriss_like()
    same = priced(base, "int16", "sze")
    assert [lv.energy for lv in same.levels] == [lv.energy for lv in base.levels] and same.mac_energy == 1
    for table in ("sze", "45nm"):
        chips = {p: priced(base, p, table) for p in ("int8", "int16", "fp32")}
        assert all(c.levels[1].capacity == base.levels[1].capacity for c in chips.values())
        assert chips["fp32"].levels[0].energy == pytest.approx(2 * chips["int16"].levels[0].energy)
        assert chips["int8"].noc_energy == pytest.approx(chips["int16"].noc_energy / 2)
    assert priced(base, "int8", keep="bytes").levels[1].capacity == 2 * base.levels[1].capacity
    assert priced(base, "fp32", keep="bytes").levels[2].capacity_of("inputs") == 6


def test_the_same_mapping_fits_every_word_size():
    # capacities kept in words: the mapper finds the same counts at every precision
    flow = dataflow("rs")
    counts = {p: search(LAYER, replace(flow, arch=priced(flow.arch, p, "45nm"))).report.counts
              for p in ("int8", "int16", "fp32")}
    assert counts["int8"] == counts["int16"] == counts["fp32"]


def test_bad_input():
    with pytest.raises(ValueError, match="precision must be one of fp32, fp16, int32, int16, int8; got 'int4'"):
        precision("int4")
    with pytest.raises(ValueError, match="bits must be 16 or 32 for floating point"):
        op_pj("fp", "mult", 8)
    with pytest.raises(ValueError, match="bits must be 8 ... 32"):
        op_pj("int", "add", 4)
    with pytest.raises(ValueError, match="table must be 'sze' or '45nm'"):
        priced(eyeriss_like(), "int8", "7nm")
    with pytest.raises(ValueError, match="size_bytes must be at most 1 MB"):
        sram_pj_per_bit(2 * 1024 * 1024)
