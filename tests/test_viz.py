"""Figures and widgets: what they draw is checked against the numbers cnnlib computes."""

import matplotlib

matplotlib.use("Agg")

import base64

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgba
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyBboxPatch
from matplotlib.text import Text
from numpy.testing import assert_allclose, assert_array_equal

from cnnlib import viz
from cnnlib.activations import relu, relu_grad
from cnnlib.history import ILSVRC_TOP5
from cnnlib.layers import conv2d
from cnnlib.widgets import ALPHA_DEFAULTS, activation_explorer, conv_explorer


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_show_maps_one_panel_per_map_with_titles():
    maps = np.arange(5 * 4 * 3, dtype=float).reshape(5, 4, 3)
    fig = viz.show_maps(maps, [f"m{i}" for i in range(5)], ncols=3)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6 + 1 and len(shown) == 5  # 2 x 3 panels and the colorbar
    assert [ax.get_title() for ax in shown] == [f"m{i}" for i in range(5)]
    assert_array_equal(shown[4].images[0].get_array(), maps[4])


def test_show_maps_signed_is_centred_and_rgb_kept():
    m = np.array([[-1.0, 3.0]])
    rgb = np.zeros((2, 2, 3))
    fig = viz.show_maps([m, rgb], signed=True)
    assert fig.axes[0].images[0].get_clim() == (-3.0, 3.0)
    assert fig.axes[0].images[0].get_cmap().name == "RdBu_r"
    assert fig.axes[1].images[0].get_array().shape == (2, 2, 3)


def test_show_maps_compared_panels_share_one_scale_and_a_colorbar():
    grey = np.linspace(0, 255, 12).reshape(3, 4)
    small, large = np.full((2, 2), 0.2), np.array([[0.0, 0.717]])
    fig = viz.show_maps([grey, small, large], inputs=1)
    panels = [ax for ax in fig.axes if ax.images]
    assert panels[0].images[0].get_cmap().name == "gray"
    assert panels[0].images[0].get_clim() == (0.0, 255.0)  # the input: its own scale
    assert panels[1].images[0].get_clim() == panels[2].images[0].get_clim() == (0.0, 0.717)
    assert panels[1].images[0].get_cmap().name == "viridis"  # no negative value: sequential
    colorbars = [ax for ax in fig.axes if ax not in panels and ax.get_visible() and ax.get_label() == "<colorbar>"]
    assert len(colorbars) == 1
    assert viz.show_maps([small, -large]).axes[0].images[0].get_clim() == (-0.717, 0.717)
    assert len(viz.show_maps([small, large], colorbar=False).axes) == 2


def test_show_maps_bad_input():
    with pytest.raises(ValueError, match=r"maps\[1\] must be a 2-D map"):
        viz.show_maps([np.zeros((2, 2)), np.zeros(3)])
    with pytest.raises(ValueError, match="titles must have one entry per map"):
        viz.show_maps(np.zeros((2, 3, 3)), ["a"])
    with pytest.raises(ValueError, match="at least one map"):
        viz.show_maps([])


def test_receptive_field_shades_the_window_and_the_output():
    fig = viz.plot_receptive_field(7, 7, 3, 3, 1, 2, stride=2)
    ax_in, ax_out = fig.axes
    inp = ax_in.images[0].get_array()
    shaded = np.argwhere(np.any(inp != 1, axis=2))
    assert_array_equal(shaded.min(0), [2, 4])
    assert_array_equal(shaded.max(0), [4, 6])
    assert len(shaded) == 9
    out = ax_out.images[0].get_array()
    assert out.shape[:2] == (3, 3)
    assert_array_equal(np.argwhere(np.any(out != 1, axis=2)), [[1, 2]])
    with pytest.raises(ValueError, match=r"must lie in the 3 x 3 output \(x < 3, y < 3\); got \(3, 0\)"):
        viz.plot_receptive_field(7, 7, 3, 3, 3, 0, stride=2)


