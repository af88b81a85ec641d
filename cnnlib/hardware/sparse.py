"""Zeros on the chip: zero gating, zero skipping and run-length-compressed DRAM traffic.

A mapped layer's ``Counts`` (``analytical.analyze``) assume dense operands. Given the *density*
of each operand (the fraction of nonzero values: 1 - sparsity), ``effective_counts`` returns
the counts a chip that exploits the zeros would see:

- **Zero gating**: a MAC with a zero operand does not toggle the multiplier, so it costs no MAC
  energy; it still takes its cycle. Eyeriss gates the MAC (and the weight read, which is not
  modelled here) when an input is zero (Chen et al., JSSC 2017, Sec. V-A).
- **Zero skipping**: a MAC with a zero operand is not issued at all: it costs neither energy
  nor a cycle (ideal: no load imbalance between PEs).
- **Run-length coding (RLC)** of the DRAM traffic of the feature maps (inputs and outputs), as
  Eyeriss stores them (``cnnlib.sparsity.rlc_encode``): ``rlc_bits_per_value`` gives the
  expected bits per value at a density.

Zeros are assumed independent: a MAC has both operands nonzero with probability d_weights x
d_inputs, and a value is zero independently of its neighbours (real feature maps cluster their
zeros, which helps RLC; measure with ``rlc_encode`` on real maps to see by how much).
"""

from __future__ import annotations

import numbers

from .._checks import as_int
from .analytical import Counts
from .arch import OPERANDS, Architecture


def _density(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1]; got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a density in [0, 1] (the fraction of nonzeros); got {value}")
    return float(value)


def densities(values=None) -> dict:
    """{operand: density} with every operand of ``OPERANDS`` (missing ones dense, 1.0), checked."""
    values = {} if values is None else dict(values)
    unknown = set(values) - set(OPERANDS)
    if unknown:
        raise ValueError(f"densities must be keyed by {OPERANDS}; got {sorted(unknown)}")
    return {op: _density(values.get(op, 1.0), f"densities[{op!r}]") for op in OPERANDS}


def rlc_bits_per_value(density, value_bits: int = 16, run_bits: int = 5, word_bits: int = 64) -> float:
    """Expected bits per value of Eyeriss's run-length code at ``density`` (independent zeros).

    The code packs (run, value) pairs, ``word_bits // (run_bits + value_bits)`` to a word
    (Eyeriss: three 21-bit pairs in 64 bits). A pair ends at each nonzero, or after
    2**run_bits zeros (a full run of 2**run_bits - 1 zeros and a zero value), so the values per
    pair are L = min(G, 2**run_bits) with G geometric, and

        pairs per value = 1 / E[L] = d / (1 - (1 - d)**(2**run_bits))      (-> 2**-run_bits as d -> 0)

    Examples
    --------
    Dense 16-bit maps grow by 4/3 (a pair is 64/3 bits); the code breaks even near d = 0.75:

    >>> [round(rlc_bits_per_value(d) / 16, 3) for d in (1.0, 0.75)], round(rlc_bits_per_value(0.0), 3)
    ([1.333, 1.0], 0.667)
    """
    d = _density(density, "density")
    value_bits, run_bits = as_int(value_bits, "value_bits", 1), as_int(run_bits, "run_bits", 1)
    pairs_per_word = as_int(word_bits, "word_bits", 1) // (run_bits + value_bits)
    if pairs_per_word == 0:
        raise ValueError(f"word_bits must hold one pair of {run_bits} + {value_bits} bits; got {word_bits}")
    longest = 2**run_bits
    pairs = 1 / longest if d == 0 else d / (1 - (1 - d) ** longest)
    return word_bits / pairs_per_word * pairs


def effective_counts(counts: Counts, arch: Architecture, density=None, *, gating: bool = False,
                     skipping: bool = False, rlc=False) -> Counts:
    """The counts of a chip that exploits zeros: what costs energy and time.

    Parameters
    ----------
    counts : Counts
        A mapped layer's dense counts (``report.Report.counts``).
    arch : Architecture
        The chip (its outermost level is the DRAM, its ``word_bits`` the value width).
    density : dict, optional
        {operand: fraction of nonzeros}; missing operands are dense. "outputs" is the density
        of the layer's output map (after its ReLU), which RLC writes to DRAM.
    gating : bool
        A MAC with a zero weight or input costs no MAC energy.
    skipping : bool
        A MAC with a zero weight or input is not issued: no MAC energy, no cycle, and none of
        its own accesses in a PE's innermost storage (its weight and input reads, its psum read
        and write). Where the innermost level of an operand is shared by the array (no RF), its
        NoC deliveries are skipped instead.
    rlc : bool or tuple of str
        Run-length code these operands' DRAM traffic; True means ("inputs", "outputs"), the
        feature maps, as Eyeriss does. ``("weights", "inputs", "outputs")`` codes pruned
        weights too.

    Returns
    -------
    Counts
        ``macs`` are the MACs that cost energy, ``steps`` the compute cycles, DRAM reads and
        writes of the coded operands in (fractional) words of compressed data; everything else
        as ``counts``. Price them with ``report.energy`` and ``report.cycles``.

    Examples
    --------
    Half the weights and 40 % of the inputs nonzero: 20 % of the MACs do work.

    >>> from cnnlib.hardware.arch import eyeriss_like
    >>> dense = Counts(macs=1000, steps=10, active_pes=100,
    ...                reads={("DRAM", "inputs"): 300, ("RF", "weights"): 1000})
    >>> c = effective_counts(dense, eyeriss_like(), {"weights": 0.5, "inputs": 0.4}, skipping=True)
    >>> c.macs, c.steps, c.reads[("RF", "weights")], c.reads[("DRAM", "inputs")]
    (200.0, 2.0, 200.0, 300)
    """
    d = densities(density)
    coded = ("inputs", "outputs") if rlc is True else () if rlc is False else tuple(rlc)
    if any(op not in OPERANDS for op in coded):
        raise ValueError(f"rlc must be True, False or a tuple of operands from {OPERANDS}; got {rlc!r}")
    both = d["weights"] * d["inputs"]  # a MAC does useful work when neither operand is zero
    macs = counts.macs * both if gating or skipping else counts.macs
    steps = counts.steps * both if skipping else counts.steps
    reads, writes, noc = dict(counts.reads), dict(counts.writes), dict(counts.noc)
    if skipping:
        skipped = counts.macs * (1 - both)
        for op in OPERANDS:
            inner = arch.innermost(op)
            key = (arch.levels[inner].name, op)
            if not arch.per_pe(inner):
                if op in noc:
                    noc[op] = noc[op] - skipped
                continue
            for table in (reads, writes) if op == "outputs" else (reads,):
                if key in table:
                    table[key] = table[key] - skipped
    dram = arch.levels[0].name
    for op in coded:
        ratio = rlc_bits_per_value(d[op], arch.word_bits) / arch.word_bits
        for table in (reads, writes):
            if (dram, op) in table:
                table[dram, op] = table[dram, op] * ratio
    return Counts(macs, steps, counts.active_pes, reads, writes, noc)
