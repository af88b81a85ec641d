"""A functional simulator: run a conv layer through a mapping, word by word, and count accesses.

Every storage level instance keeps a real buffer (a NaN-filled copy of the operand's tensor in
which only the words it holds are numbers). The simulator walks the temporal loops in order; at
each step it works out, for every level and operand, the set of words the level must hold (the
distinct coordinates its tile touches), and applies the rules stated in
``cnnlib.hardware.analytical``: a fill keeps the held words the new tile still needs and copies
only the missing ones (from another PE that held them, else from the parent's buffer; with
``sliding_window=False`` it empties the buffer and copies the whole tile), psums are written back
(summed over the PEs that share them) and read back on revisits, and the MACs of all PEs read
their operands from the innermost buffers. A word that is read but not held is NaN, so a wrong
data movement shows up in the output, which is compared with ``conv2d``.

It is slow (Python work per loop iteration): use it on small layers, and ``analytical.analyze``
for real ones. The two count the same things and must agree exactly.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._checks import as_float_array, as_int, check_ndim
from ..counting import ConvShape
from .analytical import Counts
from .arch import Architecture
from .mapping import DIMS, Mapping, Problem


def _coords(op: str, lo: dict, ext: dict, U: int) -> tuple:
    """Sorted coordinates along each tensor axis of the words ``op`` a tile touches."""
    rng = {d: np.arange(lo[d], lo[d] + ext[d]) for d in DIMS}
    if op == "weights":
        return rng["M"], rng["C"], rng["R"], rng["S"]
    if op == "outputs":
        return rng["N"], rng["M"], rng["E"], rng["F"]
    rows = np.unique(U * rng["E"][:, None] + rng["R"][None, :])
    cols = np.unique(U * rng["F"][:, None] + rng["S"][None, :])
    return rng["N"], rng["C"], rows, cols


def _key(axes):
    return tuple(tuple(a.tolist()) for a in axes)


class _Run:
    """The state of one group's simulation: buffers, what each holds, and the counts.

    Attributes: ``prob`` (the group's loop bounds), ``arch``, ``loops`` (the temporal loops,
    outer to inner, as (level, dim, factor, stride)), ``pe_offsets`` (each PE's offset in every
    dim), ``n_pes`` (active PEs), ``ext`` (each level's tile extents), ``buf`` and ``held`` (each
    level instance's buffer and the coordinates it holds), ``counts``.
    """

    def __init__(self, mapping: Mapping, prob: Problem, arch: Architecture, xg, wg):
        self.prob, self.arch = prob, arch
        self.nlev = len(arch.levels)
        self.names = [lv.name for lv in arch.levels]
        # temporal loops, outer to inner, each with the stride of its index
        flat = [(lv, d, f) for lv, loops in enumerate(mapping.temporal) for d, f in loops]
        spatial = list(mapping.rows) + list(mapping.cols)
        self.loops = []
        for k, (lv, d, f) in enumerate(flat):
            stride = np.prod([g for (_, e, g) in flat[k + 1 :] if e == d], dtype=np.int64)
            if lv <= mapping.fanout:
                stride *= np.prod([g for e, g in spatial if e == d], dtype=np.int64)
            self.loops.append((lv, d, f, int(stride)))
        # PE offsets: spatial index times the product of the same dim's loops inside it
        below = [(d, f) for lv, d, f in flat if lv > mapping.fanout]
        offsets = []
        for idx in itertools.product(*[range(f) for _, f in spatial]):
            off = dict.fromkeys(DIMS, 0)
            for k, ((d, _), i) in enumerate(zip(spatial, idx, strict=True)):
                inner = [g for e, g in spatial[k + 1 :] if e == d] + [g for e, g in below if e == d]
                off[d] += i * int(np.prod(inner, dtype=np.int64))
            offsets.append(off)
        self.pe_offsets = offsets
        self.n_pes = len(offsets)
        self.ext = [mapping.extents(lv) for lv in range(self.nlev)]
        shapes = {
            "weights": wg.shape,
            "inputs": xg.shape,
            "outputs": (prob.N, prob.M, prob.E, prob.F),
        }
        self.buf, self.held = {}, {}
        for lv, level in enumerate(arch.levels):
            inst = self.n_pes if arch.per_pe(lv) else 1
            for op in level.holds:
                self.buf[lv, op] = np.full((inst, *shapes[op]), np.nan)
                self.held[lv, op] = [None] * inst
        self.buf[0, "weights"][0] = wg
        self.buf[0, "inputs"][0] = xg
        self.buf[0, "outputs"][0] = 0.0  # the outermost level's psums start at zero
        self.touched = np.zeros(shapes["outputs"], dtype=bool)
        self.counts = Counts(0, 0, self.n_pes)

    def count(self, table, key, n):
        if n:
            table[key] = table.get(key, 0) + int(n)

    def instances(self, lv):
        return range(self.n_pes) if self.arch.per_pe(lv) else range(1)

    def needed(self, lv, op, idx):
        """Coordinates (per instance) of the words level ``lv`` must hold at loop indices ``idx``."""
        lo = dict.fromkeys(DIMS, 0)
        for (loop_lv, d, _, stride), i in zip(self.loops, idx, strict=True):
            if loop_lv < lv:
                lo[d] += i * stride
        out = []
        for inst in self.instances(lv):
            here = {d: lo[d] + (self.pe_offsets[inst][d] if self.arch.per_pe(lv) else 0) for d in DIMS}
            out.append(_coords(op, here, self.ext[lv], self.prob.U))
        return out

    def groups_under(self, lv, parent):
        """Pairs (parent instance, child instances it serves)."""
        if self.arch.per_pe(lv) and not self.arch.per_pe(parent):
            return [(0, list(range(self.n_pes)))]
        return [(i, [i]) for i in self.instances(lv)]

    def crosses(self, lv, parent):
        return self.arch.per_pe(lv) and not self.arch.per_pe(parent)

    def write_back(self, lv):
        """Evict level ``lv``'s psum tiles to its parent, summing PEs' copies of the same output."""
        parent = self.arch.parent(lv, "outputs")
        held = self.held[lv, "outputs"]
        child, dest = self.buf[lv, "outputs"], self.buf[parent, "outputs"]
        for q, kids in self.groups_under(lv, parent):
            total = np.zeros(dest.shape[1:])
            mask = np.zeros(dest.shape[1:], dtype=bool)
            for k in kids:
                ix = np.ix_(*held[k])
                total[ix] += child[k][ix]
                mask[ix] = True
                self.count(self.counts.reads, (self.names[lv], "outputs"), child[k][ix].size)
                if self.crosses(lv, parent):
                    self.count(self.counts.noc, "outputs", child[k][ix].size)
            dest[q][mask] = total[mask]
            self.count(self.counts.writes, (self.names[parent], "outputs"), mask.sum())
        child[:] = np.nan
        self.held[lv, "outputs"] = [None] * len(held)

    def fill(self, lv, op, want):
        """Load the tiles ``want`` (one per instance) of ``op`` into level ``lv`` from its parent."""
        if op == "outputs":
            self.fill_psums(lv, want)
            return
        parent = self.arch.parent(lv, op)
        child, src = self.buf[lv, op], self.buf[parent, op]
        old = self.held[lv, op] if self.arch.sliding_window else [None] * len(want)
        for q, kids in self.groups_under(lv, parent):
            new_tiles = {k: self.mask(want[k], src.shape[1:]) for k in kids}
            old_tiles = {k: self.mask(old[k], src.shape[1:]) for k in kids}
            held = np.logical_or.reduce([old_tiles[k] for k in kids])  # in some instance before
            before = np.full(src.shape[1:], np.nan)  # what the instances held
            for k in kids:
                before[old_tiles[k]] = child[k][old_tiles[k]]
            read = np.logical_or.reduce([new_tiles[k] for k in kids]) & ~held
            if np.isnan(src[q][read]).any():
                raise RuntimeError(f"{self.names[parent]} does not hold the {op} {self.names[lv]} needs")
            self.count(self.counts.reads, (self.names[parent], op), read.sum())
            for k in kids:  # keep what is still needed, copy only the missing words
                keep, missing = new_tiles[k] & old_tiles[k], new_tiles[k] & ~old_tiles[k]
                now = np.full(src.shape[1:], np.nan)
                now[keep] = child[k][keep]
                now[missing & held] = before[missing & held]  # passed on from another instance
                now[missing & ~held] = src[q][missing & ~held]  # read from the parent (multicast)
                child[k] = now
                self.count(self.counts.writes, (self.names[lv], op), missing.sum())
                if self.crosses(lv, parent):
                    self.count(self.counts.noc, op, missing.sum())
        self.held[lv, op] = want

    @staticmethod
    def mask(coords, shape):
        """A boolean array of ``shape``, True at the words of the tile ``coords`` (None: empty)."""
        out = np.zeros(shape, dtype=bool)
        if coords is not None:
            out[np.ix_(*coords)] = True
        return out

    def fill_psums(self, lv, want):
        """Load psum tiles: zeros on a first visit, the parent's psums on a revisit (rule 2)."""
        parent = self.arch.parent(lv, "outputs")
        child, src = self.buf[lv, "outputs"], self.buf[parent, "outputs"]
        child[:] = np.nan
        for q, kids in self.groups_under(lv, parent):
            mask = np.logical_or.reduce([self.mask(want[k], src.shape[1:]) for k in kids])
            seen = self.touched[mask]
            if not seen.any():  # first visit: start from zero, nothing moves
                for k in kids:
                    child[k][np.ix_(*want[k])] = 0.0
                continue
            if not seen.all():
                raise RuntimeError(f"level {self.names[lv]}: a psum tile is partly visited")
            if np.isnan(src[q][mask]).any():
                raise RuntimeError(f"{self.names[parent]} does not hold the outputs {self.names[lv]} needs")
            self.count(self.counts.reads, (self.names[parent], "outputs"), mask.sum())
            left = mask.copy()  # each revisited psum goes to the first PE that needs it
            for k in kids:
                ix = np.ix_(*want[k])
                mine = self.mask(want[k], mask.shape)
                give = mine & left
                child[k][ix] = 0.0
                child[k][give] = src[q][give]
                left &= ~give
                self.count(self.counts.writes, (self.names[lv], "outputs"), give.sum())
            if self.crosses(lv, parent):
                self.count(self.counts.noc, "outputs", mask.sum())
        self.held[lv, "outputs"] = want

    def mac(self, idx):
        """One temporal step: every PE does one MAC, reading from the innermost buffers."""
        base = dict.fromkeys(DIMS, 0)
        for (_, d, _, stride), i in zip(self.loops, idx, strict=True):
            base[d] += i * stride
        at = {d: np.array([base[d] + off[d] for off in self.pe_offsets]) for d in DIMS}
        U = self.prob.U
        where = {
            "weights": (at["M"], at["C"], at["R"], at["S"]),
            "inputs": (at["N"], at["C"], U * at["E"] + at["R"], U * at["F"] + at["S"]),
            "outputs": (at["N"], at["M"], at["E"], at["F"]),
        }
        vals = {}
        pes = np.arange(self.n_pes)
        for op in ("weights", "inputs", "outputs"):
            lv = self.arch.innermost(op)
            if self.arch.per_pe(lv):
                sel = (pes, *where[op])
                n = self.n_pes
            else:
                sel = (np.zeros(self.n_pes, dtype=int), *where[op])
                n = len(set(zip(*[a.tolist() for a in where[op]], strict=True)))
                self.count(self.counts.noc, op, self.n_pes)
            vals[op] = (lv, sel)
            self.count(self.counts.reads, (self.names[lv], op), n)
            if op == "outputs":
                self.count(self.counts.writes, (self.names[lv], op), n)
        w = self.buf[vals["weights"][0], "weights"][vals["weights"][1]]
        x = self.buf[vals["inputs"][0], "inputs"][vals["inputs"][1]]
        lv, sel = vals["outputs"]
        psum = self.buf[lv, "outputs"]
        if np.isnan(w).any() or np.isnan(x).any() or np.isnan(psum[sel]).any():
            raise RuntimeError("a MAC read a word its innermost level does not hold")
        np.add.at(psum, sel, w * x)
        self.touched[where["outputs"]] = True

    def run(self):
        arch = self.arch
        ranges = [range(f) for _, _, f, _ in self.loops]
        prev = None
        for idx in itertools.product(*ranges):
            changed = {}
            for lv in range(1, self.nlev):
                # the tiles depend only on the indices of the loops of outer levels
                if prev is not None and all(
                    a == b for (loop_lv, *_), a, b in zip(self.loops, idx, prev, strict=True) if loop_lv < lv
                ):
                    continue
                for op in arch.levels[lv].holds:
                    want = self.needed(lv, op, idx)
                    if [_key(a) for a in want] != [None if h is None else _key(h) for h in self.held[lv, op]]:
                        changed[lv, op] = want
            for lv in range(self.nlev - 1, 0, -1):
                if (lv, "outputs") in changed and self.held[lv, "outputs"][0] is not None:
                    self.write_back(lv)
            for lv in range(1, self.nlev):
                for op in arch.levels[lv].holds:
                    if (lv, op) in changed:
                        self.fill(lv, op, changed[lv, op])
            self.mac(idx)
            self.counts.macs += self.n_pes
            self.counts.steps += 1
            prev = idx
        for lv in range(self.nlev - 1, 0, -1):
            if "outputs" in arch.levels[lv].holds:
                self.write_back(lv)
        return self.buf[0, "outputs"][0], self.counts


def simulate(mapping: Mapping, layer: ConvShape, arch: Architecture, x=None, w=None, seed: int = 0):
    """Execute ``layer`` through ``mapping`` on ``arch``; return the output and the access counts.

    Parameters
    ----------
    mapping : Mapping
        Checked against the layer and architecture first.
    layer : ConvShape
    arch : Architecture
    x : array (N, C, H, W), optional
        Input fmaps (unpadded; the layer's padding P is applied here). Random if omitted.
    w : array (M, C/groups, R, S), optional
        Filters. Random if omitted.
    seed : int
        Seed for the random x and w.

    Returns
    -------
    out : array (N, M, E, F)
        Equal to ``conv2d(x, w, stride=U, padding=P, groups=groups)`` up to rounding.
    counts : Counts
        The same quantities ``analytical.analyze`` predicts (all groups).
    """
    prob = mapping.check(layer, arch)
    as_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    g, Cg, Mg = layer.groups, layer.C // layer.groups, layer.M // layer.groups
    x = rng.standard_normal((layer.N, layer.C, layer.H, layer.W)) if x is None else as_float_array(x, "x")
    w = rng.standard_normal((layer.M, Cg, layer.R, layer.S)) if w is None else as_float_array(w, "w")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    check_ndim(w, 4, "w", "(M, C/groups, R, S)")
    want_x, want_w = (layer.N, layer.C, layer.H, layer.W), (layer.M, Cg, layer.R, layer.S)
    if x.shape != want_x or w.shape != want_w:
        raise ValueError(
            f"x and w must have shapes {want_x} and {want_w} for {layer}; got {x.shape}, {w.shape}"
        )
    P = layer.P
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    out = np.empty((layer.N, layer.M, layer.E, layer.F), dtype=np.result_type(x, w))
    total = Counts(0, 0, mapping.active_pes)
    for k in range(g):
        res, c = _Run(mapping, prob, arch, xp[:, k * Cg : (k + 1) * Cg], w[k * Mg : (k + 1) * Mg]).run()
        out[:, k * Mg : (k + 1) * Mg] = res
        total = total + c
    return out, total
