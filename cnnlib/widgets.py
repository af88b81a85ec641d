"""Interactive explorers for the notebooks (ipywidgets): each returns a widget to display.

Each function builds its controls, redraws a ``cnnlib.viz`` figure when a control changes and
returns an :class:`Explorer` (the last expression of a notebook cell displays it). Sliders redraw
when released (``continuous_update=False``), and work that does not depend on the figure (a
network's counts, the mapper's search) is done once per setting and kept. The figure is rendered
to PNG into an ``ipywidgets.Image`` rather than displayed as cell output.

A displayed explorer carries three representations: the live widget (JupyterLab with a kernel
shows it), a PNG of its first drawn state (GitHub, nbconvert, slides and the static pages show
it) and one fixed line of text, :data:`EXPLORER_TEXT` (what nbval compares, the same on every
run). ``benchmarks/widgets.py`` times every explorer's answer to a change (target: 200 ms).
"""

from __future__ import annotations

import base64
import html
import io
from functools import cache

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from . import activations, models
from ._checks import as_float_array, as_int, check_ndim
from .counting import CONVENTIONS, conv_output_size, summary
from .layers import avg_pool2d, max_pool2d
from .viz import (
    COLORS,
    OKABE_ITO,
    plot_activation,
    plot_conv_step,
    plot_energy_breakdown,
    plot_layer_counts,
    plot_output_size,
    show_maps,
    window_coverage,
)

#: The text/plain of every displayed explorer: what a view without widgets or images prints.
EXPLORER_TEXT = "Explorer: live in JupyterLab (move its controls there)"


