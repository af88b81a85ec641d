"""Zeros on the chip: the RLC formula against the real encoder, gating and skipping by hand."""

import numpy as np
import pytest

from cnnlib.hardware.analytical import Counts
from cnnlib.hardware.arch import eyeriss_like
from cnnlib.hardware.report import cycles, energy
from cnnlib.hardware.sparse import effective_counts, rlc_bits_per_value
from cnnlib.sparsity import rlc_encode


@pytest.mark.parametrize("density", [0.02, 0.1, 0.3, 0.5, 0.75, 0.95])
@pytest.mark.parametrize("value_bits", [8, 16])
def test_rlc_formula_matches_the_encoder_on_random_maps(density, value_bits):
    rng = np.random.default_rng(int(density * 100) + value_bits)
    x = (rng.random(200_000) < density) * rng.integers(1, 100, 200_000)
    pairs_per_word = 64 // (5 + value_bits)
    measured = rlc_encode(x).bits(level_bits=value_bits, pairs_per_word=pairs_per_word) / x.size
    assert rlc_bits_per_value(density, value_bits) == pytest.approx(measured, rel=0.02)


def test_rlc_breaks_even_where_sparsity_says():
    from cnnlib.sparsity import break_even_density

    d = break_even_density("rlc")
    assert rlc_bits_per_value(d) == pytest.approx(16, rel=1e-6)  # no run longer than 31 at d = 0.75


DENSE = Counts(macs=12_000, steps=100, active_pes=120,
               reads={("DRAM", "inputs"): 900, ("DRAM", "weights"): 500, ("GLB", "inputs"): 4000,
                      ("RF", "weights"): 12_000, ("RF", "inputs"): 12_000, ("RF", "outputs"): 12_300},
               writes={("DRAM", "outputs"): 300, ("RF", "weights"): 800, ("RF", "outputs"): 12_000},
               noc={"inputs": 2000})


def test_gating_saves_mac_energy_only_and_skipping_saves_cycles_too():
    arch, d = eyeriss_like(), {"weights": 0.5, "inputs": 0.6}
    gated = effective_counts(DENSE, arch, d, gating=True)
    skipped = effective_counts(DENSE, arch, d, skipping=True)
    saved = DENSE.macs * (1 - 0.5 * 0.6) * arch.mac_energy
    assert energy(DENSE, arch) - energy(gated, arch) == pytest.approx(saved)
    assert (gated.steps, skipped.steps) == (100, pytest.approx(30))
    assert cycles(gated, arch)[0] == cycles(DENSE, arch)[0]
    assert (gated.reads, gated.writes, gated.noc) == (DENSE.reads, DENSE.writes, DENSE.noc)
    # a skipped MAC makes none of its own RF accesses: 70 % of 12,000 per operand (psums read and written)
    skipped_words = 0.7 * DENSE.macs
    for key, before in DENSE.reads.items():
        assert skipped.reads[key] == pytest.approx(before - skipped_words if key[0] == "RF" else before)
    assert skipped.writes["RF", "outputs"] == pytest.approx(0.3 * 12_000)
    assert skipped.writes["RF", "weights"] == 800  # fills still happen
    rf_saved = 4 * skipped_words * arch.levels[2].energy
    assert energy(gated, arch) - energy(skipped, arch) == pytest.approx(rf_saved)


def test_rlc_compresses_the_dram_traffic_of_feature_maps_only():
    arch = eyeriss_like()
    c = effective_counts(DENSE, arch, {"inputs": 0.3, "outputs": 0.5}, rlc=True)
    assert c.reads["DRAM", "inputs"] == pytest.approx(900 * rlc_bits_per_value(0.3) / 16)
    assert c.writes["DRAM", "outputs"] == pytest.approx(300 * rlc_bits_per_value(0.5) / 16)
    assert c.reads["DRAM", "weights"] == 500 and c.reads["GLB", "inputs"] == 4000
    pruned = effective_counts(DENSE, arch, {"weights": 0.1}, rlc=("weights",))
    assert pruned.reads["DRAM", "weights"] == pytest.approx(500 * rlc_bits_per_value(0.1) / 16)
    assert pruned.reads["DRAM", "inputs"] == 900


def test_bad_densities():
    with pytest.raises(ValueError, match=r"densities\['inputs'\] must be a density in \[0, 1\]"):
        effective_counts(DENSE, eyeriss_like(), {"inputs": 1.5})
    with pytest.raises(ValueError, match="densities must be keyed by"):
        effective_counts(DENSE, eyeriss_like(), {"psums": 0.5})
    with pytest.raises(ValueError, match="rlc must be True, False or a tuple of operands"):
        effective_counts(DENSE, eyeriss_like(), rlc=("psums",))
    with pytest.raises(TypeError, match="density must be a number"):
        rlc_bits_per_value("half")
