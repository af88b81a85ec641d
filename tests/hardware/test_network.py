"""A whole network on the chip: the totals are the mapper's per-layer results added up."""

import pytest

from cnnlib import models
from cnnlib.counting import conv_layers, summary
from cnnlib.hardware.mapper import search
from cnnlib.hardware.network import map_network
from cnnlib.hardware.report import energy


def test_lenet5_totals_are_the_sum_of_the_mapped_layers():
    net = map_network("lenet5")
    layers = conv_layers(models.get("lenet5"), models.input_shape("lenet5"))
    bests = [search(shape, "rs") for _, shape in layers]
    t = net.total()
    assert [r["name"] for r in net.rows()] == [name for name, _ in layers]
    assert t["macs"] == summary(models.get("lenet5"), models.input_shape("lenet5")).total.macs == 416_520
    assert t["energy"] == pytest.approx(sum(b.energy for b in bests))
    assert t["cycles"] == pytest.approx(sum(b.report.cycles for b in bests))
    assert t["dram_accesses"] == sum(b.report.counts.accesses("DRAM") for b in bests)
    assert t["dram_accesses_per_mac"] == pytest.approx(t["dram_accesses"] / t["macs"])
    for r in [*net.rows(), t]:
        assert r["energy"] == pytest.approx(sum(r["energy_by_level"].values()))
        assert 0 < r["utilization"] <= r["spatial_utilization"] <= 1
    assert t["latency_s"] == pytest.approx(t["cycles"] / 200e6)
    assert t["inferences_per_s"] == pytest.approx(1 / t["latency_s"])
    assert t["tops_per_W"] == pytest.approx(2 * t["macs"] / t["energy_pj"])  # ops per pJ = TOPS/W
    assert t["inferences_per_J"] == pytest.approx(1e12 / t["energy_pj"])
    dram_pj = sum(lc.absolute.level_energy("DRAM") for lc in net.layers)
    assert t["chip_power_W"] == pytest.approx((t["energy_pj"] - dram_pj) * 1e-12 / t["latency_s"])


def test_a_batch_shares_the_fc_weights():
    one, four = (map_network("alexnet", batch=n) for n in (1, 4))
    fc = {n: [r for r in net.rows() if r["name"] == "fc6"][0] for n, net in ((1, one), (4, four))}
    assert fc[4]["macs"] == 4 * fc[1]["macs"]
    assert fc[4]["dram_accesses_per_mac"] < 0.3 * fc[1]["dram_accesses_per_mac"]  # weights read once for 4
    assert four.total()["inferences_per_s"] > one.total()["inferences_per_s"]


def test_precision_and_zeros_change_the_energy_per_inference():
    pj = {p: map_network("lenet5", prec=p, table="45nm").total()["energy_per_inference_pj"]
          for p in ("int8", "int16", "fp32")}
    assert pj["int8"] < pj["int16"] < pj["fp32"]
    dense = map_network("lenet5", prec="int8", table="45nm")
    sparse = map_network("lenet5", prec="int8", table="45nm", density={"weights": 0.1, "inputs": 0.5},
                         skipping=True)
    mac = {n: net.total()["energy_by_level"]["MAC"] for n, net in (("dense", dense), ("sparse", sparse))}
    assert mac["sparse"] == pytest.approx(0.05 * mac["dense"])
    steps = {n: sum(lc.counts.steps for lc in net.layers) for n, net in (("dense", dense), ("sparse", sparse))}
    assert steps["sparse"] == pytest.approx(0.05 * steps["dense"])  # compute cycles; DRAM-bound layers wait
    assert sparse.total()["cycles"] <= dense.total()["cycles"]
    for lc in sparse.layers:  # the same mappings, priced with fewer MACs
        assert lc.report.energy == pytest.approx(energy(lc.counts, sparse.arch))


def test_per_layer_densities_and_bad_input():
    dens = {name: {"inputs": 0.5} for name in ("c1", "c3", "f5", "f6", "output")}
    assert map_network("lenet5", density=dens, gating=True).total()["macs"] == 416_520
    with pytest.raises(ValueError, match="no entry for 'c3'"):
        map_network("lenet5", density={"c1": {"inputs": 0.5}})
    with pytest.raises(ValueError, match="batch must be >= 1"):
        map_network("lenet5", batch=0)
    with pytest.raises(ValueError, match="model name must be one of"):
        map_network("lenet6")


@pytest.mark.parametrize("name", models.names())
def test_every_model_maps(name):
    t = map_network(name).total()
    assert t["macs"] == sum(shape.macs for _, shape in conv_layers(models.get(name), models.input_shape(name)))
    assert t["energy"] > t["macs"] and 0 < t["dram_accesses_per_mac"] and 0 < t["utilization"] <= 1
