"""viz.plot_energy_breakdown and widgets.mapping_explorer draw what the mapper reports."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from numpy.testing import assert_allclose

from cnnlib.counting import ConvShape
from cnnlib.hardware.mapper import search
from cnnlib.viz import COLORS, energy_per_mac_by_row, plot_energy_breakdown
from cnnlib.widgets import mapping_explorer

LAYER = ConvShape(N=1, C=8, H=10, W=10, M=8, R=3, S=3, P=1)


def test_bars_stack_to_the_energy_per_mac_in_the_level_colours():
    reports = {f: search(LAYER, f).report for f in ("ws", "nlr")}
    heights = energy_per_mac_by_row(reports)
    assert_allclose(sum(heights.values()), [r.energy / r.macs for r in reports.values()])
    assert list(heights) == ["DRAM", "GLB", "RF", "NoC", "MAC"] and np.all(heights["MAC"] > 0)
    ax = plot_energy_breakdown(reports)
    assert len(ax.patches) == len(heights) * 2
    for i, (row, h) in enumerate(heights.items()):  # bars drawn row by row, one per report
        for bar, height in zip(ax.patches[2 * i : 2 * i + 2], h, strict=True):
            assert bar.get_facecolor() == to_rgba(COLORS[row])
            assert_allclose(bar.get_height(), height)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="reports must hold at least one"):
        plot_energy_breakdown({})


def test_mapping_explorer_redraws_on_every_control():
    box = mapping_explorer({"small": LAYER, "fc": ConvShape.fc(N=1, C=64, M=16)}, dataflows=("ws", "rs"))
    controls, image = box.children[0].children, box.children[1]
    assert [c.description for c in controls] == ["layer", "dataflow", "rows", "cols"]
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    controls[1].value = "ws"
    assert bytes(image.value) != first
    with pytest.raises(ValueError, match="layers must hold at least one"):
        mapping_explorer({})


def test_mapping_explorer_runs_the_mapper_once_per_setting(monkeypatch):
    from cnnlib.hardware import mapper

    calls = []

    def counted(shape, flow):
        calls.append(flow.name)
        return search(shape, flow)

    monkeypatch.setattr(mapper, "search", counted)
    box = mapping_explorer({"small": LAYER}, dataflows=("ws", "rs"))
    flow, rows = box.children[0].children[1:3]
    assert not rows.continuous_update
    flow.value = "ws"
    flow.value = "rs"
    rows.value = 8
    rows.value = 12
    assert calls == ["rs", "ws", "rs"]  # rs and ws on 12 x 14, rs on 8 x 14; 12 x 14 again is kept
