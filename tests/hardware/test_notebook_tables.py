"""The exhaustive tables behind notebook 12's claims, pinned here so the notebook keeps one
readable assert per claim (its printed tables are pinned by nbval as well).

Each number is the mapper's best mapping on the Eyeriss-like budget of ``cnnlib.hardware.dataflows``
(168 PEs, N = 1), in units of one MAC's energy.
"""

from dataclasses import replace

import pytest

from cnnlib import models
from cnnlib.counting import conv_layers
from cnnlib.hardware.arch import OPERANDS
from cnnlib.hardware.dataflows import DATAFLOWS, dataflow
from cnnlib.hardware.mapper import search
from cnnlib.hardware.report import evaluate

CONV = ("conv1", "conv2", "conv3", "conv4", "conv5")


@pytest.fixture(scope="module")
def alexnet():
    return dict(conv_layers(models.get("alexnet"), models.input_shape("alexnet")))


@pytest.fixture(scope="module")
def vgg16():
    return dict(conv_layers(models.get("vgg16"), models.input_shape("vgg16")))


@pytest.fixture(scope="module")
def table(alexnet):
    return {n: {f: search(alexnet[n], f) for f in DATAFLOWS} for n in CONV}


def test_alexnet_energy_per_mac_of_each_dataflow(table):
    assert list(DATAFLOWS) == ["ws", "os", "nlr", "rs"]
    per_mac = {n: " ".join(f"{table[n][f].report.energy_per_mac:.2f}" for f in DATAFLOWS) for n in CONV}
    assert per_mac == {"conv1": "11.55 14.05 18.44 6.78", "conv2": "8.56 13.62 15.29 6.35",
                       "conv3": "9.52 15.04 16.39 7.29", "conv4": "9.05 14.96 16.00 7.40",
                       "conv5": "9.38 15.04 16.33 7.32"}
    margins = [table[n][f].energy / table[n]["rs"].energy for n in CONV for f in DATAFLOWS if f != "rs"]
    assert f"{min(margins):.2f} {max(margins):.2f}" == "1.22 2.72"


def test_rs_over_ws_with_and_without_the_sliding_window(table, alexnet):
    def over_ws(found):
        return [found["ws"][n].energy / found["rs"][n].energy for n in CONV]

    on = over_ws({f: {n: table[n][f] for n in CONV} for f in ("ws", "rs")})
    off_flows = {f: replace(dataflow(f), arch=replace(dataflow(f).arch, sliding_window=False)) for f in ("ws", "rs")}
    off = over_ws({f: {n: search(alexnet[n], off_flows[f]) for n in CONV} for f in off_flows})
    assert [f"{v:.2f}" for v in on] == ["1.70", "1.35", "1.31", "1.22", "1.28"]
    assert [f"{v:.2f}" for v in off] == ["1.65", "1.30", "1.27", "1.21", "1.25"]
    rs3 = table["conv3"]["rs"].report
    assert f"{sum(rs3.level_energy('RF', op) for op in OPERANDS) / rs3.macs:.2f}" == "4.19"


def test_row_stationary_conv1_sliding_window_and_whole_tile(table, alexnet):
    best = table["conv1"]["rs"]
    whole = evaluate(best.mapping, alexnet["conv1"], replace(best.report.arch, sliding_window=False))
    assert [r.counts.reads["GLB", "inputs"] for r in (best.report, whole)] == [1_041_930, 2_776_950]
    assert [f"{r.energy_per_mac:.2f}" for r in (best.report, whole)] == ["6.78", "7.03"]


def test_mapper_distance_to_the_lower_bound(alexnet, vgg16):
    found = [search(alexnet["conv2"], "rs"), search(vgg16["conv3_1"], "rs"), search(vgg16["conv5_1"], "any")]
    assert [f"{b.report.energy_per_mac:.2f} {b.above_bound:.2f} {b.dram_over_compulsory:.2f}" for b in found] == [
        "6.35 4.17 1.47", "6.68 5.02 3.21", "7.05 3.33 1.15"]
    assert found[2].dataflow == "rs"
