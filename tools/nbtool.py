"""Keep the course notebooks uniform, and execute them so their stored outputs are current.

    python tools/nbtool.py from-py SRC.py notebooks/NN_name.ipynb   # author in percent format
    python tools/nbtool.py to-py notebooks/NN_name.ipynb SRC.py     # back to percent format
    python tools/nbtool.py run notebooks/NN_name.ipynb [...]         # normalise + execute in place
    python tools/nbtool.py normalise notebooks/*.ipynb               # metadata and navigation only
    python tools/nbtool.py check notebooks/*.ipynb                   # slide statistics + structure

Percent format (as jupytext's): ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown
cell whose lines are comments (``# text``); ``# %% tags=["solution"]`` adds tags, and
``# %% alt=["Bar chart: ..."]`` the alt texts of a cell's figures.

The slide structure rule (``tests/test_notebooks.py`` enforces it with :func:`problems`):

- The first cell is the title ``# NN · Title`` and says "You will be able to".
- A markdown cell whose first line is a ``## `` heading starts a slide, ``### `` a subslide.
  A heading anywhere else in a markdown cell is an error. ``## Summary`` and
  ``## Exercises`` are each a slide of their own.
- Tags: ``imports`` (the setup cell) and ``check`` (asserts only) -> slide_type ``skip``;
  ``solution`` -> ``skip``, source and outputs hidden, and no stored output at all (it
  computes the answer and asserts it, so no answer shows under its exercise);
  ``remove-input`` -> decks and pages show only its output.
- No slide or subslide shows more than :data:`MAX_LINES` line-equivalents (:func:`slides`).
- Every image output has an alt text: cell metadata ``"alt"``, one string per image.

Normalising sets, on every notebook: the python3 kernelspec; slide metadata on every cell
from the rule above; solution cells hidden; no saved widget state; and a navigation line
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
MAX_LINES = 45  # line-equivalents a slide or subslide may show
FIGURE_LINES = 15  # one figure counts as this many lines
IMAGE_TYPES = ("image/png", "image/svg+xml")
SKIP_TAGS = {"imports", "check", "solution"}
HEADING = re.compile(r"^#{1,6} ")


CELL_KEYS = ("tags", "alt")  # cell metadata a percent-format header carries, as key=JSON


def from_py(src: Path, dst: Path) -> None:
    """Build ``dst`` from a percent-format script ``src``."""
    nb = nbformat.v4.new_notebook()
    kind, meta, lines = None, {}, []

    def flush():
        if kind is None:
            return
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(re.sub(r"^# ?", "", ln) for ln in text.splitlines())
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell(text)
        cell.metadata.update(meta)
        nb.cells.append(cell)

    for line in src.read_text().splitlines():
        m = re.match(r"^# %%\s*(\[markdown\])?(.*)$", line)
        if m:
            flush()
            kind = "markdown" if m.group(1) else "code"
            meta, rest = {}, m.group(2).strip()
            while rest:
                key = re.match(r"(\w+)=", rest)
                if not key or key.group(1) not in CELL_KEYS:
                    raise ValueError(f"{src}: cannot read cell header {line!r}")
                value, end = json.JSONDecoder().raw_decode(rest, key.end())
                meta[key.group(1)], rest = value, rest[end:].strip()
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    nbformat.write(nb, dst)


def to_py(src: Path, dst: Path) -> None:
    """Write notebook ``src`` as a percent-format script ``dst`` (the inverse of from_py)."""
    nb = nbformat.read(src, as_version=4)
    parts = []
    for cell in nb.cells:
        if cell.source.startswith(NAV_MARK):
            continue  # normalise puts the navigation back
        head = "# %% [markdown]" if cell.cell_type == "markdown" else "# %%"
        for key in CELL_KEYS:
            if cell.metadata.get(key):
                head += f" {key}={json.dumps(cell.metadata[key], ensure_ascii=False)}"
        body = cell.source
        if cell.cell_type == "markdown":
            body = "\n".join(f"# {ln}".rstrip() for ln in body.splitlines())
        parts.append(f"{head}\n{body}\n")
    dst.write_text("\n".join(parts))


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _slide_type(cell) -> str:
    if SKIP_TAGS.intersection(_tags(cell)):
        return "skip"
    if cell.cell_type == "markdown":
        first = cell.source.split("\n", 1)[0]
        if first.startswith(NAV_MARK):
            return "skip"
        if re.match(r"^#{1,2} ", first):
            return "slide"
        if first.startswith("### "):
            return "subslide"
    return "-"


def _markdown_lines(source: str):
    """Lines of a markdown cell outside code fences, numbered from 0."""
    fenced = False
    for i, line in enumerate(source.split("\n")):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            yield i, line


def _images(cell) -> int:
    return sum(any(t in out.get("data", {}) for t in IMAGE_TYPES) for out in cell.get("outputs", []))


def _output_lines(out) -> int:
    data = out.get("data", {})
    if any(t in data for t in IMAGE_TYPES):
        return FIGURE_LINES
    text = out.get("text", "") if out.get("output_type") == "stream" else data.get("text/plain", "")
    return len("".join(text).splitlines())


def cell_lines(cell) -> int:
    """Line-equivalents a cell shows on a slide: 0 for skipped and solution cells, else its
    source lines (none for ``remove-input``) plus, per output, 15 for a figure or the lines of
    its printed text."""
    if _slide_type(cell) == "skip" or "solution" in _tags(cell):
        return 0
    shown = 0 if "remove-input" in _tags(cell) else len(cell.source.splitlines())
    return shown + sum(_output_lines(out) for out in cell.get("outputs", []))


def slides(nb) -> list[tuple[str, int]]:
    """(first line, line-equivalents) of every slide and subslide, in order."""
    out = []
    for cell in nb.cells:
        if _slide_type(cell) in {"slide", "subslide"} or not out:
            out.append([cell.source.split("\n", 1)[0], 0])
        out[-1][1] += cell_lines(cell)
    return [tuple(s) for s in out]


def problems(nb, name: str = "") -> list[str]:
    """Every way the notebook ``nb`` breaks the slide structure rule, as messages."""
    found = []
    cells = nb.cells
    title = cells[0].source if cells and cells[0].cell_type == "markdown" else ""
    if not re.match(r"^# \d\d · \S", title) or "You will be able to" not in title:
        found.append("cell 0 is not a title '# NN · Title' that says 'You will be able to'")
    firsts = [c.source.split("\n", 1)[0].strip() for c in cells if c.cell_type == "markdown"]
    for section in ("## Summary", "## Exercises"):
        if section not in firsts:
            found.append(f"no cell opens with '{section}' (its own slide)")
    for i, cell in enumerate(cells):
        where = f"{name} cell {i}"
        tags = _tags(cell)
        if cell.metadata.get("slideshow", {}).get("slide_type") != _slide_type(cell):
            found.append(f"{where}: slide metadata is not normalised (run tools/nbtool.py)")
        if cell.cell_type == "markdown":
            for j, line in _markdown_lines(cell.source):
                if j > 0 and HEADING.match(line):
                    found.append(f"{where}: heading {line!r} is not the first line of its cell")
            if i > 0 and re.match(r"^# ", cell.source):
                found.append(f"{where}: a '# ' heading after the title (use ## or ###)")
        if "solution" in tags:
            hidden = cell.metadata.get("jupyter", {})
            if not (hidden.get("source_hidden") and hidden.get("outputs_hidden")):
                found.append(f"{where}: solution without source_hidden and outputs_hidden")
        if SKIP_TAGS.intersection(tags) - {"imports"} and cell.get("outputs"):
            found.append(f"{where}: a {'/'.join(sorted(SKIP_TAGS & set(tags)))} cell shows output")
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            if re.search(r"\d+%\|", text) or "application/vnd.jupyter.widget-view+json" in out.get(
                "data", {}
            ) and "explorer" not in tags:
                found.append(f"{where}: a stored progress bar or widget (pass progress=False)")
        alt = cell.metadata.get("alt", [])
        n_images = _images(cell)
        if n_images and not (
            isinstance(alt, list) and len(alt) == n_images and all(isinstance(a, str) and a for a in alt)
        ):
            found.append(f"{where}: {n_images} figure(s) need metadata 'alt' with {n_images} string(s)")
    for head, lines in slides(nb):
        if lines > MAX_LINES:
            found.append(f"{name} slide {head[:50]!r}: {lines} line-equivalents > {MAX_LINES}")
    return found


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
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.metadata.pop("widgets", None)  # saved widget state: large, and rebuilt when the cell runs
    nav = _navigation(path)
    if len(nb.cells) > 1 and nb.cells[1].source.startswith(NAV_MARK):
        nb.cells[1].source = nav
    else:
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(nav))
    normalise_cells(nb)
    nbformat.validator.normalize(nb)
    return nb


def normalise_cells(nb) -> None:
    """Set every cell's slide type from the rule, and hide solution cells' source and outputs."""
    for cell in nb.cells:
        cell.pop("id", None)
        cell.metadata.pop("execution", None)
        cell.metadata["slideshow"] = {"slide_type": _slide_type(cell)}
        if "solution" in _tags(cell):
            cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
            if cell.cell_type == "code":
                cell.metadata["collapsed"] = True  # what JupyterLab writes for hidden outputs


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
    report(path)


def report(path: Path) -> int:
    """Print the slide statistics and structure problems of one notebook; return the count."""
    nb = nbformat.read(path, as_version=4)
    counts = [n for _, n in slides(nb)]
    found = problems(nb, path.name)
    over = sum(n > MAX_LINES for n in counts)
    print(f"{path.name}: {len(counts)} slides, {over} over {MAX_LINES}, largest {max(counts)}")
    for msg in found:
        print(f"  {msg}")
    return len(found)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in {"from-py", "to-py", "run", "normalise", "check"}:
        raise SystemExit(__doc__)
    cmd, args = argv[0], [Path(a) for a in argv[1:]]
    if cmd == "from-py":
        from_py(args[0], args[1])
        _write(normalise(args[1]), args[1])
        return
    if cmd == "to-py":
        to_py(args[0], args[1])
        return
    if cmd == "check":
        raise SystemExit(sum(report(path) > 0 for path in args))
    for path in args:
        if cmd == "run":
            print(f"running {path}", flush=True)
            run(path)
        else:
            _write(normalise(path), path)


if __name__ == "__main__":
    main(sys.argv[1:])
