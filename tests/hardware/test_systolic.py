"""The systolic-array model: hand-computed cases, SCALE-Sim's own numbers, properties, the CLI."""

import contextlib
import html
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib.counting import ConvShape
from cnnlib.hardware import systolic
from cnnlib.hardware.systolic import gemm, layer, topology_layer

# A 3 x 3 x 2 window (K = 18) over a 5 x 5 x 2 input: 3 x 3 = 9 ofmap pixels; M = 3 filters.
SMALL = dict(ifmap=(5, 5, 2), filters=(3, 3, 3), stride=1, array=(4, 4))


def test_output_stationary_by_hand():
    r = topology_layer(**SMALL, dataflow="os")
    # pixels on the 4 rows (3 folds: 4 + 4 + 1), filters on the 4 columns (1 fold), K in time
    assert (r.Sr, r.Sc, r.T, r.row_folds, r.col_folds) == (9, 3, 18, 3, 1)
    assert r.cycles_per_fold == 18 + 4 + 4 - 2
    assert (r.cycles, r.last_cycle_index) == (3 * 24, 3 * 24 - 1)
    assert r.macs == 9 * 18 * 3
    assert r.utilization == pytest.approx(486 / (16 * 72))
    assert r.mapping_efficiency == pytest.approx((4 * 3 + 4 * 3 + 1 * 3) / 3 / 16)
    # ifmap once per fold of M (1), filters once per fold of P (3), each output written once
    assert r.sram_reads == {"ifmap": 9 * 18, "filter": 3 * 18 * 3}
    assert r.sram_writes == {"ofmap": 9 * 3}


def test_weight_and_input_stationary_by_hand():
    ws = topology_layer(**SMALL, dataflow="ws")
    # window on the rows (18 -> 5 folds), filters on the columns (1 fold), 9 pixels in time
    assert (ws.Sr, ws.Sc, ws.T, ws.row_folds, ws.col_folds) == (18, 3, 9, 5, 1)
    assert ws.cycles_per_fold == 2 * 4 + 4 + 9 - 2
    assert ws.cycles == 5 * 19
    # each weight read once; partial sums written once per fold of K
    assert ws.sram_reads == {"ifmap": 9 * 18, "filter": 18 * 3}
    assert ws.sram_writes == {"ofmap": 5 * 9 * 3}
    is_ = topology_layer(**SMALL, dataflow="is")
    # window on the rows (5 folds), pixels on the columns (9 -> 3 folds), 3 filters in time
    assert (is_.Sr, is_.Sc, is_.T, is_.folds) == (18, 9, 3, 15)
    assert is_.cycles == 15 * (2 * 4 + 4 + 3 - 2)
    assert is_.mapping_efficiency == pytest.approx(18 * 9 / (15 * 16))
    assert is_.sram_reads == {"ifmap": 18 * 9, "filter": 3 * 18 * 3}
    assert is_.sram_writes == {"ofmap": 5 * 9 * 3}


# Recorded with scalesim 3.0.0 (PyPI; numpy 2.2), default config, compute report "Total Cycles"
# (no stalls), "Mapping Efficiency %" and the SRAM read/write counts of the compute unit:
# (ifmap H, W, C), (R, S, M), U, (rows, cols), dataflow -> cycles, mapping %, ifmap, filter, ofmap.
# SCALE-Sim's os ofmap count includes (rows + cols) per fold (see gemm's Notes).
SCALESIM_3_0_0 = [
    ((5, 5, 2), (3, 3, 3), 1, (4, 4), "os", 71, 56.25, 162, 162, 51),
    ((5, 5, 2), (3, 3, 3), 1, (4, 4), "ws", 94, 67.5, 162, 54, 135),
    ((5, 5, 2), (3, 3, 3), 1, (4, 4), "is", 194, 67.5, 162, 162, 135),
    ((30, 30, 16), (3, 3, 32), 1, (16, 16), "os", 17051, 100.0, 225792, 225792, 28224),
    ((30, 30, 16), (3, 3, 32), 1, (16, 16), "ws", 14939, 100.0, 225792, 4608, 225792),
    ((30, 30, 16), (3, 3, 32), 1, (8, 32), "is", 35099, 98.0, 112896, 115200, 451584),
    ((1, 1, 512), (1, 1, 100), 1, (32, 32), "ws", 6079, 78.125, 2048, 51200, 1600),
    ((6, 6, 16), (6, 6, 120), 1, (8, 8), "os", 8849, 12.5, 8640, 69120, 360),
]


