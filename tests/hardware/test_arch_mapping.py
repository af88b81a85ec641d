import itertools
import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.counting import ConvShape
from cnnlib.hardware import mapper
from cnnlib.hardware.analytical import analyze
from cnnlib.hardware.arch import OPERANDS, Architecture, Level, eyeriss_like, simple_arch
from cnnlib.hardware.dataflows import Dataflow, dataflow
from cnnlib.hardware.mapper import compulsory_words_padded, lower_bound, search
from cnnlib.hardware.mapping import Mapping, input_overlap, input_span
from cnnlib.hardware.report import evaluate
from cnnlib.hardware.simulator import simulate
from cnnlib.layers import conv2d

CONV1D = ConvShape(N=1, C=1, H=6, W=1, M=1, R=3, S=1)  # E = 4
ALEX1 = ConvShape(N=1, C=3, H=227, W=227, M=96, R=11, S=11, U=4)


def test_eyeriss_like_matches_the_paper():
    a = eyeriss_like()
    assert (a.rows, a.cols, a.pes) == (12, 14, 168)
    assert a.levels[1].capacity * a.word_bits // 8 == 108 * 1024
    assert [a.levels[2].capacity_of(op) for op in OPERANDS] == [224, 12, 24]
    assert "-- 12 x 14 PE array below --" in a.table()


@pytest.mark.parametrize(
    "levels, match",
    [
        ((Level("GLB", OPERANDS, 10, 6.0),), "outermost level"),
        ((Level("DRAM", OPERANDS, None, 200.0), Level("RF", OPERANDS, None, 1.0)), "only the outermost"),
        (
            (Level("DRAM", OPERANDS, None, 200.0), Level("GLB", OPERANDS, 10, 6.0), Level("RF", OPERANDS, 20, 1.0)),
            "levels out of order: RF",
        ),
        ((Level("DRAM", OPERANDS, None, 200.0), Level("DRAM", OPERANDS, 10, 6.0)), "distinct"),
    ],
)
def test_inconsistent_architectures_are_refused(levels, match):
    with pytest.raises(ValueError, match=match):
        Architecture("bad", levels, rows=1, cols=1, fanout=0)


def test_bad_levels_are_refused():
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        Level("RF", OPERANDS, 0, 1.0)
    with pytest.raises(ValueError, match="holds must be distinct operands"):
        Level("RF", ("weights", "psums"), 8, 1.0)
    with pytest.raises(ValueError, match="one entry per operand"):
        Level("RF", ("weights", "inputs"), {"weights": 8}, 1.0)
    with pytest.raises(ValueError, match="energy must be a finite number > 0; got 0.0"):
        Level("RF", OPERANDS, 8, 0.0)
    with pytest.raises(ValueError, match="fanout must index a level"):
        Architecture("bad", (Level("DRAM", OPERANDS, None, 200.0),), rows=1, cols=1, fanout=1)


def test_mapping_errors_name_level_dim_and_numbers():
    arch = simple_arch(rows=2, cols=2, glb_words=64, rf_words=8)
    with pytest.raises(ValueError, match=r"dim E: the factors multiply to 2 \(GLB 2\) but the layer has E=4"):
        Mapping.build(arch, {"GLB": [("E", 2)], "RF": [("R", 3)]}).check(CONV1D, arch)
    with pytest.raises(ValueError, match="spatial rows: E 4 = 4 do not fit the array's 2 rows"):
        Mapping.build(arch, {"RF": [("R", 3)]}, rows=[("E", 4)]).check(CONV1D, arch)
    with pytest.raises(ValueError, match=r"level RF: the weights \+ inputs \+ outputs tile needs 13 words"):
        Mapping.build(arch, {"RF": [("E", 4), ("R", 3)]}).check(CONV1D, arch)
    with pytest.raises(ValueError, match="unknown dim 'K'"):
        Mapping.build(arch, {"RF": [("K", 3)]})
    with pytest.raises(ValueError, match="unknown levels"):
        Mapping.build(arch, {"L2": [("R", 3)]})


