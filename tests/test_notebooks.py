"""Structural checks of the notebooks; nbval (make nbval) compares their stored outputs.

The slide structure rule lives in ``tools/nbtool.py`` (``problems``, ``slides``); the tool
applies it when it normalises a notebook, and these tests enforce it on every notebook.
"""

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))

_spec = importlib.util.spec_from_file_location("nbtool", ROOT / "tools" / "nbtool.py")
nbtool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbtool)


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_has_stored_output(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip():
            assert cell["execution_count"] is not None, f"{path.name} cell {i} was never run"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_slide_metadata_kernel_and_no_figure_reprs(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    counts = [c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name} was not run top to bottom"
    for i, cell in enumerate(nb["cells"]):
        assert "slideshow" in cell["metadata"], f"{path.name} cell {i} has no slide metadata"
        for out in cell.get("outputs", []):
            text = "".join(out.get("data", {}).get("text/plain", ""))
            assert not text.startswith("[<matplotlib"), (
                f"{path.name} cell {i} shows a matplotlib repr: end plots with plt.show() or ;"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_use_the_course_style(path):
    """A notebook that draws imports cnnlib.viz, which applies the course style (12 pt text,
    colours per concept) on import; 07 drew its two figures in matplotlib's defaults (10 pt)."""
    nb = nbformat.read(path, as_version=4)
    images = sum(any(k.startswith("image/") for k in o.get("data", {})) for c in nb.cells
                 if c.cell_type == "code" for o in c.outputs)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    uses_viz = re.search(r"cnnlib\.viz|^from cnnlib import .*\bviz\b", code, re.MULTILINE)
    assert not images or uses_viz, f"{path.name} draws {images} figures without importing cnnlib.viz"
    assert "tab:" not in code, f"{path.name} picks matplotlib's default colours (tab:...), not the course's"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_exercises_with_hidden_solutions(path):
    nb = json.loads(path.read_text())
    solutions = [c for c in nb["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert solutions, f"{path.name} has no solution cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_slide_structure_rule(path):
    """Headings, tags, hidden silent solutions, alt texts, <= 45 line-equivalents a slide."""
    found = nbtool.problems(nbformat.read(path, as_version=4), path.name)
    assert not found, "\n".join(found)


def _toy(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    for cell in nb.cells:
        cell.metadata["slideshow"] = {"slide_type": nbtool._slide_type(cell)}
    return nb


def _code(source, tags=(), outputs=()):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


PRINTED = {"output_type": "stream", "name": "stdout", "text": "a\nb\n"}
FIGURE = {"output_type": "display_data", "data": {"image/png": "", "text/plain": "<Figure>"}, "metadata": {}}


def test_rule_counts_line_equivalents_by_hand():
    md = nbformat.v4.new_markdown_cell
    nb = _toy([
        md("# 00 · Toy\n\nYou will be able to: count."),
        _code("import numpy as np", tags=["imports"]),  # skip: 0
        md("## One\ntext"),  # 2
        _code("x = 1\nprint(x)", outputs=[PRINTED]),  # 2 + 2
        _code("draw()", tags=["remove-input"], outputs=[FIGURE]),  # 15, no source
        md("### Two"),  # 1
        _code("assert True", tags=["check"]),  # skip: 0
        _code("y = 2", tags=["solution"]),  # 0
        md("## Summary"),
        md("## Exercises"),
    ])
    assert [n for _, n in nbtool.slides(nb)] == [3, 2 + 4 + 15, 1, 1, 1]


def test_rule_reports_each_breach():
    md = nbformat.v4.new_markdown_cell
    nb = _toy([
        md("# 00 · Toy\n\nno promise"),
        md("Text first\n## Late heading"),
        _code("\n".join("x = 1" for _ in range(46))),
        _code("answer = 42", tags=["solution"], outputs=[PRINTED]),
        _code("plot()", outputs=[FIGURE]),
    ])
    nb.cells[3].metadata["jupyter"] = {"source_hidden": True}
    found = "\n".join(nbtool.problems(nb, "toy"))
    for expected in (
        "not a title",
        "'## Summary'",
        "'## Exercises'",
        "'## Late heading' is not the first line",
        "solution without source_hidden and outputs_hidden",
        "a solution cell shows output",
        "need metadata 'alt'",
        "line-equivalents > 45",
    ):
        assert expected in found
    nbtool.normalise_cells(nb)
    assert nb.cells[3].metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}


def test_percent_format_round_trip_keeps_sources_tags_and_alt(tmp_path):
    nb = _toy([
        nbformat.v4.new_markdown_cell("# 00 · Toy\n\nYou will be able to: count."),
        _code("draw()", tags=["remove-input"], outputs=[FIGURE]),
        _code("answer = 42\nassert answer == 42", tags=["solution"]),
    ])
    nb.cells[1].metadata["alt"] = ["A bar chart, with a quote \" and a comma, in it"]
    nbformat.write(nb, tmp_path / "00_toy.ipynb")
    nbtool.to_py(tmp_path / "00_toy.ipynb", tmp_path / "toy.py")
    nbtool.from_py(tmp_path / "toy.py", tmp_path / "back.ipynb")
    back = nbformat.read(tmp_path / "back.ipynb", as_version=4)
    assert [c.source for c in back.cells] == [c.source for c in nb.cells]
    assert [c.metadata.get("tags") for c in back.cells] == [None, ["remove-input"], ["solution"]]
    assert back.cells[1].metadata["alt"] == nb.cells[1].metadata["alt"]
