"""Figures of the course: one style, one colour per concept, one helper per kind of picture.

**Style.** Importing this module applies the course style (:func:`use_style`, matplotlib
rcParams): 12 pt text and 14 pt titles at the displayed size, a default figure of
8 x 4.5 inches (800 x 450 pixels: shown unscaled in JupyterLab and on a 960-pixel-wide slide),
no top or right spines, no legend frames, the Okabe-Ito colours as the colour cycle, viridis
for magnitudes. Figures are at most :data:`MAX_WIDTH` inches wide, so no text is shrunk below
12 pt when a slide shows them. A notebook that draws with plain matplotlib calls
``use_style()`` once (importing it is enough; calling it says so, and restores the style after
``plt.rcdefaults()``).

**Colours.** :data:`COLORS` gives every concept of the course one colour, the same in every
notebook (Okabe and Ito's colour-blind-safe palette, plus a dark grey for the MAC):

=====================  ==========================  =================================================
family                 concept (key)               colour
=====================  ==========================  =================================================
storage levels         ``DRAM``                    vermillion ``#D55E00`` (hot: the dearest access)
                       ``GLB`` (global buffer)     reddish purple ``#CC79A7``
                       ``NoC`` (network-on-chip)   yellow ``#F0E442`` (drawn with a dark edge)
                       ``RF`` (register file)      blue ``#0072B2``
                       ``MAC`` = ``MACs``          dark grey ``#4D4D4D`` (the arithmetic itself)
operands               ``weights`` = ``filters``   orange ``#E69F00``
                       ``inputs`` (input fmap)     sky blue ``#56B4E9``
                       ``outputs`` = ``psums``     bluish green ``#009E73``
dataflows (what stays  ``ws`` weight stationary    the weights' orange
in the PE)             ``is`` input stationary     the inputs' sky blue
                       ``os`` output stationary    the outputs' green
                       ``rs`` row stationary       the RF's blue (rows of all three stay in the RF)
                       ``nlr`` no local reuse      the GLB's purple (every operand from the GLB)
layer kinds            ``CONV``                    blue ``#0072B2``
                       ``FC``                      vermillion ``#D55E00``
machines (rooflines)   ``TPU-like``                blue ``#0072B2``
                       ``Eyeriss-like``            vermillion ``#D55E00``
                       ``this computer``           bluish green ``#009E73``
number formats         ``float`` (the reference)   black ``#000000``
                       ``quantized``               vermillion ``#D55E00``
=====================  ==========================  =================================================

Eight colours cannot name twenty concepts apart: a colour is reused only by a family that never
shares a figure with the first (layer kinds, machines and number formats never appear next to
storage levels).
Aliases (``MACs`` and ``MAC``, ``filters`` and ``weights``, a dataflow and its operand) are the
same string object, so a test can check a figure against :data:`COLORS` by identity.

**Convention.** Every plotting function takes a keyword ``ax=None`` and draws on it, or on a new
figure of its own size when it is omitted. One-panel pictures return the ``Axes``; pictures of
several panels (``show_maps``, ``plot_receptive_field``, ``plot_conv_step``,
``plot_output_size``) take ``ax`` as a sequence of Axes, one per panel, and return the
``Figure``. A notebook ends the cell with ``plt.show()``. The helpers only draw: the numbers they
show come from the rest of ``cnnlib`` (``plot_conv_step`` calls ``conv2d``). Notation is the
lecture's: input I of H x W, filter W of R x S, output O of E x F, stride U.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.patches import ConnectionPatch, Patch, PathPatch, Rectangle
from matplotlib.path import Path

from ._checks import as_float_array, as_int, check_ndim
from .counting import conv_output_size
from .history import HUMAN_TOP5_ERROR, ILSVRC_TOP5
from .layers import conv2d

_VERMILLION, _PURPLE, _YELLOW, _BLUE = "#D55E00", "#CC79A7", "#F0E442", "#0072B2"
_ORANGE, _SKY, _GREEN, _GREY = "#E69F00", "#56B4E9", "#009E73", "#4D4D4D"

#: Okabe and Ito's eight colours (without black), the order of the colour cycle.
OKABE_ITO = (_BLUE, _ORANGE, _GREEN, _VERMILLION, _PURPLE, _SKY, _YELLOW)

#: One colour per concept of the course (table in the module docstring).
COLORS = {
    "DRAM": _VERMILLION, "GLB": _PURPLE, "NoC": _YELLOW, "RF": _BLUE, "MAC": _GREY, "MACs": _GREY,
    "weights": _ORANGE, "filters": _ORANGE, "inputs": _SKY, "outputs": _GREEN, "psums": _GREEN,
    "ws": _ORANGE, "is": _SKY, "os": _GREEN, "rs": _BLUE, "nlr": _PURPLE,
    "CONV": _BLUE, "FC": _VERMILLION,
    "TPU-like": _BLUE, "Eyeriss-like": _VERMILLION, "this computer": _GREEN,
    "float": "#000000", "quantized": _VERMILLION,
}

#: The widest figure (inches) a slide shows without shrinking its text.
MAX_WIDTH = 10.0

#: The course style (rcParams), applied by :func:`use_style`.
STYLE = {
    "figure.figsize": (8.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.constrained_layout.use": True,
    "font.size": 12,
    "axes.titlesize": 14,
    "figure.titlesize": 14,
    "axes.labelsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.title_fontsize": 12,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "image.cmap": "viridis",
    "lines.linewidth": 2.0,
    "hatch.linewidth": 1.0,
}

#: Smallest font size (points) a figure of the course uses.
MIN_FONT = 12


def use_style():
    """Apply the course style (:data:`STYLE`) to matplotlib; importing ``cnnlib.viz`` does it once.

    Examples
    --------
    >>> use_style()
    >>> plt.rcParams["font.size"], plt.rcParams["axes.titlesize"]
    (12.0, 14.0)
    """
    mpl.rcParams.update(STYLE)


use_style()


def _new_axes(ax, figsize):
    """``ax``, or the Axes of a new figure of ``figsize`` inches."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _panels(ax, n, figsize, **kwargs):
    """``n`` Axes: those given (a sequence of at least ``n``), or a new row of ``n`` panels."""
    if ax is None:
        _, axes = plt.subplots(1, n, figsize=figsize, **kwargs)
        return list(np.atleast_1d(axes))
    axes = list(np.ravel(ax))
    if len(axes) < n:
        raise ValueError(f"ax must be a sequence of {n} Axes; got {len(axes)}")
    return axes[:n]


