"""A systolic array running a conv layer as a matrix multiply, in the manner of SCALE-Sim.

SCALE-Sim (Samajdar et al., "SCALE-Sim: Systolic CNN Accelerator Simulator", arXiv:1811.02883,
2018; v2 and v3 at github.com/scalesim-project) views a conv layer as a GEMM: the im2col'ed
ifmap (pixels x window) times the filters (window x filters) gives the ofmap (pixels x filters).
In the lecture's names (SCALE-Sim's paper calls them P, K and M; P is the padding here):

- pixels = N E F ofmap pixels (SCALE-Sim has no batch: N = 1),
- window = C R S, the window size (one filter's weights; C / groups per group),
- filters = M (M / groups per group).

A rows x cols array of PEs holds two of the three GEMM dimensions in space and runs the third in
time. The dataflow decides which (SCALE-Sim's Sr, Sc and T):

========  ===================  ===================  ============
dataflow  Sr (array rows)      Sc (array columns)   T (in time)
========  ===================  ===================  ============
``os``    N E F pixels         M filters            C R S window
``ws``    C R S window         M filters            N E F pixels
``is``    C R S window         N E F pixels         M filters
========  ===================  ===================  ============

Output stationary keeps one partial sum per PE; weight stationary one weight; input stationary
one ifmap value. When Sr > rows or Sc > cols the work is *folded*: ceil(Sr / rows) x
ceil(Sc / cols) folds run one after another, each with its own fill and drain.

This is an analytical model: every number is a closed formula (below), which reproduces what
SCALE-Sim's cycle-by-cycle demand matrices add up to; ``tests/hardware/test_systolic.py``
cross-checks it against the real ``scalesim`` package when that is installed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .._checks import as_int, as_pair, check_instance
from ..counting import ConvShape, conv_output_size

#: The systolic dataflows, {name: title}: the one list the CLI and the explorers offer.
DATAFLOWS = {"os": "output stationary", "ws": "weight stationary", "is": "input stationary"}


@dataclass(frozen=True)
class SystolicResult:
    """What one layer costs on a rows x cols systolic array (see ``gemm`` for the formulas).

    Attributes
    ----------
    dataflow : str
        "os", "ws" or "is".
    rows, cols : int
        The array.
    Sr, Sc, T : int
        The GEMM dimensions on the array's rows, on its columns and in time (one group).
    groups : int
        Independent GEMMs run one after another (grouped convolution), 1 for a plain layer.
    row_folds, col_folds : int
        ceil(Sr / rows) and ceil(Sc / cols).
    cycles_per_fold : int
        Fill, stream and drain of one fold.
    cycles : int
        Cycles the array is busy, a count: groups x folds x cycles_per_fold.
    last_cycle_index : int
        SCALE-Sim's "Total Cycles", the 0-based index of the last busy cycle: ``cycles - 1``.
        Kept under this name so the SCALE-Sim cross-check compares like with like.
    macs : int
        Multiply-accumulates, groups x Sr x Sc x T.
    utilization : float
        Fraction (0..1] of the PE-cycles that do a MAC: macs / (rows x cols x cycles).
    mapping_efficiency : float
        Fraction (0..1] of the PEs mapped, averaged over the folds (SCALE-Sim's definition).
    sram_reads : dict
        {"ifmap": ..., "filter": ...} words read from the on-chip SRAMs.
    sram_writes : dict
        {"ofmap": ...} words written (final outputs and partial sums).
    """

    dataflow: str
    rows: int
    cols: int
    Sr: int
    Sc: int
    T: int
    groups: int
    row_folds: int
    col_folds: int
    cycles_per_fold: int
    cycles: int
    last_cycle_index: int
    macs: int
    utilization: float
    mapping_efficiency: float
    sram_reads: dict
    sram_writes: dict

    @property
    def folds(self) -> int:
        """Folds of one group: row_folds x col_folds."""
        return self.row_folds * self.col_folds

    def to_dict(self) -> dict:
        """The result as plain JSON-ready types (what ``python -m cnnlib systolic --json`` prints)."""
        return asdict(self)

    def __str__(self) -> str:
        lines = [
            f"{DATAFLOWS[self.dataflow]} on a {self.rows} x {self.cols} array",
            f"  GEMM on the array      Sr={self.Sr} (rows) x Sc={self.Sc} (cols), T={self.T} in time"
            + (f", {self.groups} groups" if self.groups > 1 else ""),
            f"  folds                  {self.row_folds} x {self.col_folds} = {self.folds}"
            f" of {self.cycles_per_fold} cycles",
            f"  MACs                   {self.macs:,}",
            f"  cycles                 {self.cycles:,}"
            f" (SCALE-Sim's last cycle index {self.last_cycle_index:,})",
            f"  utilization            {self.utilization:.2%}",
            f"  mapping efficiency     {self.mapping_efficiency:.2%}",
            f"  SRAM reads   ifmap     {self.sram_reads['ifmap']:,}",
            f"               filter    {self.sram_reads['filter']:,}",
            f"  SRAM writes  ofmap     {self.sram_writes['ofmap']:,}",
        ]
        return "\n".join(lines)


#: Where each dataflow puts the GEMM's dimensions: (array rows, array columns, time).
_PLACES = {
    "os": ("pixels", "filters", "window"),
    "ws": ("window", "filters", "pixels"),
    "is": ("window", "pixels", "filters"),
}


def _check_dataflow(dataflow) -> str:
    if dataflow not in DATAFLOWS:
        raise ValueError(f"dataflow must be one of {', '.join(DATAFLOWS)}; got {dataflow!r}")
    return dataflow


def gemm(pixels, window, filters, array, dataflow, *, groups=1) -> SystolicResult:
    """Cycles, utilization and SRAM traffic of a (pixels x window) @ (window x filters) GEMM on
    a systolic array (SCALE-Sim's P x K times K x M).

    Parameters
    ----------
    pixels : int
        Rows of the ifmap matrix: ofmap pixels, N E F.
    window : int
        The shared dimension: the window size, C R S (per group).
    filters : int
        Columns of the filter matrix: filters, M (per group).
    array : int or (int, int)
        (rows, cols) of PEs; an int means a square array.
    dataflow : {"os", "ws", "is"}
        Output, weight or input stationary.
    groups : int
        Run this many such GEMMs one after another (a grouped convolution).

    Returns
    -------
    SystolicResult

    Notes
    -----
    With (Sr, Sc, T) the dimensions on the rows, on the columns and in time (module docstring),
    r x c the array and folds = ceil(Sr / r) ceil(Sc / c):

    *Cycles per fold.* Operands enter the array skewed by one cycle per row and per column.

    - ``os``: PE (i, j) gets its first pair of operands at cycle i + j and its last T - 1
      cycles later, so the fold takes T + r + c - 2 cycles.
    - ``ws`` / ``is``: r cycles to load the stationary operand (one array row per cycle), then
      the T streamed vectors enter with r - 1 cycles of skew and the last partial sum needs
      c - 1 more cycles to leave the array: 2r + c + T - 2 cycles.

    *Cycles.* ``cycles`` counts the cycles the array is busy: groups x folds x cycles per fold.
    SCALE-Sim numbers cycles from 0 and reports the number of the last one ("Total Cycles" in
    its COMPUTE_REPORT, stall-free), one less; ``last_cycle_index`` is that figure, so it
    equals SCALE-Sim's exactly.

    *Utilization* = MACs / (r c cycles): the fraction of PE-cycles, over all the cycles the
    array is busy, that do a MAC. (SCALE-Sim's "Overall Util" divides by its last cycle index
    instead, which is 1 cycle short and exceeds 100 % on a 1 x 1 array.)

    *Mapping efficiency*: the fraction of the r c PEs a fold maps, averaged over the folds. The
    folds together map each of the Sr Sc (row, column) pairs once, so the average is
    Sr Sc / (folds r c).

    *SRAM traffic.* Each operand matrix is streamed once per fold of the GEMM dimension it does
    not contain; when that dimension is the one in time, the operand is used where it sits and
    read once. The ifmap (pixels x window) is read once per fold of the filters, the filters
    (window x filters) once per fold of the pixels, and the ofmap (pixels x filters) is written
    once per fold of the window (partial sums, when the window is folded over the rows). For
    ``os``, SCALE-Sim adds (r + c) to its ofmap write count on every fold, a bookkeeping quirk
    of its code that is not a data transfer; it is not counted here.

    Examples
    --------
    A 3 x 3 conv with C = 2 on a 5 x 5 input (9 pixels, a window of 18) and M = 3 filters, on
    4 x 4 PEs:

    >>> r = gemm(9, 18, 3, (4, 4), "os")
    >>> (r.row_folds, r.col_folds, r.cycles_per_fold, r.cycles, r.last_cycle_index)
    (3, 1, 24, 72, 71)
    >>> r.macs, f"{r.utilization:.4f}", r.mapping_efficiency
    (486, '0.4219', 0.5625)
    """
    pixels, window = as_int(pixels, "pixels", 1), as_int(window, "window", 1)
    filters = as_int(filters, "filters", 1)
    rows, cols = as_pair(array, "array", 1)
    dataflow = _check_dataflow(dataflow)
    groups = as_int(groups, "groups", 1)

    size = {"pixels": pixels, "window": window, "filters": filters}
    on_rows, on_cols, in_time = _PLACES[dataflow]
    Sr, Sc, T = size[on_rows], size[on_cols], size[in_time]
    row_folds, col_folds = math.ceil(Sr / rows), math.ceil(Sc / cols)
    folds = row_folds * col_folds
    if dataflow == "os":
        cycles_per_fold = T + rows + cols - 2
    else:
        cycles_per_fold = 2 * rows + cols + T - 2
    busy_cycles = groups * folds * cycles_per_fold
    macs = groups * pixels * window * filters

    # folds of each GEMM dimension; the one in time is not folded
    dim_folds = {on_rows: row_folds, on_cols: col_folds, in_time: 1}
    return SystolicResult(
        dataflow=dataflow,
        rows=rows,
        cols=cols,
        Sr=Sr,
        Sc=Sc,
        T=T,
        groups=groups,
        row_folds=row_folds,
        col_folds=col_folds,
        cycles_per_fold=cycles_per_fold,
        cycles=busy_cycles,
        last_cycle_index=busy_cycles - 1,
        macs=macs,
        utilization=macs / (rows * cols * busy_cycles),
        mapping_efficiency=(Sr * Sc) / (folds * rows * cols),
        sram_reads={
            "ifmap": groups * pixels * window * dim_folds["filters"],
            "filter": groups * window * filters * dim_folds["pixels"],
        },
        sram_writes={"ofmap": groups * pixels * filters * dim_folds["window"]},
    )


def layer(shape: ConvShape, array, dataflow) -> SystolicResult:
    """A CONV or FC layer (``ConvShape``) on a systolic array: ``gemm`` of the layer's GEMM.

    pixels = N E F (a batch is one taller GEMM), window = R S C / groups, filters = M / groups
    per group; padding is the layer's own (E and F are ``shape.E``, ``shape.F``).

    Examples
    --------
    An FC layer for one image fills a weight-stationary array well but keeps it busy very
    little of the time: each weight is loaded for a single MAC (T = N E F = 1).

    >>> from cnnlib.counting import ConvShape
    >>> r = layer(ConvShape.fc(N=1, C=4096, M=1000), (128, 128), "ws")
    >>> r.Sr, r.Sc, r.T, r.folds
    (4096, 1000, 1, 256)
    >>> f"mapping {r.mapping_efficiency:.3f}, utilization {r.utilization:.4f}"
    'mapping 0.977, utilization 0.0025'
    """
    check_instance(shape, ConvShape, "shape")
    return gemm(
        shape.N * shape.E * shape.F,
        shape.R * shape.S * (shape.C // shape.groups),
        shape.M // shape.groups,
        array,
        dataflow,
        groups=shape.groups,
    )


def topology_layer(ifmap, filters, stride, array, dataflow) -> SystolicResult:
    """A layer given as a row of SCALE-Sim's topology csv: pre-padded ifmap, filter, stride.

    Parameters
    ----------
    ifmap : (int, int, int)
        (H, W, C) of the input, padding already included.
    filters : (int, int, int)
        (R, S, M): filter height, width and number of filters.
    stride : int
        U, both axes.
    array, dataflow
        As in ``gemm``.

    Raises
    ------
    ValueError
        If the stride does not fit the input, i.e. (H - R) or (W - S) is not a multiple of U.
        SCALE-Sim then computes E = ceil((H - R + U) / U), one more output row than the layer
        has (a window hanging over the edge), while cnnlib uses the lecture's E = (H - R) / U + 1
        with the remainder rows skipped; refusing keeps the cycle counts equal to SCALE-Sim's.
        Pad the input so the stride fits, or use ``layer`` with a ``ConvShape``.

    Examples
    --------
    >>> topology_layer((5, 5, 2), (3, 3, 3), 1, (4, 4), "ws").last_cycle_index
    94
    """
    H, W, C = _triple(ifmap, "ifmap", "(H, W, C)")
    R, S, M = _triple(filters, "filters", "(R, S, M)")
    U = as_int(stride, "stride", 1)
    E = conv_output_size(H, R, stride=U)
    F = conv_output_size(W, S, stride=U, names=("W", "S"))
    try:
        conv_output_size(H, R, stride=U, strict=True)
        conv_output_size(W, S, stride=U, strict=True, names=("W", "S"))
    except ValueError as exc:
        raise ValueError(
            f"{exc}; SCALE-Sim would count one more, partial window there: pad the input so the stride fits"
        ) from None
    return gemm(E * F, R * S * C, M, array, dataflow)


def _triple(value, name: str, layout: str) -> tuple[int, int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"{name} must be three ints {layout}; got {value!r}")
    parts = layout[1:-1].split(", ")
    return tuple(as_int(v, f"{name} {part}", 1) for v, part in zip(value, parts, strict=True))
