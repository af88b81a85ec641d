"""Figures and widgets: what they draw is checked against the numbers cnnlib computes."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
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
    assert len(fig.axes) == 6 and len(shown) == 5
    assert [ax.get_title() for ax in shown] == [f"m{i}" for i in range(5)]
    assert_array_equal(shown[4].images[0].get_array(), maps[4])


def test_show_maps_signed_is_centred_and_rgb_kept():
    m = np.array([[-1.0, 3.0]])
    rgb = np.zeros((2, 2, 3))
    fig = viz.show_maps([m, rgb], signed=True)
    assert fig.axes[0].images[0].get_clim() == (-3.0, 3.0)
    assert fig.axes[1].images[0].get_array().shape == (2, 2, 3)


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
    assert_array_equal(shaded.min(0), [2, 4]) and assert_array_equal(shaded.max(0), [4, 6])
    assert len(shaded) == 9
    out = ax_out.images[0].get_array()
    assert out.shape[:2] == (3, 3)
    assert_array_equal(np.argwhere(np.any(out != 1, axis=2)), [[1, 2]])
    with pytest.raises(ValueError, match=r"must lie in the 3 x 3 output \(x < 3, y < 3\); got \(3, 0\)"):
        viz.plot_receptive_field(7, 7, 3, 3, 3, 0, stride=2)


def test_connections_count_one_line_per_weight_use():
    _, (a, b) = plt.subplots(1, 2)
    assert len(viz.plot_connections(a, 8, n_out=6).lines) == 48
    viz.plot_connections(b, 8, R=3)
    assert len(b.lines) == 18  # 6 outputs x 3 taps
    colours = {line.get_color() for line in b.lines}
    assert colours == {"C0", "C1", "C2"}  # 3 distinct (shared) weights
    with pytest.raises(ValueError, match="exactly one of n_out"):
        viz.plot_connections(a, 8)


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
    _, ax = plt.subplots()
    viz.plot_activation(ax, x, relu(x), relu_grad(x), title="ReLU")
    assert_array_equal(ax.lines[-2].get_ydata(), relu(x))
    assert_array_equal(ax.lines[-1].get_ydata(), relu_grad(x))
    with pytest.raises(ValueError, match="must have the shape of x"):
        viz.plot_activation(ax, x, relu(x)[:3])


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