def map_scale(maps, signed=None):
    """The one colour scale (vmin, vmax) that maps compared side by side share.

    Parameters
    ----------
    maps : sequence of arrays
    signed : bool, optional
        Centre the scale on 0 (-v ... v, v the largest magnitude). By default, exactly when some
        value is negative: a diverging colour map is for signed data only.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> map_scale([np.array([0.5, 0.7]), np.array([0.2])])
    (0.2, 0.7)
    >>> map_scale([np.array([-1.0, 3.0])])
    (-3.0, 3.0)
    """
    values = np.concatenate([np.ravel(m) for m in maps])
    if signed is None:
        signed = bool(np.any(values < 0))
    if signed:
        v = float(np.max(np.abs(values))) or 1.0
        return -v, v
    return float(values.min()), float(values.max())


def show_maps(maps, titles=None, *, inputs=0, ncols=6, cmap=None, signed=None, colorbar=True, size=None,
              suptitle=None, ax=None):
    """Show feature maps (or images) side by side on one shared colour scale.

    The first ``inputs`` panels are input images: each is drawn in grey on its own scale. The
    other 2-D maps are compared, so they share one scale (``map_scale``): a diverging map
    centred on 0 for signed data, viridis for magnitudes, and one colorbar for all of them.

    Parameters
    ----------
    maps : array (M, E, F) or sequence of arrays (E, F) or (E, F, 3)
        The maps to show; an (E, F, 3) array is drawn as an RGB image (values in [0, 1] or
        uint8). Maps may differ in size.
    titles : sequence of str, optional
        One title per map.
    inputs : int
        How many leading panels are input images (grey, own scale, outside the colorbar).
    ncols : int
        Panels per row.
    cmap : str, optional
        Colour map of the compared maps: "RdBu_r" for signed data, "viridis" otherwise.
    signed : bool, optional
        Centre the shared scale on 0 (red positive, blue negative); by default when a compared
        map has a negative value.
    colorbar : bool
        Draw one colorbar for the compared maps.
    size : float, optional
        Width and height of one panel, in inches; by default as wide as fits ``MAX_WIDTH``.
    suptitle : str, optional
        Title above all panels.
    ax : sequence of Axes, optional
        One per map; a new figure if omitted.

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
    inputs = as_int(inputs, "inputs", 0)
    compared = [m for m in maps[inputs:] if m.ndim == 2]
    if ax is None:
        ncols = min(as_int(ncols, "ncols", 1), len(maps))
        nrows = -(-len(maps) // ncols)
        size = size or min(3.0, (MAX_WIDTH - (1.0 if colorbar and compared else 0.0)) / ncols)
        fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                                 figsize=(size * ncols + (1.0 if colorbar and compared else 0.0),
                                          (size + 0.35) * nrows + (0.4 if suptitle else 0)))
        axes = list(axes.flat)
        for extra in axes[len(maps):]:
            extra.axis("off")
    else:
        axes = _panels(ax, len(maps), None)
        fig = axes[0].figure
    vmin, vmax = map_scale(compared, signed) if compared else (None, None)
    cmap = cmap or ("RdBu_r" if compared and vmin < 0 else "viridis")
    shown = []
    for i, (panel, m) in enumerate(zip(axes, maps, strict=False)):
        panel.axis("off")
        if m.ndim == 3:
            panel.imshow(m)
        elif i < inputs:
            panel.imshow(m, cmap="gray")
        else:
            shown.append(panel.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax))
        if titles is not None:
            panel.set_title(titles[i], fontsize=MIN_FONT)
    if colorbar and shown:
        fig.colorbar(shown[-1], ax=[im.axes for im in shown], shrink=0.9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _write_values(image, fmt):
    """Write each value of an imshow ``image`` in its cell: white on dark cells, black on light ones."""
    for (r, c), v in np.ndenumerate(image.get_array()):
        red, green, blue, _ = image.cmap(image.norm(v))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        image.axes.text(c, r, fmt.format(v), ha="center", va="center", color="white" if dark else "black")


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
    rgb[mask] = mpl.colors.to_rgb(color)
    ax.imshow(rgb)
    # cell borders as two line collections: drawing a tick per cell line is many times slower
    ax.hlines(np.arange(-0.5, rows), -0.5, cols - 0.5, color="0.6", linewidth=0.8)
    ax.vlines(np.arange(-0.5, cols), -0.5, rows - 0.5, color="0.6", linewidth=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
    ax.set_title(title, fontsize=MIN_FONT)


def plot_receptive_field(H, W, R, S, x, y, *, stride=1, ax=None):
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
    ax : sequence of two Axes, optional
        Where to draw the input and the output; a new figure if omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels, the H x W input with the window shaded (in the inputs' colour) and the
        E x F output with O[x][y] shaded (the outputs'), joined by lines at the window's corners.
    """
    U = as_int(stride, "stride", 1)
    E = conv_output_size(H, R, stride=U)
    F = conv_output_size(W, S, stride=U, names=("W", "S"))
    x, y = _output_position(x, y, E, F)
    ax_in, ax_out = _panels(ax, 2, (8, 4), width_ratios=(W, max(F, W / 2)))
    window = np.zeros((H, W), dtype=bool)
    window[U * x : U * x + R, U * y : U * y + S] = True
    _grid(ax_in, window, COLORS["inputs"], f"input I: {H} x {W}\nreceptive field of O[{x}][{y}]: {R} x {S}")
    out = np.zeros((E, F), dtype=bool)
    out[x, y] = True
    _grid(ax_out, out, COLORS["outputs"], f"output O: {E} x {F}\n(stride {U})")
    fig = ax_in.figure
    for dx, dy in ((-0.5, -0.5), (R - 0.5, -0.5), (-0.5, S - 0.5), (R - 0.5, S - 0.5)):
        corner_in = (U * y + dy, U * x + dx)
        corner_out = (y + (0.5 if dy > 0 else -0.5), x + (0.5 if dx > 0 else -0.5))
        fig.add_artist(ConnectionPatch(
            corner_out, corner_in, "data", "data", axesA=ax_out, axesB=ax_in, color="0.4", lw=0.8
        ))
    return fig