def _scalesim_ofmap_writes(r):
    return r.sram_writes["ofmap"] + (r.folds * (r.rows + r.cols) if r.dataflow == "os" else 0)


@pytest.mark.parametrize("ifmap, filters, U, array, df, cycles, mapping, ifr, fr, ow", SCALESIM_3_0_0)
def test_matches_recorded_scalesim_runs(ifmap, filters, U, array, df, cycles, mapping, ifr, fr, ow):
    r = topology_layer(ifmap, filters, U, array, df)
    assert r.last_cycle_index == cycles
    assert 100 * r.mapping_efficiency == pytest.approx(mapping)
    assert (r.sram_reads["ifmap"], r.sram_reads["filter"], _scalesim_ofmap_writes(r)) == (ifr, fr, ow)


def _run_scalesim(ifmap, filters, U, array, dataflow):
    """One layer through scalesim's own single-layer simulator (default memory config)."""
    from scalesim.layout_utils import layouts
    from scalesim.scale_config import scale_config
    from scalesim.single_layer_sim import single_layer_sim
    from scalesim.topology_utils import topologies

    config = scale_config()
    config.array_rows, config.array_cols = array
    config.df = dataflow
    config.force_valid()
    topo = topologies()
    H, W, C = ifmap
    R, S, M = filters
    topo.load_layer_params_from_list("layer", ["layer", H, W, R, S, C, M, U, U, 1, 1])
    topo.topo_calc_hyperparams()
    sim = single_layer_sim()
    with contextlib.redirect_stdout(io.StringIO()):
        sim.set_params(layer_id=0, config_obj=config, topology_obj=topo, layout_obj=layouts(), verbose=False)
        sim.run()
        sim.calc_report_data()
    return sim


def test_cross_check_with_scalesim():
    """Run the real SCALE-Sim (optional: ``pip install scalesim``) on random small layers.

    scalesim 3.0.0 (the PyPI version) calls ``int()`` on 1-element arrays, which numpy >= 2.3
    refuses; run this test in an environment with numpy < 2.3 and scalesim installed.
    """
    pytest.importorskip("scalesim")
    try:
        int(np.ones(1))
    except TypeError:
        pytest.skip("scalesim 3.0.0 needs numpy < 2.3")
    rng = np.random.default_rng(0)
    checked = 0
    while checked < 30:
        R, S = rng.integers(1, 5, size=2)
        U = int(rng.integers(1, 4))
        H, W = R + U * rng.integers(0, 4), S + U * rng.integers(0, 4)  # strides that fit
        C, M = rng.integers(1, 7, size=2)
        rows, cols = rng.integers(2, 7, size=2)  # SCALE-Sim divides by zero on a 1 x 1 array's 1 cycle
        ifmap, filters, array = (int(H), int(W), int(C)), (int(R), int(S), int(M)), (int(rows), int(cols))
        for df in systolic.DATAFLOWS:
            ours = topology_layer(ifmap, filters, U, array, df)
            sim = _run_scalesim(ifmap, filters, U, array, df)
            assert sim.stall_cycles == 0
            assert ours.last_cycle_index == sim.total_cycles, (ifmap, filters, U, array, df)
            assert 100 * ours.mapping_efficiency == pytest.approx(sim.mapping_eff)
            # SCALE-Sim's overall utilization divides by its Total Cycles, one short of the busy cycles
            scale = ours.cycles / ours.last_cycle_index
            assert 100 * ours.utilization * scale == pytest.approx(sim.overall_util)
            assert ours.sram_reads == {"ifmap": sim.ifmap_sram_reads, "filter": sim.filter_sram_reads}
            assert _scalesim_ofmap_writes(ours) == sim.ofmap_sram_writes
        checked += 1