def test_connections_count_one_line_per_weight_use():
    _, (a, b) = plt.subplots(1, 2)
    assert len(viz.plot_connections(8, n_out=6, ax=a).lines) == 48
    assert viz.plot_connections(8, R=3, ax=b) is b
    assert len(b.lines) == 18  # 6 outputs x 3 taps
    colours = {line.get_color() for line in b.lines}
    assert colours == {"C0", "C1", "C2"}  # 3 distinct (shared) weights
    with pytest.raises(ValueError, match="exactly one of n_out"):
        viz.plot_connections(8, ax=a)


def test_plotting_functions_draw_on_the_axes_given_and_return_it():
    x = np.linspace(-2, 2, 5)
    _, (a, b) = plt.subplots(1, 2)
    assert viz.plot_connections(8, n_out=6, ax=a) is a and len(a.lines) == 48
    assert viz.plot_activation(x, relu(x), ax=b) is b and len(b.lines) == 3
    _, c = plt.subplots()
    assert viz.plot_ilsvrc(ax=c) is c and len(c.patches) == len(ILSVRC_TOP5)


def test_conv_step_shows_the_dot_product_and_the_map_so_far():
    rng = np.random.default_rng(0)
    image = rng.standard_normal((9, 8))
    w = rng.standard_normal((3, 3))
    fig = viz.plot_conv_step(image, w, 2, 4, stride=1)
    out = conv2d(image[None, None], w[None, None])[0, 0]
    ax_in, ax_prod, ax_out = fig.axes
    products = ax_prod.images[0].get_array()
    assert_allclose(products, image[2:5, 4:7] * w)
    assert_allclose(products.sum(), out[2, 4])
    partial = np.asarray(ax_out.images[0].get_array().filled(np.nan))
    done = 2 * out.shape[1] + 4 + 1
    assert_allclose(partial.flat[:done], out.flat[:done])
    assert np.all(np.isnan(partial.flat[done:]))
    assert ax_in.patches[0].get_xy() == (3.5, 1.5)


def test_conv_step_stride_moves_the_window():
    fig = viz.plot_conv_step(np.zeros((9, 9)), np.ones((3, 3)), 1, 2, stride=3)
    assert fig.axes[0].patches[0].get_xy() == (5.5, 2.5)
    with pytest.raises(ValueError, match="w must be a 2-D array"):
        viz.plot_conv_step(np.zeros((9, 9)), np.ones((1, 3, 3)), 0, 0)


def test_plot_activation_draws_function_and_derivative():
    x = np.linspace(-2, 2, 5)
    ax = viz.plot_activation(x, relu(x), relu_grad(x), title="ReLU")
    assert_array_equal(ax.lines[-2].get_ydata(), relu(x))
    assert_array_equal(ax.lines[-1].get_ydata(), relu_grad(x))
    with pytest.raises(ValueError, match="must have the shape of x"):
        viz.plot_activation(x, relu(x)[:3], ax=ax)


def test_ilsvrc_chart_one_bar_per_entry_in_year_order():
    ax = viz.plot_ilsvrc()
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == len(ILSVRC_TOP5)
    assert heights[:5] == [28.2, 25.8, 16.4, 11.7, 6.7]  # 2014's winner before its runner-up
    assert ax.get_lines()[0].get_ydata()[0] == 5.1


PNG = b"\x89PNG"


def test_conv_explorer_sliders_cover_the_output_and_redraw():
    image = np.arange(64.0).reshape(8, 8)
    box = conv_explorer(image, {"box": np.ones((3, 3)), "edge": np.eye(3)}, stride=1)
    menu, x, y = box.children[0].children
    picture = box.children[1]
    assert isinstance(picture, widgets.Image) and bytes(picture.value).startswith(PNG)
    assert list(menu.options) == ["box", "edge"]
    assert (x.max, y.max) == (5, 5)
    before = bytes(picture.value)
    x.value = 0
    assert bytes(picture.value).startswith(PNG) and bytes(picture.value) != before
    assert plt.get_fignums() == []  # every figure drawn was closed
    with pytest.raises(ValueError, match="same shape"):
        conv_explorer(image, {"a": np.ones((3, 3)), "b": np.ones((2, 2))})