def plot_connections(n_in, *, n_out=None, R=None, stride=1, ax=None):
    """A 1-D layer as a graph: inputs on the bottom row, outputs on top, a line per weight use.

    Give ``n_out`` for a fully-connected layer (every output sees every input, each line is its
    own weight) or ``R`` for a convolution (output j sees inputs U j ... U j + R - 1; the line to
    tap i is drawn in colour i, because every output reuses the same weight w[i]).

    Parameters
    ----------
    n_in : int
        Number of inputs (W).
    n_out : int, optional
        Number of outputs of a fully-connected layer (M).
    R : int, optional
        Filter size of a convolution; the outputs are then F = (W - R) / U + 1.
    stride : int
        U, for a convolution.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

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
    ax = _new_axes(ax, (5, 3))
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
        ax.legend(loc="upper right", ncols=R, handlelength=1.0, columnspacing=0.8)
    ax.set_ylim(-0.2, 1.4 if R is not None else 1.2)
    ax.axis("off")
    return ax


def plot_conv_step(image, w, x, y, *, stride=1, ax=None):
    """One step of a convolution on a 2-D image: the window, its dot product, the map so far.

    Parameters
    ----------
    image : array (H, W)
        One input channel, drawn in grey.
    w : array (R, S)
        One filter.
    x, y : int
        Output position (row x < E, column y < F); the window starts at input (U x, U y).
    stride : int
        U.
    ax : sequence of three Axes, optional
        A new figure if omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: the input with the window outlined; the R x S products window x w,
        whose sum is O[x][y] (signed: centred on 0); and the output map filled in raster order
        up to O[x][y] (later positions blank), computed with ``conv2d``, on the scale of the
        whole map.
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
    ax_in, ax_prod, ax_out = _panels(ax, 3, (MAX_WIDTH, 3.9))

    ax_in.imshow(image, cmap="gray")
    ax_in.add_patch(Rectangle((U * y - 0.5, U * x - 0.5), S, R, fill=False, color=COLORS["inputs"], lw=3))
    ax_in.set_title(f"input I: {image.shape[0]} x {image.shape[1]}\nwindow at ({U * x}, {U * y})")

    lo, hi = map_scale([products], signed=True)
    shown = ax_prod.imshow(products, cmap="RdBu_r", vmin=lo, vmax=hi)
    if R * S <= 25:
        _write_values(shown, "{:.2g}")
    ax_prod.set_title(f"window x W ({R} x {S} products)\nsum = {products.sum():.4g}")

    partial = np.full((E, F), np.nan)
    partial.flat[: x * F + y + 1] = out.flat[: x * F + y + 1]
    lo, hi = map_scale([out])
    ax_out.imshow(partial, cmap="RdBu_r" if lo < 0 else "viridis", vmin=lo, vmax=hi)
    ax_out.add_patch(Rectangle((y - 0.5, x - 0.5), 1, 1, fill=False, color=COLORS["outputs"], lw=3))
    ax_out.set_xlim(-0.5, F - 0.5)
    ax_out.set_ylim(E - 0.5, -0.5)
    ax_out.set_title(f"activation map O: {E} x {F}\nO[{x}][{y}] = {out[x, y]:.4g}")
    for panel in (ax_in, ax_prod, ax_out):
        panel.set_xticks([])
        panel.set_yticks([])
    return ax_in.figure


def plot_activation(x, y, dy=None, *, title=None, ax=None):
    """Plot an activation y(x) and, if given, its derivative dy/dx on one axes.

    Parameters
    ----------
    x, y : array (K,)
        Inputs and the activation's outputs.
    dy : array (K,), optional
        The derivative at ``x`` (drawn dashed).
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    x = as_float_array(x, "x")
    y = as_float_array(y, "y")
    check_ndim(x, 1, "x", "(K,)")
    if y.shape != x.shape or (dy is not None and np.shape(dy) != x.shape):
        raise ValueError(f"y and dy must have the shape of x {x.shape}; got {y.shape} and {np.shape(dy)}")
    ax = _new_axes(ax, (5, 3.5))
    ax.axhline(0, color="0.7", lw=0.8)
    ax.axvline(0, color="0.7", lw=0.8)
    ax.plot(x, y, label="y")
    if dy is not None:
        ax.plot(x, dy, "--", lw=1.5, label="dy/dx")
    ax.legend(loc="upper left")
    if title:
        ax.set_title(title)
    ax.set_xlabel("x")
    return ax


def plot_ilsvrc(results=ILSVRC_TOP5, human=HUMAN_TOP5_ERROR, *, ax=None):
    """Bar chart of ILSVRC top-5 error by year (winners solid, runners-up hatched), with human error.

    Parameters
    ----------
    results : sequence of cnnlib.history.ILSVRCResult
    human : float or None
        Human top-5 error in percent, drawn as a dashed line.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax, (MAX_WIDTH, 4.5))
    results = sorted(results, key=lambda r: (r.year, not r.winner))
    pos = np.arange(len(results))
    color = OKABE_ITO[0]
    bars = ax.bar(
        pos, [r.top5_error for r in results],
        color=[color if r.winner else "white" for r in results],
        edgecolor=color, hatch=[None if r.winner else "//" for r in results],
    )
    ax.bar_label(bars, labels=[f"{r.top5_error:g} %" for r in results])
    ax.set_xticks(pos, [f"{r.year}\n{r.label}".replace(" (", "\n(") for r in results])
    handles = [Patch(color=color, label="winner"),
               Patch(facecolor="white", edgecolor=color, hatch="//", label="runner-up")]
    if human is not None:
        handles.append(ax.axhline(human, color="0.2", ls="--", lw=1.5, label=f"human, {human:g} %"))
    ax.legend(handles=handles)
    ax.set_ylabel("top-5 error (%)")
    ax.set_title("ILSVRC classification entries (CNNs: ensembles of n networks)")
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


