"""Sparsity: pruned weights, zero activations, and the formats that store them compressed.

Where a network's zeros come from and what they cost to keep:

- **Weights** become zero by *pruning*: the weights of smallest magnitude are removed
  (:func:`magnitude_mask`), one by one (unstructured) or as whole filters or input channels
  (structured, :func:`structured_mask`). A mask (True = kept) holds them at zero while the rest
  are fine-tuned (:class:`MaskedOptimizer`); pruning a little, fine-tuning, and pruning again
  (:func:`cnnlib.train.iterative_pruning`) is the recipe of Han et al., "Learning both Weights and Connections
  for Efficient Neural Networks" (NeurIPS 2015).
- **Activations** become zero through ReLU: :func:`activation_sparsity` measures, layer by
  layer, the fraction of exact zeros on real inputs (tanh and sigmoid give none).
- **Compressed formats** store only the nonzeros, plus where they are: CSR and CSC for a
  matrix (:func:`csr`, :func:`csc`), and the run-length coding that Eyeriss uses for feature
  maps (:func:`rlc_encode`; Chen et al., JSSC 2017). Each has a storage cost in bits and a
  *break-even density* below which it is smaller than the dense array
  (:func:`break_even_density`).

Whether hardware gains from the zeros is another question: :mod:`cnnlib.hardware.sparse` models
zero gating (a zero operand costs no MAC energy), zero skipping (no cycle either) and
run-length-coded DRAM traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, as_int, check_ndim

# -- pruning --------------------------------------------------------------------------------------


def check_sparsity(sparsity) -> float:
    """Return ``sparsity`` (the fraction of weights set to zero) as a float in [0, 1], or raise."""
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float, np.floating, np.integer)):
        raise TypeError(f"sparsity must be a number in [0, 1]; got {sparsity!r}")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparsity must be in [0, 1] (the fraction of weights set to zero); got {sparsity}")
    return float(sparsity)


def magnitude_mask(w, sparsity) -> np.ndarray:
    """Unstructured magnitude pruning: keep all but the ``sparsity`` fraction of smallest |w|.

    Parameters
    ----------
    w : array, any shape
        Weights, e.g. (M, C, R, S) of a CONV layer or (M, K) of an FC layer.
    sparsity : float in [0, 1]
        Fraction of the weights to remove: round(sparsity x w.size) of them.

    Returns
    -------
    bool array, the shape of w
        True where a weight is kept. Ties in |w| are broken by position (the first is pruned
        first), so exactly round(sparsity x w.size) entries are False.

    Examples
    --------
    >>> magnitude_mask(np.array([[0.5, -0.1], [0.05, -2.0]]), 0.5).tolist()
    [[True, False], [False, True]]
    """
    w = as_float_array(w, "w")
    n_pruned = int(round(check_sparsity(sparsity) * w.size))
    mask = np.ones(w.size, dtype=bool)
    mask[np.argsort(np.abs(w).reshape(-1), kind="stable")[:n_pruned]] = False
    return mask.reshape(w.shape)


def structured_mask(w, sparsity, structure="filter") -> np.ndarray:
    """Structured pruning: remove whole filters (rows of M) or input channels (of C) of smallest L1 norm.

    Parameters
    ----------
    w : array (M, C, R, S) or (M, K)
        Weights of a CONV or FC layer (an FC layer's "filters" are its M output rows, its
        "channels" its K inputs).
    sparsity : float in [0, 1]
        Fraction of the filters (or channels) to remove: round(sparsity x M) of them (or of C).
    structure : "filter" or "channel"

    Returns
    -------
    bool array, the shape of w
        True where a weight is kept; every removed filter (channel) is False throughout.

    Notes
    -----
    A removed filter m takes output channel m with it, so the next layer's channel m becomes
    useless too: on any hardware the layer simply becomes smaller (M - removed filters), with
    no index to store. Unstructured zeros are scattered and pay off only on hardware that can
    gate or skip individual operands.

    Examples
    --------
    >>> w = np.array([[1.0, 1.0], [0.1, 3.0], [0.2, 0.1]])  # M = 3 filters of K = 2
    >>> structured_mask(w, 1 / 3, "filter").tolist()
    [[True, True], [True, True], [False, False]]
    >>> structured_mask(w, 0.5, "channel").tolist()
    [[False, True], [False, True], [False, True]]
    """
    w = as_float_array(w, "w")
    if w.ndim not in (2, 4):
        raise ValueError(f"w must be a 4-D CONV weight (M, C, R, S) or a 2-D FC weight (M, K); "
                         f"got shape {w.shape}")
    if structure not in ("filter", "channel"):
        raise ValueError(f"structure must be 'filter' or 'channel'; got {structure!r}")
    axis = 0 if structure == "filter" else 1
    other = tuple(a for a in range(w.ndim) if a != axis)
    keep = magnitude_mask(np.abs(w).sum(axis=other), sparsity)  # one L1 norm per filter (channel)
    shape = [1] * w.ndim
    shape[axis] = -1
    return np.broadcast_to(keep.reshape(shape), w.shape).copy()


def weight_layers(model) -> dict:
    """The CONV and FC layers of ``model`` (every parameter named ``*.w``), by qualified weight name.

    Returns
    -------
    dict name -> layer
        E.g. {"c1.w": Conv2d(...), ..., "output.w": Linear(...)} for LeNet-5, in the model's order.
    """
    layers = {}
    params = model.parameters()
    for name, layer in _leaves(model):
        if f"{name}.w" in params:
            layers[f"{name}.w"] = layer
    return layers


def _leaves(module, prefix=""):
    children = module.children()
    if not children:
        yield prefix, module
    for name, child in children:
        yield from _leaves(child, f"{prefix}.{name}" if prefix else name)


def prune(model, sparsity, *, structure="unstructured", scope="layer", layers=None) -> dict:
    """Magnitude-prune the CONV and FC weights of ``model`` in place; return the masks.

    Parameters
    ----------
    model : cnnlib.nn.Module
    sparsity : float in [0, 1]
        Fraction of the weights (or of the filters or channels) to remove.
    structure : "unstructured", "filter" or "channel"
        Remove single weights (:func:`magnitude_mask`) or whole filters or input channels
        (:func:`structured_mask`).
    scope : "layer" or "global"
        "layer": every layer loses the same fraction. "global" (unstructured only): one
        threshold on |w| across all the layers, so layers of large weights keep more.
    layers : sequence of str, optional
        Weight names to prune (see :func:`weight_layers`); default all.

    Returns
    -------
    dict name -> bool array
        One mask per pruned weight (True = kept); the weights are already multiplied by it.
    """
    sparsity = check_sparsity(sparsity)
    all_layers = weight_layers(model)
    names = list(all_layers) if layers is None else list(layers)
    unknown = sorted(set(names) - set(all_layers))
    if unknown:
        raise ValueError(f"layers must name weights of the model {list(all_layers)}; got unknown {unknown}")
    if structure not in ("unstructured", "filter", "channel"):
        raise ValueError(f"structure must be 'unstructured', 'filter' or 'channel'; got {structure!r}")
    if scope not in ("layer", "global"):
        raise ValueError(f"scope must be 'layer' or 'global'; got {scope!r}")
    if scope == "global" and structure != "unstructured":
        raise ValueError(f"scope='global' needs structure='unstructured'; got structure={structure!r}")
    weights = {name: all_layers[name].w for name in names}
    if scope == "global":
        flat = magnitude_mask(np.concatenate([np.abs(w).reshape(-1) for w in weights.values()]), sparsity)
        splits = np.cumsum([w.size for w in weights.values()])[:-1]
        masks = {name: m.reshape(w.shape) for (name, w), m in zip(weights.items(), np.split(flat, splits),
                                                                   strict=True)}
    elif structure == "unstructured":
        masks = {name: magnitude_mask(w, sparsity) for name, w in weights.items()}
    else:
        masks = {name: structured_mask(w, sparsity, structure) for name, w in weights.items()}
    apply_masks(model, masks)
    return masks


def apply_masks(model, masks) -> None:
    """Multiply each named weight of ``model`` by its mask, in place (pruned weights become exactly 0)."""
    params = model.parameters()
    for name, mask in masks.items():
        if name not in params:
            raise ValueError(f"masks must name parameters of the model; got unknown {name!r}")
        if np.shape(mask) != params[name].shape:
            raise ValueError(f"masks[{name!r}] must have shape {params[name].shape}; got {np.shape(mask)}")
        params[name] *= np.asarray(mask, dtype=bool)


def weight_sparsity(model) -> dict:
    """Fraction of exactly-zero weights of each CONV and FC layer, and of all of them ("total").

    Examples
    --------
    >>> from cnnlib import nn
    >>> net = nn.Sequential(("fc", nn.Linear(4, 2, seed=0)))
    >>> _ = prune(net, 0.25)
    >>> weight_sparsity(net)
    {'fc.w': 0.25, 'total': 0.25}
    """
    weights = {name: layer.w for name, layer in weight_layers(model).items()}
    result = {name: float(np.mean(w == 0)) for name, w in weights.items()}
    result["total"] = float(sum(int(np.sum(w == 0)) for w in weights.values())
                            / sum(w.size for w in weights.values()))
    return result


class MaskedOptimizer:
    """Wrap an optimizer so pruned weights stay exactly zero while the others are fine-tuned.

    Each step masks the gradients (a pruned weight gets none) and, after the inner update,
    multiplies the weights by their masks again (momentum or weight decay cannot revive them).
    ``lr`` reads and writes the inner optimizer's, so learning-rate schedules work unchanged.

    Parameters
    ----------
    optimizer : cnnlib.train.SGD or Adam
        Built on the model's parameters.
    masks : dict name -> bool array
        As returned by :func:`prune`.
    """

    def __init__(self, optimizer, masks: dict):
        missing = sorted(set(masks) - set(optimizer.params))
        if missing:
            raise ValueError(f"masks must name parameters of the optimizer; got unknown {missing}")
        self.optimizer = optimizer
        self.masks = {name: np.asarray(m, dtype=bool) for name, m in masks.items()}

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def step(self, grads: dict) -> None:
        """Update with the masked gradients, then re-apply the masks."""
        masked = {name: g * self.masks[name] if name in self.masks else g for name, g in grads.items()}
        self.optimizer.step(masked)
        for name, mask in self.masks.items():
            self.optimizer.params[name] *= mask


# -- activation sparsity --------------------------------------------------------------------------


def activation_sparsity(model, x, batch_size=500) -> dict:
    """Fraction of exactly-zero values in the output of each top-level layer of a Sequential.

    Parameters
    ----------
    model : cnnlib.nn.Sequential
        Run in inference mode.
    x : array (N, ...)
        Inputs in the model's format (e.g. ``mnist_input(digits)`` for LeNet-5).
    batch_size : int

    Returns
    -------
    dict name -> float
        "input" (the zeros of x itself), then one entry per layer, in order. The input of a
        CONV or FC layer is the output of the layer before it: that is what zero gating and
        run-length coding see.

    Examples
    --------
    >>> from cnnlib import nn
    >>> net = nn.Sequential(("fc", nn.Linear(3, 4, seed=0)), ("relu", nn.ReLU()))
    >>> s = activation_sparsity(net, np.eye(3))
    >>> round(s["input"], 3), s["fc"], 0 < s["relu"] < 1
    (0.667, 0.0, True)
    """
    batch_size = as_int(batch_size, "batch_size", 1)
    training = model.training
    model.eval()
    zeros = {"input": 0}
    try:
        for start in range(0, len(x), batch_size):
            out = np.asarray(x[start : start + batch_size])
            zeros["input"] += int(np.sum(out == 0))
            for name, layer in model.children():
                out = layer(out)
                zeros[name] = zeros.get(name, 0) + int(np.sum(out == 0))
    finally:
        model.train(training)
    per_sample = {"input": int(np.prod(np.shape(x)[1:]))}
    shape = np.shape(x)[1:]
    for name, layer in model.children():
        shape = layer.output_shape(shape)
        per_sample[name] = int(np.prod(shape))
    return {name: count / (per_sample[name] * len(x)) for name, count in zeros.items()}


# -- compressed formats ---------------------------------------------------------------------------


def _bits_for(n: int) -> int:
    """Bits of an unsigned integer that can hold 0 ... n - 1 (at least 1)."""
    return max(1, int(np.ceil(np.log2(max(n, 2)))))


def _index_pointer_bits(shape, fmt, index_bits, pointer_bits) -> tuple[int, int, int]:
    """(lines, index_bits, pointer_bits) of CSR or CSC: defaults are what a position inside a line
    (ceil log2 of its length) and a count of up to all rows x cols entries need."""
    rows, cols = shape
    lines, length = (rows, cols) if fmt == "csr" else (cols, rows)
    index_bits = _bits_for(length) if index_bits is None else as_int(index_bits, "index_bits", 1)
    pointer_bits = (_bits_for(rows * cols + 1) if pointer_bits is None
                    else as_int(pointer_bits, "pointer_bits", 1))
    return lines, index_bits, pointer_bits


@dataclass(frozen=True)
class SparseMatrix:
    """A matrix in compressed sparse row (CSR) or column (CSC) form.

    ``values`` holds the nonzeros line by line (rows for CSR, columns for CSC); ``indices`` the
    position of each inside its line (its column for CSR, its row for CSC); line i owns
    ``values[pointers[i]:pointers[i + 1]]``.
    """

    values: np.ndarray
    indices: np.ndarray
    pointers: np.ndarray
    shape: tuple
    order: str  # "csr" or "csc"

    def to_dense(self) -> np.ndarray:
        """The matrix back as a dense array."""
        lines, length = self.shape if self.order == "csr" else self.shape[::-1]
        dense = np.zeros((lines, length), dtype=self.values.dtype)
        line = np.repeat(np.arange(lines), np.diff(self.pointers))
        dense[line, self.indices] = self.values
        return dense if self.order == "csr" else dense.T

    def bits(self, value_bits=16, index_bits=None, pointer_bits=None) -> int:
        """Storage in bits: nnz x (value_bits + index_bits) + (lines + 1) x pointer_bits.

        ``index_bits`` defaults to what a position inside a line needs (ceil log2 of the line
        length), ``pointer_bits`` to what a count of up to all entries needs.
        """
        lines, index_bits, pointer_bits = _index_pointer_bits(self.shape, self.order, index_bits,
                                                              pointer_bits)
        value_bits = as_int(value_bits, "value_bits", 1)
        return len(self.values) * (value_bits + index_bits) + (lines + 1) * pointer_bits


def csr(matrix) -> SparseMatrix:
    """Compressed sparse row form of a 2-D array (a CONV weight reshaped to (M, C R S), or an FC weight).

    Examples
    --------
    >>> a = csr(np.array([[0, 5, 0], [0, 0, 0], [7, 0, 8]]))
    >>> a.values.tolist(), a.indices.tolist(), a.pointers.tolist()
    ([5, 7, 8], [1, 0, 2], [0, 1, 1, 3])
    >>> a.bits(value_bits=8)  # 3 x (8 + 2) + 4 x 4
    46
    """
    m = np.asarray(matrix)
    check_ndim(m, 2, "matrix", "(rows, cols)")
    rows, cols = np.nonzero(m)
    pointers = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=m.shape[0]))])
    return SparseMatrix(m[rows, cols], cols, pointers, m.shape, "csr")


def csc(matrix) -> SparseMatrix:
    """Compressed sparse column form of a 2-D array (the CSR of its transpose)."""
    m = np.asarray(matrix)
    check_ndim(m, 2, "matrix", "(rows, cols)")
    t = csr(m.T)
    return SparseMatrix(t.values, t.indices, t.pointers, m.shape, "csc")


@dataclass(frozen=True)
class RunLength:
    """Run-length code of a 1-D sequence as in Eyeriss: pairs (run of zeros, next value).

    ``runs[i]`` zeros come before ``levels[i]``; a run stops at ``max_run`` zeros, and the
    value after it is then coded as the level even if it is zero. The last element of the
    sequence always ends a pair, so ``length`` zeros at the end are coded too.
    """

    runs: np.ndarray
    levels: np.ndarray
    length: int

    def decode(self) -> np.ndarray:
        """The sequence back (length ``length``)."""
        positions = np.cumsum(self.runs.astype(np.int64) + 1) - 1
        out = np.zeros(self.length, dtype=self.levels.dtype)
        out[positions] = self.levels
        return out

    def bits(self, run_bits=5, level_bits=16, pairs_per_word=3, word_bits=64) -> int:
        """Storage in bits: whole words of ``pairs_per_word`` (run, level) pairs.

        Eyeriss's defaults: 5-bit runs, 16-bit levels, three pairs in a 64-bit word (63 bits,
        the last bit flags the last word of the code).
        """
        for value, name in ((run_bits, "run_bits"), (level_bits, "level_bits"),
                            (pairs_per_word, "pairs_per_word"), (word_bits, "word_bits")):
            as_int(value, name, 1)
        if pairs_per_word * (run_bits + level_bits) > word_bits:
            raise ValueError(f"word_bits must hold pairs_per_word pairs: {pairs_per_word} x ({run_bits} + "
                             f"{level_bits}) > {word_bits}")
        return -(-len(self.runs) // pairs_per_word) * word_bits


def rlc_encode(data, run_bits=5) -> RunLength:
    """Run-length code of the zeros in ``data`` (flattened in C order), as Eyeriss stores feature maps.

    Chen et al., "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep Convolutional
    Neural Networks", IEEE JSSC 52(1), 2017, Sec. IV-B and Fig. 8: consecutive zeros, at most 31,
    are coded as a 5-bit *run*; the next value follows as a 16-bit *level*, and counting starts
    again; three (run, level) pairs are packed into a 64-bit word whose last bit marks the last
    word of the code.

    Parameters
    ----------
    data : array, any shape
        Feature-map values (e.g. (N, C, H, W)); compared with 0 exactly.
    run_bits : int
        Bits of a run: runs hold 0 ... 2**run_bits - 1 zeros.

    Returns
    -------
    RunLength

    Examples
    --------
    >>> code = rlc_encode(np.array([0, 0, 7, 0, 0, 0, 3, 0]))
    >>> code.runs.tolist(), code.levels.tolist(), code.bits()
    ([2, 3, 0], [7, 3, 0], 64)
    >>> code.decode().tolist()
    [0, 0, 7, 0, 0, 0, 3, 0]
    """
    x = np.asarray(data).reshape(-1)
    if x.size == 0:
        raise ValueError("data must hold at least one value; got an empty array")
    max_run = 2 ** as_int(run_bits, "run_bits", 1) - 1
    kept = np.flatnonzero(x != 0)
    if kept.size == 0 or kept[-1] != x.size - 1:
        kept = np.append(kept, x.size - 1)  # the last element always closes a pair
    gaps = np.diff(np.concatenate([[-1], kept])) - 1  # zeros before each kept element
    full = gaps // (max_run + 1)  # pairs (max_run, 0) that each take max_run + 1 zeros
    runs = np.zeros(int(full.sum()) + kept.size, dtype=np.int64)
    levels = np.zeros(runs.size, dtype=x.dtype)
    ends = np.cumsum(full + 1) - 1  # where each kept element's pair goes
    runs[:] = max_run
    runs[ends] = gaps % (max_run + 1)
    levels[ends] = x[kept]
    return RunLength(runs, levels, int(x.size))


def dense_bits(shape, value_bits=16) -> int:
    """Bits of a dense array of ``shape`` at ``value_bits`` per value."""
    return int(np.prod(shape)) * as_int(value_bits, "value_bits", 1)


def break_even_density(fmt, shape=None, *, value_bits=16, index_bits=None, pointer_bits=None,
                       run_bits=5, pairs_per_word=3, word_bits=64) -> float:
    """Density (fraction of nonzeros) below which ``fmt`` stores fewer bits than the dense array.

    Parameters
    ----------
    fmt : "csr", "csc" or "rlc"
    shape : (rows, cols)
        The matrix (needed for CSR and CSC: index and pointer widths depend on it).
    value_bits, index_bits, pointer_bits :
        As in :meth:`SparseMatrix.bits`.
    run_bits, pairs_per_word, word_bits :
        As in :meth:`RunLength.bits`; the value is ``value_bits`` wide.

    Returns
    -------
    float
        CSR: d* = (rows cols value_bits - (rows + 1) pointer_bits) / (rows cols (value_bits + index_bits)).
        RLC: d* = value_bits pairs_per_word / word_bits (each nonzero takes a pair, i.e.
        word_bits / pairs_per_word bits), assuming no run of zeros is longer than 2**run_bits - 1
        (a longer one costs an extra pair): 16 x 3 / 64 = 0.75 for Eyeriss's code.

    Examples
    --------
    >>> round(break_even_density("csr", (120, 400)), 3)  # LeNet-5's f5: 16-bit values, 9-bit indices
    0.638
    >>> break_even_density("rlc")
    0.75
    """
    value_bits = as_int(value_bits, "value_bits", 1)
    if fmt == "rlc":
        as_int(run_bits, "run_bits", 1)
        if pairs_per_word * (run_bits + value_bits) > word_bits:
            raise ValueError(f"word_bits must hold pairs_per_word pairs: {pairs_per_word} x ({run_bits} + "
                             f"{value_bits}) > {word_bits}")
        return value_bits * as_int(pairs_per_word, "pairs_per_word", 1) / as_int(word_bits, "word_bits", 1)
    if fmt not in ("csr", "csc"):
        raise ValueError(f"fmt must be 'csr', 'csc' or 'rlc'; got {fmt!r}")
    if shape is None or len(shape) != 2:
        raise ValueError(f"shape must be (rows, cols) for {fmt}; got {shape!r}")
    rows, cols = (as_int(s, "shape", 1) for s in shape)
    lines, index_bits, pointer_bits = _index_pointer_bits((rows, cols), fmt, index_bits, pointer_bits)
    size = rows * cols
    return max(0.0, (size * value_bits - (lines + 1) * pointer_bits) / (size * (value_bits + index_bits)))