def test_layer_is_the_gemm_of_the_padded_layer():
    shape = ConvShape(N=1, C=3, H=13, W=13, M=8, R=3, S=3, U=1, P=1)
    for df in systolic.DATAFLOWS:
        assert layer(shape, (8, 8), df) == topology_layer((15, 15, 3), (3, 3, 8), 1, (8, 8), df)


def test_batch_is_a_taller_gemm_and_groups_run_one_after_another():
    one = ConvShape(N=1, C=8, H=6, W=6, M=4, R=3, S=3)
    four = ConvShape(N=4, C=8, H=6, W=6, M=4, R=3, S=3)
    assert layer(four, 4, "os").Sr == 4 * layer(one, 4, "os").Sr
    grouped = layer(ConvShape(N=1, C=8, H=6, W=6, M=4, R=3, S=3, groups=2), (4, 4), "ws")
    half = gemm(16, 3 * 3 * 4, 2, (4, 4), "ws")
    assert grouped.cycles == 2 * half.cycles
    assert grouped.macs == 2 * half.macs
    assert grouped.sram_reads == {k: 2 * v for k, v in half.sram_reads.items()}
    assert grouped.mapping_efficiency == half.mapping_efficiency


def test_fc_layer_uses_one_row_of_an_output_stationary_array():
    r = layer(ConvShape.fc(N=1, C=4096, M=1000), (128, 128), "os")
    assert (r.Sr, r.row_folds) == (1, 1)
    assert r.mapping_efficiency == pytest.approx(1000 / (8 * 128 * 128))


@st.composite
def gemms(draw):
    return dict(
        pixels=draw(st.integers(1, 300)),
        window=draw(st.integers(1, 300)),
        filters=draw(st.integers(1, 300)),
        dataflow=draw(st.sampled_from(tuple(systolic.DATAFLOWS))),
    )


arrays = st.tuples(st.integers(1, 64), st.integers(1, 64))


@settings(max_examples=200, deadline=None)
@given(gemms(), arrays)
def test_properties(g, array):
    r = gemm(**g, array=array)
    rows, cols = array
    assert 0 < r.utilization <= 1
    assert 0 < r.mapping_efficiency <= 1
    assert r.utilization <= r.mapping_efficiency  # a mapped PE still idles during fill and drain
    assert r.cycles >= r.macs / (rows * cols)
    assert r.last_cycle_index == r.cycles - 1
    assert r.utilization == pytest.approx(r.macs / (rows * cols * r.cycles))
    assert r.macs == g["pixels"] * g["window"] * g["filters"]
    # every operand is read, and every output written, at least once
    assert r.sram_reads["ifmap"] >= g["pixels"] * g["window"]
    assert r.sram_reads["filter"] >= g["window"] * g["filters"]
    assert r.sram_writes["ofmap"] >= g["pixels"] * g["filters"]


@settings(max_examples=200, deadline=None)
@given(gemms(), arrays, st.integers(0, 64), st.integers(0, 64))
def test_bigger_arrays_never_need_more_folds(g, array, more_rows, more_cols):
    small = gemm(**g, array=array)
    big = gemm(**g, array=(array[0] + more_rows, array[1] + more_cols))
    assert big.row_folds <= small.row_folds and big.col_folds <= small.col_folds
    assert big.folds <= small.folds