def _cells_path(rows, cols):
    """One compound Path of the unit squares centred on cells (rows[i], cols[i]) of an image."""
    corners = np.array([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5)])
    vertices = np.stack([cols, rows], axis=1)[:, None, :] + corners  # (cells, 5, (x, y))
    codes = np.tile([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], len(rows))
    return Path(vertices.reshape(-1, 2), codes)


def plot_output_size(H, R, *, padding=0, stride=1, dilation=1, window=(0, 0), ax=None):
    """Where an R x R filter lands on an H x H input, and the E x E output it makes.

    Parameters
    ----------
    H, R : int
        Square input and filter sizes.
    padding, stride, dilation : int
        P, U, D.
    window : (int, int)
        The output (x, y) whose window is drawn (its taps on the input in the inputs' colour, the
        cell on the output in the outputs'); negative indices count from the end, as in Python.
    ax : sequence of two Axes, optional
        Where to draw the input and the output; a new figure if omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Left, the padded input: the padding's zeros grey (with a 0 written in when the cells
        are large enough for 12 pt text), the window's taps coloured, cells no window ever reads
        hatched; right, the output with O[x][y] coloured.
    """
    P = as_int(padding, "padding", 0)
    E = conv_output_size(H, R, P, stride, dilation)
    x, y = (as_int(v, "window", -E) for v in window)
    if max(x, y) >= E:
        raise ValueError(f"window must index the {E} x {E} output (-{E} <= x, y < {E}); got {tuple(window)}")
    x, y = x % E, y % E
    n = H + 2 * P
    ax_in, ax_out = _panels(ax, 2, (8, 4.2), width_ratios=(n, max(E, n / 2)))
    read = window_coverage(H, R, P, stride, dilation) > 0
    rgb = np.ones((n, n, 3))
    pad = np.ones((n, n), dtype=bool)
    pad[P : P + H, P : P + H] = False
    rgb[pad] = mpl.colors.to_rgb("0.85")
    taps = stride * np.array([x, y])[:, None] + dilation * np.arange(R)[None, :]
    rgb[np.ix_(taps[0], taps[1])] = mpl.colors.to_rgb(COLORS["inputs"])
    _grid(ax_in, np.zeros((n, n), dtype=bool), "white", "")
    ax_in.images[0].set_data(rgb)
    if n <= 12:  # a cell of a 4-inch panel still holds a 12 pt digit
        for r, c in zip(*np.nonzero(pad), strict=True):
            ax_in.text(c, r, "0", ha="center", va="center", color="0.4")
    unread = np.nonzero(~np.logical_and.outer(read, read))
    if unread[0].size:  # one patch for all unread cells: a patch per cell was slow to draw
        ax_in.add_patch(PathPatch(_cells_path(*unread), fill=False, hatch="///", color="0.3", lw=0))
    ax_in.set_title(f"input {H} x {H}, padding {P} -> {n} x {n}\nfilter {R} x {R}, stride {stride}, "
                    f"dilation {dilation}", fontsize=MIN_FONT)
    out = np.zeros((E, E), dtype=bool)
    out[x, y] = True
    _grid(ax_out, out, COLORS["outputs"], f"output {E} x {E}\nO[{x}][{y}]")
    return ax_in.figure


def _is_fc(point):
    """An FC layer on a roofline: a 1 x 1 output (E = F = 1)."""
    return point.shape.E == point.shape.F == 1


