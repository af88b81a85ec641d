"""Counting the size of a CNN: weights, MACs and memory, per layer and per network.

In the lecture's notation: N batch, C input channels, H x W input fmap, R x S filter, M filters,
E x F output fmap, U stride, P padding, D dilation.

- ``LayerCounts`` and ``conv_counts``, ``weighted_counts``, ``pool_counts``,
  ``elementwise_counts``: raw per-sample counts of one layer (what each ``cnnlib.nn`` layer's
  ``counts`` returns).
- ``Convention`` and ``CONVENTIONS``: what a reported "MAC" includes (bias adds, other
  operations, the batch), and how torchinfo, fvcore and ptflops count; ``memory_bytes``.
- ``summary``: a per-layer table of a network (text, HTML, JSON); ``conv_layers``: its CONV and
  FC layers as ConvShapes.

The shapes these counts start from, ``ConvShape`` and the output-size formula
``conv_output_size``, live in ``cnnlib.shapes`` and are re-exported here. This module reads a
network only through the ``cnnlib.nn.Module`` interface (``layers``, ``counts``, ``layer_kind``,
``type_name``, ``conv_shape``), so ``cnnlib.nn`` builds on it without an import cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from html import escape

import numpy as np

from ._checks import as_int
from .shapes import ConvShape as ConvShape  # re-exported: counting's users need the shape too
from .shapes import conv_output_size as conv_output_size  # re-exported


@dataclass(frozen=True)
class LayerCounts:
    """What one layer holds and does, for one input sample (N = 1), before any convention is applied.

    Attributes
    ----------
    weights : int
        Filter or FC weights (biases not included).
    biases : int
        One per filter or neuron.
    other_params : int
        Other learned parameters (batch norm's gamma and beta).
    macs : int
        Multiply-accumulates of the weighted sums; bias adds not included.
    bias_adds : int
        One per output of a layer with biases (LeCun counts these as connections).
    other_ops : int
        Work that is not a MAC: pooling compares/adds, batch-norm, activation and LRN operations,
        one per element each.
    input_activations : int
        Input values the layer reads.
    output_activations : int
        Output values the layer stores.
    """

    weights: int = 0
    biases: int = 0
    other_params: int = 0
    macs: int = 0
    bias_adds: int = 0
    other_ops: int = 0
    input_activations: int = 0
    output_activations: int = 0

    def __add__(self, other: LayerCounts) -> LayerCounts:
        return LayerCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def params(self) -> int:
        """Every learned parameter: weights + biases + other_params."""
        return self.weights + self.biases + self.other_params


def weighted_counts(weights: int, M: int, E: int, F: int, inputs: int, bias: bool = True) -> LayerCounts:
    """Counts of a layer of M filters whose ``weights`` are each used once per output position.

    That is every CONV layer (any stride, padding, dilation or groups) and every FC layer
    (E = F = 1): MACs = weights x E x F, one bias per filter, M x E x F outputs.
    """
    outputs = M * E * F
    return LayerCounts(
        weights=weights,
        biases=M if bias else 0,
        macs=weights * E * F,
        bias_adds=outputs if bias else 0,
        input_activations=inputs,
        output_activations=outputs,
    )


def conv_counts(shape: ConvShape, bias: bool = True, connected: int | None = None) -> LayerCounts:
    """Counts of a CONV (or FC, as a ConvShape.fc) layer per sample.

    ``connected`` is the number of (filter, input channel) pairs that exist when a sparse connection
    table is used (LeNet-5's C3); by default every filter sees its C/groups channels.
    """
    pairs = shape.M * (shape.C // shape.groups) if connected is None else connected
    return weighted_counts(pairs * shape.R * shape.S, shape.M, shape.E, shape.F,
                           shape.C * shape.H * shape.W, bias)


def pool_counts(C: int, H: int, W: int, E: int, F: int, R: int, S: int) -> LayerCounts:
    """Counts of an R x S pooling layer from C x H x W to C x E x F: R S - 1 compares/adds per output."""
    return LayerCounts(
        other_ops=C * E * F * (R * S - 1),
        input_activations=C * H * W,
        output_activations=C * E * F,
    )


def elementwise_counts(n: int, params: int = 0) -> LayerCounts:
    """Counts of a layer that does one operation per element of n (activation, batch norm, LRN)."""
    return LayerCounts(other_params=params, other_ops=n, input_activations=n, output_activations=n)


def conv_layers(model, input_shape, N: int = 1) -> list[tuple[str, ConvShape]]:
    """The CONV and FC layers of ``model`` in execution order, as (qualified name, ConvShape).

    ``input_shape`` is one sample's shape, (C, H, W). This is what the benchmarks and the
    hardware model map; FC layers appear as ``ConvShape.fc``. A layer is CONV or FC when its
    ``layer_kind`` says so, the same test ``summary`` uses.

    Examples
    --------
    >>> from cnnlib import nn
    >>> net = nn.Sequential(("conv", nn.Conv2d(3, 10, 5)), ("relu", nn.ReLU()),
    ...                     ("flat", nn.Flatten()), ("fc", nn.Linear(10 * 28 * 28, 10)))
    >>> [(name, shape.M, shape.E) for name, shape in conv_layers(net, (3, 32, 32))]
    [('conv', 10, 28), ('fc', 10, 1)]
    """
    return [(name, layer.conv_shape(in_shape, N)) for name, layer, in_shape, _ in _walk(model, input_shape)
            if layer.layer_kind]


def _walk(model, input_shape):
    """``model.layers(input_shape)``, after checking that model is a layer or network."""
    if not callable(getattr(model, "layers", None)):
        raise TypeError(f"model must be a cnnlib.nn.Module; got {type(model).__name__}")
    return model.layers(tuple(input_shape))


@dataclass(frozen=True)
class Convention:
    """What a "MAC" count includes: the switches on which papers and tools disagree.

    A layer's ``LayerCounts`` hold the raw numbers (per sample; MACs without bias adds; other
    operations apart); a convention turns them into the one number a table reports.

    Attributes
    ----------
    bias_adds : bool
        Count each bias add as one more MAC (one per output). LeCun et al. (1998) count
        "connections" this way: LeNet-5's C1 has (5 x 5 + 1) x 6 x 28 x 28 = 122,304, which is
        the lecture's "122K MACs" for that layer; without bias adds it is 117,600.
    other_ops : bool
        Count the work of pooling, batch-norm, activation and LRN layers as MACs, one per
        ``LayerCounts.other_ops`` (pooling: R S - 1 compares or adds per output; the others: one
        per element). No tool's preset sets it: each tool that counts these layers has rules of
        its own (see Notes).
    batch : bool
        Multiply MACs and activations by the batch size N (the lecture's
        N x (M x R x S x C) x (E x F) MACs and N x (M x E x F) stored outputs). Weights never
        multiply: the batch shares them.

    Notes
    -----
    The default, ``Convention()``, is the lecture's (Sze et al.): multiply-accumulates of the
    weighted sums only, times N. How three common PyTorch tools count, read from their source
    (torchinfo ``layer_info.py``; fvcore ``flop_count.py`` and ``jit_handles.py``; ptflops
    ``pytorch_ops.py``, ``aten_ops.py`` and ``flops_counter.py``) and checked by running
    torchinfo 1.8.0, fvcore 0.1.5.post20221221 and ptflops 0.7.5 (torch 2.13) on single layers
    and on the famous networks in ``tests/test_against_torch.py``:

    torchinfo ("Mult-Adds")
        A CONV layer counts (weights + biases) x N x E x F, so every bias add is one mult-add;
        an FC layer (weights + biases) x N. The batch of the input it is given multiplies.
        Layers without parameters (pooling, activations, LRN) count 0; batch norm counts its
        2 C parameters x N, not one per element. For CONV and FC layers this is
        ``Convention(bias_adds=True)``.
    fvcore (``FlopCountAnalysis``)
        Counts one fused multiply-add as one "flop" (so its "flops" are MACs), skips bias adds,
        and counts the whole input batch: for CONV and FC layers, ``Convention()``. Batch norm is
        counted by default (in inference 1 per element, 2 with gamma and beta as here; in
        training 4, or 5 with them), and so is adaptive average pooling (1 per input element).
        ReLU is ignored; max pooling, ``AvgPool2d``, tanh, sigmoid, the operations inside
        PyTorch's LRN and the residual adds are unsupported operators: none is counted.
    ptflops (``get_model_complexity_info``)
        Counts per image (it makes a batch of one itself) and adds one MAC per bias add for CONV
        and FC layers: ``Convention(bias_adds=True, batch=False)``. Its ``aten`` backend counts
        only convolutions and matrix multiplies, so this reproduces its count of a whole CNN.
        The default in 0.7.5 (whatever its README says) is the ``pytorch`` backend, which also
        counts the other layers, by rules no switch here reproduces: batch norm 2 per element
        (with gamma and beta); pooling 2 per *input* element and ReLU and ELU 2 per element
        (the layer's hook and the patched functional each count once;
        ``backend_specific_config={"count_functional": False}`` counts them once); leaky ReLU 1
        per element; tanh and sigmoid 0; LRN the tensor operations inside PyTorch's
        ``LocalResponseNorm``, 3 per element plus (C + size - 1) x H x W for its padded
        average; residual adds 0.

    A sparse connection table (LeNet-5's C3) has no PyTorch layer: as a dense convolution whose
    unconnected weights are zero, every tool counts all M x C/groups (filter, channel) pairs.

    ``CONVENTIONS`` names these settings; reconcile a tool's number with this course's by
    choosing the matching one, then adding what the tool counts for the other layers.
    """

    bias_adds: bool = False
    other_ops: bool = False
    batch: bool = True

    def __post_init__(self):
        for f in fields(self):
            if not isinstance(getattr(self, f.name), bool):
                raise TypeError(f"Convention.{f.name} must be a bool; got {getattr(self, f.name)!r}")

    def macs(self, counts: LayerCounts, N: int = 1) -> int:
        """The MAC count of ``counts`` (one sample) under this convention, for a batch of N."""
        ops = counts.macs
        ops += counts.bias_adds if self.bias_adds else 0
        ops += counts.other_ops if self.other_ops else 0
        return ops * self._times(N)

    def activations(self, counts: LayerCounts, N: int = 1) -> int:
        """Output activations stored, for a batch of N under this convention."""
        return counts.output_activations * self._times(N)

    def _times(self, N) -> int:
        return as_int(N, "N", 1) if self.batch else 1


#: Named conventions (see ``Convention``'s Notes): the lecture's default, LeCun's "connections",
#: and the settings that reproduce torchinfo, fvcore and ptflops on CONV and FC layers (and
#: ptflops' ``aten`` backend on a whole CNN).
CONVENTIONS = {
    "lecture": Convention(),
    "lecun": Convention(bias_adds=True),
    "torchinfo": Convention(bias_adds=True),
    "fvcore": Convention(),
    "ptflops": Convention(bias_adds=True, batch=False),
}


def get_convention(convention) -> Convention:
    """A ``Convention`` from itself, a name in ``CONVENTIONS`` or None (the lecture's)."""
    if convention is None:
        return CONVENTIONS["lecture"]
    if isinstance(convention, Convention):
        return convention
    if isinstance(convention, str) and convention in CONVENTIONS:
        return CONVENTIONS[convention]
    raise ValueError(f"convention must be a Convention or one of {sorted(CONVENTIONS)}; got {convention!r}")


def memory_bytes(counts: LayerCounts, dtype=np.float32, N: int = 1) -> dict[str, int]:
    """Bytes a layer needs for its parameters and activations, each value stored as ``dtype``.

    Parameters
    ----------
    counts : LayerCounts
        One sample's counts.
    dtype : numpy dtype
        The storage type (float32: 4 bytes, float16: 2, int8: 1).
    N : int
        Batch size: activations scale with N, parameters do not.

    Returns
    -------
    dict
        ``params`` (weights, biases and other learned parameters), ``inputs`` (input activations
        read) and ``outputs`` (output activations stored), in bytes.

    Examples
    --------
    >>> c = conv_counts(ConvShape(N=1, C=3, H=32, W=32, M=10, R=5, S=5))
    >>> memory_bytes(c, np.float32)
    {'params': 3040, 'inputs': 12288, 'outputs': 31360}
    """
    size = np.dtype(dtype).itemsize
    N = as_int(N, "N", 1)
    return {
        "params": counts.params * size,
        "inputs": counts.input_activations * N * size,
        "outputs": counts.output_activations * N * size,
    }


@dataclass(frozen=True)
class SummaryRow:
    """One leaf layer of a ``Summary``: the numbers of the table, and the raw counts behind them.

    ``kind`` is the layer's ``layer_kind``: "CONV" or "FC" for the layers whose totals the table
    splits, else "".
    ``macs`` and ``output_activations`` follow the summary's convention and batch size;
    ``weights`` exclude biases, ``params`` add biases and other learned parameters.
    """

    name: str
    type: str
    kind: str
    output_shape: tuple
    weights: int
    biases: int
    params: int
    macs: int
    output_activations: int
    counts: LayerCounts

    def to_dict(self) -> dict:
        d = asdict(self)
        d["output_shape"] = list(self.output_shape)
        del d["counts"]
        return d


@dataclass(frozen=True)
class Totals:
    """Sums over a group of summary rows (all layers, the CONV layers or the FC layers)."""

    weights: int = 0
    biases: int = 0
    params: int = 0
    macs: int = 0
    output_activations: int = 0

    @classmethod
    def of(cls, rows) -> Totals:
        rows = list(rows)
        return cls(*(sum(getattr(r, f.name) for r in rows) for f in fields(cls)))


_COLUMNS = (  # (header, SummaryRow attribute)
    ("layer", "name"), ("type", "type"), ("output shape", "output_shape"), ("weights", "weights"),
    ("biases", "biases"), ("params", "params"), ("MACs", "macs"), ("activations", "output_activations"),
)


class Summary:
    """A per-layer table of a network: what ``summary`` returns.

    Shows as a table in a notebook (``_repr_html_``) and as text with ``print`` (``str``);
    ``to_dict()`` gives the same numbers for JSON.

    Attributes
    ----------
    rows : list of SummaryRow
        One per leaf layer, in execution order.
    total, conv, fc : Totals
        Sums over all layers, over the CONV layers and over the FC layers.
    input_shape : tuple
        One sample's input shape.
    N : int
    convention : Convention
    dtype : numpy dtype
        Storage type for ``memory()``.
    """

    def __init__(self, rows, input_shape, N, convention, dtype):
        self.rows = list(rows)
        self.input_shape, self.N = tuple(input_shape), N
        self.convention, self.dtype = convention, np.dtype(dtype)
        self.total = Totals.of(self.rows)
        self.conv = Totals.of(r for r in self.rows if r.kind == "CONV")
        self.fc = Totals.of(r for r in self.rows if r.kind == "FC")

    def __getitem__(self, name: str) -> SummaryRow:
        """The row of the layer with this qualified name."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r}; layers: {[r.name for r in self.rows]}")

    def memory(self) -> dict[str, int]:
        """Bytes of all parameters and of all output activations (batch N), stored as ``dtype``."""
        size = self.dtype.itemsize
        return {"params": self.total.params * size,
                "activations": sum(r.counts.output_activations for r in self.rows) * self.N * size}

    def to_dict(self) -> dict:
        """The table for JSON: ``layers`` (one dict per row), ``total``, ``conv``, ``fc`` and settings."""
        return {
            "input_shape": list(self.input_shape),
            "N": self.N,
            "convention": asdict(self.convention),
            "layers": [r.to_dict() for r in self.rows],
            "total": asdict(self.total),
            "conv": asdict(self.conv),
            "fc": asdict(self.fc),
        }

    def _table(self, hide=()) -> tuple[list[str], list[list[str]], list[list[str]]]:
        """Header, body rows (but those whose type is in ``hide``) and total rows, as strings."""
        def cells(values):
            return [v if isinstance(v, str) else f"{v:,}" for v in values]

        header = [h for h, _ in _COLUMNS]
        body = [cells([str(r.output_shape) if a == "output_shape" else getattr(r, a) for _, a in _COLUMNS])
                for r in self.rows if r.type not in hide]
        totals = [cells([label, "", "", t.weights, t.biases, t.params, t.macs, t.output_activations])
                  for label, t in (("CONV total", self.conv), ("FC total", self.fc), ("total", self.total))]
        return header, body, totals

    def _caption(self) -> str:
        c = self.convention
        return (f"input {self.input_shape}, N = {self.N}; params = weights + biases + other learned "
                f"(batch norm); MACs: bias adds {'in' if c.bias_adds else 'out'}, "
                f"other ops {'in' if c.other_ops else 'out'}, {'times N' if c.batch else 'per sample'}")

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self, hide=()) -> str:
        """The table as text (what ``print`` shows), leaving out the rows whose type is in ``hide``.

        The totals still count every layer: hiding rows shortens the table for a slide, it does
        not change the network.

        Examples
        --------
        >>> from cnnlib import nn
        >>> net = nn.Sequential(("conv", nn.Conv2d(3, 10, 5)), ("relu", nn.ReLU()))
        >>> s = summary(net, (3, 32, 32))
        >>> text = s.to_text(hide=("Activation(relu)",))
        >>> "relu" in text, len(text.splitlines()) == len(str(s).splitlines()) - 1
        (False, True)
        """
        types = {r.type for r in self.rows}
        if set(hide) - types:
            raise ValueError(f"hide must name layer types of the table {sorted(types)}; "
                             f"got {sorted(set(hide) - types)}")
        header, body, totals = self._table(hide)
        widths = [max(len(row[i]) for row in [header, *body, *totals]) for i in range(len(header))]

        def line(row):
            pairs = enumerate(zip(row, widths, strict=True))
            return "  ".join(v.ljust(w) if i < 3 else v.rjust(w) for i, (v, w) in pairs)

        rule = "-" * len(line(header))
        return "\n".join([line(header), rule, *map(line, body), rule, *map(line, totals), self._caption()])

    def __repr__(self) -> str:
        return (f"<Summary of {len(self.rows)} layers: {self.total.weights:,} weights, "
                f"{self.total.macs:,} MACs>")

    def _repr_html_(self) -> str:
        header, body, totals = self._table()

        def tr(row, tag="td", style=""):
            tds = "".join(
                f'<{tag} style="text-align:{"left" if i < 3 else "right"}{style}">{escape(v)}</{tag}>'
                for i, v in enumerate(row)
            )
            return f"<tr>{tds}</tr>"

        rows = [tr(r) for r in body] + [tr(r, style=";font-weight:bold") for r in totals]
        return (f"<table><caption>{escape(self._caption())}</caption><thead>{tr(header, 'th')}</thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")


def summary(model, input_shape, *, N=1, convention=None, dtype=np.float32) -> Summary:
    """Per-layer table of a network: output shape, weights, biases, MACs and activations.

    Parameters
    ----------
    model : cnnlib.nn.Module
        A layer or a container (Sequential, Concat, Residual, a model from ``cnnlib.models``).
    input_shape : tuple
        One sample's input shape, (C, H, W) (or (K,) for an FC-only model).
    N : int
        Batch size (multiplies MACs and activations if the convention says so).
    convention : Convention or str, optional
        What a MAC count includes (see ``Convention``): a ``Convention``, a name in
        ``CONVENTIONS`` ("lecture", "lecun", "torchinfo", "fvcore", "ptflops"), or None for
        the lecture's (bias adds excluded, other operations excluded, times N).
    dtype : numpy dtype
        Storage type used by ``Summary.memory()``.

    Returns
    -------
    Summary
        One row per leaf layer in execution order, totals over all layers (``total``), the CONV
        layers (``conv``) and the FC layers (``fc``).

    Examples
    --------
    >>> from cnnlib import nn
    >>> net = nn.Sequential(("conv", nn.Conv2d(3, 10, 5)), ("relu", nn.ReLU()))
    >>> s = summary(net, (3, 32, 32))
    >>> s["conv"].output_shape, s["conv"].weights, s["conv"].biases, s.total.params
    ((10, 28, 28), 750, 10, 760)
    >>> s.total.macs == 750 * 28 * 28
    True
    """
    convention = get_convention(convention)
    N = as_int(N, "N", 1)
    np.dtype(dtype)  # raises TypeError for something that is not a dtype
    rows = []
    for name, layer, in_shape, out_shape in _walk(model, input_shape):
        counts = layer.counts(in_shape)
        rows.append(SummaryRow(
            name=name, type=layer.type_name, kind=layer.layer_kind, output_shape=tuple(out_shape),
            weights=counts.weights, biases=counts.biases, params=counts.params,
            macs=convention.macs(counts, N), output_activations=convention.activations(counts, N),
            counts=counts,
        ))
    return Summary(rows, input_shape, N, convention, dtype)