@settings(max_examples=100, deadline=None)
@given(gemms(), st.integers(1, 64))
def test_an_array_big_enough_for_the_gemm_runs_one_fold(g, extra):
    base = gemm(**g, array=1)
    r = gemm(**g, array=(base.Sr + extra, base.Sc))
    assert r.folds == 1
    assert r.mapping_efficiency == pytest.approx(base.Sr / (base.Sr + extra))


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="dataflow must be one of os, ws, is; got 'rs'"):
        gemm(4, 4, 4, 4, "rs")
    with pytest.raises(ValueError, match="array must be >= 1"):
        gemm(4, 4, 4, (0, 4), "os")
    with pytest.raises(TypeError, match="pixels must be an int"):
        gemm(4.0, 4, 4, 4, "os")
    with pytest.raises(ValueError, match=r"ifmap must be three ints \(H, W, C\)"):
        topology_layer((5, 5), (3, 3, 1), 1, 4, "os")
    with pytest.raises(ValueError, match="filters M must be >= 1"):
        topology_layer((5, 5, 1), (3, 3, 0), 1, 4, "os")
    with pytest.raises(ValueError, match="SCALE-Sim would count one more"):
        topology_layer((224, 224, 3), (11, 11, 96), 4, 16, "os")
    with pytest.raises(TypeError, match="ConvShape"):
        layer((1, 3, 5, 5), 4, "os")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "cnnlib", "systolic", *args], capture_output=True, text=True)


def test_cli_json():
    res = cli(
        "--ifmap",
        "5,5,2",
        "--filter",
        "3,3,3",
        "--stride",
        "1",
        "--array",
        "4,4",
        "--dataflow",
        "ws",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    # self-consistent: utilization divides by the cycle count, SCALE-Sim's figure is one less
    assert (out["cycles"], out["last_cycle_index"]) == (95, 94)
    assert out["utilization"] == pytest.approx(out["macs"] / (16 * out["cycles"])) == pytest.approx(486 / (16 * 95))
    assert out["mapping_efficiency"] == pytest.approx(0.675)
    assert out["sram_reads"] == {"ifmap": 162, "filter": 54}
    assert out["sram_writes"] == {"ofmap": 135}


def test_cli_table():
    res = cli("--ifmap", "5,5,2", "--filter", "3,3,3", "--array", "4,4", "--dataflow", "os")
    assert res.returncode == 0, res.stderr
    assert "output stationary on a 4 x 4 array" in res.stdout
    assert "cycles                 72 (SCALE-Sim's last cycle index 71)" in res.stdout
    assert "utilization            42.19%" in res.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ifmap", "5,5", "--filter", "3,3,3", "--array", "4,4", "--dataflow", "os"], "--ifmap must be 3"),
        (
            ["--ifmap", "5,5,2", "--filter", "3,3,3", "--array", "4,x", "--dataflow", "os"],
            "--array must be 2",
        ),
        (["--ifmap", "5,5,2", "--filter", "3,3,3", "--array", "4,4", "--dataflow", "rs"], "dataflow must be"),
        (["--ifmap", "5,5,2", "--filter", "7,3,3", "--array", "4,4", "--dataflow", "os"], "larger than"),
        (
            ["--ifmap", "8,8,2", "--filter", "3,3,3", "--stride", "2", "--array", "4,4", "--dataflow", "is"],
            "does not fit",
        ),
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(args, message):
    res = cli(*args)
    assert res.returncode == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_systolic_explorer_follows_its_controls():
    from cnnlib.widgets import systolic_explorer

    layers = {"conv": ConvShape(N=1, C=64, H=56, W=56, M=64, R=3, S=3, P=1), "fc": ConvShape.fc(N=1, C=4096, M=1000)}
    box = systolic_explorer(layers, size=64, dataflow="os")
    row, out, chart = box.children
    pick_layer, pick_array, pick_flow = row.children
    assert html.escape(str(layer(layers["conv"], 64, "os"))) in out.value
    first = chart.value
    pick_layer.value, pick_array.value, pick_flow.value = "fc", 256, "is"
    assert html.escape(str(layer(layers["fc"], 256, "is"))) in out.value
    assert chart.value != first  # the utilization bars are redrawn
    with pytest.raises(ValueError, match="layers must hold at least one"):
        systolic_explorer({})