def plot_roofline(machine, points=(), *, labels=(), color=None, label=None, xlim=(0.1, 1e4), ax=None):
    """Draw one machine's roofline on log-log axes, the layers placed on it, and name them.

    Call it once per machine on the same ``ax``: each call writes its roof's name on the roof
    and keeps one legend, which explains the markers.

    Parameters
    ----------
    machine : cnnlib.hardware.roofline.Machine
        Its roofs: the bandwidth slope (intensity x bandwidth) up to the ridge point (dotted
        line), then the flat compute roof at its peak.
    points : sequence of cnnlib.hardware.roofline.LayerPoint
        Layers on this machine (``layer_point``, ``model_points``), drawn at (intensity,
        attainable): circles for CONV layers, crosses for FC layers (E = F = 1).
    labels : sequence of str or dict of str -> str
        The points to name on the figure, by ``LayerPoint.name`` (a dict gives the text to
        write for each); every name must be among ``points``.
    color : str, optional
        Colour of the roof and its points; by default ``COLORS[machine.name]`` when the
        machine has a colour of its own, else the next of the cycle.
    label : str, optional
        Name written on the roof (default: the machine's name and its ridge point).
    xlim : (float, float)
        Operational intensities (ops/byte) the roof spans.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
        x: operational intensity (ops/byte); y: attainable performance (GOPS).
    """
    texts = dict(labels) if isinstance(labels, dict) else {name: name for name in labels}
    unknown = set(texts) - {p.name for p in points}
    if unknown:
        raise ValueError(f"labels must name points given; got {sorted(unknown)} not among them")
    ax = _new_axes(ax, (MAX_WIDTH, 5.5))
    color = color or COLORS.get(machine.name)
    x = np.logspace(np.log10(xlim[0]), np.log10(xlim[1]), 200)
    (line,) = ax.loglog(x, machine.attainable(x) / 1e9, color=color)
    color = line.get_color()
    ax.axvline(machine.ridge, color=color, ls=":", lw=1.2)
    ax.annotate(label or f"{machine.name} (ridge {machine.ridge:,.0f})", (xlim[1], machine.peak / 1e9),
                xytext=(0, 4), textcoords="offset points", ha="right", va="bottom", color=color)
    for fc, marker in ((False, "o"), (True, "x")):
        group = [p for p in points if _is_fc(p) == fc]
        if group:
            ax.scatter([p.intensity for p in group], [p.attainable / 1e9 for p in group], marker=marker,
                       s=40, zorder=3, color=color, facecolor="none" if marker == "o" else color)
    named = sorted((p for p in points if p.name in texts), key=lambda p: p.intensity)
    for k, p in enumerate(named):  # alternately above-left and below-right of the roof: no overlaps
        above = k % 2 == 0
        ax.annotate(texts[p.name], (p.intensity, p.attainable / 1e9),
                    xytext=(-12, 16) if above else (12, -16), textcoords="offset points",
                    ha="right" if above else "left", va="bottom" if above else "top", color=color,
                    arrowprops={"arrowstyle": "-", "color": color, "lw": 0.8})
    ax.legend(handles=[
        plt.Line2D([], [], ls="", marker="o", markerfacecolor="none", color="0.2", label="CONV layer"),
        plt.Line2D([], [], ls="", marker="x", color="0.2", label="FC layer (E = F = 1)"),
        plt.Line2D([], [], ls=":", color="0.2", label="ridge point"),
    ], loc="lower right")
    ax.set_xlim(*xlim)
    ax.set_xlabel("operational intensity (ops / DRAM byte)")
    ax.set_ylabel("attainable performance (GOPS)")
    return ax


#: Most bars a chart of layers shows before it groups them (see ``layer_groups``).
MAX_BARS = 30


def layer_groups(summary, max_bars=MAX_BARS):
    """A network's CONV and FC layers, grouped by stage or module when they are too many to draw.

    Parameters
    ----------
    summary : cnnlib.counting.Summary
        The network's table (``cnnlib.counting.summary``).
    max_bars : int
        Above this many layers, layers are grouped by the first part of their dotted name
        (ResNet's stage ``conv3_x``, GoogLeNet's module ``inception_4a``).

    Returns
    -------
    list of (name, kind, weights, macs)
        In network order; a group's ``kind`` is "FC" when all its layers are FC, else "CONV".
    """
    rows = [r for r in summary.rows if r.kind]
    grouped = len(rows) > as_int(max_bars, "max_bars", 1)
    out = {}
    for r in rows:
        name = r.name.split(".")[0] if grouped else r.name
        _, kinds, weights, macs = out.get(name, (name, set(), 0, 0))
        out[name] = (name, kinds | {r.kind}, weights + r.weights, macs + r.macs)
    return [(name, "FC" if kinds == {"FC"} else "CONV", weights, macs) for name, kinds, weights, macs
            in out.values()]


def plot_layer_counts(summary, *, relative=True, max_bars=MAX_BARS, title=None, ax=None):
    """Weights and MACs of each CONV and FC layer (or stage) of a network, as pairs of bars.

    Parameters
    ----------
    summary : cnnlib.counting.Summary
        The network's table (``cnnlib.counting.summary``); its MACs follow its convention.
    relative : bool
        Bars in percent of the network's total, on a linear scale from 0 (which part holds most
        of the weights, which most of the MACs), each bar of 5 % or more labelled with its
        share in percent. ``False``: absolute counts per image on a log scale.
    max_bars : int
        Networks with more layers are drawn by stage or module (``layer_groups``).
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One pair of bars per layer or group (weights, MACs, in ``COLORS``), FC layers hatched.
    """
    rows = layer_groups(summary, max_bars)
    rotate = len(rows) * max(len(r[0]) for r in rows) > 70
    if ax is None:
        height = 4.5 + (0.09 * max(len(r[0]) for r in rows) if rotate else 0)
        _, ax = plt.subplots(figsize=(min(MAX_WIDTH, max(6.0, 0.5 * len(rows) + 3)), height))
    pos = np.arange(len(rows))
    hatch = ["//" if kind == "FC" else None for _, kind, _, _ in rows]
    weights = np.array([r[2] for r in rows], dtype=float)
    macs = np.array([r[3] for r in rows], dtype=float)
    if relative:
        weights, macs = 100 * weights / weights.sum(), 100 * macs / macs.sum()
    for shift, values, key in ((-0.2, weights, "weights"), (0.2, macs, "MACs")):
        bars = ax.bar(pos + shift, values, 0.4, color=COLORS[key], hatch=hatch, label=key, edgecolor="white")
        if relative:
            ax.bar_label(bars, labels=[f"{v:.0f}" if v >= 5 else "" for v in values], padding=2)
    if relative:
        ax.set_ylim(0, 1.12 * max(weights.max(), macs.max()))
        ax.set_ylabel("share of the network's total (%)")
    else:
        ax.set_yscale("log")
        ax.set_ylabel("per image (log scale)")
    ax.set_xticks(pos, [r[0] for r in rows], rotation=90 if rotate else 0)
    ax.set_xlim(-0.7, len(rows) - 0.3)
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], Patch(facecolor="white", edgecolor="k",
                                                                  hatch="//", label="FC layer")],
              loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the axes: it hides no bar
    if title:
        ax.set_title(title)
    return ax