def _png(fig, compress_level=6) -> bytes:
    """The figure as PNG bytes (zlib ``compress_level`` 0-9: 1 is fast, 6 small); the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": compress_level})
    plt.close(fig)
    return buf.getvalue()


class Explorer(widgets.VBox):
    """A box of controls and a figure that also carries a PNG of its first drawn state.

    Displayed, it gives the front end the live widget, ``image/png`` (the first state, for
    views without a kernel) and :data:`EXPLORER_TEXT` as ``text/plain``.
    """

    def __init__(self, children, first_png: bytes):
        super().__init__(children)
        self.first_png = first_png

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        data["image/png"] = base64.b64encode(self.first_png).decode("ascii")
        data["text/plain"] = EXPLORER_TEXT
        return data


def _fit_one_axes(fig):
    """Place a figure's only Axes so that it and its labels, title and legend just fill the figure.

    What constrained layout gives a single Axes, for half its cost: one measurement of the
    Axes' extent with every text around it (``Axes.get_tightbbox``), where constrained layout
    makes two passes over the figure. The padding is constrained layout's (``w_pad``, ``h_pad``).
    """
    (ax,) = fig.axes
    renderer = fig.canvas.get_renderer()
    outer, inner = ax.get_tightbbox(renderer), ax.get_window_extent(renderer)
    pad_w = fig.dpi * plt.rcParams["figure.constrained_layout.w_pad"]
    pad_h = fig.dpi * plt.rcParams["figure.constrained_layout.h_pad"]
    left, right = inner.x0 - outer.x0 + pad_w, outer.x1 - inner.x1 + pad_w
    bottom, top = inner.y0 - outer.y0 + pad_h, outer.y1 - inner.y1 + pad_h
    width, height = fig.bbox.width, fig.bbox.height
    ax.set_position([left / width, bottom / height, 1 - (left + right) / width, 1 - (bottom + top) / height])


def explorer(draw, controls, above_figure=()):
    """Controls, then ``above_figure`` widgets, above a PNG of ``draw(**values)``'s figure.

    ``controls`` maps each keyword of ``draw`` to an ipywidgets control; ``draw`` returns a
    matplotlib Figure. Every explorer of the course is built this way, and a notebook can build
    its own (notebook 13 does). The figure is redrawn on every change, and sliders redraw on
    release (``continuous_update=False``), so a drag costs one redraw. The controls wrap onto a
    second line rather than shrink when they do not fit the width.

    Laying a figure out (matplotlib's constrained layout) costs about as much as drawing it, so
    a redraw whose figure has the size and the number of axes of one laid out before reuses
    those axes' positions. Any other figure is laid out afresh: a figure of one Axes and nothing
    else by :func:`_fit_one_axes` (half the cost), any other by constrained layout.
    """
    image = widgets.Image(format="png")
    layouts = {}  # (width, height, number of axes) -> the axes' positions

    def update(_=None, compress_level=1):  # a redraw is sent to the browser at once: compress fast
        with plt.rc_context({"figure.constrained_layout.use": False}):
            fig = draw(**{name: control.value for name, control in controls.items()})
        key = (*fig.get_size_inches(), len(fig.axes))
        if key in layouts:
            for ax, position in zip(fig.axes, layouts[key], strict=True):
                ax.set_position(position)
        elif len(fig.axes) == 1 and all(a is fig.patch or a in fig.axes for a in fig.get_children()):
            _fit_one_axes(fig)
        else:
            fig.set_layout_engine("constrained")  # laid out as savefig draws: one rendering, not two
        image.value = _png(fig, compress_level)
        if key not in layouts:
            layouts[key] = [ax.get_position() for ax in fig.axes]

    for control in controls.values():
        if hasattr(control, "continuous_update"):
            control.continuous_update = False
        control.observe(update, names="value")
    update(compress_level=6)  # the first state is stored in the notebook: keep it small
    row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
    return Explorer([row, *above_figure, image], bytes(image.value))


def conv_explorer(image, filters, *, stride=1):
    """Move a filter's window over an image and watch the activation map grow.

    Parameters
    ----------
    image : array (H, W)
        One input channel.
    filters : dict of str -> array (R, S)
        The filters to choose from, by name; all of the same R x S.
    stride : int
        U.

    Returns
    -------
    Explorer (an ipywidgets.VBox)
        A filter menu and sliders for the output row x and column y (an HBox), above an
        ``ipywidgets.Image`` of ``viz.plot_conv_step(image, filters[name], x, y)``.
    """
    image = as_float_array(image, "image")
    check_ndim(image, 2, "image", "(H, W)")
    if not isinstance(filters, dict) or not filters:
        raise TypeError(f"filters must be a non-empty dict of name -> (R, S) array; got {filters!r}")
    filters = {name: as_float_array(w, f"filters[{name!r}]") for name, w in filters.items()}
    shapes = {name: w.shape for name, w in filters.items()}
    if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 2:
        raise ValueError(f"filters must all be 2-D arrays of the same shape (R, S); got {shapes}")
    R, S = next(iter(shapes.values()))
    U = as_int(stride, "stride", 1)
    E = conv_output_size(image.shape[0], R, stride=U)
    F = conv_output_size(image.shape[1], S, stride=U, names=("W", "S"))
    name = widgets.Dropdown(options=list(filters), description="filter")
    x = widgets.IntSlider(value=E // 2, min=0, max=E - 1, description="x (row)", continuous_update=False)
    y = widgets.IntSlider(value=F // 2, min=0, max=F - 1, description="y (column)", continuous_update=False)

    def draw(name, x, y):
        return plot_conv_step(image, filters[name], x, y, stride=U)

    return explorer(draw, {"name": name, "x": x, "y": y})


#: Default alpha of each activation that has one (the lecture's leaky ReLU example, ELU's usual 1).
ALPHA_DEFAULTS = {"leaky_relu": 0.1, "elu": 1.0}


def activation_explorer(x=None):
    """Change alpha of leaky ReLU or ELU and see the function and its derivative.

    Parameters
    ----------
    x : array (K,), optional
        Where to evaluate; by default 401 points on [-4, 4].

    Returns
    -------
    Explorer (an ipywidgets.VBox)
        A menu (leaky_relu, elu) and an alpha slider (an HBox), above an ``ipywidgets.Image``
        of ``viz.plot_activation``.
    """
    x = np.linspace(-4, 4, 401) if x is None else as_float_array(x, "x")
    check_ndim(x, 1, "x", "(K,)")
    name = widgets.Dropdown(options=list(ALPHA_DEFAULTS), description="activation")
    alpha = widgets.FloatSlider(
        value=ALPHA_DEFAULTS[name.value], min=0.0, max=2.0, step=0.05, description="alpha",
        continuous_update=False,
    )

    def reset_alpha(change):
        alpha.value = ALPHA_DEFAULTS[change["new"]]

    name.observe(reset_alpha, names="value")

    def draw(name, alpha):
        f, df = activations.get(name)
        ax = plot_activation(x, f(x, alpha=alpha), df(x, alpha=alpha), title=f"{name}, alpha = {alpha:.2f}")
        return ax.figure

    return explorer(draw, {"name": name, "alpha": alpha})


def output_size_text(H, R, padding=0, stride=1, dilation=1) -> str:
    """The output-size formula worked out for one axis, and whether the stride fits.

    Parameters
    ----------
    H, R, padding, stride, dilation : int
        As in ``cnnlib.counting.conv_output_size``.

    Returns
    -------
    str
        Two lines: E = floor((H + 2P - D(R - 1) - 1) / U) + 1 with the numbers put in, then
        "fits", or why not: the strict mode's message (rows past the last window skipped), rows
        inside that no window reads (a stride wider than a window or than the gap between
        dilated taps), or a filter larger than the padded input.

    Examples
    --------
    >>> print(output_size_text(7, 3, stride=2))
    E = floor((7 + 2*0 - 1*(3 - 1) - 1) / 2) + 1 = floor(4 / 2) + 1 = 3
    fits: the last window ends at the padded input's edge; every row is read
    """
    try:
        E = conv_output_size(H, R, padding, stride, dilation)
    except ValueError as exc:
        return f"does not fit: {exc}"
    reach = H + 2 * padding - dilation * (R - 1) - 1
    lines = [f"E = floor(({H} + 2*{padding} - {dilation}*({R} - 1) - 1) / {stride}) + 1 "
             f"= floor({reach} / {stride}) + 1 = {E}"]
    try:
        conv_output_size(H, R, padding, stride, dilation, strict=True)
    except ValueError as exc:
        lines.append(f"does not fit (strict mode): {exc}")
    coverage = window_coverage(H, R, padding, stride, dilation)
    gaps = int(np.count_nonzero(coverage[: stride * (E - 1) + dilation * (R - 1) + 1] == 0))
    if gaps:
        lines.append(f"{gaps} row(s) inside are never read: stride {stride} steps over them "
                     f"(a window, or the gap between dilated taps, is narrower than the stride)")
    if len(lines) == 1:
        lines.append("fits: the last window ends at the padded input's edge; every row is read")
    return "\n".join(lines)


def output_size_explorer(H=7, R=3, padding=0, stride=1, dilation=1):
    """Sliders for H, R, padding, stride and dilation over ``viz.plot_output_size``.

    Parameters
    ----------
    H, R, padding, stride, dilation : int
        Starting values (the lecture's 7 x 7 input and 3 x 3 filter by default).

    Returns
    -------
    Explorer (an ipywidgets.VBox)
        The sliders (an HBox), ``output_size_text`` (an HTML widget), and an ``ipywidgets.Image``
        of the figure with the last window drawn (a blank figure when the filter does not fit).
    """
    def slider(name, value, lo, hi):
        return widgets.IntSlider(value=as_int(value, name, lo), min=lo, max=max(hi, value), description=name,
                                 continuous_update=False)

    controls = {"H": slider("H", H, 1, 16), "R": slider("R", R, 1, 7),
                "padding": slider("padding", padding, 0, 3), "stride": slider("stride", stride, 1, 4),
                "dilation": slider("dilation", dilation, 1, 3)}
    text = widgets.HTML()

    def draw(H, R, padding, stride, dilation):
        report = output_size_text(H, R, padding, stride, dilation)
        text.value = f"<pre>{html.escape(report)}</pre>"
        if report.startswith("does not fit:"):
            return plt.figure(figsize=(8, 0.2))  # blank: the text says why
        return plot_output_size(H, R, padding=padding, stride=stride, dilation=dilation, window=(-1, -1))

    return explorer(draw, controls, above_figure=[text])


def systolic_explorer(layers, *, sizes=(16, 32, 64, 128, 256), size=128, dataflow="ws"):
    """Pick a layer, a square array and a dataflow; see ``hardware.systolic.layer``'s result.

    Parameters
    ----------
    layers : dict of str -> ConvShape
        The layers to choose from, e.g. ``dict(conv_layers(model, input_shape))``.
    sizes : sequence of int
        Array sizes offered (rows = cols).
    size, dataflow
        Starting values.

    Returns
    -------
    Explorer (an ipywidgets.VBox)
        Two dropdowns and toggle buttons, the result table of the chosen dataflow (an HTML
        widget), and a bar chart of each dataflow's utilization on the chosen layer and array
        (in ``viz.COLORS``), the chosen one outlined.
    """
    from .hardware import systolic

    if not layers:
        raise ValueError("layers must hold at least one (name -> ConvShape) entry; got none")
    table = widgets.HTML()

    def draw(layer, array, flow):
        results = {df: systolic.layer(layers[layer], array, df) for df in systolic.DATAFLOWS}
        table.value = f"<pre>{html.escape(str(results[flow]))}</pre>"
        fig, ax = plt.subplots(figsize=(6, 3))
        bars = ax.bar(list(results), [100 * r.utilization for r in results.values()],
                      color=[COLORS[df] for df in results], edgecolor=["black" if df == flow else "none"
                                                                        for df in results], lw=2)
        ax.bar_label(bars, fmt="%.1f %%")
        ax.set_ylim(0, 115)
        ax.set_ylabel("utilization (%)")
        ax.set_title(f"{layer} on a {array} x {array} array")
        return fig

    return explorer(draw, {
        "layer": widgets.Dropdown(options=list(layers), description="layer"),
        "array": widgets.Dropdown(options=list(sizes), value=size, description="array"),
        "flow": widgets.ToggleButtons(options=list(systolic.DATAFLOWS), value=dataflow,
                                      description="dataflow"),
    }, above_figure=[table])


def mapping_explorer(layers, *, dataflows=None, rows=12, cols=14):
    """Pick a layer, a dataflow and a PE-array size; see the mapper's best mapping and its energy.

    Parameters
    ----------
    layers : dict of str -> ConvShape
        The layers to choose from, e.g. ``dict(conv_layers(model, input_shape))``.
    dataflows : sequence of str, optional
        Templates of ``cnnlib.hardware.dataflows`` offered (the same storage budget for each);
        default: every one in ``cnnlib.hardware.dataflows.DATAFLOWS``.
    rows, cols : int
        Starting PE-array size (Eyeriss: 12 x 14).

    Returns
    -------
    Explorer (an ipywidgets.VBox)
        The controls, then the best mapping's energy per MAC, utilization and cycles, and its
        energy by level as a bar (``viz.plot_energy_breakdown``), redrawn when a control is
        released. The mapper runs once per (layer, dataflow, rows, cols); a setting seen before
        is redrawn from its kept result.
    """
    from .hardware.dataflows import DATAFLOWS, dataflow
    from .hardware.mapper import search

    dataflows = tuple(DATAFLOWS) if dataflows is None else tuple(dataflows)
    if not layers:
        raise ValueError("layers must hold at least one (name -> ConvShape) entry; got none")

    @cache
    def best(layer, flow, rows, cols):
        return search(layers[layer], dataflow(flow, rows=rows, cols=cols))

    def draw(layer, flow, rows, cols):
        found = best(layer, flow, rows, cols)
        ax = plot_energy_breakdown({flow: found.report})
        ax.figure.set_size_inches(6, 3.6)
        report = found.report
        ax.set_title(f"{layer} on {rows} x {cols}, {flow}: {found.energy / layers[layer].macs:.2f} x MAC "
                     f"per MAC\nutilization {report.utilization:.1%}, {report.cycles:,.0f} cycles",
                     fontsize=12)
        return ax.figure

    def slider(name, value):
        return widgets.IntSlider(value=value, min=4, max=16, description=name, continuous_update=False)

    return explorer(draw, {
        "layer": widgets.Dropdown(options=list(layers), description="layer"),
        "flow": widgets.Dropdown(options=list(dataflows), value=dataflows[-1], description="dataflow"),
        "rows": slider("rows", rows),
        "cols": slider("cols", cols),
    })


def pooling_explorer(fmap):
    """Choose max or average pooling, the window size and the stride, and see the pooled map.

    Parameters
    ----------
    fmap : array (H, W)
        One channel of an activation map.

    Returns
    -------
    Explorer (an ipywidgets.VBox)
        A menu (max, average) and sliders for the window size R = S and the stride U (0: the
        window size, the default), above an ``ipywidgets.Image`` of the map and its pooled
        E x F version.
    """
    fmap = as_float_array(fmap, "fmap")
    check_ndim(fmap, 2, "fmap", "(H, W)")
    kind = widgets.Dropdown(options=["max", "average"], description="pooling")
    wide = {"description_width": "initial"}  # labels longer than the default width, shown whole
    size = widgets.IntSlider(value=2, min=1, max=min(8, *fmap.shape), description="size R = S",
                             continuous_update=False, style=wide)
    stride = widgets.IntSlider(value=0, min=0, max=8, description="stride (0: = R)", continuous_update=False,
                               style=wide)

    def draw(kind, size, stride):
        pool = max_pool2d if kind == "max" else avg_pool2d
        out = pool(fmap[None, None], size, stride or None)[0, 0]
        return show_maps([fmap, out], [f"input {fmap.shape[0]} x {fmap.shape[1]}",
                                       f"{kind} {size} x {size}, stride {stride or size}: "
                                       f"{out.shape[0]} x {out.shape[1]}"], size=3.5)

    return explorer(draw, {"kind": kind, "size": size, "stride": stride})


def digit_picker(model, images, labels):
    """Pick a digit and see it with the network's prediction and its ten class probabilities.

    Parameters
    ----------
    model : object with ``predict_proba(images)``
        E.g. ``cnnlib.models.lenet5(pretrained=True)``: uint8 digits (N, 28, 28) -> (N, 10).
    images : uint8 array (N, 28, 28)
    labels : int array (N,)
        The true digits.

    Returns
    -------
    Explorer (an ipywidgets.VBox)
        A slider over the N digits, above an ``ipywidgets.Image`` of the digit (titled with its
        label and the prediction) and a bar chart of the probabilities.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    check_ndim(images, 3, "images", "(N, H, W)")
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must have shape (N,) = ({len(images)},); got {labels.shape}")
    probabilities = model.predict_proba(images)
    index = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="digit",
                              continuous_update=False)

    def draw(index):
        p = probabilities[index]
        guess = int(p.argmax())
        fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(7, 3),
                                             gridspec_kw={"width_ratios": [1, 1.6]})
        ax_img.imshow(images[index], cmap="gray_r")
        ax_img.set_title(f"label {int(labels[index])}, predicted {guess}",
                         color="black" if guess == labels[index] else OKABE_ITO[3])
        ax_img.axis("off")
        colours = [OKABE_ITO[2] if k == labels[index] else "0.6" for k in range(len(p))]
        ax_bar.bar(range(len(p)), p, color=colours)
        ax_bar.set_xticks(range(len(p)))
        ax_bar.set_ylim(0, 1)
        ax_bar.set_xlabel("class (green: the true label)")
        ax_bar.set_ylabel("probability")
        return fig

    return explorer(draw, {"index": index})


