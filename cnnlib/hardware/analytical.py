"""Counting the accesses of a mapped conv layer without running it (fast enough for search).

The rules counted here (and executed, word by word, by ``simulator.simulate``; the two must agree
exactly) are these. Call the tile a level instance holds an *occupancy* while it stays the same.

1. **Fills (weights, inputs).** When the tile of an operand a level holds changes, the level
   keeps the words the old and the new tile share and fetches the others: they are read from
   the parent (the next outer level holding that operand) and written into the level. The first
   tile is fetched whole. Weight tiles never overlap across a change (each coordinate moves by a
   multiple of the tile's extent, or not at all), nor do an input tile's n and c; but an input
   row is U e + r and a column U f + s, so an input tile can move by less than it spans, a
   *sliding window*: a PE convolving a filter row of S weights along an input row fetches, at
   stride 1, one new input per step, not S (Timeloop counts these deltas too). An operand is
   *stationary* (nothing moves) while the loops that do not index it run. A tile is the set of
   distinct words its loops touch, so the input halo inside a tile is read once. With
   ``Architecture(sliding_window=False)`` the simpler rule applies: every change fetches the
   whole new tile and keeps nothing of the old one.
2. **Partial sums (outputs).** When the output tile changes, the old one is written back to the
   parent (read here, written there). The new tile is read from the parent only if its psums were
   updated before (a *revisit*); a first visit starts from zero without any transfer.
3. **Across the PE array.** A level below the fanout has one instance per PE. One read of the
   parent serves every PE that needs the same word (*multicast*): the parent reads the words of
   the union of the PEs' tiles that the union did not hold before (all of them at the first
   fill), each PE writes the words its own tile did not hold. So a word one PE held and another
   PE needs next (a window sliding across the boundary between two PEs' tiles) is passed from PE
   to PE rather than read again; it still counts as a NoC transfer. (Eyeriss has no such path
   for inputs, so where a mapping moves a tile along a dim spread across PEs this count is
   slightly optimistic.) Psums written back are added on the way (*spatial reduction*): the PEs'
   copies are read, the parent writes one word per distinct output. A revisited psum is
   delivered to one PE; the others start from zero. Each word delivered to or sent from a PE is
   one NoC transfer.
4. **MACs.** Each MAC reads a weight and an input from the innermost level holding them, and
   reads and writes its psum in the innermost level holding outputs. If that level is shared by
   the array, one access per distinct word per cycle (multicast and spatial reduction again) and
   every PE's operand counts one NoC transfer.
5. **Time.** The spatial loops run in parallel: compute cycles = MACs / active PEs (the number of
   temporal iterations).

Counting rule 1 is what a level *must* move for the order of its loops. Tile changes are counted
without enumerating them: when loop k is the one that advances (the loops inside it wrap to 0),
which happens (f_k - 1) times per iteration of the loops outside it, the tile moves by a fixed
offset; it changes unless that offset is zero in every coordinate of the operand (an input row is
U e + r, so e advancing while r wraps back can leave the input tile in place). The words a moved
input tile keeps are a product over its coordinates: all its n and c if those did not move, times
the rows (and columns) the row set {U e + r : e < E_t, r < R_t} shares with its copy shifted by
the row offset, a closed form even where U > R_t leaves gaps (``mapping.input_overlap``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..counting import ConvShape
from .arch import OPERANDS, Architecture
from .mapping import DIMS, RELEVANT, Mapping, Problem, input_overlap, input_span, tile_words


@dataclass
class Counts:
    """Accesses of a mapped layer.

    Attributes
    ----------
    macs : int
        Multiply-accumulates.
    steps : int
        Temporal iterations: compute cycles if every active PE does one MAC per cycle.
    active_pes : int
        PEs used by the spatial loops.
    reads, writes : dict {(level name, operand): int}
        Words read from and written to each level (summed over its instances).
    noc : dict {operand: int}
        Words delivered to or sent from PEs across the array's network.
    """

    macs: int
    steps: int
    active_pes: int
    reads: dict = field(default_factory=dict)
    writes: dict = field(default_factory=dict)
    noc: dict = field(default_factory=dict)

    def accesses(self, level: str, operand: str | None = None):
        """Reads + writes of ``level`` (for one operand, or all)."""
        ops = OPERANDS if operand is None else (operand,)
        return sum(self.reads.get((level, op), 0) + self.writes.get((level, op), 0) for op in ops)

    def __add__(self, other: Counts) -> Counts:
        """The counts of two layers (or groups) run one after the other on the same PEs."""
        merged = [{}, {}, {}]
        for out, a, b in zip(
            merged, (self.reads, self.writes, self.noc), (other.reads, other.writes, other.noc), strict=True
        ):
            for k in a.keys() | b.keys():
                out[k] = a.get(k, 0) + b.get(k, 0)
        return Counts(
            self.macs + other.macs, self.steps + other.steps, max(self.active_pes, other.active_pes), *merged
        )

    def scaled(self, groups: int) -> Counts:
        """The counts of ``groups`` identical groups run one after another."""
        return Counts(
            self.macs * groups,
            self.steps * groups,
            self.active_pes,
            {k: v * groups for k, v in self.reads.items()},
            {k: v * groups for k, v in self.writes.items()},
            {k: v * groups for k, v in self.noc.items()},
        )


def _add(table, key, value):
    table[key] = table.get(key, 0) + value


def nest_counts(prob: Problem, arch: Architecture, orders, factors, spatial) -> Counts:
    """Counts of one group from the loop structure; factors may be integer arrays (a batch).

    Parameters
    ----------
    prob : Problem
        Loop bounds (only the stride U is used: the factors define the tiles).
    arch : Architecture
    orders : sequence of tuples of dims
        For each level, its loops from outer to inner.
    factors : sequence of dicts {dim: int or array}
        For each level, the factor of each dim listed in its order.
    spatial : dict {dim: int or array}
        Spatial factor of each dim (rows times cols).

    Returns
    -------
    Counts
        With int or array entries (broadcast over the batch).
    """
    U = prob.U
    nlev = len(arch.levels)
    one = np.int64(1)
    sp = {d: spatial.get(d, one) for d in DIMS}
    # per-instance extents of each level (tile), and strides of each temporal loop
    ext = [None] * (nlev + 1)
    ext[nlev] = {d: one for d in DIMS}
    loops = []  # (level, dim, factor, stride), outer to inner, per level
    for lv in range(nlev - 1, -1, -1):
        below = dict(ext[lv + 1])
        if lv == arch.fanout:
            below = {d: below[d] * sp[d] for d in DIMS}
        level_loops = [(lv, d, factors[lv][d], below[d]) for d in orders[lv]]
        loops = level_loops + loops
        ext[lv] = dict(below)
        for d in orders[lv]:
            ext[lv][d] = ext[lv][d] * factors[lv][d]
    steps = math.prod([f for _, _, f, _ in loops]) if loops else one
    loops = [lp for lp in loops if np.any(lp[2] != 1)]  # a loop of 1 iteration changes nothing
    active = math.prod(sp.values())
    c = Counts(macs=steps * active, steps=steps, active_pes=active)

    outer = [[lp for lp in loops if lp[0] < li] for li in range(nlev)]  # the loops outside each level
    changes = [_changes(lps) for lps in outer]
    for op in OPERANDS:
        rel = RELEVANT[op]
        for li in range(1, nlev):
            if op not in arch.levels[li].holds:
                continue
            parent = arch.parent(li, op)
            crosses = arch.per_pe(li) and not arch.per_pe(parent)
            # the parent serves the union of the PEs' tiles (multicast) or each instance alone
            union_ext = {d: ext[li][d] * sp[d] for d in DIMS} if crosses else ext[li]
            n_union = active if arch.per_pe(li) and not crosses else 1
            n_copies = active if arch.per_pe(li) else 1
            own = _fetched(op, ext[li], changes[li], U, arch.sliding_window)  # one instance's loads
            if crosses:
                own_union = _fetched(op, union_ext, changes[li], U, arch.sliding_window)
            else:
                own_union = own  # the same tile: count it once
            union, copies = n_union * own_union, n_copies * own
            pname, name = arch.levels[parent].name, arch.levels[li].name
            if op == "outputs":  # every occupancy is written back; first visits start from zero
                distinct = math.prod([f for _, d, f, _ in outer[li] if d in rel]) if outer[li] else one
                revisits = union - distinct * n_union * tile_words(op, union_ext, U)
                _add(c.reads, (pname, op), revisits)
                _add(c.writes, (name, op), revisits)
                _add(c.reads, (name, op), copies)
                _add(c.writes, (pname, op), union)
                if crosses:
                    _add(c.noc, op, revisits + copies)
            else:
                _add(c.reads, (pname, op), union)
                _add(c.writes, (name, op), copies)
                if crosses:
                    _add(c.noc, op, copies)
        inner = arch.innermost(op)
        name = arch.levels[inner].name
        if arch.per_pe(inner):
            per_step = active
        else:
            per_step = tile_words(op, sp, U)
            _add(c.noc, op, c.macs)
        _add(c.reads, (name, op), steps * per_step)
        if op == "outputs":
            _add(c.writes, (name, op), steps * per_step)
    return c


def _changes(outer):
    """Each tile change of a level: (how many times it happens, {dim: offset of the tile}).

    ``outer`` lists the loops outside the level, (level, dim, factor, stride) from outer to
    inner. When loop k advances (f_k - 1 times per iteration of the loops outside it), the loops
    inside it wrap back to 0, so the tile moves by loop k's stride in its dim minus what the
    inner loops of each dim had advanced.
    """
    wraps, back = [], {}  # per dim: sum of (f - 1) * stride of the loops inside the current one
    for _, d, f, stride in reversed(outer):
        wraps.append(dict(back))
        back[d] = back.get(d, 0) + (f - 1) * stride
    changes, prefix = [], np.int64(1)
    for (_, d, f, stride), inner in zip(outer, reversed(wraps), strict=True):
        delta = {k: -v for k, v in inner.items()}
        delta[d] = delta.get(d, 0) + stride
        changes.append((prefix * (f - 1), delta))
        prefix = prefix * f
    return changes


def _fetched(op: str, ext: dict, changes, U: int, sliding: bool):
    """Words one instance with tiles of extents ``ext`` loads: the first tile, then the new words
    of each change.

    Weights and outputs keep all or nothing: each coordinate of their tile moves by a multiple
    of its extent, so a change fetches the whole tile unless the tile did not move. So do an
    input tile's n and c, but its rows U e + r and columns U f + s can move by less than the
    tile spans: with ``sliding``, the rows and the columns the old and the new tile share are
    kept (rule 1); without, the whole tile is fetched unless it did not move.
    """
    words = tile_words(op, ext, U)
    g = {d: 0 for d in DIMS}
    if op != "inputs" or not sliding:
        occupancies = np.int64(1)
        for times, delta in changes:
            d = g | delta
            if op == "inputs":  # an input row is U e + r, a column U f + s
                coords = (d["N"], d["C"], U * d["E"] + d["R"], U * d["F"] + d["S"])
            else:
                coords = [d[k] for k in RELEVANT[op]]
            moved = False
            for x in coords:
                moved = moved | (x != 0)
            occupancies = occupancies + times * moved
        return words * occupancies
    rows, cols = input_span(ext["E"], ext["R"], U), input_span(ext["F"], ext["S"], U)
    total = words
    for times, delta in changes:
        d = g | delta
        kept = ((d["N"] == 0) & (d["C"] == 0)) * ext["N"] * ext["C"]
        if "E" in delta or "R" in delta:  # (a dim absent from delta did not move)
            kept = kept * input_overlap(ext["E"], ext["R"], U, U * d["E"] + d["R"])
        else:
            kept = kept * rows
        if "F" in delta or "S" in delta:
            kept = kept * input_overlap(ext["F"], ext["S"], U, U * d["F"] + d["S"])
        else:
            kept = kept * cols
        total = total + times * (words - kept)
    return total


def analyze(mapping: Mapping, layer: ConvShape, arch: Architecture) -> Counts:
    """Reads and writes per level and operand, NoC transfers, MACs and cycles of ``layer``.

    The mapping is checked first (``Mapping.check``); the counts are of all groups.

    Examples
    --------
    >>> from cnnlib.hardware.arch import simple_arch
    >>> arch = simple_arch(rows=1, cols=1, glb_words=64, rf_words=8)
    >>> layer = ConvShape(N=1, C=1, H=6, W=1, M=1, R=3, S=1)        # a 1-D convolution, E = 4
    >>> m = Mapping.build(arch, {"GLB": [("E", 4)], "RF": [("R", 3)]})
    >>> c = analyze(m, layer, arch)
    >>> c.macs, c.reads["GLB", "weights"], c.reads["GLB", "inputs"]
    (12, 3, 6)

    The RF keeps its 3 weights while e runs (weight stationary: e does not index weights), and
    the input window slides by one row per e: 3 inputs first, then 1 new one per step.
    """
    prob = mapping.check(layer, arch)
    orders = [tuple(d for d, _ in lv) for lv in mapping.temporal]
    factors = [{d: np.int64(f) for d, f in lv} for lv in mapping.temporal]
    spatial = {d: np.int64(mapping.spatial(d)) for d in DIMS}
    c = nest_counts(prob, arch, orders, factors, spatial)
    c = Counts(
        int(c.macs),
        int(c.steps),
        int(c.active_pes),
        {k: int(v) for k, v in c.reads.items() if v},
        {k: int(v) for k, v in c.writes.items() if v},
        {k: int(v) for k, v in c.noc.items() if v},
    )
    return c.scaled(prob.groups)