def plot_matrix(a, *, title=None, fmt="{:g}", cmap="Blues", xlabel=None, ylabel=None, ax=None):
    """A small matrix drawn as coloured cells with its values written in them (12 pt).

    Parameters
    ----------
    a : array (rows, cols)
        Keep it small: every value is written out, so a cell needs about 0.4 inches.
    title, xlabel, ylabel : str, optional
    fmt : str
        Format of each value, e.g. "{:g}" or "{:.1f}".
    cmap : str
        Colour map of the cells (a diverging one, e.g. "RdBu_r", is centred on 0).
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure (0.45 inches per cell) if omitted.

    Returns
    -------
    matplotlib.axes.Axes
        With one text per cell, row-major.
    """
    a = as_float_array(a, "a")
    check_ndim(a, 2, "a", "(rows, cols)")
    ax = _new_axes(ax, (min(MAX_WIDTH, 0.45 * a.shape[1] + 1), 0.45 * a.shape[0] + 1))
    diverging = cmap in ("RdBu_r", "RdBu", "coolwarm", "bwr", "seismic", "PuOr", "BrBG")
    vmin, vmax = map_scale([a], signed=True) if diverging else (None, None)
    _write_values(ax.imshow(a, cmap=cmap, aspect="equal", vmin=vmin, vmax=vmax), fmt)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    return ax


def energy_per_mac_by_row(reports):
    """Energy per MAC of each row of ``Report.breakdown()`` (level, NoC, MAC), per report.

    Parameters
    ----------
    reports : dict of str -> cnnlib.hardware.report.Report
        Label -> evaluated mapping (e.g. one per dataflow).

    Returns
    -------
    dict of str -> numpy array
        Row name -> its energy per MAC (summed over the operands, in units of one MAC's energy)
        in each report, outermost level first; the rows sum to ``Report.energy_per_mac``.
    """
    if not reports:
        raise ValueError("reports must hold at least one (label -> Report) entry; got none")
    rows = list(next(iter(reports.values())).breakdown())
    return {row: np.array([sum(r.breakdown().get(row, {}).values()) / r.macs for r in reports.values()])
            for row in rows}


def plot_energy_breakdown(reports, *, ax=None):
    """Stacked bars of energy per MAC by storage level, one bar per mapping report.

    Parameters
    ----------
    reports : dict of str -> cnnlib.hardware.report.Report
        Label -> evaluated mapping (e.g. one per dataflow). Each bar stacks
        ``energy_per_mac_by_row``: each level, the NoC and the MACs, in ``COLORS``.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    heights = energy_per_mac_by_row(reports)
    ax = _new_axes(ax, (7, 4))
    labels = list(reports)
    bottom = np.zeros(len(labels))
    for row, h in heights.items():
        ax.bar(labels, h, bottom=bottom, label=row, color=COLORS.get(row), edgecolor="0.2", lw=0.5)
        bottom += h
    ax.set_ylabel("energy per MAC (x MAC)")
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1, 1))  # top row first
    return ax


def _box(ax, x, y, w, h, name, text=None, *, fill=0.35):
    """A rounded box in ``name``'s colour (``COLORS``), labelled with ``text`` (default: the name)."""
    color = COLORS.get(name, "0.5")
    ax.add_patch(mpl.patches.FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                            facecolor=mpl.colors.to_rgba(color, fill), edgecolor=color, lw=2))
    ax.text(x + w / 2, y + h / 2, name if text is None else text, ha="center", va="center")


def _arrow(ax, start, end, color="0.3", **kwargs):
    ax.annotate("", end, start, arrowprops={"arrowstyle": "-|>", "color": color, "lw": 2, **kwargs})


