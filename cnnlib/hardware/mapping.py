"""Mappings: a conv layer's seven loops tiled over an architecture's storage levels and PE array.

The layer is the lecture's 7-loop nest over N, M, C, E, F, R, S (``DIMS``; the slide's loop
variables n m x y i j k are n m e f r s c here, see the table in CONTRIBUTING.md). A mapping splits
each loop into factors, one per storage level (temporal loops, in an order) plus spatial loops
across the PE array's rows and columns, placed just below the fanout level. Reading the nest from
the top: the loops listed under a level iterate over the tile that level holds, so the tile held
at a level is the product of its own loops and every loop below it (Timeloop's convention). For
AlexNet's conv1 on a 3-level machine, for instance::

    DRAM
      for m2 in [0:4)
    GLB
      for e1 in [0:5)
      spatial_for r in [0:11)   (rows)
      spatial_for e in [0:11)   (cols)
    RF
      for s0 in [0:11)
        ...
        MAC

Groups and padding: the mapping is of one group (C/groups input channels, M/groups filters; the
cost of the layer is ``groups`` times that of one group) on the zero-padded input (the padding
zeros are stored and moved like any input, as an accelerator without zero-skipping would).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._checks import as_int, check_instance
from ..shapes import ConvShape
from .arch import OPERANDS, Architecture

#: The seven loops of a conv layer, in the order a loop nest prints its spatial loops.
DIMS = ("N", "M", "C", "E", "F", "R", "S")

#: The dims each operand is indexed by (inputs through h = U e + r and w = U f + s).
RELEVANT = {
    "weights": ("M", "C", "R", "S"),
    "inputs": ("N", "C", "E", "F", "R", "S"),
    "outputs": ("N", "M", "E", "F"),
}


@dataclass(frozen=True)
class Problem:
    """The loop bounds of one group of a conv layer, with its stride and group count."""

    N: int
    M: int
    C: int
    E: int
    F: int
    R: int
    S: int
    U: int = 1
    groups: int = 1

    @classmethod
    def of(cls, layer: ConvShape) -> Problem:
        """The bounds of one group of ``layer``: M/groups filters of C/groups channels."""
        check_instance(layer, ConvShape, "layer")
        g = layer.groups
        return cls(layer.N, layer.M // g, layer.C // g, layer.E, layer.F, layer.R, layer.S, layer.U, g)

    def bound(self, dim: str) -> int:
        return getattr(self, dim)

    @property
    def macs(self) -> int:
        """MACs of one group."""
        return math.prod(self.bound(d) for d in DIMS)


def input_span(e, r, U: int):
    """Distinct input rows read by e output rows and r filter rows at stride U.

    The rows are {U x + i : x < e, i < r}: a contiguous run of (e - 1) U + r rows when r >= U,
    e separate runs of r rows (e r in all) when r < U (the stride skips rows). ``e`` and ``r``
    may be ints or integer arrays (elementwise).
    """
    return np.where(r >= U, (e - 1) * U + r, e * r)


def input_overlap(e, r, U: int, shift):
    """Rows the set {U x + i : x < e, i < r} shares with its copy shifted by ``shift`` rows.

    The words a sliding input tile keeps when it moves by ``shift`` rows (or columns). For
    r >= U the set is a run of (e - 1) U + r rows, which keeps max(0, run - |shift|) of them.
    For r < U it is e runs of r rows at period U: write |shift| = q U + s (0 <= s < U); a run
    overlaps only the shifted run q periods away (r - s rows where s < r) and the one q + 1
    periods away (s + r - U rows where s + r > U), which e - q and e - q - 1 runs have.
    All arguments may be ints or integer arrays (elementwise).
    """
    t = np.abs(shift)
    run = np.maximum((e - 1) * U + r - t, 0)
    if np.all(r >= U):  # no gaps (every stride-1 tile): skip the gapped count
        return run
    q, s = np.divmod(t, U)
    gapped = np.maximum(e - q, 0) * np.maximum(r - s, 0) + np.maximum(e - q - 1, 0) * np.maximum(s + r - U, 0)
    return np.where(r >= U, run, gapped)


def tile_words(operand: str, ext: dict, U: int):
    """Distinct words of ``operand`` in a tile whose loops cover ``ext`` = {dim: extent}."""
    if operand == "weights":
        return ext["M"] * ext["C"] * ext["R"] * ext["S"]
    if operand == "outputs":
        return ext["N"] * ext["M"] * ext["E"] * ext["F"]
    return ext["N"] * ext["C"] * input_span(ext["E"], ext["R"], U) * input_span(ext["F"], ext["S"], U)


def _loops(value, where: str) -> tuple[tuple[str, int], ...]:
    """Normalise a list of (dim, factor) pairs, checking dims and factors."""
    loops = []
    for item in value:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise ValueError(f"{where}: each loop must be a (dim, factor) pair; got {item!r}")
        dim, factor = item
        if dim not in DIMS:
            raise ValueError(f"{where}: unknown dim {dim!r}; expected one of {DIMS}")
        loops.append((dim, as_int(factor, f"{where} factor of {dim}", 1)))
    dims = [d for d, _ in loops]
    if len(set(dims)) != len(dims):
        raise ValueError(f"{where}: each dim may appear once; got {dims}")
    return tuple(loops)


@dataclass(frozen=True)
class Mapping:
    """Tile factors and loop orders per storage level, plus spatial loops over the PE array.

    Parameters
    ----------
    levels : tuple of str
        The architecture's level names, outermost first.
    temporal : tuple of tuples of (dim, factor)
        For each level, its loops from outer to inner; dims not listed have factor 1.
    rows, cols : tuple of (dim, factor)
        Spatial loops unrolled across the PE array's rows and columns.
    fanout : int
        Index of the level the spatial loops sit below (the architecture's fanout).

    Build one with ``Mapping.build(arch, {"DRAM": [("M", 4)], ...}, rows=..., cols=...)``.
    """

    levels: tuple[str, ...]
    temporal: tuple[tuple[tuple[str, int], ...], ...]
    rows: tuple[tuple[str, int], ...] = ()
    cols: tuple[tuple[str, int], ...] = ()
    fanout: int = 0

    @classmethod
    def build(cls, arch: Architecture, temporal: dict, rows=(), cols=()) -> Mapping:
        """A mapping for ``arch`` from {level name: [(dim, factor), ...] outer to inner}."""
        check_instance(arch, Architecture, "arch")
        names = [lv.name for lv in arch.levels]
        unknown = set(temporal) - set(names)
        if unknown:
            raise ValueError(f"temporal names unknown levels {sorted(unknown)}; {arch.name} has {names}")
        loops = tuple(_loops(temporal.get(n, ()), f"level {n}") for n in names)
        return cls(tuple(names), loops, _loops(rows, "rows"), _loops(cols, "cols"), arch.fanout)

    def factor(self, level: int, dim: str) -> int:
        """The temporal factor of ``dim`` at level index ``level`` (1 if absent)."""
        return dict(self.temporal[level]).get(dim, 1)

    def spatial(self, dim: str) -> int:
        """The spatial factor of ``dim`` (rows times cols)."""
        return dict(self.rows).get(dim, 1) * dict(self.cols).get(dim, 1)

    @property
    def active_pes(self) -> int:
        """PEs doing work: the product of all spatial factors."""
        return math.prod(f for _, f in self.rows + self.cols)

    def extents(self, level: int) -> dict:
        """{dim: extent} of the tile one instance of level ``level`` holds.

        The product of the dim's factors at this level and every inner level, times its
        spatial factor if the level is shared by the array (at or above the fanout).
        """
        ext = {d: 1 for d in DIMS}
        for lv in range(level, len(self.levels)):
            for d, f in self.temporal[lv]:
                ext[d] *= f
        if level <= self.fanout:
            for d, f in self.rows + self.cols:
                ext[d] *= f
        return ext

    def check(self, layer: ConvShape, arch: Architecture) -> Problem:
        """Raise ``ValueError`` unless this mapping is valid for ``layer`` on ``arch``.

        Checks: the level names and fanout are the architecture's; the factors of every dim
        multiply to the layer's bound; the spatial loops fit the array; every level's tiles fit
        its capacity. Returns the layer's ``Problem`` (the bounds of one group).
        """
        prob = Problem.of(layer)
        names = tuple(lv.name for lv in arch.levels)
        if self.levels != names or self.fanout != arch.fanout:
            raise ValueError(
                f"the mapping is for levels {self.levels} (fanout {self.fanout}); "
                f"{arch.name} has {names} (fanout {arch.fanout})"
            )
        for d in DIMS:
            parts = [(n, self.factor(i, d)) for i, n in enumerate(names)] + [("spatial", self.spatial(d))]
            total = math.prod(f for _, f in parts)
            if total != prob.bound(d):
                shown = " x ".join(f"{n} {f}" for n, f in parts if f > 1) or "1"
                raise ValueError(
                    f"dim {d}: the factors multiply to {total} ({shown}) "
                    f"but the layer has {d}={prob.bound(d)}"
                    + (f" per group ({prob.groups} groups)" if prob.groups > 1 and d in "MC" else "")
                )
        for side, loops, size in (("rows", self.rows, arch.rows), ("cols", self.cols, arch.cols)):
            used = math.prod(f for _, f in loops)
            if used > size:
                raise ValueError(
                    f"spatial {side}: {' x '.join(f'{d} {f}' for d, f in loops)} = {used} do not fit "
                    f"the array's {size} {side}"
                )
        for i, lv in enumerate(arch.levels):
            if lv.capacity is None:
                continue
            ext = self.extents(i)
            words = {op: int(tile_words(op, ext, prob.U)) for op in lv.holds}
            if isinstance(lv.capacity, dict):
                over = [(op, w, lv.capacity[op]) for op, w in words.items() if w > lv.capacity[op]]
            else:
                total = sum(words.values())
                over = [(" + ".join(words), total, lv.capacity)] if total > lv.capacity else []
            for op, w, cap in over:
                detail = ", ".join(f"{d} {ext[d]}" for d in DIMS if ext[d] > 1)
                raise ValueError(
                    f"level {lv.name}: the {op} tile needs {w} words but the level holds {cap} "
                    f"(tile extents {detail or 'all 1'})"
                )
        return prob

    def loop_nest(self, layer: ConvShape | None = None, arch: Architecture | None = None) -> str:
        """The mapping as an indented loop nest, Timeloop-style, outermost level first.

        Loop variables carry the level's depth (m2 at the outermost of three levels, m0 at the
        innermost); with ``layer``, each level's header shows the words of each operand it holds
        per instance.
        """
        lines = []
        depth = len(self.levels) - 1
        indent = ""
        for i, name in enumerate(self.levels):
            header = name
            if layer is not None and i > 0:
                ext = self.extents(i)
                held = OPERANDS if arch is None else arch.levels[i].holds
                words = ", ".join(f"{op[0].upper()} {int(tile_words(op, ext, layer.U))}" for op in held)
                header += f"  (tile per instance: {words} words)"
            lines.append(indent + header)
            indent += "  "
            for d, f in self.temporal[i]:
                if f > 1:
                    lines.append(f"{indent}for {d.lower()}{depth - i} in [0:{f})")
                    indent += "  "
            if i == self.fanout:
                for side, loops in (("rows", self.rows), ("cols", self.cols)):
                    for d, f in loops:
                        if f > 1:
                            lines.append(f"{indent}spatial_for {d.lower()} in [0:{f})   ({side})")
                            indent += "  "
        lines.append(indent + "MAC: O[n][m][e][f] += I[n][c][U e + r][U f + s] x W[m][c][r][s]")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.loop_nest()
