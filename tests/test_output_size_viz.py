"""Figures of notebooks 03 and 05: window_coverage, plot_output_size, output_size_text, plot_matrix."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from cnnlib.layers import conv2d
from cnnlib.viz import COLORS, plot_matrix, plot_output_size, window_coverage
from cnnlib.widgets import output_size_explorer, output_size_text


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@st.composite
def size_cases(draw):
    R, D, P, U = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(0, 2)), draw(st.integers(1, 4))
    H = draw(st.integers(max(1, D * (R - 1) + 1 - 2 * P), 12))
    return H, R, P, U, D


@settings(max_examples=100, deadline=None)
@given(size_cases())
def test_coverage_is_what_conv2d_reads(case):
    # the gradient of sum(conv2d(x, ones)) with respect to padded row r is the number of taps reading it
    H, R, P, U, D = case
    coverage = window_coverage(H, R, P, U, D)
    n = H + 2 * P
    reads = np.zeros(n, dtype=int)
    for r in range(n):
        x = np.zeros((1, 1, n, 1))
        x[0, 0, r, 0] = 1.0
        reads[r] = conv2d(x, np.ones((1, 1, R, 1)), stride=(U, 1), dilation=(D, 1)).sum()
    assert_array_equal(coverage, reads)


def test_coverage_of_the_slides():
    assert window_coverage(7, 3).tolist() == [1, 2, 3, 3, 3, 2, 1]
    assert window_coverage(7, 3, padding=1).tolist() == [1, 2, 3, 3, 3, 3, 3, 2, 1]
    assert window_coverage(7, 3, stride=3)[-1] == 0  # the stride skips the last row


def test_plot_output_size_marks_padding_window_and_skipped_cells():
    fig = plot_output_size(7, 3, padding=1, stride=3, window=(-1, 0))
    ax_in, ax_out = fig.axes
    rgb = ax_in.images[0].get_array()
    assert rgb.shape == (9, 9, 3)
    taps = np.all(np.isclose(rgb, matplotlib.colors.to_rgb(COLORS["inputs"])), axis=-1)
    assert_array_equal(np.argwhere(taps)[[0, -1]], [[6, 0], [8, 2]])  # last row of windows, first column
    assert sum(t.get_text() == "0" for t in ax_in.texts) == 9 * 9 - 7 * 7  # one per padding cell
    assert _hatched_cells(ax_in) == set()  # (9 - 3) = 6 is a multiple of 3: every row and column is read
    assert ax_out.images[0].get_array().shape == (3, 3, 3)
    assert "O[2][0]" in ax_out.get_title()
    skipped = plot_output_size(7, 3, stride=3).axes[0]
    last = {(6, c) for c in range(7)} | {(r, 6) for r in range(7)}
    assert _hatched_cells(skipped) == last  # the stride never reaches the last row and last column


def _hatched_cells(ax):
    """The (row, column) cells that hatched patches cover, from their paths' unit squares."""
    cells = set()
    for patch in ax.patches:
        if patch.get_hatch():
            squares = patch.get_path().vertices.reshape(-1, 5, 2)  # 5 corners per closed square
            assert np.allclose(np.ptp(squares, axis=1), 1)  # each one a whole cell
            cells |= {(round(y), round(x)) for x, y in squares[:, :4].mean(axis=1)}
    return cells


def test_plot_output_size_checks_the_window():
    with pytest.raises(ValueError, match=r"window must index the 5 x 5 output"):
        plot_output_size(7, 3, window=(5, 0))
    with pytest.raises(ValueError, match="window must be >= -5"):
        plot_output_size(7, 3, window=(-6, 0))


@pytest.mark.parametrize(
    "args, kwargs, expected",
    [
        ((7, 3), {}, ["E = floor((7 + 2*0 - 1*(3 - 1) - 1) / 1) + 1 = floor(4 / 1) + 1 = 5", "fits"]),
        ((7, 3), {"padding": 1}, ["= floor(6 / 1) + 1 = 7", "fits"]),
        ((7, 3), {"stride": 2}, ["= floor(4 / 2) + 1 = 3", "fits"]),
        ((32, 5), {}, ["= 28", "fits"]),
        ((7, 3), {"stride": 3}, ["= floor(4 / 3) + 1 = 2", "does not fit (strict mode): stride=3"]),
        ((7, 1), {"stride": 2}, ["= 4", "3 row(s) inside are never read: stride 2"]),
        ((7, 3), {"padding": 1, "stride": 2, "dilation": 2}, ["= 3", "4 row(s) inside are never read"]),
        ((3, 7), {}, ["does not fit: the filter (R=7, dilation 1, spanning 7) is larger"]),
    ],
)
def test_output_size_text(args, kwargs, expected):
    lines = output_size_text(*args, **kwargs).splitlines()
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert start in line and (line.startswith(start) or start.startswith("="))


def test_explorer_builds_with_the_lecture_defaults_and_updates():
    box = output_size_explorer()
    sliders, text, image = box.children
    assert [(s.description, s.value) for s in sliders.children] == [
        ("H", 7), ("R", 3), ("padding", 0), ("stride", 1), ("dilation", 1)]
    assert "floor(4 / 1) + 1 = 5" in text.value and "fits" in text.value
    assert isinstance(image, widgets.Image) and image.value[:4] == b"\x89PNG"
    sliders.children[3].value = 3  # stride 3 does not fit a 7 x 7 input
    assert "does not fit (strict mode): stride=3" in text.value
    sliders.children[1].value = 7
    sliders.children[0].value = 5  # a 7 x 7 filter on a 5 x 5 input
    assert "does not fit: the filter (R=7" in text.value


def test_plot_matrix_writes_every_value():
    a = np.arange(6.0).reshape(2, 3)
    ax = plot_matrix(a, title="W", fmt="{:.0f}")
    assert_array_equal(ax.images[0].get_array(), a)
    assert [t.get_text() for t in ax.texts] == ["0", "1", "2", "3", "4", "5"]
    assert [t.get_position() for t in ax.texts][:2] == [(0, 0), (1, 0)]  # (column, row)
    assert ax.get_title() == "W"
    with pytest.raises(ValueError, match=r"a must be a 2-D array \(rows, cols\)"):
        plot_matrix(np.zeros(3), ax=ax)
