"""Figures of the course: one matplotlib helper per kind of picture.

Each function either draws on an ``ax`` it is given and returns it, or makes its own figure and
returns the ``Figure``; a notebook ends the cell with ``plt.show()``. The helpers only draw: the
numbers they show come from the rest of ``cnnlib`` (``plot_conv_step`` calls ``conv2d``).
Notation is the lecture's: input I of H x W, filter W of R x S, output O of E x F, stride U.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import ConnectionPatch, Patch, Rectangle

from ._checks import as_float_array, as_int, check_ndim
from .counting import conv_output_size
from .history import HUMAN_TOP5_ERROR, ILSVRC_TOP5
from .layers import conv2d


def show_maps(maps, titles=None, *, ncols=6, cmap=None, signed=False, size=2.0, suptitle=None):
    """Show feature maps (or images) side by side, one small panel each.

    Parameters
    ----------
    maps : array (M, E, F) or sequence of arrays (E, F) or (E, F, 3)
        The maps to show; an (E, F, 3) array is drawn as an RGB image (values in [0, 1] or
        uint8). Maps may differ in size.
    titles : sequence of str, optional
        One title per map.
    ncols : int
        Panels per row.
    cmap : str, optional
        Colour map of 2-D maps: "gray" by default, "RdBu_r" when ``signed``.
    signed : bool
        Centre the colour scale of each 2-D map on 0 (red positive, blue negative), so a
        filter's positive and negative responses read apart.
    size : float
        Width and height of one panel, in inches.
    suptitle : str, optional
        Title above all panels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    maps = [np.asarray(m) for m in maps]
    if not maps:
        raise ValueError("maps must hold at least one map; got none")
    for i, m in enumerate(maps):
        if not (m.ndim == 2 or (m.ndim == 3 and m.shape[2] == 3)):
            raise ValueError(f"maps[{i}] must be a 2-D map (E, F) or an RGB image (E, F, 3); got {m.shape}")
    if titles is not None and len(titles) != len(maps):
        raise ValueError(f"titles must have one entry per map ({len(maps)}); got {len(titles)}")
    ncols = min(as_int(ncols, "ncols", 1), len(maps))
    nrows = -(-len(maps) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
        squeeze=False, layout="constrained",
    )
    cmap = cmap or ("RdBu_r" if signed else "gray")
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, m) in enumerate(zip(axes.flat, maps, strict=False)):
        if m.ndim == 3:
            ax.imshow(m)
        elif signed:
            v = float(np.max(np.abs(m))) or 1.0
            ax.imshow(m, cmap=cmap, vmin=-v, vmax=v)
        else:
            ax.imshow(m, cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _output_position(x, y, E, F):
    """Return (x, y) as ints after checking they index the E x F output."""
    x, y = as_int(x, "x", 0), as_int(y, "y", 0)
    if x >= E or y >= F:
        raise ValueError(f"(x, y) must lie in the {E} x {F} output (x < {E}, y < {F}); got ({x}, {y})")
    return x, y


def _grid(ax, mask, color, title):
    """Draw a grid of cells, those where ``mask`` is True filled with ``color``."""
    rows, cols = mask.shape
    rgb = np.ones((rows, cols, 3))
    rgb[mask] = plt.matplotlib.colors.to_rgb(color)
    ax.imshow(rgb)
    ax.set_xticks([])  # no major ticks: automatic ones at half-integers would hide the minor grid
    ax.set_yticks([])
    ax.set_xticks(np.arange(-0.5, cols), minor=True)
    ax.set_yticks(np.arange(-0.5, rows), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title, fontsize=10)


def plot_receptive_field(H, W, R, S, x, y, *, stride=1):
    """The receptive field of one output: which R x S inputs output O[x][y] sees.

    Parameters
    ----------
    H, W : int
        Input fmap size.
    R, S : int
        Filter size.
    x, y : int
        Output row (0 <= x < E) and column (0 <= y < F).
    stride : int
        U: the window of O[x][y] starts at input row U x and column U y.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels, the H x W input with the window shaded and the E x F output with O[x][y]
        shaded, joined by lines at the window's corners.
    """
    U = as_int(stride, "stride", 1)
    E = conv_output_size(H, R, stride=U)
    F = conv_output_size(W, S, stride=U, names=("W", "S"))
    x, y = _output_position(x, y, E, F)
    fig, (ax_in, ax_out) = plt.subplots(
        1, 2, figsize=(8, 4), width_ratios=(W, max(F, W / 2)), layout="constrained"
    )
    window = np.zeros((H, W), dtype=bool)
    window[U * x : U * x + R, U * y : U * y + S] = True
    _grid(ax_in, window, "tab:orange", f"input I: {H} x {W}\nreceptive field of O[{x}][{y}]: {R} x {S}")
    out = np.zeros((E, F), dtype=bool)
    out[x, y] = True
    _grid(ax_out, out, "tab:blue", f"output O: {E} x {F}\n(stride {U})")
    for dx, dy in ((-0.5, -0.5), (R - 0.5, -0.5), (-0.5, S - 0.5), (R - 0.5, S - 0.5)):
        corner_in = (U * y + dy, U * x + dx)
        corner_out = (y + (0.5 if dy > 0 else -0.5), x + (0.5 if dx > 0 else -0.5))
        fig.add_artist(ConnectionPatch(
            corner_out, corner_in, "data", "data", axesA=ax_out, axesB=ax_in, color="0.4", lw=0.8
        ))
    return fig


def plot_connections(ax, n_in, *, n_out=None, R=None, stride=1):
    """A 1-D layer as a graph: inputs on the bottom row, outputs on top, a line per weight use.

    Give ``n_out`` for a fully-connected layer (every output sees every input, each line is its
    own weight) or ``R`` for a convolution (output j sees inputs U j ... U j + R - 1; the line to
    tap i is drawn in colour i, because every output reuses the same weight w[i]).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    n_in : int
        Number of inputs (W).
    n_out : int, optional
        Number of outputs of a fully-connected layer (M).
    R : int, optional
        Filter size of a convolution; the outputs are then F = (W - R) / U + 1.
    stride : int
        U, for a convolution.

    Returns
    -------
    matplotlib.axes.Axes
        With one line per connection: n_in x n_out lines, or F x R.
    """
    n_in = as_int(n_in, "n_in", 1)
    if (n_out is None) == (R is None):
        raise ValueError(
            f"give exactly one of n_out (fully connected) or R (convolution); got n_out={n_out}, R={R}"
        )
    if R is not None:
        U = as_int(stride, "stride", 1)
        n_out = conv_output_size(n_in, R, stride=U, names=("n_in", "R"))
        taps = [[(U * j + i, i) for i in range(R)] for j in range(n_out)]
    else:
        n_out = as_int(n_out, "n_out", 1)
        taps = [[(k, None) for k in range(n_in)] for _ in range(n_out)]
    x_out = np.arange(n_out) + (n_in - n_out) / 2
    labelled = set()
    for j, row in enumerate(taps):
        for k, i in row:
            color = "0.55" if i is None else f"C{i}"
            label = f"w[{i}]" if i is not None and i not in labelled else None
            labelled.add(i)
            ax.plot([k, x_out[j]], [0, 1], color=color, lw=1.2, label=label, zorder=1)
    ax.scatter(np.arange(n_in), np.zeros(n_in), s=120, color="white", edgecolor="k", zorder=2)
    ax.scatter(x_out, np.ones(n_out), s=120, color="k", zorder=2)
    ax.text(-0.6, 0, "inputs", ha="right", va="center")
    ax.text(x_out[0] - 0.6, 1, "outputs", ha="right", va="center")
    if R is not None:
        ax.legend(loc="upper right", fontsize=8, frameon=False, ncols=R)
    ax.set_ylim(-0.2, 1.35 if R is not None else 1.2)
    ax.axis("off")
    return ax


def plot_conv_step(image, w, x, y, *, stride=1, cmap="gray"):
    """One step of a convolution on a 2-D image: the window, its dot product, the map so far.

    Parameters
    ----------
    image : array (H, W)
        One input channel.
    w : array (R, S)
        One filter.
    x, y : int
        Output position (row x < E, column y < F); the window starts at input (U x, U y).
    stride : int
        U.
    cmap : str
        Colour map of the input.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: the input with the window outlined; the R x S products window x w,
        whose sum is O[x][y]; and the output map filled in raster order up to O[x][y]
        (later positions blank), computed with ``conv2d``.
    """
    image = as_float_array(image, "image")
    w = as_float_array(w, "w")
    check_ndim(image, 2, "image", "(H, W)")
    check_ndim(w, 2, "w", "(R, S)")
    U = as_int(stride, "stride", 1)
    out = conv2d(image[None, None], w[None, None], stride=U)[0, 0]
    E, F = out.shape
    R, S = w.shape
    x, y = _output_position(x, y, E, F)
    products = image[U * x : U * x + R, U * y : U * y + S] * w
    fig, (ax_in, ax_prod, ax_out) = plt.subplots(1, 3, figsize=(12, 4), layout="constrained")

    ax_in.imshow(image, cmap=cmap)
    ax_in.add_patch(Rectangle((U * y - 0.5, U * x - 0.5), S, R, fill=False, color="tab:red", lw=2))
    ax_in.set_title(f"input I: {image.shape[0]} x {image.shape[1]}, window at ({U * x}, {U * y})")

    v = float(np.max(np.abs(products))) or 1.0
    ax_prod.imshow(products, cmap="RdBu_r", vmin=-v, vmax=v)
    if R * S <= 49:
        for i in range(R):
            for j in range(S):
                ax_prod.text(j, i, f"{products[i, j]:.3g}", ha="center", va="center", fontsize=8)
    ax_prod.set_title(f"window x W ({R} x {S} products)\nsum = {products.sum():.4g}")

    partial = np.full((E, F), np.nan)
    partial.flat[: x * F + y + 1] = out.flat[: x * F + y + 1]
    vmax = float(np.max(np.abs(out))) or 1.0
    ax_out.imshow(partial, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax_out.add_patch(Rectangle((y - 0.5, x - 0.5), 1, 1, fill=False, color="tab:red", lw=2))
    ax_out.set_xlim(-0.5, F - 0.5)
    ax_out.set_ylim(E - 0.5, -0.5)
    ax_out.set_title(f"activation map O: {E} x {F}\nO[{x}][{y}] = {out[x, y]:.4g}")
    for ax in (ax_in, ax_prod, ax_out):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def plot_activation(ax, x, y, dy=None, *, title=None):
    """Plot an activation y(x) and, if given, its derivative dy/dx on one axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x, y : array (K,)
        Inputs and the activation's outputs.
    dy : array (K,), optional
        The derivative at ``x`` (drawn dashed).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    x = as_float_array(x, "x")
    y = as_float_array(y, "y")
    check_ndim(x, 1, "x", "(K,)")
    if y.shape != x.shape or (dy is not None and np.shape(dy) != x.shape):
        raise ValueError(f"y and dy must have the shape of x {x.shape}; got {y.shape} and {np.shape(dy)}")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.axvline(0, color="0.7", lw=0.8)
    ax.plot(x, y, lw=2, label="y")
    if dy is not None:
        ax.plot(x, dy, "--", lw=1.5, label="dy/dx")
    ax.legend(fontsize=8, loc="upper left")
    if title:
        ax.set_title(title)
    ax.set_xlabel("x")
    return ax


def plot_ilsvrc(ax=None, results=ILSVRC_TOP5, human=HUMAN_TOP5_ERROR):
    """Bar chart of ILSVRC top-5 error by year (winners solid, runners-up hatched), with human error.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.
    results : sequence of cnnlib.history.ILSVRCResult
    human : float or None
        Human top-5 error in percent, drawn as a dashed line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    results = sorted(results, key=lambda r: (r.year, not r.winner))
    pos = np.arange(len(results))
    bars = ax.bar(
        pos, [r.top5_error for r in results],
        color=["tab:blue" if r.winner else "white" for r in results],
        edgecolor="tab:blue", hatch=[None if r.winner else "//" for r in results],
    )
    ax.bar_label(bars, labels=[f"{r.top5_error:g} %" for r in results], fontsize=9)
    ax.set_xticks(pos, [f"{r.year}\n{r.network}" for r in results], fontsize=8)
    handles = [Patch(color="tab:blue", label="winner"),
               Patch(facecolor="white", edgecolor="tab:blue", hatch="//", label="runner-up")]
    if human is not None:
        handles.append(ax.axhline(human, color="tab:red", ls="--", lw=1.2, label=f"human, {human:g} %"))
    ax.legend(handles=handles)
    ax.set_ylabel("top-5 error (%)")
    ax.set_title("ImageNet challenge (ILSVRC) classification")
    return ax


def window_coverage(H, R, padding=0, stride=1, dilation=1) -> np.ndarray:
    """How many filter taps read each row of the padded input, over all window positions.

    Parameters
    ----------
    H, R : int
        Input and filter size along one axis.
    padding, stride, dilation : int
        P, U and D, as in ``conv_output_size``.

    Returns
    -------
    array of int (H + 2P,)
        Entry r counts the (window, tap) pairs that read padded row r. A 0 marks a row the layer
        never reads: past the last window when the stride does not fit (what ``strict`` refuses),
        or between dilated taps when the stride steps over them.

    Examples
    --------
    >>> window_coverage(7, 3, stride=2).tolist()
    [1, 1, 2, 1, 2, 1, 1]
    >>> window_coverage(7, 3, stride=3).tolist()  # the last row is skipped
    [1, 1, 1, 1, 1, 1, 0]
    """
    E = conv_output_size(H, R, padding, stride, dilation)
    rows = stride * np.arange(E)[:, None] + dilation * np.arange(R)[None, :]
    return np.bincount(rows.ravel(), minlength=H + 2 * padding)


def plot_output_size(H, R, *, padding=0, stride=1, dilation=1, window=(0, 0), ax=None):
    """Where an R x R filter lands on an H x H input, and the E x E output it makes.

    Parameters
    ----------
    H, R : int
        Square input and filter sizes.
    padding, stride, dilation : int
        P, U, D.
    window : (int, int)
        The output (x, y) whose window is drawn (orange taps on the input, orange cell on the
        output); negative indices count from the end, as in Python.
    ax : sequence of two Axes, optional
        Where to draw the input and the output; a new figure if omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Left, the padded input: the padding's zeros grey with a 0, the window's taps orange,
        cells no window ever reads hatched red; right, the output with O[x][y] orange.
    """
    P = as_int(padding, "padding", 0)
    E = conv_output_size(H, R, P, stride, dilation)
    x, y = (as_int(v, "window", -E) for v in window)
    if max(x, y) >= E:
        raise ValueError(f"window must index the {E} x {E} output (-{E} <= x, y < {E}); got {tuple(window)}")
    x, y = x % E, y % E
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(8, 4), width_ratios=(H + 2 * P, max(E, (H + 2 * P) / 2)),
                               layout="constrained")
    ax_in, ax_out = ax
    n = H + 2 * P
    read = window_coverage(H, R, P, stride, dilation) > 0
    rgb = np.ones((n, n, 3))
    pad = np.ones((n, n), dtype=bool)
    pad[P : P + H, P : P + H] = False
    rgb[pad] = plt.matplotlib.colors.to_rgb("0.85")
    taps = stride * np.array([x, y])[:, None] + dilation * np.arange(R)[None, :]
    rgb[np.ix_(taps[0], taps[1])] = plt.matplotlib.colors.to_rgb("tab:orange")
    _grid(ax_in, np.zeros((n, n), dtype=bool), "white", "")
    ax_in.images[0].set_data(rgb)
    for r, c in zip(*np.nonzero(pad), strict=True):
        ax_in.text(c, r, "0", ha="center", va="center", fontsize=7, color="0.4")
    for r, c in zip(*np.nonzero(~np.logical_and.outer(read, read)), strict=True):
        ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///", color="tab:red", lw=0))
    ax_in.set_title(f"input {H} x {H}, padding {P} -> {n} x {n}\nfilter {R} x {R}, stride {stride}, "
                    f"dilation {dilation}", fontsize=10)
    out = np.zeros((E, E), dtype=bool)
    out[x, y] = True
    _grid(ax_out, out, "tab:orange", f"output {E} x {E}\nO[{x}][{y}]")
    return ax_in.figure


def plot_roofline(ax, machine, points=(), *, color=None, label=None, xlim=(0.1, 1e4)):
    """Draw one machine's roofline on log-log axes and the layers placed on it.

    Parameters
    ----------
    ax : matplotlib Axes
    machine : cnnlib.hardware.roofline.Machine
        Its roofs: the bandwidth slope (intensity x bandwidth) up to the ridge point, then the flat
        compute roof at its peak.
    points : sequence of cnnlib.hardware.roofline.LayerPoint
        Layers on this machine (``layer_point``, ``model_points``), drawn at (intensity,
        attainable): circles for CONV layers, crosses for FC layers (E = F = 1).
    color : str, optional
        Colour of the roof and its points.
    label : str, optional
        Legend entry of the roof (default: the machine's name).
    xlim : (float, float)
        Operational intensities (ops/byte) the roof spans.

    Returns
    -------
    matplotlib Axes
        x: operational intensity (ops/byte); y: attainable performance (GOPS).
    """
    x = np.logspace(np.log10(xlim[0]), np.log10(xlim[1]), 200)
    (line,) = ax.loglog(x, machine.attainable(x) / 1e9, color=color, lw=2, label=label or machine.name)
    ax.axvline(machine.ridge, color=line.get_color(), ls=":", lw=1)
    fc = [p for p in points if p.shape.E == p.shape.F == 1]
    conv = [p for p in points if not (p.shape.E == p.shape.F == 1)]
    for group, marker in ((conv, "o"), (fc, "x")):
        if group:
            ax.scatter([p.intensity for p in group], [p.attainable / 1e9 for p in group],
                       marker=marker, color=line.get_color(), zorder=3, s=25)
    ax.set_xlabel("operational intensity (ops / DRAM byte)")
    ax.set_ylabel("attainable performance (GOPS)")
    return ax


def plot_layer_counts(summary, ax=None, *, title=None):
    """Weights and MACs of each CONV and FC layer of a network, as bars on a log scale.

    Parameters
    ----------
    summary : cnnlib.counting.Summary
        The network's table (``cnnlib.counting.summary``); its MACs follow its convention.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        One pair of bars per layer (weights, MACs), FC layers hatched.
    """
    rows = [r for r in summary.rows if r.kind]
    if ax is None:  # as tall again as the longest rotated name needs (ResNet's "conv5_x.block3.main.conv3")
        height = max(3.5, 2.6 + 0.06 * max(len(r.name) for r in rows))
        _, ax = plt.subplots(figsize=(min(14, max(6, 0.3 * len(rows) + 2)), height), layout="constrained")
    pos = np.arange(len(rows))
    hatch = ["//" if r.kind == "FC" else None for r in rows]
    ax.bar(pos - 0.2, [r.weights for r in rows], 0.4, color="tab:orange", hatch=hatch, label="weights")
    ax.bar(pos + 0.2, [r.macs for r in rows], 0.4, color="tab:blue", hatch=hatch, label="MACs")
    ax.set_yscale("log")
    ax.set_xticks(pos, [r.name for r in rows], rotation=90, fontsize=7 if len(rows) > 12 else 9)
    ax.set_xlim(-0.7, len(rows) - 0.3)
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], Patch(facecolor="white", edgecolor="k",
                                                                  hatch="//", label="FC layer")],
              loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the axes: it hides no bar
    ax.set_ylabel("per image (log scale)")
    if title:
        ax.set_title(title)
    return ax