@pytest.mark.parametrize("sliding", [True, False])
def test_weight_vs_output_stationary_by_hand(sliding):
    # one RF of 3 weights, 3 inputs and 1 psum under a GLB: the order of the GLB loops decides
    arch = replace(simple_arch(rows=1, cols=1, glb_words=64, rf_words=8), sliding_window=sliding)
    layer = ConvShape(N=1, C=1, H=6, W=1, M=2, R=3, S=1)
    ws = Mapping.build(arch, {"GLB": [("M", 2), ("E", 4)], "RF": [("R", 3)]})  # weights stay over e
    os_ = Mapping.build(arch, {"GLB": [("E", 4), ("M", 2)], "RF": [("R", 3)]})  # inputs stay over m
    cw, co = analyze(ws, layer, arch), analyze(os_, layer, arch)
    assert cw.writes["RF", "weights"] == 2 * 3 and co.writes["RF", "weights"] == 8 * 3
    if sliding:
        # the 3-input window moves by one row per e step: 3 words, then 1 new word for each of
        # the 3 further e; ws starts over (e wraps back 3 rows, no overlap) for the second m
        assert cw.writes["RF", "inputs"] == 2 * (3 + 3 * 1) and co.writes["RF", "inputs"] == 3 + 3 * 1
    else:  # the whole window is refetched at each of the 8 (ws) or 4 (os) tile changes
        assert cw.writes["RF", "inputs"] == 8 * 3 and co.writes["RF", "inputs"] == 4 * 3
    assert simulate(ws, layer, arch)[1] == cw and simulate(os_, layer, arch)[1] == co


@given(e=st.integers(1, 8), r=st.integers(1, 8), U=st.integers(1, 5), shift=st.integers(-60, 60))
def test_input_overlap_counts_the_shared_rows(e, r, U, shift):
    rows = {U * x + i for x in range(e) for i in range(r)}  # gapped when r < U
    assert input_overlap(e, r, U, shift) == len(rows & {h + shift for h in rows})
    assert input_overlap(e, r, U, 0) == input_span(e, r, U) == len(rows)


def test_input_overlap_is_vectorised():
    e, r, shift = np.array([3, 3, 2]), np.array([3, 1, 2]), np.array([1, 3, -2])
    # at U = 3: a run of 9 rows moved by 1; rows {0, 3, 6} by 3; rows {0, 1, 3, 4} by -2 keep {1}
    np.testing.assert_array_equal(input_overlap(e, r, 3, shift), [8, 2, 1])


def test_sliding_window_keeps_the_overlap_across_the_array():
    # RS-like: 3 PEs (one per filter row r), each holding the 3-input window of its row of a
    # 1 x 5 input; the GLB loop over f moves every window one column (stride 1)
    arch = Architecture(
        "rs", (Level("DRAM", OPERANDS, None, 200.0), Level("GLB", OPERANDS, 256, 6.0),
               Level("RF", OPERANDS, {"weights": 3, "inputs": 3, "outputs": 1}, 1.0)),
        rows=3, cols=1, fanout=1,
    )
    layer = ConvShape(N=1, C=1, H=3, W=5, M=1, R=3, S=3)  # E = 1, F = 3
    m = Mapping.build(arch, {"GLB": [("F", 3)], "RF": [("S", 3)]}, rows=[("R", 3)])
    on, off = analyze(m, layer, arch), analyze(m, layer, replace(arch, sliding_window=False))
    # each PE: 3 inputs, then 1 new input at each of the 2 moves; the GLB multicasts nothing
    # (the 3 PEs read different rows): 3 x (3 + 2) words with, 3 x 3 x 3 without
    assert on.writes["RF", "inputs"] == on.reads["GLB", "inputs"] == on.noc["inputs"] == 3 * (3 + 2)
    assert off.writes["RF", "inputs"] == off.reads["GLB", "inputs"] == 3 * 3 * 3
    assert simulate(m, layer, arch)[1] == on
    with pytest.raises(TypeError, match="sliding_window must be True or False; got 1"):
        replace(arch, sliding_window=1)


def test_a_word_another_pe_held_is_passed_on_not_reread():
    # 2 PEs (e = 0, 1) each hold one input row, U e + r; the GLB loop over r moves both by one row,
    # so PE 0 next needs the row PE 1 held: the GLB reads only the union's new row (2 + 2 x 1 = the
    # 4 rows of the input, once each), while each PE writes a new word at every step (2 x 3)
    arch = simple_arch(rows=2, cols=1, glb_words=64, rf_words=3)
    layer = ConvShape(N=1, C=1, H=4, W=1, M=1, R=3, S=1)  # E = 2
    m = Mapping.build(arch, {"GLB": [("R", 3)]}, rows=[("E", 2)])
    c = analyze(m, layer, arch)
    assert c.reads["GLB", "inputs"] == 2 + 2 * 1 == layer.input_activations
    assert c.writes["RF", "inputs"] == c.noc["inputs"] == 2 * 3
    assert analyze(m, layer, replace(arch, sliding_window=False)).reads["GLB", "inputs"] == 2 * 3
    assert simulate(m, layer, arch)[1] == c  # the simulator copies PE 1's old row into PE 0