def plot_hierarchy(levels=("DRAM", "GLB", "RF"), *, pes=(12, 14), values=None, title=None, ax=None):
    """The memory hierarchy of a spatial accelerator: storage levels, the NoC and the PE array.

    Sze et al.'s picture, drawn in the level colours of ``COLORS``: off-chip DRAM, the on-chip
    global buffer (GLB), the network-on-chip (NoC) that feeds the array of processing elements
    (PEs), and in each PE its register file (RF) and MAC unit. Draw it wherever a count refers to
    a level, with the counts in ``values``.

    Parameters
    ----------
    levels : sequence of str
        Storage levels, outermost first (an ``Architecture``'s level names). Each but an
        innermost "RF" is a box of its own; "RF" is drawn inside every PE.
    pes : (int, int)
        Rows and columns of the PE array; up to 4 x 4 are drawn, larger arrays with their size.
    values : dict of str -> str, optional
        Text written under each part, by name ("DRAM", "GLB", "NoC", "RF", "MAC"), e.g. the
        energy of one access or a mapping's access counts.
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
        With one box per outer level, an arrow per link, and the PE array.
    """
    levels = list(levels)
    if not levels or len(set(levels)) != len(levels):
        raise ValueError(f"levels must be distinct level names, outermost first; got {levels}")
    rows, cols = (as_int(v, "pes", 1) for v in pes)
    values = dict(values or {})
    unknown = set(values) - set(levels) - {"NoC", "MAC"}
    if unknown:
        raise ValueError(f"values must name parts drawn ({levels + ['NoC', 'MAC']}); got {sorted(unknown)}")
    outer = levels[:-1] if levels[-1] == "RF" else levels
    ax = _new_axes(ax, (MAX_WIDTH, 3.6))
    x = 0.0
    for i, name in enumerate(outer):
        _box(ax, x, 0.6, 1.6, 1.8, name)
        if name in values:
            ax.text(x + 0.8, 0.4, values[name], ha="center", va="top")
        if i + 1 < len(outer):
            _arrow(ax, (x + 1.7, 1.5), (x + 2.5, 1.5), arrowstyle="<|-|>")
        x += 2.6
    noc = (x - 0.9, x + 0.6)
    _arrow(ax, (noc[0], 1.5), (noc[1], 1.5), color=COLORS["NoC"], lw=6, arrowstyle="<|-|>")
    ax.text(sum(noc) / 2, 1.75, "NoC", ha="center", va="bottom")
    if "NoC" in values:
        ax.text(sum(noc) / 2, 1.25, values["NoC"], ha="center", va="top")
    shown_rows, shown_cols = min(rows, 4), min(cols, 4)
    size = 2.4 / max(shown_rows, shown_cols, 2)
    x0 = noc[1] + 0.2
    for r in range(shown_rows):
        for c in range(shown_cols):
            px, py = x0 + c * size, 2.7 - (r + 1) * size
            ax.add_patch(Rectangle((px + 0.05 * size, py + 0.05 * size), 0.9 * size, 0.9 * size,
                                   facecolor="white", edgecolor="0.3", lw=1))
            if "RF" in levels:
                ax.add_patch(Rectangle((px + 0.15 * size, py + 0.45 * size), 0.7 * size, 0.35 * size,
                                       facecolor=COLORS["RF"], edgecolor="none"))
            ax.add_patch(mpl.patches.Circle((px + 0.5 * size, py + 0.27 * size), 0.13 * size,
                                            facecolor=COLORS["MAC"], edgecolor="none"))
    width = shown_cols * size
    more = " (4 x 4 drawn)" if (rows, cols) != (shown_rows, shown_cols) else ""
    ax.text(x0 + width / 2, 2.8, f"{rows} x {cols} PEs{more}", ha="center", va="bottom")
    legend = [("RF", "RF in each PE")] if "RF" in levels else []
    legend.append(("MAC", "MAC"))
    for k, (part, text) in enumerate(legend):
        ly = 0.05 - 0.45 * k
        ax.add_patch(Rectangle((x0, ly - 0.12), 0.25, 0.25, facecolor=COLORS[part], edgecolor="none"))
        extra = f": {values[part]}" if part in values else ""
        ax.text(x0 + 0.35, ly, text + extra, va="center")
    ax.set_xlim(-0.2, x0 + max(width, 3.2) + 0.2)
    ax.set_ylim(-0.55 - 0.45 * (len(legend) - 1), 3.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def plot_loop_nest(mapping, layer=None, arch=None, *, ax=None):
    """A mapping's loop nest with each loop on the band of the level it runs at.

    Parameters
    ----------
    mapping : cnnlib.hardware.mapping.Mapping
    layer, arch : optional
        Passed to ``Mapping.loop_nest``: each level's header then shows the words it holds.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One line of text per line of ``mapping.loop_nest(layer, arch)``, on bands in the level
        colours: the temporal loops of each storage level, the spatial loops on the PE array
        (run in parallel, over the NoC's colour), and the MAC.
    """
    lines = mapping.loop_nest(layer, arch).splitlines()
    part, parts = None, []
    for line in lines:
        word = line.split()[0]
        if word in mapping.levels:
            part = word
        elif word == "spatial_for":
            part = "PE array"
        elif word == "MAC:":
            part = "MAC"
        parts.append(part)
    ax = _new_axes(ax, (MAX_WIDTH, 0.3 * len(lines) + 0.4))
    n = len(lines)
    start = 0
    for i in range(1, n + 1):
        if i == n or parts[i] != parts[start]:
            color = COLORS["NoC"] if parts[start] == "PE array" else COLORS.get(parts[start], "0.8")
            ax.add_patch(Rectangle((0, n - i), 1, i - start, transform=ax.get_yaxis_transform(),
                                   facecolor=mpl.colors.to_rgba(color, 0.3), edgecolor="none"))
            label = "PE array\n(parallel)" if parts[start] == "PE array" else parts[start]
            ax.text(0.01, n - (start + i) / 2, label, transform=ax.get_yaxis_transform(), va="center",
                    color="0.2", fontweight="bold", linespacing=0.9)
            start = i
    for i, line in enumerate(lines):
        ax.text(0.13, n - i - 0.5, line, transform=ax.get_yaxis_transform(), va="center", family="monospace")
    ax.set_ylim(0, n)
    ax.axis("off")
    return ax


def plot_row_stationary(H=5, R=3, *, ax=None):
    """Row stationary on a 1-D slice of a layer: which filter, input and psum rows each PE holds.

    Eyeriss (Chen et al., ISCA 2016) gives PE (i, j) of an R x E block filter row i and input
    row i + j; it convolves them into a row of partial sums of output row j. Filter rows are
    reused across a PE row (horizontally), input rows along the diagonals (i + j constant), and
    the partial sums of an output row are added up a PE column (spatial reduction).

    Parameters
    ----------
    H, R : int
        Input rows and filter rows (stride 1, no padding): E = H - R + 1 output rows.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
        An R x E grid of PEs, each labelled with its filter row (weights' colour), input row
        (inputs') and output row (outputs'), with the three reuse paths drawn.
    """
    E = conv_output_size(H, R)
    ax = _new_axes(ax, (MAX_WIDTH, 1.5 * R + 1.6))
    size, gap = 1.5, 0.5
    for i in range(R):
        for j in range(E):
            x, y = j * (size + gap), (R - 1 - i) * (size + gap * 0.6)
            ax.add_patch(Rectangle((x, y), size, size, facecolor="white", edgecolor="0.3", lw=1.5))
            for k, (op, text) in enumerate((("weights", f"W row {i}"), ("inputs", f"I row {i + j}"),
                                            ("outputs", f"O row {j}"))):
                ax.text(x + size / 2, y + size * (0.78 - 0.28 * k), text, ha="center", va="center",
                        color=COLORS[op], fontweight="bold")
            if i + 1 < R and j > 0:  # the same input row at PE (i + 1, j - 1): diagonal reuse
                ax.plot([x + size / 2, x - gap - size / 2], [y + 0.5 * size, y - gap * 0.6 - 0.5 * size],
                        color=COLORS["inputs"], lw=2, zorder=0)
        ax.annotate("", ((E - 1) * (size + gap) + size, (R - 1 - i) * (size + gap * 0.6) + 0.78 * size),
                    (-0.6, (R - 1 - i) * (size + gap * 0.6) + 0.78 * size),
                    arrowprops={"arrowstyle": "-|>", "color": COLORS["weights"], "lw": 1.5, "alpha": 0.6},
                    zorder=0)
    top = (R - 1) * (size + gap * 0.6) + size
    for j in range(E):
        x = j * (size + gap) + size + 0.12
        _arrow(ax, (x, 0.1), (x, top + 0.5), color=COLORS["outputs"], lw=2)
        ax.text(x - 0.12 - size / 2, top + 0.55, f"O row {j}", ha="center", va="bottom",
                color=COLORS["outputs"])
    ax.text(E * (size + gap) - gap, top + 0.55, "psums summed\nup each column", ha="left", va="bottom",
            color=COLORS["outputs"])
    ax.text(-0.7, top - 0.22 * size, "filter rows\nsent along\nPE rows", ha="right", va="top",
            color=COLORS["weights"])
    ax.text(-0.7, 0.25 * size, "input rows\nreused along\nthe diagonals", ha="right", va="center",
            color=COLORS["inputs"])
    ax.set_xlim(-3.0, E * (size + gap))
    ax.set_ylim(-0.2, top + 1.1)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


#: The lecture's loop dims each operand's index depends on (an input also moves with E + R, F + S).
DEPENDS = {"weights": "MCRS", "inputs": "NCEFRS", "outputs": "NMEF"}


def plot_spatial_sharing(rows, cols, *, ax=None):
    """Multicast and spatial reduction on a PE array with one loop dim unrolled on each side.

    PEs that share an operand (it does not depend on the dim that tells them apart) receive it
    from one GLB read: a **multicast**. PEs that produce partial sums of the same output add
    them on the way out: a **spatial reduction**, one GLB write for the whole line.

    Parameters
    ----------
    rows, cols : (str, int)
        The dim unrolled across the PE rows and its factor, and the same for the columns, e.g.
        ``("C", 4)`` and ``("M", 4)``; factors up to 6.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The PEs labelled with their dim values; lines in the operand colours: a multicast line
        along each row or column that shares an input or weight, and a summing line with a
        "+" for each row or column whose psums are reduced.
    """
    (dr, nr), (dc, nc) = rows, cols
    for d, n, name in ((dr, nr, "rows"), (dc, nc, "cols")):
        if d not in "NMCEFRS" or not 1 <= as_int(n, name, 1) <= 6:
            raise ValueError(f"{name} must be (a dim of NMCEFRS, a factor 1 ... 6); got {(d, n)}")
    ax = _new_axes(ax, (MAX_WIDTH, 0.95 * nr + 2.2))
    size, gap = 1.0, 0.55
    step = size + gap

    def corner(r, c):
        return c * step, (nr - 1 - r) * step

    for r in range(nr):
        for c in range(nc):
            x, y = corner(r, c)
            ax.add_patch(Rectangle((x, y), size, size, facecolor="white", edgecolor="0.3", lw=1.5, zorder=2))
            ax.text(x + size / 2, y + size / 2, f"{dr.lower()}{r} {dc.lower()}{c}", ha="center", va="center",
                    zorder=3)
    width, height = nc * step - gap, nr * step - gap
    notes = []
    for k, op in enumerate(("inputs", "weights", "outputs")):
        color, off = COLORS[op], (0.15, 0.85, None)[k]  # input lines low, weight lines high in a PE
        along_rows = dc not in DEPENDS[op]  # the same word for every PE of a row
        along_cols = dr not in DEPENDS[op]
        if op != "outputs":
            for r in range(nr) if along_rows else ():
                y = corner(r, 0)[1] + off * size
                _arrow(ax, (-0.9, y), (width + 0.1, y), color=color, lw=2)
            for c in range(nc) if along_cols and not along_rows else ():
                x = corner(0, c)[0] + off * size
                _arrow(ax, (x, height + 0.7), (x, -0.1), color=color, lw=2)
            kind = ("multicast along each row" if along_rows else "multicast down each column" if along_cols
                    else "one word per PE (unicast)")
        else:
            for c in range(nc) if along_cols else ():
                x = corner(0, c)[0] + size + 0.12
                _arrow(ax, (x, height), (x, -0.45), color=color, lw=2)
                ax.text(x, -0.5, "+", ha="center", va="top", color=color, fontsize=16, fontweight="bold")
            for r in range(nr) if along_rows and not along_cols else ():
                y = corner(r, 0)[1] - 0.12
                _arrow(ax, (0, y), (width + 0.45, y), color=color, lw=2)
                ax.text(width + 0.5, y, "+", ha="left", va="center", color=color, fontsize=16,
                        fontweight="bold")
            kind = ("reduced down each column" if along_cols else "reduced along each row" if along_rows
                    else "one output per PE (no reduction)")
        notes.append((op, f"{op}: {kind}"))
    for k, (op, text) in enumerate(notes):
        ax.text(width + 1.2, height - 0.45 * k, text, color=COLORS[op], va="top", fontweight="bold")
    ax.text(width + 1.2, height - 1.6, "arrows start at the GLB: one read per line;\n"
            "each + is one GLB write", va="top")
    ax.text(width / 2, height + 0.75, f"{dr} across {nr} rows, {dc} across {nc} columns", ha="center",
            va="bottom")
    ax.set_xlim(-1.2, width + 7.5)
    ax.set_ylim(-1.1, height + 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
