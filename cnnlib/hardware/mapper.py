"""The mapper: search tile sizes and loop orders of a dataflow for minimum energy (or EDP).

The space is every way to split each dim's remaining bound (after the dataflow's spatial loops)
into a DRAM x GLB x RF factor, times the loop orders of DRAM and GLB. It is searched with three
prunings, each exact or nearly so:

1. **Orders by stationarity.** Which operands' loops sit innermost decides what stays, so a
   level's order is one of the 6 permutations of three groups: {N, E, F} (not indexing
   weights), {C, R, S} (not indexing outputs), {M} (not indexing inputs). For weights and
   outputs the order inside a group changes nothing; for inputs it can (a window slides along
   the innermost of its loops and is refetched when C or N advances), so this pruning is no
   longer exact with sliding-window reuse. Searching the 24 orders that also swap E with F and
   R with S inside their groups found the same best energies for all four dataflows on
   AlexNet's conv layers and on the small layers of the tests, at 16 to 36 times the time.
   The RF's own order changes nothing (the MACs read the RF every cycle), so it is not searched.
2. **Capacity.** Tiles that overflow the RF or the GLB are dropped before they are costed.
3. **Two stages.** Every RF tile that fits is costed with the GLB holding the whole layer (DRAM
   moves everything once); the ``keep`` best RF tiles go on to a full search of the DRAM/GLB split
   and both orders. Each stage costs whole batches of candidates at once: ``analytical.nest_counts``
   works on numpy arrays of factors.

The lower bound is the compulsory traffic: every weight, input and output crosses DRAM once, and
every MAC is done, nothing else (no on-chip access costs anything).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from ..counting import ConvShape
from .analytical import nest_counts
from .arch import OPERANDS, Architecture
from .dataflows import DATAFLOWS, Dataflow, dataflow
from .mapping import DIMS, Mapping, Problem, tile_words
from .report import Report, cycles, energy, evaluate

_GROUPS = (("N", "E", "F"), ("C", "R", "S"), ("M",))
#: The 6 loop orders searched at a level: permutations of the stationarity groups, outer first.
ORDERS = tuple(tuple(d for g in perm for d in g) for perm in itertools.permutations(_GROUPS))


def _divisors(n: int) -> np.ndarray:
    return np.array([d for d in range(1, n + 1) if n % d == 0], dtype=np.int64)


def _grid(choices: dict) -> dict:
    """All combinations of per-dim choices, as {dim: flat array}."""
    mesh = np.meshgrid(*[choices[d] for d in DIMS], indexing="ij")
    return {d: m.ravel() for d, m in zip(DIMS, mesh, strict=True)}


def _fits(level, ext: dict, U: int) -> np.ndarray:
    """Which candidate tiles (extents as arrays) fit a level's capacity."""
    words = {op: tile_words(op, ext, U) for op in level.holds}
    if isinstance(level.capacity, dict):
        ok = True
        for op, w in words.items():
            ok = ok & (w <= level.capacity[op])
        return np.asarray(ok)
    return np.asarray(sum(words.values()) <= level.capacity)


def lower_bound(layer: ConvShape, arch: Architecture) -> float:
    """Energy if every weight, input (padded, as mapped) and output crossed DRAM exactly once
    and every MAC were done, with nothing else costing anything."""
    return compulsory_words(layer) * arch.levels[0].energy + layer.macs * arch.mac_energy


def compulsory_words(layer: ConvShape) -> int:
    """Words that must cross DRAM at least once: weights, (padded) inputs, outputs."""
    prob = Problem.of(layer)
    full = {d: prob.bound(d) for d in DIMS}
    return sum(int(tile_words(op, full, prob.U)) for op in OPERANDS) * prob.groups


@dataclass
class Best:
    """The mapper's answer for one layer."""

    dataflow: str
    mapping: Mapping
    report: Report
    evaluated: int
    seconds: float
    lower_bound: float

    @property
    def energy(self) -> float:
        return self.report.energy

    @property
    def above_bound(self) -> float:
        """Energy / compulsory-traffic lower bound (>= 1)."""
        return self.energy / self.lower_bound

    @property
    def dram_over_compulsory(self) -> float:
        """DRAM words moved / compulsory DRAM words (>= 1)."""
        return self.report.counts.accesses(self.report.arch.levels[0].name) / compulsory_words(
            self.report.layer
        )


def _cost(counts, arch, objective):
    e = energy(counts, arch)
    return e if objective == "energy" else e * cycles(counts, arch)[0]


