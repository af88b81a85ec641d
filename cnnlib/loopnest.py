"""The CONV layer as a loop nest whose loops can be reordered and tiled.

The lecture's naive convolution is seven nested loops around one multiply-accumulate:

    O[n][m][x][y] += I[n][k][U x + i][U y + j] x W[m][k][i][j]

with n < N (batch), m < M (filters), x < E and y < F (output row and column), i < R and j < S
(filter row and column), k < C (input channel). Every MAC is independent of the others except
for the sum into O, and addition is associative, so the seven loops may run in **any order**
and give the same result (up to floating-point rounding). Which loop is innermost decides which
value stays put while the others stream past it: that is the freedom an accelerator's dataflow
exploits (weight stationary, output stationary, ...). A loop can also be **tiled**: split into an
outer loop over tiles and an inner loop within one tile, so a tile of data fits a small buffer.

``iterate`` yields the (n, m, x, y, i, j, k) index of every MAC in a chosen order; ``run``
executes them. Both take the order as a string or sequence of loop names, outermost first.
In the slide's order, ``"nmxyijk"``, ``run`` is the lecture's naive convolution, and
``cnnlib.layers.conv2d_naive`` is exactly that call.

The slide runs x up to F and y up to E, but x indexes rows (``I[n][k][U x + i]``), so here x
runs over the E output rows and y over the F output columns; for a square output both read the
same. The hardware model (``cnnlib.hardware.mapping``) names the same loops by the dimension
they run over instead: x, y, i, j, k are its e, f, r, s, c (see CONTRIBUTING.md for the table).
"""

from __future__ import annotations

import itertools
import operator

import numpy as np

from . import activations as _act
from ._checks import as_int, check_instance
from .shapes import ConvShape, check_conv_args

LOOPS = ("n", "m", "x", "y", "i", "j", "k")
"""The lecture's seven loop variables, in the slide's order (outermost first)."""