def test_activation_explorer_resets_alpha_per_function_and_redraws():
    box = activation_explorer()
    menu, alpha = box.children[0].children
    picture = box.children[1]
    assert alpha.value == ALPHA_DEFAULTS["leaky_relu"] == 0.1
    before = bytes(picture.value)
    menu.value = "elu"
    assert alpha.value == ALPHA_DEFAULTS["elu"] == 1.0
    assert bytes(picture.value).startswith(PNG) and bytes(picture.value) != before


def test_the_course_style_is_readable_projected():
    viz.use_style()
    rc = plt.rcParams

    def points(key):
        return FontProperties(size=rc[key]).get_size_in_points()

    for key in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        assert points(key) >= viz.MIN_FONT == 12, key
    assert points("axes.titlesize") == points("figure.titlesize") == 14
    assert rc["figure.figsize"][0] <= viz.MAX_WIDTH
    assert not rc["axes.spines.top"] and not rc["axes.spines.right"]
    assert [to_hex(c["color"]) for c in rc["axes.prop_cycle"]] == [c.lower() for c in viz.OKABE_ITO]


def test_one_colour_per_concept_shared_by_its_aliases():
    assert viz.COLORS["MAC"] is viz.COLORS["MACs"]
    assert viz.COLORS["weights"] is viz.COLORS["filters"] is viz.COLORS["ws"]
    assert viz.COLORS["outputs"] is viz.COLORS["psums"] is viz.COLORS["os"]
    assert viz.COLORS["inputs"] is viz.COLORS["is"]
    levels = [viz.COLORS[k] for k in ("DRAM", "GLB", "NoC", "RF", "MAC")]
    operands = [viz.COLORS[k] for k in ("weights", "inputs", "outputs")]
    dataflows = [viz.COLORS[k] for k in ("ws", "os", "nlr", "rs")]
    for family in (levels, operands, dataflows, levels + operands):
        assert len(set(family)) == len(family)  # a figure of one family tells each concept apart


def _small_summary():
    from cnnlib import nn
    from cnnlib.counting import summary

    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    return summary(net, (1, 8, 8))


RNG = np.random.default_rng(0)
X = np.linspace(-2, 2, 9)
FIGURES = {  # one figure from each plotting helper, drawn with its defaults
    "show_maps": lambda: viz.show_maps([RNG.random((8, 8)), RNG.standard_normal((6, 6))], ["input", "map"],
                                       inputs=1),
    "receptive_field": lambda: viz.plot_receptive_field(7, 7, 3, 3, 1, 2),
    "connections": lambda: viz.plot_connections(8, R=3).figure,
    "conv_step": lambda: viz.plot_conv_step(RNG.random((9, 9)), RNG.standard_normal((3, 3)), 2, 3),
    "activation": lambda: viz.plot_activation(X, relu(X), relu_grad(X), title="ReLU").figure,
    "ilsvrc": lambda: viz.plot_ilsvrc().figure,
    "output_size": lambda: viz.plot_output_size(7, 3, padding=1, stride=2),
    "layer_counts": lambda: viz.plot_layer_counts(_small_summary(), title="a small network").figure,
    "matrix": lambda: viz.plot_matrix(np.arange(8.0).reshape(2, 4), title="W").figure,
}


@pytest.mark.parametrize("name", FIGURES)
def test_every_text_of_every_figure_is_at_least_12_pt(name):
    fig = FIGURES[name]()
    fig.canvas.draw()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert texts
    small = {t.get_text(): t.get_fontsize() for t in texts if t.get_fontsize() < viz.MIN_FONT}
    assert not small
    assert fig.get_figwidth() <= viz.MAX_WIDTH + 1.0  # (+ a colorbar)


