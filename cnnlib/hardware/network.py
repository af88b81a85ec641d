"""A whole network on the chip: every CONV and FC layer mapped, then Sze et al.'s metrics.

``map_network`` runs the mapper (``mapper.search``) on every CONV and FC layer of a model, one
after another on the same array (pooling, activations and normalization are not mapped: they
cost little next to the MACs and Eyeriss runs them outside the PE array), and adds up:

- MACs, energy (per level, NoC and MAC), cycles, DRAM accesses (words of the chip's word size);
- latency = cycles / clock, and the metrics of Sze et al.'s book (*Efficient Processing of Deep
  Neural Networks*, 2020, ch. 3): throughput (inferences/s), energy per inference,
  inferences/J, TOPS/W, DRAM accesses per MAC, utilization (the fraction of PE-cycles that do a
  MAC).

Energies come twice: in the searched chip's unit (Sze's normalized costs: relative, x one
16-bit MAC) and in pJ, the same counts priced with Horowitz's 45 nm table
(``precision.priced``). The clock is Eyeriss's, 200 MHz with 168 PEs (Chen et al., JSSC 2017),
unless given. Word size and zeros (``precision``, ``sparse``) change the chip and the counts.

Examples
--------
>>> net = map_network("lenet5")
>>> [row.name for row in net.layers], net.total()["macs"]
(['c1', 'c3', 'f5', 'f6', 'output'], 416520)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import models
from .._checks import as_int
from ..counting import ConvShape, conv_layers
from .analytical import Counts
from .arch import EYERISS_CLOCK_HZ, OPERANDS, Architecture
from .dataflows import Dataflow, dataflow
from .mapper import Best, search
from .precision import Precision, precision, priced
from .report import Report
from .sparse import effective_counts


@dataclass
class LayerCost:
    """One mapped layer: the dense mapping the mapper found, and what it costs with the zeros
    the chip exploits (``counts``, see ``sparse.effective_counts``)."""

    name: str
    layer: ConvShape
    best: Best
    counts: Counts
    report: Report      # the effective counts on the searched chip
    absolute: Report    # the same counts priced in pJ (45 nm)

    @property
    def macs(self) -> int:
        """The layer's MACs (dense: zeros included)."""
        return self.layer.macs

    @property
    def cycles(self) -> float:
        return self.report.cycles

    @property
    def dram_accesses(self) -> float:
        """Words read from or written to DRAM (compressed words with RLC)."""
        return self.counts.accesses(self.report.arch.levels[0].name)

    @property
    def issued(self) -> float:
        """MACs the PEs issue (each step, one per active PE): the dense MACs unless skipping."""
        return self.counts.steps * self.counts.active_pes


def _row(name, macs, energy, by_level, energy_pj, cycles, dram, issued, active_cycles, clock, pes) -> dict:
    return {
        "name": name,
        "macs": macs,
        "energy": energy,
        "energy_by_level": by_level,
        "energy_pj": energy_pj,
        "cycles": cycles,
        "latency_s": cycles / clock,
        "dram_accesses": dram,
        "dram_accesses_per_mac": dram / macs,
        "utilization": issued / (cycles * pes),
        "spatial_utilization": active_cycles / (cycles * pes),
    }