def test_report_energy_is_counts_times_costs():
    arch = simple_arch(rows=1, cols=1, glb_words=64, rf_words=8)
    m = Mapping.build(arch, {"GLB": [("E", 4)], "RF": [("R", 3)]})
    r = evaluate(m, CONV1D, arch)
    c = r.counts
    expected = c.macs * 1 + 2 * sum(c.noc.values())
    expected += sum(v * {"DRAM": 200, "GLB": 6, "RF": 1}[k[0]] for k, v in c.reads.items())
    expected += sum(v * {"DRAM": 200, "GLB": 6, "RF": 1}[k[0]] for k, v in c.writes.items())
    assert r.energy == expected
    assert sum(sum(row.values()) for row in r.breakdown().values()) == pytest.approx(expected)
    assert r.utilization == 1.0 and r.cycles >= c.steps
    d = json.loads(json.dumps(r.to_dict()))
    assert d["macs"] == 12 and d["accesses"]["GLB"]["weights"]["reads"] == c.reads["GLB", "weights"]
    assert "for e1 in [0:4)" in d["loop_nest"]


def test_groups_are_mapped_one_at_a_time():
    arch = simple_arch(rows=1, cols=1, glb_words=256, rf_words=32)
    one = ConvShape(N=1, C=2, H=4, W=4, M=2, R=3, S=3)
    two = ConvShape(N=1, C=4, H=4, W=4, M=4, R=3, S=3, groups=2)
    m = Mapping.build(arch, {"GLB": [("M", 2), ("C", 2), ("E", 2), ("F", 2)], "RF": [("R", 3), ("S", 3)]})
    assert analyze(m, two, arch) == analyze(m, one, arch).scaled(2)


def test_mapper_beats_nothing_below_the_lower_bound_and_rs_wins_on_alexnet_conv1():
    found = {name: search(ALEX1, name) for name in ("ws", "os", "nlr", "rs")}
    for best in found.values():
        best.mapping.check(ALEX1, best.report.arch)
        assert best.energy >= best.lower_bound and best.dram_over_compulsory >= 1
    assert min(found, key=lambda n: found[n].energy) == "rs"
    assert found["rs"].report.counts.active_pes == 11 * 11  # R = 11 rows, E = 55 -> 11 columns
    assert lower_bound(ALEX1, found["rs"].report.arch) == compulsory_words_padded(ALEX1) * 200 + ALEX1.macs


def test_two_stage_pruning_finds_the_exhaustive_optimum_on_small_layers():
    # keep every RF tile: stage 2 then searches every DRAM/GLB/RF split and order pair
    for layer in (ConvShape(N=1, C=4, H=8, W=8, M=8, R=3, S=3), ConvShape(N=2, C=6, H=7, W=7, M=4, R=3, S=3, P=1)):
        full = search(layer, "rs", keep=10**6)
        assert full.evaluated > search(layer, "rs").evaluated
        assert search(layer, "rs").energy == full.energy
        assert np.isfinite(full.energy)


def test_orders_inside_the_stationarity_groups_find_nothing_better(monkeypatch):
    # with sliding windows the order of E, F (and R, S) can change input counts: search all 24
    wider = tuple(
        tuple(d for g in groups for d in g)
        for perm in itertools.permutations([[("N", "E", "F"), ("N", "F", "E")], [("C", "R", "S"), ("C", "S", "R")],
                                            [("M",)]])
        for groups in itertools.product(*perm)
    )
    assert len(set(wider)) == 24 and set(mapper.ORDERS) <= set(wider)
    layer = ConvShape(N=1, C=4, H=8, W=8, M=8, R=3, S=3)
    found = {flow: search(layer, flow).energy for flow in ("rs", "ws")}
    monkeypatch.setattr(mapper, "ORDERS", wider)
    mapper.clear_cache()  # search remembers its answers: search again with the wider orders
    assert {flow: search(layer, flow).energy for flow in ("rs", "ws")} == found


