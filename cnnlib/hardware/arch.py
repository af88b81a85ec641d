"""Accelerator architectures as declarative data: storage levels, a PE array, energy per access.

An ``Architecture`` lists its storage levels from the outermost (DRAM) to the innermost (the
register file, RF, in each PE). A 2-D array of ``rows x cols`` processing elements (PEs) sits
below level ``fanout``: levels ``0..fanout`` are shared by the whole array, levels below it are
private to each PE (one instance per PE). Data crossing the fanout travel on the PE array's
network-on-chip (NoC), which costs ``noc_energy`` per word delivered to or sent from a PE.

Every level says which operands it holds (``"weights"``, ``"inputs"``, ``"outputs"``); a level
that does not hold an operand is bypassed by it. The outermost level holds all three and has
unbounded capacity. Capacities are in words (``word_bits`` each); a level's ``capacity`` is an
int shared by the operands it holds, or a dict giving each operand its own partition (Eyeriss's
separate filter, ifmap and psum scratchpads). Energies are per word accessed, in ``energy_unit``
(``"x MAC"``: relative to one MAC, Sze et al.'s normalized costs, see ``energy.SZE_NORMALIZED``).
Bandwidth is in words per cycle per instance (``None``: never the bottleneck).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._checks import as_int, as_real
from .energy import sze_normalized

OPERANDS = ("weights", "inputs", "outputs")


@dataclass(frozen=True)
class Level:
    """One storage level.

    Parameters
    ----------
    name : str
        E.g. "DRAM", "GLB", "RF".
    holds : tuple of str
        The operands stored here, a subset of ("weights", "inputs", "outputs").
    capacity : int, dict or None
        Words (shared by the operands held), a dict {operand: words} (one partition each), or
        None for unbounded (the outermost level only).
    energy : float
        Energy per word read or written.
    bandwidth : float or None
        Words per cycle per instance; None for unlimited.
    """

    name: str
    holds: tuple[str, ...]
    capacity: int | dict | None
    energy: float
    bandwidth: float | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"level name must be a non-empty str; got {self.name!r}")
        holds = (self.holds,) if isinstance(self.holds, str) else tuple(self.holds)
        unknown = [op for op in holds if op not in OPERANDS]
        if unknown or not holds or len(set(holds)) != len(holds):
            raise ValueError(
                f"level {self.name}: holds must be distinct operands from {OPERANDS}; got {self.holds!r}"
            )
        object.__setattr__(self, "holds", tuple(op for op in OPERANDS if op in holds))
        if isinstance(self.capacity, dict):
            if set(self.capacity) != set(self.holds):
                raise ValueError(
                    f"level {self.name}: a partitioned capacity needs one entry per operand held "
                    f"{self.holds}; got {sorted(self.capacity)}"
                )
            for op, words in self.capacity.items():
                as_int(words, f"level {self.name} capacity[{op!r}]", 1)
        elif self.capacity is not None:
            as_int(self.capacity, f"level {self.name} capacity", 1)
        as_real(self.energy, f"level {self.name} energy", 0, strict=True)
        if self.bandwidth is not None:
            as_real(self.bandwidth, f"level {self.name} bandwidth", 0, strict=True)

    def __hash__(self):  # a dict capacity hashes as its items, so architectures can key a cache
        cap = tuple(sorted(self.capacity.items())) if isinstance(self.capacity, dict) else self.capacity
        return hash((self.name, self.holds, cap, self.energy, self.bandwidth))

    def capacity_of(self, operand: str) -> int | None:
        """Words available to ``operand`` (a shared capacity is returned whole)."""
        if isinstance(self.capacity, dict):
            return self.capacity[operand]
        return self.capacity

    def _capacity_text(self) -> str:
        if self.capacity is None:
            return "unbounded"
        if isinstance(self.capacity, dict):
            return ", ".join(f"{op[0].upper()} {w}" for op, w in self.capacity.items())
        return f"{self.capacity} shared"


@dataclass(frozen=True)
class Architecture:
    """A spatial accelerator: storage levels (outermost first), a PE array, MAC and NoC energy.

    ``sliding_window`` (default True): when an input tile moves by less than it spans (a window
    sliding along a row), a level keeps the words the old and new tiles share and fetches only
    the new ones, as Timeloop counts. False restores the simpler rule that refetches the whole
    tile (see ``cnnlib.hardware.analytical``, rule 1).

    Raises ``ValueError`` for inconsistent descriptions: fewer than one level, duplicate names,
    an outermost level that is bounded or misses an operand, a capacity that grows from a level
    to an inner one, a fanout index out of range, a non-positive array size or energy.
    """

    name: str
    levels: tuple[Level, ...]
    rows: int
    cols: int
    fanout: int
    mac_energy: float = 1.0
    noc_energy: float = 2.0
    word_bits: int = 16
    energy_unit: str = "x MAC"
    sliding_window: bool = True
    level_index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        levels = tuple(self.levels)
        object.__setattr__(self, "levels", levels)
        if not levels or not all(isinstance(lv, Level) for lv in levels):
            raise TypeError(f"levels must be a non-empty sequence of Level; got {self.levels!r}")
        names = [lv.name for lv in levels]
        if len(set(names)) != len(names):
            raise ValueError(f"level names must be distinct; got {names}")
        top = levels[0]
        if top.capacity is not None or set(top.holds) != set(OPERANDS):
            raise ValueError(
                f"the outermost level ({top.name}) must hold all operands {OPERANDS} with unbounded "
                f"capacity (None); got holds={top.holds}, capacity={top.capacity}"
            )
        for inner in levels[1:]:
            if inner.capacity is None:
                raise ValueError(f"only the outermost level may be unbounded; {inner.name} is")
        for op in OPERANDS:
            held = [lv for lv in levels if op in lv.holds]
            for outer, inner in zip(held, held[1:], strict=False):
                if outer.capacity is not None and inner.capacity_of(op) > outer.capacity_of(op):
                    raise ValueError(
                        f"levels out of order: {inner.name} ({inner.capacity_of(op)} words for {op}) "
                        f"is inside {outer.name} but larger ({outer.capacity_of(op)} words)"
                    )
        as_int(self.rows, "rows", 1)
        as_int(self.cols, "cols", 1)
        as_int(self.fanout, "fanout", 0)
        if self.fanout >= len(levels):
            raise ValueError(
                f"fanout must index a level (0..{len(levels) - 1}) above the PE array; got {self.fanout}"
            )
        as_real(self.mac_energy, "mac_energy", 0, strict=True)
        as_real(self.noc_energy, "noc_energy", 0, strict=True)
        as_int(self.word_bits, "word_bits", 1)
        if not isinstance(self.sliding_window, bool):
            raise TypeError(f"sliding_window must be True or False; got {self.sliding_window!r}")
        object.__setattr__(self, "level_index", {lv.name: i for i, lv in enumerate(levels)})

    @property
    def pes(self) -> int:
        """Number of processing elements, rows x cols."""
        return self.rows * self.cols

    def per_pe(self, level: int) -> bool:
        """True if level ``level`` (an index) is private to each PE (below the fanout)."""
        return level > self.fanout

    def parent(self, level: int, operand: str) -> int | None:
        """Index of the next outer level holding ``operand`` (None for the outermost)."""
        for i in range(level - 1, -1, -1):
            if operand in self.levels[i].holds:
                return i
        return None

    def innermost(self, operand: str) -> int:
        """Index of the innermost level holding ``operand``: where the MACs read it."""
        return max(i for i, lv in enumerate(self.levels) if operand in lv.holds)

    def table(self) -> str:
        """The architecture as a small text table, outermost level first."""
        lines = [
            f"{self.name}: {self.rows} x {self.cols} PEs, {self.word_bits}-bit words, "
            f"energy in {self.energy_unit} (MAC {self.mac_energy:g}, NoC {self.noc_energy:g}/word)",
            f"{'level':<8}{'instances':>10}{'capacity (words)':>26}{'energy':>8}{'bandwidth':>11}  holds",
        ]
        for i, lv in enumerate(self.levels):
            inst = f"{self.pes}" if self.per_pe(i) else "1"
            bw = "-" if lv.bandwidth is None else f"{lv.bandwidth:g}"
            held = ", ".join(lv.holds)
            lines.append(
                f"{lv.name:<8}{inst:>10}{lv._capacity_text():>26}{lv.energy:>8g}{bw:>11}  {held}"
            )
            if i == self.fanout:
                lines.append(f"{'':<12}-- {self.rows} x {self.cols} PE array below --")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


#: Eyeriss's per-PE scratchpads in 16-bit words (Chen et al., ISCA 2016 / JSSC 2017).
EYERISS_SPADS = {"weights": 224, "inputs": 12, "outputs": 24}
#: Eyeriss's global buffer: 108 kB of 16-bit words.
EYERISS_GLB_WORDS = 108 * 1024 // 2
#: Eyeriss's core clock in Hz (Chen et al., JSSC 2017: 200 MHz for its 168 PEs).
EYERISS_CLOCK_HZ = 200e6


def eyeriss_like(rows: int = 12, cols: int = 14, glb_words: int = EYERISS_GLB_WORDS, rf=None) -> Architecture:
    """An Eyeriss-like accelerator: DRAM, a 108 kB global buffer, a 12 x 14 array of PEs with
    separate scratchpads (224 filter, 12 ifmap, 24 psum words of 16 bits), normalized energies.

    Energies are Sze et al.'s (DRAM 200, GLB 6, NoC 2, RF 1, MAC 1). Bandwidths are this
    course's assumptions, not Eyeriss's measured figures: DRAM 4 words/cycle (a 64-bit bus),
    GLB 16 words/cycle, each PE's RF 4 words/cycle (a MAC's two reads and a psum update).

    ``rf`` replaces the scratchpad partition (a dict {operand: words} or an int shared by all);
    ``rf={}`` removes the RF level (a PE with no local storage reads everything over the NoC).
    """
    rf = dict(EYERISS_SPADS) if rf is None else rf
    levels = [
        Level("DRAM", OPERANDS, None, sze_normalized("DRAM"), bandwidth=4),
        Level("GLB", OPERANDS, glb_words, sze_normalized("GLB"), bandwidth=16),
    ]
    if rf != {}:
        holds = tuple(rf) if isinstance(rf, dict) else OPERANDS
        levels.append(Level("RF", holds, rf, sze_normalized("RF"), bandwidth=4))
    return Architecture(
        "Eyeriss-like",
        tuple(levels),
        rows=rows,
        cols=cols,
        fanout=1,
        mac_energy=sze_normalized("MAC"),
        noc_energy=sze_normalized("NoC"),
    )


def simple_arch(rows: int = 2, cols: int = 2, glb_words: int = 256, rf_words: int = 16) -> Architecture:
    """A small generic accelerator for teaching and tests: DRAM, a shared global buffer and a
    per-PE register file that all operands share, with Sze et al.'s normalized energies."""
    return Architecture(
        "simple",
        (
            Level("DRAM", OPERANDS, None, sze_normalized("DRAM"), bandwidth=4),
            Level("GLB", OPERANDS, glb_words, sze_normalized("GLB"), bandwidth=16),
            Level("RF", OPERANDS, rf_words, sze_normalized("RF"), bandwidth=4),
        ),
        rows=rows,
        cols=cols,
        fanout=1,
        mac_energy=sze_normalized("MAC"),
        noc_energy=sze_normalized("NoC"),
    )
