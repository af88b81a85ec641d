"""The functional simulator and the analytical model must agree exactly, and the simulator must
compute the convolution (compared with conv2d)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnlib.counting import ConvShape
from cnnlib.hardware.analytical import analyze
from cnnlib.hardware.arch import OPERANDS, Architecture, Level, simple_arch
from cnnlib.hardware.mapping import DIMS, Mapping, Problem, tile_words
from cnnlib.hardware.simulator import simulate
from cnnlib.layers import conv2d


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def layers(draw):
    U = draw(st.integers(1, 3))
    R, S = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    E, F = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    P = draw(st.integers(0, 1))
    H = max((E - 1) * U + R - 2 * P + draw(st.integers(0, U - 1)), R - 2 * P, 1)
    W = max((F - 1) * U + S - 2 * P + draw(st.integers(0, U - 1)), S - 2 * P, 1)
    groups = draw(st.sampled_from([1, 2]))
    C = groups * draw(st.integers(1, 2))
    M = groups * draw(st.integers(1, 2))
    return ConvShape(N=draw(st.integers(1, 2)), C=C, H=H, W=W, M=M, R=R, S=S, U=U, P=P, groups=groups)


@st.composite
def mapped(draw, layer):
    """A random valid mapping of ``layer`` and an architecture it fits exactly (with or without
    sliding-window reuse of inputs)."""
    prob = Problem.of(layer)
    shape = draw(st.sampled_from(["dram-glb-rf", "dram-rf", "dram-glb"]))
    names = {"dram-glb-rf": ["DRAM", "GLB", "RF"], "dram-rf": ["DRAM", "RF"], "dram-glb": ["DRAM", "GLB"]}[shape]
    fanout = 0 if shape == "dram-rf" else 1
    split = {}
    for d in DIMS:  # bound = level factors x rows x cols, drawn as a chain of divisors
        left, parts = prob.bound(d), []
        for _ in range(len(names) + 2):
            f = draw(st.sampled_from(divisors(left)))
            parts.append(f)
            left //= f
        parts[0] *= left
        split[d] = parts
    temporal = {}
    for i, n in enumerate(names):
        order = draw(st.permutations(DIMS))
        temporal[n] = [(d, split[d][i]) for d in order]
    rows = [(d, split[d][-2]) for d in draw(st.permutations(DIMS)) if split[d][-2] > 1]
    cols = [(d, split[d][-1]) for d in draw(st.permutations(DIMS)) if split[d][-1] > 1]
    nrows = int(np.prod([f for _, f in rows])) + draw(st.integers(0, 1))
    ncols = int(np.prod([f for _, f in cols]))
    probe = Mapping(tuple(names), tuple(tuple(temporal[n]) for n in names), tuple(rows), tuple(cols), fanout)
    levels = [Level("DRAM", OPERANDS, None, 200.0)]
    for i, n in enumerate(names[1:], start=1):
        holds = draw(st.sets(st.sampled_from(OPERANDS), min_size=1).map(lambda s: tuple(sorted(s))))
        words = {op: int(tile_words(op, probe.extents(i), layer.U)) for op in holds}
        if draw(st.booleans()):
            cap = words
        else:
            cap = sum(words.values())
        levels.append(Level(n, holds, cap, 6.0 if n == "GLB" else 1.0))
    # make capacities non-increasing inwards per operand, as the architecture requires
    for op in OPERANDS:
        held = [lv for lv in levels[1:] if op in lv.holds]
        for outer, inner in zip(held, held[1:], strict=False):
            if inner.capacity_of(op) > outer.capacity_of(op):
                return draw(mapped(layer))  # rare: redraw
    sliding = draw(st.booleans())
    arch = Architecture("random", tuple(levels), rows=nrows, cols=ncols, fanout=fanout, sliding_window=sliding)
    return Mapping.build(arch, temporal, rows=rows, cols=cols), arch


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_simulator_equals_analytical_and_conv2d(data):
    layer = data.draw(layers())
    mapping, arch = data.draw(mapped(layer))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((layer.N, layer.C, layer.H, layer.W))
    w = rng.standard_normal((layer.M, layer.C // layer.groups, layer.R, layer.S))
    out, counts = simulate(mapping, layer, arch, x, w)
    np.testing.assert_allclose(out, conv2d(x, w, stride=layer.U, padding=layer.P, groups=layer.groups), atol=1e-12)
    assert counts == analyze(mapping, layer, arch)
    assert counts.macs == layer.macs


def test_float32_inputs_keep_float32():
    arch = simple_arch(rows=1, cols=1, glb_words=64, rf_words=32)
    layer = ConvShape(N=1, C=2, H=4, W=4, M=1, R=3, S=3)
    m = Mapping.build(arch, {"GLB": [("C", 2), ("E", 2), ("F", 2)], "RF": [("R", 3), ("S", 3)]})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    out, _ = simulate(m, layer, arch, x, w)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, conv2d(x, w), rtol=1e-5)


def test_wrong_shapes_are_refused():
    arch = simple_arch(rows=1, cols=1, glb_words=64, rf_words=32)
    layer = ConvShape(N=1, C=1, H=3, W=3, M=1, R=3, S=3)
    m = Mapping.build(arch, {"RF": [("R", 3), ("S", 3)]})
    with pytest.raises(ValueError, match="x and w must have shapes"):
        simulate(m, layer, arch, x=np.zeros((1, 1, 4, 4)), w=np.zeros((1, 1, 3, 3)))