def test_unknown_dataflow_and_objective():
    with pytest.raises(ValueError, match="dataflow must be one of"):
        search(ALEX1, "xs")
    with pytest.raises(ValueError, match="objective must be"):
        search(ALEX1, "rs", objective="speed")


def _levels(*specs):
    return tuple(Level(name, OPERANDS, cap, energy, bandwidth=4) for name, cap, energy in specs)


def test_the_mapper_maps_two_and_four_storage_levels():
    """Not only DRAM/GLB/RF: a 2-level chip (no RF) and a 4-level one (a per-PE L1 above the RF).

    On the 2-level chip the mapper searches every DRAM/GLB split and order: it must equal a brute
    force over the same space. On the 4-level chip its mapping must run in the simulator with the
    counts the analytical model predicts and the output conv2d computes."""
    layer = ConvShape(N=1, C=2, H=6, W=6, M=4, R=3, S=3)  # E = F = 4
    two = Architecture("2-level", _levels(("DRAM", None, 200.0), ("GLB", 64, 6.0)), rows=2, cols=2, fanout=1)
    flow = Dataflow("c-m", "C rows, M cols", two, rows=(("C",),), cols=(("M",),))
    best = search(layer, flow)
    assert best.report.counts.active_pes == 4 and best.mapping.levels == ("DRAM", "GLB")
    dims = {"M": 2, "C": 1, "E": 4, "F": 4, "R": 3, "S": 3}  # left after the spatial C 2, M 2
    splits = itertools.product(*[[(d, k) for k in range(1, n + 1) if n % k == 0] for d, n in dims.items()])
    brute = np.inf
    for split in splits:
        for order in mapper.ORDERS:
            dram = [(d, k) for d in order for dd, k in split if dd == d and k > 1]
            glb = [(d, dims[d] // k) for d, k in split if dims[d] // k > 1]
            m = Mapping.build(two, {"DRAM": dram, "GLB": glb}, rows=[("C", 2)], cols=[("M", 2)])
            try:
                brute = min(brute, evaluate(m, layer, two).energy)
            except ValueError:  # the GLB tile does not fit
                continue
    assert best.energy == pytest.approx(brute)

    four = Architecture(
        "4-level",
        _levels(("DRAM", None, 200.0), ("GLB", 512, 6.0), ("L1", 64, 2.0), ("RF", 12, 1.0)),
        rows=2, cols=2, fanout=1,
    )
    best4 = search(layer, Dataflow("c-m", "C rows, M cols", four, rows=(("C",),), cols=(("M",),)))
    assert best4.mapping.levels == ("DRAM", "GLB", "L1", "RF")
    assert best4.energy >= best4.lower_bound
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((4, 2, 3, 3))
    out, counts = simulate(best4.mapping, layer, four, x, w)
    assert counts == best4.report.counts
    np.testing.assert_allclose(out, conv2d(x, w), rtol=1e-12, atol=1e-12)


def test_dataflows_are_data():
    rs = dataflow("rs")
    assert (rs.rows, rs.cols, rs.rf_fixed) == ((("R",), ("C", "M")), (("E",),), ("S",))
    # AlexNet conv2 (per group C = 48, M = 128): R = 5 rows, then 12 // 5 = 2 spare rows, which C and
    # M both fill: the first candidate listed, C, wins the tie
    rows, cols = rs.spatial(mapper.Problem.of(ConvShape(N=1, C=96, H=31, W=31, M=256, R=5, S=5, groups=2)))
    assert (rows, cols) == ([("R", 5), ("C", 2)], [("E", 9)])
    with pytest.raises(ValueError, match="rows must be tuples of dims"):
        Dataflow("bad", "bad", rs.arch, rows=(("X",),))


def test_search_remembers_its_answers():
    layer = ConvShape(N=1, C=4, H=8, W=8, M=8, R=3, S=3)
    first = search(layer, "ws")
    assert search(layer, "ws") is first
    assert search(layer, dataflow("ws")) is first  # an equal Dataflow is the same key
    assert search(layer, dataflow("ws", rows=4)) is not first
    mapper.clear_cache()
    again = search(layer, "ws")
    assert again is not first and again.energy == first.energy