def search(layer: ConvShape, flow: str | Dataflow = "rs", objective: str = "energy", keep: int = 2) -> Best:
    """The best mapping of ``layer`` for dataflow ``flow`` (``"ws"``, ``"os"``, ``"nlr"``, ``"rs"``,
    a ``Dataflow``, or ``"any"`` to search all four).

    Parameters
    ----------
    layer : ConvShape
    flow : str or Dataflow
    objective : {"energy", "edp"}
        Minimise energy, or energy x cycles.
    keep : int
        RF tiles kept from the first stage for the full search.
    """
    if objective not in ("energy", "edp"):
        raise ValueError(f"objective must be 'energy' or 'edp'; got {objective!r}")
    if flow == "any":
        found = [search(layer, name, objective, keep) for name in DATAFLOWS]
        key = (lambda b: b.energy) if objective == "energy" else (lambda b: b.energy * b.report.cycles)
        return min(found, key=key)
    flow = dataflow(flow) if isinstance(flow, str) else flow
    start = time.perf_counter()
    arch, prob = flow.arch, Problem.of(layer)
    rows, cols = flow.spatial(prob)
    spatial = {d: math.prod(f for e, f in rows + cols if e == d) for d in DIMS}
    rem = {d: prob.bound(d) // spatial[d] for d in DIMS}
    fixed = flow.rf_fixed(prob)
    nlev = len(arch.levels)
    has_rf = nlev == 3
    sp = {d: np.int64(spatial[d]) for d in DIMS}
    evaluated = 0

    # stage 1: RF tiles that fit, costed with everything else in the GLB
    if has_rf:
        rf = _grid({d: np.array([fixed[d]]) if d in fixed else _divisors(rem[d]) for d in DIMS})
        rf = {d: v[_fits(arch.levels[2], rf, prob.U)] for d, v in rf.items()}
        if rf["N"].size == 0:
            raise ValueError(f"no tile of {layer} fits the RF of {arch.name} with dataflow {flow.name}")
        scored = []
        for order in ORDERS:
            glb = {d: rem[d] // rf[d] for d in DIMS}
            one = {d: np.ones_like(rf[d]) for d in DIMS}
            c = nest_counts(prob, arch, [DIMS, order, DIMS], [one, glb, rf], sp)
            scored.append(_cost(c, arch, objective))
            evaluated += rf["N"].size
        best_rf = np.min(np.stack(scored), axis=0)
        picks = np.argsort(best_rf, kind="stable")[:keep]
        rf_tiles = [{d: int(rf[d][i]) for d in DIMS} for i in picks]
    else:
        rf_tiles = [dict.fromkeys(DIMS, 1)]

    # stage 2: DRAM x GLB split and both orders, for each kept RF tile
    best = (np.inf, None)
    for tile in rf_tiles:
        dram = _grid({d: _divisors(rem[d] // tile[d]) for d in DIMS})
        glb_ext = {d: rem[d] // dram[d] * spatial[d] for d in DIMS}
        ok = _fits(arch.levels[1], glb_ext, prob.U)
        dram = {d: v[ok] for d, v in dram.items()}
        if dram["N"].size == 0:
            continue
        glb = {d: rem[d] // tile[d] // dram[d] for d in DIMS}
        rft = {d: np.full_like(dram[d], tile[d]) for d in DIMS}
        for o_dram, o_glb in itertools.product(ORDERS, ORDERS):
            facs = [dram, glb, rft][:nlev] if has_rf else [dram, {d: rem[d] // dram[d] for d in DIMS}]
            orders = [o_dram, o_glb, DIMS][:nlev]
            cost = _cost(nest_counts(prob, arch, orders, facs, sp), arch, objective)
            evaluated += cost.size
            i = int(np.argmin(cost))
            if cost[i] < best[0]:
                best = (cost[i], (orders, [{d: int(f[d][i]) for d in DIMS} for f in facs]))
    if best[1] is None:
        raise ValueError(f"no mapping of {layer} fits {arch.name} with dataflow {flow.name}")
    orders, facs = best[1]
    temporal = {
        lv.name: [(d, facs[i][d]) for d in orders[i] if facs[i][d] > 1] for i, lv in enumerate(arch.levels)
    }
    mapping = Mapping.build(
        arch, temporal, rows=[x for x in rows if x[1] > 1], cols=[x for x in cols if x[1] > 1]
    )
    report = evaluate(mapping, layer, arch)
    return Best(flow.name, mapping, report, evaluated, time.perf_counter() - start, lower_bound(layer, arch))