def network_explorer(name="alexnet", convention="lecture"):
    """Pick a network of ``cnnlib.models`` and a counting convention; see weights and MACs per layer.

    Parameters
    ----------
    name : str
        The network shown first, one of ``cnnlib.models.names()``.
    convention : str
        What a MAC includes, one of ``cnnlib.counting.CONVENTIONS`` ("lecture", "lecun", ...).

    Returns
    -------
    Explorer (an ipywidgets.VBox)
        Two drop-downs above an ``ipywidgets.Image`` of ``cnnlib.viz.plot_layer_counts``, titled
        with the network's totals.
    """
    models.input_shape(name)  # raises, listing the names, for an unknown network
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {list(CONVENTIONS)}; got {convention!r}")

    @cache
    def table(name, convention):
        return summary(models.get(name), models.input_shape(name), convention=convention)

    def draw(name, convention):
        s = table(name, convention)
        ax = plot_layer_counts(s, title=f"{name}: {s.total.weights / 1e6:,.1f} M weights, "
                                        f"{s.total.macs / 1e6:,.0f} M MACs ({convention} convention)")
        return ax.figure

    return explorer(draw, {
        "name": widgets.Dropdown(options=models.names(), value=name, description="network"),
        "convention": widgets.Dropdown(options=list(CONVENTIONS), value=convention, description="MACs"),
    })
