"""Energy, cycles and utilization of a mapped layer: counts times costs, Timeloop-style report.

Energy = sum over levels and operands of (reads + writes) x the level's energy per access
       + NoC transfers x the NoC energy per word + MACs x the MAC energy.

Cycles: the spatial loops run in parallel, so compute takes MACs / active PEs cycles; each level
also needs (reads + writes) / (bandwidth x instances) cycles to move its words (a level below the
fanout has one instance per active PE). The layer takes the largest of these (perfect overlap of
compute and transfers, the usual roofline-style assumption). Utilization is active PEs / PEs
(spatial) and MACs / (cycles x PEs) (including the time lost to bandwidth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..counting import ConvShape
from .analytical import Counts, analyze
from .arch import OPERANDS, Architecture
from .mapping import Mapping


def energy(counts: Counts, arch: Architecture):
    """Total energy of ``counts`` on ``arch`` (works elementwise on a batch of counts)."""
    total = counts.macs * arch.mac_energy
    for (level, _), n in counts.reads.items():
        total = total + n * arch.levels[arch.level_index[level]].energy
    for (level, _), n in counts.writes.items():
        total = total + n * arch.levels[arch.level_index[level]].energy
    for n in counts.noc.values():
        total = total + n * arch.noc_energy
    return total


def cycles(counts: Counts, arch: Architecture):
    """(total cycles, {level: cycles its bandwidth needs}); compute cycles are ``counts.steps``."""
    per_level = {}
    for i, lv in enumerate(arch.levels):
        if lv.bandwidth is None:
            continue
        words = counts.accesses(lv.name)
        instances = counts.active_pes if arch.per_pe(i) else 1
        per_level[lv.name] = words / (lv.bandwidth * instances)
    total = counts.steps
    for c in per_level.values():
        total = np.maximum(total, c)
    return total, per_level


@dataclass
class Report:
    """The cost of one mapped layer, broken down per level and operand."""

    layer: ConvShape
    arch: Architecture
    mapping: Mapping
    counts: Counts

    @property
    def macs(self) -> int:
        return self.counts.macs

    def level_energy(self, level: str, operand: str | None = None) -> float:
        """Energy of the accesses to ``level`` (one operand, or all)."""
        lv = self.arch.levels[self.arch.level_index[level]]
        return self.counts.accesses(level, operand) * lv.energy

    def noc_energy(self, operand: str | None = None) -> float:
        ops = OPERANDS if operand is None else (operand,)
        return sum(self.counts.noc.get(op, 0) for op in ops) * self.arch.noc_energy

    @property
    def mac_energy(self) -> float:
        return self.counts.macs * self.arch.mac_energy

    @property
    def energy(self) -> float:
        """Total energy, in the architecture's unit."""
        return float(energy(self.counts, self.arch))

    @property
    def energy_per_mac(self) -> float:
        return self.energy / self.counts.macs

    def breakdown(self) -> dict:
        """{row: {operand: energy}} with rows the levels, "NoC" and "MAC" (MAC under "-")."""
        rows = {lv.name: {op: self.level_energy(lv.name, op) for op in OPERANDS} for lv in self.arch.levels}
        rows["NoC"] = {op: self.noc_energy(op) for op in OPERANDS}
        rows["MAC"] = {"-": self.mac_energy}
        return rows

    @property
    def cycles(self) -> float:
        return float(cycles(self.counts, self.arch)[0])

    @property
    def utilization(self) -> float:
        """Active PEs / PEs: the fraction of the array the spatial loops use."""
        return self.counts.active_pes / self.arch.pes

    @property
    def effective_utilization(self) -> float:
        """MACs / (cycles x PEs): utilization including cycles lost waiting for bandwidth."""
        return self.counts.macs / (self.cycles * self.arch.pes)

    def table(self) -> str:
        """A per-level table (like Timeloop's stats): accesses, energy and energy per MAC."""
        c, macs = self.counts, self.counts.macs
        lines = [
            f"{'level':<6}{'operand':<9}{'reads':>14}{'writes':>14}{'energy':>16}{'per MAC':>9}",
        ]
        for lv in self.arch.levels:
            for op in OPERANDS:
                r, w = c.reads.get((lv.name, op), 0), c.writes.get((lv.name, op), 0)
                if r or w:
                    e = self.level_energy(lv.name, op)
                    lines.append(f"{lv.name:<6}{op:<9}{r:>14,}{w:>14,}{e:>16,.0f}{e / macs:>9.3f}")
        for op in OPERANDS:
            n = c.noc.get(op, 0)
            if n:
                e = self.noc_energy(op)
                lines.append(f"{'NoC':<6}{op:<9}{n:>14,}{'':>14}{e:>16,.0f}{e / macs:>9.3f}")
        lines.append(f"{'MAC':<15}{macs:>14,}{'':>14}{self.mac_energy:>16,.0f}{self.arch.mac_energy:>9.3f}")
        lines.append(f"{'total':<43}{self.energy:>16,.0f}{self.energy_per_mac:>9.3f}")
        lines.append(
            f"cycles {self.cycles:,.0f} (compute {c.steps:,}), PEs {c.active_pes}/{self.arch.pes} "
            f"(utilization {self.utilization:.1%}, effective {self.effective_utilization:.1%}); "
            f"energy in {self.arch.energy_unit}"
        )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """A JSON-ready dict with stable keys (see ``python -m cnnlib map --help``)."""
        c = self.counts
        total, bw = cycles(c, self.arch)
        return {
            "layer": {
                k: getattr(self.layer, k) for k in ("N", "C", "H", "W", "M", "R", "S", "U", "P", "groups")
            },
            "arch": self.arch.name,
            "loop_nest": self.mapping.loop_nest(self.layer, self.arch),
            "macs": c.macs,
            "accesses": {
                lv.name: {
                    op: {"reads": c.reads.get((lv.name, op), 0), "writes": c.writes.get((lv.name, op), 0)}
                    for op in OPERANDS
                }
                for lv in self.arch.levels
            },
            "noc": {op: c.noc.get(op, 0) for op in OPERANDS},
            "energy": {
                "total": self.energy,
                "per_mac": self.energy_per_mac,
                "unit": self.arch.energy_unit,
                "per_level": {lv.name: self.level_energy(lv.name) for lv in self.arch.levels},
                "noc": self.noc_energy(),
                "mac": self.mac_energy,
            },
            "cycles": {
                "total": float(total),
                "compute": c.steps,
                "bandwidth": {k: float(v) for k, v in bw.items()},
            },
            "utilization": self.utilization,
            "effective_utilization": self.effective_utilization,
            "active_pes": c.active_pes,
            "pes": self.arch.pes,
        }


def evaluate(mapping: Mapping, layer: ConvShape, arch: Architecture) -> Report:
    """Check ``mapping``, count its accesses (``analytical.analyze``) and cost them on ``arch``."""
    return Report(layer, arch, mapping, analyze(mapping, layer, arch))
