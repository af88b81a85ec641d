"""The mapper: search tile sizes and loop orders of a dataflow for minimum energy (or EDP).

The space is every way to split each dim's remaining bound (after the dataflow's spatial loops)
into one factor per storage level (DRAM x GLB x RF on the Eyeriss-like array; any number of
levels), times the loop orders of the levels. It is searched with three prunings, each exact or
nearly so:

1. **Orders by stationarity.** Which operands' loops sit innermost decides what stays, so a
   level's order is one of the 6 permutations of three groups: {N, E, F} (not indexing
   weights), {C, R, S} (not indexing outputs), {M} (not indexing inputs). For weights and
   outputs the order inside a group changes nothing; for inputs it can (a window slides along
   the innermost of its loops and is refetched when C or N advances), so this pruning is no
   longer exact with sliding-window reuse. Searching the 24 orders that also swap E with F and
   R with S inside their groups found the same best energies for all four dataflows on
   AlexNet's conv layers and on the small layers of the tests, at 16 to 36 times the time.
   The innermost level's own order changes nothing (the MACs read it every cycle), so it is not
   searched.
2. **Capacity.** Tiles that overflow a level are dropped before they are costed.
3. **Level by level, innermost first.** Every tile of the innermost level (the RF) that fits is
   costed with the level above holding all the rest (and each of its orders); the ``keep`` best
   go on to the next level out, and so on. The two outermost levels (DRAM and the GLB) are
   searched together in full, with both orders. Each stage costs whole batches of candidates at
   once: ``analytical.nest_counts`` works on numpy arrays of factors.

The lower bound is the compulsory traffic: every weight, (padded) input and output crosses DRAM
once, and every MAC is done, nothing else (no on-chip access costs anything).

``search`` remembers its answers (a least-recently-used cache keyed by the layer, the dataflow
with its architecture, the objective and ``keep``): an explorer that comes back to a setting, or
a network with repeated layer shapes (VGG-16's conv5_1 to conv5_3), gets the same ``Best``
again without searching.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from .._checks import as_int, check_instance
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
    return compulsory_words_padded(layer) * arch.levels[0].energy + layer.macs * arch.mac_energy


def compulsory_words_padded(layer: ConvShape) -> int:
    """Words that must cross DRAM at least once: weights, inputs *with their padding*, outputs.

    The mapper stores and moves padding zeros like any input, so this counts the padded input
    (N C (H + 2P) (W + 2P) words when the stride fits). ``roofline.compulsory_bytes_unpadded``
    counts the unpadded input, in bytes: padding made on chip.

    Examples
    --------
    >>> layer = ConvShape(N=1, C=1, H=4, W=4, M=1, R=3, S=3, P=1)   # 9 weights, 16 outputs
    >>> compulsory_words_padded(layer)                              # 9 + 6 x 6 + 16
    61
    """
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
        return self.report.counts.accesses(self.report.arch.levels[0].name) / compulsory_words_padded(
            self.report.layer
        )


def _cost(counts, arch, objective):
    e = energy(counts, arch)
    return e if objective == "energy" else e * cycles(counts, arch)[0]


def search(layer: ConvShape, flow: str | Dataflow = "rs", objective: str = "energy", keep: int = 2) -> Best:
    """The best mapping of ``layer`` for dataflow ``flow`` (a name from ``DATAFLOWS``, a
    ``Dataflow``, or ``"any"`` to search all of them).

    Parameters
    ----------
    layer : ConvShape
    flow : str or Dataflow
    objective : {"energy", "edp"}
        Minimise energy, or energy x cycles.
    keep : int
        Tiles kept at each inner level for the search of the next level out.

    Returns
    -------
    Best
        Remembered: the same arguments return the same object (``seconds`` is the time the
        first search took).

    Examples
    --------
    >>> best = search(ConvShape(N=1, C=3, H=8, W=8, M=4, R=3, S=3), "rs")
    >>> best.report.counts.macs, best.above_bound >= 1
    (3888, True)
    """
    if objective not in ("energy", "edp"):
        raise ValueError(f"objective must be 'energy' or 'edp'; got {objective!r}")
    keep = as_int(keep, "keep", 1)
    check_instance(layer, ConvShape, "layer")
    if isinstance(flow, str) and flow == "any":
        found = [search(layer, name, objective, keep) for name in DATAFLOWS]
        key = (lambda b: b.energy) if objective == "energy" else (lambda b: b.energy * b.report.cycles)
        return min(found, key=key)
    flow = dataflow(flow) if isinstance(flow, str) else flow
    check_instance(flow, Dataflow, "flow")
    return _search(layer, flow, objective, keep)


def clear_cache() -> None:
    """Forget every remembered ``search`` answer (e.g. after changing ``ORDERS``)."""
    _search.cache_clear()


def _extents(arch: Architecture, level: int, facs: list, sp: dict) -> dict:
    """Tile extents of ``level`` from the factors of it and every level below (``facs``), times
    the spatial factors if the level is shared by the array."""
    ext = {d: math.prod(f[d] for f in facs) for d in DIMS}
    return {d: ext[d] * sp[d] for d in DIMS} if level <= arch.fanout else ext


def _stage(prob, arch, level, kept, rem, sp, fixed, objective):
    """Cost every tile of ``level`` that fits, under each kept choice of the levels below it,
    with the level above holding all the rest; return [(cost, factors, orders)] of levels
    ``level`` and below (one per tile, its best orders) and how many candidates were costed."""
    nlev, found, evaluated = len(arch.levels), [], 0
    own_orders = [DIMS] if level == nlev - 1 else ORDERS
    for facs_below, orders_below in kept:
        left = {d: rem[d] // math.prod(f[d] for f in facs_below) for d in DIMS}
        grid = _grid({d: np.array([left[d]]) if d in fixed else _divisors(left[d]) for d in DIMS})
        ok = _fits(arch.levels[level], _extents(arch, level, [grid, *facs_below], sp), prob.U)
        grid = {d: v[ok] for d, v in grid.items()}
        if grid["N"].size == 0:
            continue
        above = {d: left[d] // grid[d] for d in DIMS}
        one = dict.fromkeys(DIMS, 1)
        best_cost, best_order = np.full(grid["N"].size, np.inf), np.zeros(grid["N"].size, dtype=int)
        for k, (own, parent_order) in enumerate(itertools.product(own_orders, ORDERS)):
            facs = [one] * (level - 1) + [above, grid, *facs_below]
            orders = [DIMS] * (level - 1) + [parent_order, own, *orders_below]
            cost = _cost(nest_counts(prob, arch, orders, facs, sp), arch, objective)
            evaluated += grid["N"].size
            better = cost < best_cost
            best_cost = np.where(better, cost, best_cost)
            best_order = np.where(better, k // len(ORDERS), best_order)
        for i in range(grid["N"].size):
            tile = {d: int(grid[d][i]) for d in DIMS}
            found.append((best_cost[i], [tile, *facs_below], [own_orders[best_order[i]], *orders_below]))
    return found, evaluated


@functools.lru_cache(maxsize=512)
def _search(layer: ConvShape, flow: Dataflow, objective: str, keep: int) -> Best:
    start = time.perf_counter()
    arch, prob = flow.arch, Problem.of(layer)
    rows, cols = flow.spatial(prob)
    spatial = {d: math.prod(f for e, f in rows + cols if e == d) for d in DIMS}
    rem = {d: prob.bound(d) // spatial[d] for d in DIMS}
    nlev = len(arch.levels)
    fixed = set(flow.rf_fixed)  # whole at the innermost level
    sp = {d: np.int64(spatial[d]) for d in DIMS}
    evaluated = 0

    # inner levels (below the two outermost), innermost first, keeping the `keep` best tiles
    kept = [([], [])]
    for level in range(nlev - 1, 1, -1):
        found, n = _stage(prob, arch, level, kept, rem, sp, fixed if level == nlev - 1 else set(), objective)
        evaluated += n
        if not found:
            raise ValueError(
                f"no tile of {layer} fits level {arch.levels[level].name} of {arch.name} "
                f"with dataflow {flow.name}"
            )
        found.sort(key=lambda item: item[0])  # stable: ties keep the enumeration order
        kept = [(facs, orders) for _, facs, orders in found[:keep]]

    # the two outermost levels: every split and both orders, for each kept choice below
    best = (np.inf, None)
    for facs_below, orders_below in kept:
        left = {d: rem[d] // math.prod(f[d] for f in facs_below) for d in DIMS}
        if nlev == 1:
            splits = [({d: np.array([left[d]]) for d in DIMS},)]
        else:
            inner_fixed = fixed if nlev == 2 else set()  # the GLB is the innermost level
            outer = _grid({d: np.array([1]) if d in inner_fixed else _divisors(left[d]) for d in DIMS})
            second = {d: left[d] // outer[d] for d in DIMS}
            ok = _fits(arch.levels[1], _extents(arch, 1, [second, *facs_below], sp), prob.U)
            splits = [({d: v[ok] for d, v in outer.items()}, {d: v[ok] for d, v in second.items()})]
        if splits[0][0]["N"].size == 0:
            continue
        level_orders = [ORDERS] * min(nlev, 2)
        if nlev == 2:
            level_orders[1] = [DIMS]  # the innermost level's order changes nothing
        for top in itertools.product(*level_orders):
            facs = [*splits[0], *facs_below]
            orders = [*top, *orders_below]
            cost = _cost(nest_counts(prob, arch, orders, facs, sp), arch, objective)
            evaluated += cost.size
            i = int(np.argmin(cost))
            if cost[i] < best[0]:
                best = (cost[i], (orders, [{d: int(np.broadcast_to(f[d], cost.shape)[i]) for d in DIMS}
                                           for f in facs]))
    if best[1] is None:
        raise ValueError(f"no mapping of {layer} fits {arch.name} with dataflow {flow.name}")
    orders, facs = best[1]
    temporal = {
        lv.name: [(d, facs[i][d]) for d in orders[i] if facs[i][d] > 1] for i, lv in enumerate(arch.levels)
    }
    mapping = Mapping.build(arch, temporal, rows=rows, cols=cols)
    report = evaluate(mapping, layer, arch)
    return Best(flow.name, mapping, report, evaluated, time.perf_counter() - start, lower_bound(layer, arch))
