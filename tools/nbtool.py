"""Keep the course notebooks uniform, and execute them so their stored outputs are current.

    python tools/nbtool.py from-py SRC.py notebooks/NN_name.ipynb   # author in percent format
    python tools/nbtool.py run notebooks/NN_name.ipynb [...]         # normalise + execute in place
    python tools/nbtool.py normalise notebooks/*.ipynb               # metadata and navigation only

Percent format (as jupytext's): ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown
cell whose lines are comments (``# text``); ``# %% tags=["solution"]`` adds tags.

Normalising sets, on every notebook: the python3 kernelspec; slide metadata on every cell
(a markdown cell opening with ``#`` or ``##`` starts a slide, ``###`` a sub-slide, everything
else continues the current one, solutions are skipped in slides); solution cells (tag
``solution``) collapsed; no saved widget state; and a navigation line
(previous | contents | next) as the second cell, kept in step with the file names.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NAV_MARK = "<!-- nav -->"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def from_py(src: Path, dst: Path) -> None:
    """Build ``dst`` from a percent-format script ``src``."""
    nb = nbformat.v4.new_notebook()
    kind, tags, lines = None, [], []

    def flush():
        if kind is None:
            return
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(re.sub(r"^# ?", "", ln) for ln in text.splitlines())
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell(text)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)

    for line in src.read_text().splitlines():
        m = re.match(r"^# %%\s*(\[markdown\])?\s*(tags=(\[.*\]))?\s*$", line)
        if m:
            flush()
            kind = "markdown" if m.group(1) else "code"
            tags = json.loads(m.group(3)) if m.group(3) else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    nbformat.write(nb, dst)


def _slide_type(cell) -> str:
    if "solution" in cell.metadata.get("tags", []):
        return "skip"
    if cell.cell_type == "markdown":
        first = cell.source.lstrip().split("\n", 1)[0]
        if first.startswith(NAV_MARK):
            return "skip"
        if re.match(r"^#{1,2} ", first):
            return "slide"
        if first.startswith("### "):
            return "subslide"
    return "-"


def _title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^# (.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return path.stem


def _navigation(path: Path) -> str:
    names = sorted(p.name for p in NB_DIR.glob("[0-9][0-9]_*.ipynb"))
    i = names.index(path.name) if path.name in names else -1
    prev = f"[← {names[i - 1][:2]}]({names[i - 1]})" if i > 0 else "← start"
    nxt = f"[{names[i + 1][:2]} →]({names[i + 1]})" if 0 <= i < len(names) - 1 else "end →"
    return f"{NAV_MARK}\n{prev} | [Contents](../README.md#contents) | {nxt}"


def normalise(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.pop("widgets", None)  # saved widget state: large, and rebuilt when the cell runs
    nav = _navigation(path)
    if len(nb.cells) > 1 and nb.cells[1].source.startswith(NAV_MARK):
        nb.cells[1].source = nav
    else:
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(nav))
    for cell in nb.cells:
        cell.pop("id", None)
        cell.metadata.pop("execution", None)
        cell.metadata["slideshow"] = {"slide_type": _slide_type(cell)}
        if "solution" in cell.metadata.get("tags", []):
            cell.metadata["jupyter"] = {"source_hidden": True}
    nbformat.validator.normalize(nb)
    return nb


def _write(nb, path: Path) -> None:
    nb.nbformat_minor = 5
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{path.stem[:2]}-{i:03d}"  # stable ids: diffs stay small
    nbformat.write(nb, path)


def run(path: Path) -> None:
    from nbclient import NotebookClient

    nb = normalise(path)
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=900, kernel_name="python3", resources=resources).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)  # nbclient saves the widget state again
    _write(nb, path)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in {"from-py", "run", "normalise"}:
        raise SystemExit(__doc__)
    cmd, args = argv[0], [Path(a) for a in argv[1:]]
    if cmd == "from-py":
        from_py(args[0], args[1])
        _write(normalise(args[1]), args[1])
        return
    for path in args:
        if cmd == "run":
            print(f"running {path}", flush=True)
            run(path)
        else:
            _write(normalise(path), path)


if __name__ == "__main__":
    main(sys.argv[1:])
