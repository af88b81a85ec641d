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
from .mapping import Problem

RF_WORDS = sum(EYERISS_SPADS.values())  # 260 words of scratchpad per PE


def _fit(n: int, limit: int) -> int:
    """The largest divisor of n that is <= limit."""
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


@dataclass(frozen=True)
class Dataflow:
    """A mapping template: an architecture (one storage split of the common budget), a rule for
    the spatial loops, and the RF factors it fixes."""

    name: str
    title: str
    arch: Architecture

    def spatial(self, prob: Problem) -> tuple[list, list]:
        """The (rows, cols) spatial loops for a layer's bounds."""
        a = self.arch
        if self.name in ("ws", "nlr"):
            return [("C", _fit(prob.C, a.rows))], [("M", _fit(prob.M, a.cols))]
        if self.name == "os":
            return [("E", _fit(prob.E, a.rows))], [("F", _fit(prob.F, a.cols))]
        r = _fit(prob.R, a.rows)
        rows = [("R", r)]
        more = a.rows // r  # replicate: more channels (or else filters) in the spare rows
        extra = (
            ("C", _fit(prob.C, more))
            if _fit(prob.C, more) >= _fit(prob.M, more)
            else ("M", _fit(prob.M, more))
        )
        if extra[1] > 1:
            rows.append(extra)
        return rows, [("E", _fit(prob.E, a.cols))]

    def rf_fixed(self, prob: Problem) -> dict:
        """RF factors the template imposes: row stationary keeps a whole filter row (S) per PE."""
        return {"S": prob.S} if self.name == "rs" else {}


def dataflow(name: str, rows: int = 12, cols: int = 14) -> Dataflow:
    """The template ``name`` (``ws``, ``os``, ``nlr`` or ``rs``) on a rows x cols array."""
    if name not in DATAFLOWS:
        raise ValueError(f"dataflow must be one of {tuple(DATAFLOWS)}; got {name!r}")
    glb = EYERISS_GLB_WORDS
    rf = {"ws": {"weights": RF_WORDS}, "os": {"outputs": RF_WORDS}, "nlr": {}, "rs": None}[name]
    if name == "nlr":
        glb += rows * cols * RF_WORDS
    arch = eyeriss_like(rows=rows, cols=cols, glb_words=glb, rf=rf)
    return Dataflow(name, DATAFLOWS[name], arch)


DATAFLOWS = {
    "ws": "weight stationary",
    "os": "output stationary",
    "nlr": "no local reuse",
    "rs": "row stationary",
}
