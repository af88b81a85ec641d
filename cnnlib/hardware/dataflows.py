"""Dataflows as mapping templates: which loops a PE array unrolls and what each PE keeps.

Following Chen et al. (Eyeriss, ISCA 2016) and Sze et al. (Proc. IEEE 2017), a dataflow fixes
the spatial loops and the role of the PE's local storage; the tile sizes and loop orders that
remain are chosen by the mapper (``mapper.search``), as the Eyeriss paper optimised each
dataflow's mapping before comparing them. All four share one hardware budget: 12 x 14 PEs and the
same total on-chip storage, Eyeriss's 108 kB global buffer plus 168 x 260 words of scratchpad
(224 + 12 + 24), split differently:

- ``ws`` weight stationary (TPU/NeuFlow-like): input channels C across rows, filters M across
  columns; each PE keeps weights in a 260-word RF, inputs are multicast along a row, psums are
  reduced along a column, both read from the global buffer.
- ``os`` output stationary (ShiDianNao-like): output rows E across rows, output columns F across
  columns; each PE accumulates psums in a 260-word RF, weights are broadcast.
- ``nlr`` no local reuse (DianNao-like): C across rows, M across columns, no RF at all; its 168 x
  260 words go to a larger global buffer.
- ``rs`` row stationary (Eyeriss): filter rows R (times a few channels or filters) across rows,
  output rows E across columns; each PE runs a 1-D convolution of a filter row over an input
  row, with Eyeriss's separate 224/12/24-word scratchpads. Inputs travel along diagonals (the
  multicast of input row U e + r), psums are reduced up a column.

Spatial factors must divide the layer's dimension (no imperfect factorization), so e.g. E = 55
uses 11 of 14 columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arch import EYERISS_GLB_WORDS, EYERISS_SPADS, Architecture, eyeriss_like
from .mapping import DIMS, Problem

RF_WORDS = sum(EYERISS_SPADS.values())  # 260 words of scratchpad per PE

#: The dataflow templates, {name: title}: the one list the CLI, the mapper and the explorers use.
DATAFLOWS = {
    "ws": "weight stationary",
    "os": "output stationary",
    "nlr": "no local reuse",
    "rs": "row stationary",
}


def _fit(n: int, limit: int) -> int:
    """The largest divisor of n that is <= limit."""
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


def _unroll(slots, prob: Problem, size: int) -> list:
    """Spatial loops for one side of the array: each slot takes, of its candidate dims, the one
    with the largest factor that divides the layer and fits the rows (or columns) left."""
    loops = []
    for candidates in slots:
        dim = max(candidates, key=lambda d: _fit(prob.bound(d), size))  # ties: the first listed
        factor = _fit(prob.bound(dim), size)
        if factor > 1:
            loops.append((dim, factor))
            size //= factor
    return loops


@dataclass(frozen=True)
class Dataflow:
    """A mapping template, as data: an architecture (one storage split of the common budget),
    the dims unrolled across the PE array, and the dims each PE's innermost level keeps whole.

    Attributes
    ----------
    name, title : str
        E.g. "rs", "row stationary".
    arch : Architecture
    rows, cols : tuple of tuples of str
        Slots filled in order across the array's rows (columns): each slot is a tuple of
        candidate dims, of which the one with the largest factor that divides the layer's bound
        and fits what is left of the side is unrolled. Row stationary's rows are
        ``(("R",), ("C", "M"))``: filter rows first, then channels or filters in the spare rows.
    rf_fixed : tuple of str
        Dims whose whole bound the innermost storage level keeps (row stationary: ``("S",)``, a
        whole filter row per PE); the mapper searches only the other dims' factors there.

    Examples
    --------
    >>> from cnnlib.hardware.mapping import Problem
    >>> flow = dataflow("rs")
    >>> flow.spatial(Problem(N=1, M=96, C=3, E=55, F=55, R=11, S=11, U=4))
    ([('R', 11)], [('E', 11)])
    """

    name: str
    title: str
    arch: Architecture
    rows: tuple = ()
    cols: tuple = ()
    rf_fixed: tuple = ()

    def __post_init__(self):
        for side in ("rows", "cols"):
            slots = tuple(tuple(slot) for slot in getattr(self, side))
            if not all(slots) or any(d not in DIMS for slot in slots for d in slot):
                raise ValueError(f"{side} must be tuples of dims from {DIMS}; got {getattr(self, side)!r}")
            object.__setattr__(self, side, slots)
        if any(d not in DIMS for d in self.rf_fixed):
            raise ValueError(f"rf_fixed must name dims from {DIMS}; got {self.rf_fixed!r}")
        object.__setattr__(self, "rf_fixed", tuple(self.rf_fixed))

    def spatial(self, prob: Problem) -> tuple[list, list]:
        """The (rows, cols) spatial loops, [(dim, factor), ...], for a layer's bounds."""
        return _unroll(self.rows, prob, self.arch.rows), _unroll(self.cols, prob, self.arch.cols)


#: Each template's spatial slots, innermost-level storage and fixed dims (see the module docstring).
_TEMPLATES = {
    "ws": dict(rows=(("C",),), cols=(("M",),), rf={"weights": RF_WORDS}),
    "os": dict(rows=(("E",),), cols=(("F",),), rf={"outputs": RF_WORDS}),
    "nlr": dict(rows=(("C",),), cols=(("M",),), rf={}),
    "rs": dict(rows=(("R",), ("C", "M")), cols=(("E",),), rf=None, rf_fixed=("S",)),
}


def dataflow(name: str, rows: int = 12, cols: int = 14) -> Dataflow:
    """The template ``name`` (a key of ``DATAFLOWS``) on a rows x cols array."""
    if name not in DATAFLOWS:
        raise ValueError(f"dataflow must be one of {tuple(DATAFLOWS)}; got {name!r}")
    spec = dict(_TEMPLATES[name])
    glb = EYERISS_GLB_WORDS
    if spec["rf"] == {}:  # no local storage: its words go to the global buffer
        glb += rows * cols * RF_WORDS
    arch = eyeriss_like(rows=rows, cols=cols, glb_words=glb, rf=spec.pop("rf"))
    return Dataflow(name, DATAFLOWS[name], arch, **spec)