def _bounds(shape: ConvShape) -> dict[str, int]:
    return {"n": shape.N, "m": shape.M, "x": shape.E, "y": shape.F, "i": shape.R, "j": shape.S,
            "k": shape.C // shape.groups}


def _parse(order, tile, bounds: dict[str, int]) -> list[tuple[str, str, int]]:
    """Check ``order`` and ``tile``; return the loops as (name, variable, trip count), outermost first.

    A tiled variable v of size T appears as two loops: ``v1`` over ceil(bound / T) tiles and ``v0``
    over the T positions within a tile (v = v1 T + v0).
    """
    names = order.split() if isinstance(order, str) and " " in order else list(order)
    tile = {} if tile is None else dict(tile)
    for var, size in tile.items():
        if var not in LOOPS:
            raise ValueError(f"tile keys must be loop names {LOOPS}; got {var!r}")
        as_int(size, f"tile[{var!r}]", 1)
    expected = [v for v in LOOPS if v not in tile] + [v + s for v in tile for s in "10"]
    if sorted(names) != sorted(expected):
        raise ValueError(
            f"order must name each loop once: {sorted(expected)} (a tiled loop v appears as v1, "
            f"the tile, and v0, the position in the tile); got {names}"
        )
    loops = []
    for name in names:
        var = name[0]
        if var in tile:
            size = tile[var]
            trips = -(-bounds[var] // size) if name[1] == "1" else size
        else:
            trips = bounds[var]
        loops.append((name, var, trips))
    return loops


def iterate(shape: ConvShape, order="nmxyijk", tile=None):
    """Yield the index (n, m, x, y, i, j, k) of every MAC of a layer, in a given loop order.

    Parameters
    ----------
    shape : ConvShape
        The layer (N, C, H, W, M, R, S, U, P, groups). With groups, k runs over the C/groups
        channels of the filter's group.
    order : str or sequence of str
        The loops, outermost first: a permutation of ``n m x y i j k`` (the slide's is
        ``"nmxyijk"``). A loop named in ``tile`` is replaced by two loops, ``v1`` (which tile)
        and ``v0`` (position within the tile), placed anywhere in the order; separate names
        with spaces then, e.g. ``"n k1 m x y i j k0"``.
    tile : dict, optional
        {loop name: tile size}. The last tile may be partial: indices past the bound are skipped.

    Yields
    ------
    tuple of 7 ints
        (n, m, x, y, i, j, k), k counted within the filter's group.

    Examples
    --------
    >>> s = ConvShape(N=1, C=2, H=2, W=2, M=1, R=2, S=2)
    >>> [idx[-3:] for idx in iterate(s, "nmxyijk")][:3]
    [(0, 0, 0), (0, 0, 1), (0, 1, 0)]
    >>> [idx[-3:] for idx in iterate(s, "nmxykij")][:3]
    [(0, 0, 0), (0, 1, 0), (1, 0, 0)]
    """
    check_instance(shape, ConvShape, "shape")
    return _indices(_bounds(shape), order, tile)


def _indices(bounds: dict[str, int], order, tile):
    """Check the order and tiling now; return a generator of (n, m, x, y, i, j, k) within ``bounds``."""
    return _visit(_parse(order, tile, bounds), bounds, {} if tile is None else dict(tile))


def _visit(loops, bounds, sizes):
    """Run the loops (name, variable, trips), outermost first; skip indices past a partial last tile."""
    if not sizes:  # untiled: each loop is one variable, only their order changes
        slide_order = operator.itemgetter(*[[var for _, var, _ in loops].index(v) for v in LOOPS])
        yield from map(slide_order, itertools.product(*(range(t) for _, _, t in loops)))
        return
    for trip in itertools.product(*(range(t) for _, _, t in loops)):
        value = dict.fromkeys(LOOPS, 0)
        for (name, var, _), t in zip(loops, trip, strict=True):
            value[var] += t * sizes[var] if name.endswith("1") and var in sizes else t
        if all(value[v] < bounds[v] for v in LOOPS):
            yield tuple(value[v] for v in LOOPS)


def run(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, activation=None, order="nmxyijk",
        tile=None):
    """Convolve by executing the seven-loop MAC nest in a given order (slow: one Python step per MAC).

    Parameters
    ----------
    x : array (N, C, H, W)
        Input fmaps I.
    w : array (M, C/groups, R, S)
        Filter weights W.
    b : array (M,), optional
        Biases B, written into O before any MAC (so every order starts from the same O).
    stride, padding, dilation : int or (vertical, horizontal) pair
        Stride U (>= 1), zero padding P on each side (>= 0), dilation D (>= 1: filter taps D
        apart), as in ``cnnlib.layers.conv2d``.
    groups : int
        Split channels and filters into this many independent convolutions; k then runs over
        the C/groups channels of the filter's group.
    activation : str or callable, optional
        Applied to each output once its MACs are done, as on the slide (a name from
        ``cnnlib.activations.ACTIVATIONS``, or a function of one number).
    order, tile
        The loop order and tiling; see ``iterate``.

    Returns
    -------
    array (N, M, E, F)
        Output fmaps O, equal to ``conv2d(x, w, b, stride=stride, padding=padding,
        dilation=dilation, groups=groups)`` up to rounding, whatever the order.

    Examples
    --------
    A 3 x 3 input and a 2 x 2 filter of ones: each output sums one 2 x 2 window.

    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> run(x, np.ones((1, 1, 2, 2)))[0, 0].tolist()
    [[8.0, 12.0], [20.0, 24.0]]
    >>> run(x, np.ones((1, 1, 2, 2)), order="ijnmkxy")[0, 0].tolist()  # weight stationary
    [[8.0, 12.0], [20.0, 24.0]]
    """
    x, w, b, (Uh, Uw), padding, (Dh, Dw), groups, E, F = check_conv_args(
        x, w, b, stride, padding, dilation, groups
    )
    N = x.shape[0]
    M, Cg, R, S = w.shape
    loops = _indices({"n": N, "m": M, "x": E, "y": F, "i": R, "j": S, "k": Cg}, order, tile)
    act = _act.get(activation)[0] if isinstance(activation, str) else activation
    Mg = M // groups  # filters per group: filter m sees input channels (m // Mg) Cg ... + Cg - 1
    I = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))  # noqa: E741 (the lecture's name)
    O = np.zeros((N, M, E, F), dtype=x.dtype)  # noqa: E741
    if b is not None:
        O += b[None, :, None, None].astype(x.dtype)  # noqa: E741
    for n, m, x_, y, i, j, k in loops:
        O[n, m, x_, y] += I[n, (m // Mg) * Cg + k, Uh * x_ + Dh * i, Uw * y + Dw * j] * w[m, k, i, j]
    if act is not None:
        for index in np.ndindex(O.shape):
            O[index] = act(O[index])
    return O