def test_layer_counts_group_long_networks_and_show_shares_of_the_total():
    from cnnlib import models
    from cnnlib.counting import summary

    s = summary(models.get("resnet50"), models.input_shape("resnet50"))
    groups = viz.layer_groups(s)
    assert [g[0] for g in groups] == ["conv1", "conv2_x", "conv3_x", "conv4_x", "conv5_x", "fc"]
    assert [g[1] for g in groups][-2:] == ["CONV", "FC"]
    assert sum(g[2] for g in groups) == sum(r.weights for r in s.rows if r.kind)
    assert sum(g[3] for g in groups) == s.total.macs
    ax = viz.plot_layer_counts(s)
    weights = ax.patches[: len(groups)]
    assert_allclose(sum(b.get_height() for b in weights), 100)
    assert ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0
    assert {b.get_facecolor() for b in weights} == {to_rgba(viz.COLORS["weights"])}
    assert viz.plot_layer_counts(s, relative=False).get_yscale() == "log"
    assert len(viz.layer_groups(s, max_bars=100)) == 54


def test_roofline_names_the_layers_asked_for_and_explains_its_markers():
    from cnnlib.counting import ConvShape
    from cnnlib.hardware.roofline import EYERISS, layer_point

    conv = layer_point("conv", ConvShape(N=1, C=64, H=16, W=16, M=64, R=3, S=3, P=1), EYERISS)
    fc = layer_point("fc", ConvShape.fc(N=1, C=256, M=10), EYERISS)
    ax = viz.plot_roofline(EYERISS, [conv, fc], labels={"conv": "a 3x3 conv"})
    assert ax.get_lines()[0].get_color() == viz.COLORS[EYERISS.name]
    named = [t for t in ax.texts if t.get_text() == "a 3x3 conv"]
    assert len(named) == 1 and named[0].xy == (conv.intensity, conv.attainable / 1e9)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["CONV layer", "FC layer (E = F = 1)"]
    with pytest.raises(ValueError, match=r"labels must name points given; got \['pool'\]"):
        viz.plot_roofline(EYERISS, [conv], labels=["pool"])


def _sliders(box):
    for child in box.children:
        if isinstance(child, widgets.Box):
            yield from _sliders(child)
        elif isinstance(child, (widgets.IntSlider, widgets.FloatSlider)):
            yield child


def test_explorers_redraw_on_release_and_carry_their_first_state_as_png():
    from cnnlib.counting import ConvShape
    from cnnlib.widgets import EXPLORER_TEXT, output_size_explorer, pooling_explorer, systolic_explorer

    layer = ConvShape(N=1, C=16, H=8, W=8, M=16, R=3, S=3, P=1)
    boxes = [conv_explorer(np.arange(64.0).reshape(8, 8), {"box": np.ones((3, 3))}), activation_explorer(),
             output_size_explorer(), pooling_explorer(np.arange(36.0).reshape(6, 6)),
             systolic_explorer({"small": layer}, sizes=(8, 16), size=8)]
    assert all(not s.continuous_update for box in boxes for s in _sliders(box))
    for box in boxes:
        first = bytes(box.children[-1].value)
        bundle = box._repr_mimebundle_()
        assert bundle["text/plain"] == EXPLORER_TEXT
        assert "model_id" in bundle["application/vnd.jupyter.widget-view+json"]
        assert base64.b64decode(bundle["image/png"]) == first and first.startswith(PNG)
    boxes[-1].children[0].children[2].value = "os"  # the static image stays the first state
    assert bytes(boxes[-1].children[-1].value) != base64.b64decode(boxes[-1]._repr_mimebundle_()["image/png"])


def _one_axes_figure(name):
    """plot_activation's figure ("activation") or plot_layer_counts' ("NETWORK" or "NETWORK log")."""
    from cnnlib import models
    from cnnlib.counting import summary

    if name == "activation":
        x = np.linspace(-4, 4, 101)
        return viz.plot_activation(x, relu(x), relu_grad(x), title="relu").figure
    network, *log = name.split()
    table = summary(models.get(network), models.input_shape(network))
    return viz.plot_layer_counts(table, relative=not log, title=f"{network}: title").figure


@pytest.mark.parametrize("name", ["alexnet", "alexnet log", "resnet18", "resnet18 log", "squeezenet1_0",
                                  "squeezenet1_0 log", "activation"])
