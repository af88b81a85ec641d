"""Structural checks of the notebooks; nbval (make nbval) compares their stored outputs."""

import json
from pathlib import Path

import pytest

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))


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
def test_has_exercises_with_collapsed_solutions(path):
    nb = json.loads(path.read_text())
    assert any("## Exercises" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    solutions = [c for c in nb["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert solutions, f"{path.name} has no solution cells"
    assert all(c["metadata"].get("jupyter", {}).get("source_hidden") for c in solutions)