@dataclass
class NetworkCost:
    """Every CONV/FC layer of a network mapped on one chip, with totals (``total``)."""

    model: str
    batch: int
    dataflow: str
    precision: Precision
    arch: Architecture
    clock_hz: float
    layers: list

    def _by_level(self, rep: Report) -> dict:
        rows = {lv.name: rep.level_energy(lv.name) for lv in rep.arch.levels}
        return {**rows, "NoC": rep.noc_energy(), "MAC": rep.mac_energy}

    def rows(self) -> list[dict]:
        """One dict per layer: name, macs, energy (total and by level, in ``arch.energy_unit``),
        energy_pj, cycles, latency_s, dram_accesses (words), dram_accesses_per_mac,
        utilization (MACs issued / (cycles x PEs)), spatial_utilization (active PEs / PEs)."""
        return [
            _row(lc.name, lc.macs, lc.report.energy, self._by_level(lc.report), lc.absolute.energy, lc.cycles,
                 lc.dram_accesses, lc.issued, lc.counts.active_pes * lc.cycles, self.clock_hz, self.arch.pes)
            for lc in self.layers
        ]

    def total(self) -> dict:
        """The rows' keys summed over the layers (ratios recomputed), plus per inference:
        inferences_per_s, energy_per_inference (``arch.energy_unit``), energy_per_inference_pj,
        inferences_per_J, tops_per_W (2 ops per MAC), power_W (average, at the clock, DRAM
        included) and chip_power_W (without the DRAM's energy: what a chip's measured power
        covers)."""
        rows = self.rows()
        by_level = {k: sum(r["energy_by_level"][k] for r in rows) for k in rows[0]["energy_by_level"]}
        cycles = sum(r["cycles"] for r in rows)
        total = _row(
            "total", sum(r["macs"] for r in rows), sum(r["energy"] for r in rows), by_level,
            sum(r["energy_pj"] for r in rows), cycles, sum(r["dram_accesses"] for r in rows),
            sum(lc.issued for lc in self.layers), sum(lc.counts.active_pes * lc.cycles for lc in self.layers),
            self.clock_hz, self.arch.pes,
        )
        joules = total["energy_pj"] * 1e-12
        total.update(
            inferences_per_s=self.batch / total["latency_s"],
            energy_per_inference=total["energy"] / self.batch,
            energy_per_inference_pj=total["energy_pj"] / self.batch,
            inferences_per_J=self.batch / joules,
            tops_per_W=2 * total["macs"] / total["energy_pj"],
            power_W=joules / total["latency_s"],
            chip_power_W=sum(lc.absolute.energy - lc.absolute.level_energy(self.arch.levels[0].name)
                             for lc in self.layers) * 1e-12 / total["latency_s"],
        )
        return total

    def to_dict(self) -> dict:
        """JSON-ready: model, batch, dataflow, precision, arch, energy_unit, clock_hz, pes,
        layers (``rows()``), total (``total()``)."""
        return {
            "model": self.model, "batch": self.batch, "dataflow": self.dataflow,
            "precision": self.precision.name, "arch": self.arch.name, "energy_unit": self.arch.energy_unit,
            "clock_hz": self.clock_hz, "pes": self.arch.pes, "layers": self.rows(), "total": self.total(),
        }

    def table(self) -> str:
        """Per-layer rows and the totals as text."""
        unit = self.arch.energy_unit
        head = (f"{'layer':<34}{'MACs':>15}{'energy/MAC':>11}{'DRAM/MAC':>10}{'cycles':>15}{'util':>6}")
        lines = [f"{self.model}, batch {self.batch}, {self.dataflow} on {self.arch.name} ({self.arch.rows} x "
                 f"{self.arch.cols} PEs, {self.clock_hz / 1e6:g} MHz); energy in {unit}", head]
        for r in [*self.rows(), self.total()]:
            lines.append(f"{r['name']:<34}{r['macs']:>15,}{r['energy'] / r['macs']:>11.2f}"
                         f"{r['dram_accesses_per_mac']:>10.4f}{r['cycles']:>15,.0f}{r['utilization']:>6.0%}")
        t = self.total()
        lines.append(
            f"per inference: {t['energy_per_inference']:,.4g} {unit}, "
            f"{t['energy_per_inference_pj'] / 1e6:,.4g} uJ (45 nm); "
            f"{t['inferences_per_s']:,.4g} inferences/s, {t['inferences_per_J']:,.4g} inferences/J, "
            f"{t['tops_per_W']:.3g} TOPS/W, {t['power_W'] * 1e3:,.4g} mW"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _layer_density(density, name: str):
    """The density dict of layer ``name``: one for every layer, or {layer name: {...}}."""
    if density is None or set(density) <= set(OPERANDS):
        return density
    if name not in density:
        raise ValueError(
            f"density must give every layer or be keyed by operands {OPERANDS}; no entry for {name!r}"
        )
    return density[name]


def map_network(model, *, batch: int = 1, flow: str | Dataflow = "rs", prec: str | Precision | None = None,
                table: str = "sze", density=None, gating: bool = False, skipping: bool = False,
                rlc=False, clock_hz: float = EYERISS_CLOCK_HZ,
                objective: str = "energy") -> NetworkCost:
    """Map every CONV and FC layer of ``model`` and cost the whole network.

    Parameters
    ----------
    model : str or sequence of (str, ConvShape)
        A name from ``cnnlib.models.names()``, or the layers themselves (their N is the batch).
    batch : int
        N, images per inference run (a name's layers are built with it).
    flow : str or Dataflow
        The dataflow (``dataflows.DATAFLOWS``); its architecture is the chip.
    prec : str or Precision, optional
        Word size of the chip (``precision.PRECISIONS``); None keeps the chip's own 16-bit words.
    table : {"sze", "45nm"}
        How the searched chip is priced when ``prec`` is given (``precision.priced``); the
        mapper minimises that energy. ``energy_pj`` is always the same counts priced at 45 nm.
    density : dict, optional
        {operand: fraction of nonzeros} for every layer, or {layer name: {operand: ...}}.
    gating, skipping : bool
        Exploit the zeros (``sparse.effective_counts``).
    rlc : bool or tuple of str
        Run-length code the DRAM traffic of the feature maps (True) or of the operands named.
    clock_hz : float
        Clock for latency and throughput (Eyeriss: 200 MHz).
    objective : {"energy", "edp"}
        What the mapper minimises per layer.

    Returns
    -------
    NetworkCost
    """
    batch = as_int(batch, "batch", 1)
    if isinstance(clock_hz, bool) or not isinstance(clock_hz, (int, float)) or not clock_hz > 0:
        raise ValueError(f"clock_hz must be a positive number; got {clock_hz!r}")
    flow = dataflow(flow) if isinstance(flow, str) else flow
    if not isinstance(flow, Dataflow):
        raise TypeError(f"flow must be a dataflow name or a Dataflow; got {type(flow).__name__}")
    if isinstance(model, str):
        name, layers = model, conv_layers(models.get(model), models.input_shape(model), batch)
    else:
        name, layers = "layers", list(model)
    if not layers:
        raise ValueError(f"model must have at least one CONV or FC layer; {name} has none")
    own = precision(prec if prec is not None else f"int{flow.arch.word_bits}")  # the chip's own: fixed point
    chip = flow.arch if prec is None else priced(flow.arch, own, table)
    pj = priced(flow.arch, own, "45nm")
    searched = replace(flow, arch=chip)
    costs = []
    for layer_name, shape in layers:
        best = search(shape, searched, objective)
        counts = effective_counts(best.report.counts, chip, _layer_density(density, layer_name),
                                  gating=gating, skipping=skipping, rlc=rlc)
        costs.append(LayerCost(layer_name, shape, best, counts, Report(shape, chip, best.mapping, counts),
                               Report(shape, pj, best.mapping, counts)))
    return NetworkCost(name, batch, flow.name, own, chip, float(clock_hz), costs)