def test_explorers_lay_one_axes_out_as_constrained_layout_does(name):
    from cnnlib.widgets import _fit_one_axes

    positions = []
    for fit in (_fit_one_axes, lambda fig: fig.set_layout_engine("constrained")):
        with plt.rc_context({"figure.constrained_layout.use": False}):
            fig = _one_axes_figure(name)
        fit(fig)
        fig.canvas.draw()
        positions.append(fig.axes[0].get_position().extents * np.tile(fig.bbox.size, 2))  # pixels
        plt.close(fig)
    assert_allclose(positions[0], positions[1], atol=1.0)


def test_hierarchy_draws_each_level_in_its_colour_with_its_value():
    ax = viz.plot_hierarchy(values={"DRAM": "200x", "GLB": "6x", "NoC": "2x", "RF": "1x", "MAC": "1x"})
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert [to_hex(b.get_edgecolor()) for b in boxes] == [viz.COLORS["DRAM"].lower(), viz.COLORS["GLB"].lower()]
    texts = [t.get_text() for t in ax.texts]
    assert {"200x", "6x", "2x", "RF in each PE: 1x", "MAC: 1x", "12 x 14 PEs (4 x 4 drawn)"} <= set(texts)
    rf = [p for p in ax.patches if p.get_facecolor() == to_rgba(viz.COLORS["RF"])]
    assert len(rf) == 16 + 1  # 4 x 4 PEs drawn, and the legend's square
    one = viz.plot_hierarchy(["DRAM"], pes=(1, 1))
    assert "RF in each PE" not in [t.get_text() for t in one.texts]
    with pytest.raises(ValueError, match=r"values must name parts drawn"):
        viz.plot_hierarchy(values={"L2": "3x"})


def test_loop_nest_puts_each_loop_on_its_level():
    from cnnlib.counting import ConvShape
    from cnnlib.hardware.arch import eyeriss_like
    from cnnlib.hardware.mapping import Mapping

    arch = eyeriss_like(rows=4, cols=4, glb_words=2048)
    layer = ConvShape(N=1, C=4, H=10, W=10, M=8, R=3, S=3)
    mapping = Mapping.build(arch, {"DRAM": [("M", 2)], "GLB": [("E", 8), ("F", 8), ("R", 3)], "RF": [("S", 3)]},
                            rows=[("C", 4)], cols=[("M", 4)])
    ax = viz.plot_loop_nest(mapping, layer, arch)
    lines = mapping.loop_nest(layer, arch).splitlines()
    assert [t.get_text() for t in ax.texts if t.get_fontfamily() == ["monospace"]] == lines
    bands = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert bands == ["DRAM", "GLB", "PE array\n(parallel)", "RF", "MAC"]
    assert [p.get_facecolor()[:3] for p in ax.patches] == [
        to_rgba(viz.COLORS[k])[:3] for k in ("DRAM", "GLB", "NoC", "RF", "MAC")]


def test_row_stationary_gives_pe_i_j_filter_row_i_and_input_row_i_plus_j():
    ax = viz.plot_row_stationary(H=5, R=3)
    texts = [t.get_text() for t in ax.texts]
    for i in range(3):
        for j in range(3):
            assert texts.count(f"I row {i + j}") == min(i + j, 4 - (i + j), 2) + 1  # PEs on that diagonal
    assert texts.count("W row 1") == 3 and texts.count("O row 2") == 3 + 1  # (+ the column's label)


@pytest.mark.parametrize("rows, cols, expected", [
    (("C", 4), ("M", 4), ["inputs: multicast along each row", "weights: one word per PE (unicast)",
                          "outputs: reduced down each column"]),
    (("M", 2), ("E", 3), ["inputs: multicast down each column", "weights: multicast along each row",
                          "outputs: one output per PE (no reduction)"]),
])
def test_spatial_sharing_follows_which_dims_each_operand_depends_on(rows, cols, expected):
    ax = viz.plot_spatial_sharing(rows, cols)
    assert [t.get_text() for t in ax.texts if t.get_fontweight() == "bold" and ":" in t.get_text()] == expected
    with pytest.raises(ValueError, match="rows must be"):
        viz.plot_spatial_sharing(("Q", 2), cols)
