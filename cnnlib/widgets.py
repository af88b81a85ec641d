"""Interactive explorers for the notebooks (ipywidgets): each returns a widget to display.

Each function builds its controls, redraws a ``cnnlib.viz`` figure when a control changes and
returns the widget box (the last expression of a notebook cell displays it). Widgets need a
live kernel, so a notebook shows the same figure statically first and the explorer after it.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from . import activations
from ._checks import as_float_array, as_int, check_ndim
from .counting import conv_output_size
from .viz import plot_activation, plot_conv_step


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
    ipywidgets.VBox
        A filter menu and sliders for the output row x and column y above
        ``viz.plot_conv_step(image, filters[name], x, y)``.
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
        plot_conv_step(image, filters[name], x, y, stride=U)
        plt.show()

    out = widgets.interactive_output(draw, {"name": name, "x": x, "y": y})
    return widgets.VBox([widgets.HBox([name, x, y]), out])


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
    ipywidgets.VBox
        A menu (leaky_relu, elu) and an alpha slider above ``viz.plot_activation``.
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
        _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
        plot_activation(ax, x, f(x, alpha=alpha), df(x, alpha=alpha), title=f"{name}, alpha = {alpha:.2f}")
        plt.show()

    out = widgets.interactive_output(draw, {"name": name, "alpha": alpha})
    return widgets.VBox([widgets.HBox([name, alpha]), out])