def plot_matrix(ax, a, *, title=None, fmt="{:g}", cmap="Blues", xlabel=None, ylabel=None):
    """A small matrix drawn as coloured cells with its values written in them.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    a : array (rows, cols)
        Keep it small (a few hundred cells): every value is written out.
    title, xlabel, ylabel : str, optional
    fmt : str
        Format of each value, e.g. "{:g}" or "{:.1f}".
    cmap : str
        Colour map of the cells.

    Returns
    -------
    matplotlib.axes.Axes
        With one text per cell, row-major.
    """
    a = as_float_array(a, "a")
    check_ndim(a, 2, "a", "(rows, cols)")
    image = ax.imshow(a, cmap=cmap, aspect="equal")
    for (r, c), v in np.ndenumerate(a):
        red, green, blue, _ = image.cmap(image.norm(v))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # white text on dark cells
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=7, color="white" if dark else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=9)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=9)
    return ax


def plot_energy_breakdown(ax, reports):
    """Stacked bars of energy per MAC by storage level, one bar per mapping report.

    Parameters
    ----------
    ax : matplotlib Axes
    reports : dict of str -> cnnlib.hardware.report.Report
        Label -> evaluated mapping (e.g. one per dataflow). Each bar stacks the rows of
        ``Report.breakdown()`` (each level, the NoC and the MACs), each summed over the operands
        and divided by the layer's MACs.

    Returns
    -------
    dict of str -> numpy array
        Row name -> its height in each bar (in units of one MAC's energy), in the order drawn.
    """
    if not reports:
        raise ValueError("reports must hold at least one (label -> Report) entry; got none")
    labels = list(reports)
    rows = list(next(iter(reports.values())).breakdown())
    bottom, heights = np.zeros(len(labels)), {}
    for row in rows:
        heights[row] = np.array([sum(r.breakdown().get(row, {}).values()) / r.macs for r in reports.values()])
        ax.bar(labels, heights[row], bottom=bottom, label=row)
        bottom += heights[row]
    ax.set_ylabel("energy per MAC (x MAC)")
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    return heights
