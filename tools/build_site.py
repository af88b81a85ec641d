"""Build the course's offline slide decks and static website from the notebooks' stored outputs.

    python tools/build_site.py slides [--out build/slides] [notebooks/NN_name.ipynb ...]
    python tools/build_site.py html   [--out build/html]   [notebooks/NN_name.ipynb ...]

Nothing is executed and nothing is fetched: the notebooks' stored outputs are what nbval checks,
figures are embedded as base64, math is turned into MathML here (latex2mathml), and reveal.js
is copied from the sphinx-revealjs package into the deck folder, so decks and pages work from
``file://`` with no network, also after the folder is moved.

Cell conventions (CONTRIBUTING.md): ``metadata.slideshow.slide_type`` ``slide``/``subslide``
start a (sub)slide, ``skip`` cells are left out of decks; ``solution`` cells are left out of
decks and folded closed (``<details>``) in pages; ``remove-input`` shows only the output;
an explorer's output shows its stored first state (image/png) and a line saying it is live in
JupyterLab; ``metadata.alt`` gives one alt text per image output.
"""

from __future__ import annotations

import argparse
import base64
import html
import importlib.util
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert.filters.ansi import strip_ansi
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
NAV_MARK = "<!-- nav -->"
WIDGET = "application/vnd.jupyter.widget-view+json"
LIVE_LINE = "Live in JupyterLab: open the notebook to move the controls."
TITLE = "CNNs for Hardware for Deep Learning"


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with ``$...$``, ``$$...$$`` and LaTeX environments
    written as MathML (rendered by the browser itself: no script, no fonts, no network)."""

    def inline_math(self, body: str) -> str:
        return latex_to_mathml(body, display="inline")

    def block_math(self, body: str) -> str:
        return latex_to_mathml(body, display="block")

    def latex_environment(self, name: str, body: str) -> str:
        return latex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display="block")


@dataclass
class Notebook:
    path: Path
    nb: nbformat.NotebookNode
    missing_alt: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        for cell in self.nb.cells:
            m = re.search(r"^# (.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
            if m:
                return m.group(1).strip()
        return self.path.stem


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def slide_type(cell) -> str:
    """The cell's slide type; a solution is always ``skip`` in a deck."""
    if "solution" in tags(cell) or cell.source.startswith(NAV_MARK):
        return "skip"
    return cell.metadata.get("slideshow", {}).get("slide_type", "-") or "-"


def deck_slide_count(nb) -> int:
    """Slides a deck of ``nb`` has: one per slide or subslide cell shown in it."""
    return sum(slide_type(c) in {"slide", "subslide"} for c in nb.cells)


def _links(text: str, suffix: str) -> str:
    """Links between notebooks point at the built files; the README's contents at the index."""
    text = re.sub(r'href="(\d\d_[\w-]+)\.ipynb', rf'href="\1{suffix}', text)
    return re.sub(r'href="\.\./README\.md(#[\w-]*)?"', 'href="index.html"', text)


def markdown(source: str, suffix: str) -> str:
    renderer = MathMLRenderer(escape=False, embed_images=True, path=str(NB_DIR), exclude_anchor_links=True)
    return _links(MarkdownWithMath(renderer=renderer).render(source), suffix)


def _code(source: str) -> str:
    return highlight(source, PythonLexer(), HtmlFormatter(cssclass="highlight"))


def _image(data: dict, alt: str) -> str:
    if "image/png" in data:
        src = "data:image/png;base64," + "".join(data["image/png"]).replace("\n", "")
    else:
        svg = "".join(data["image/svg+xml"]).encode()
        src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    return f'<img src="{src}" alt="{html.escape(alt)}">'


def outputs(book: Notebook, cell, index: int) -> str:
    """The cell's outputs as HTML; images take their alt text from ``metadata.alt``."""
    alts = list(cell.metadata.get("alt", []))
    parts, images, last_stream = [], 0, None
    for out in cell.get("outputs", []):
        kind = out.output_type
        if kind == "stream":  # consecutive prints to one stream read as one block, as in JupyterLab
            if last_stream == out.name:
                parts[-1] = parts[-1][: -len("</pre>")] + html.escape(strip_ansi(out.text)) + "</pre>"
            else:
                cls = "stream stderr" if out.name == "stderr" else "stream"
                parts.append(f'<pre class="{cls}">{html.escape(strip_ansi(out.text))}</pre>')
            last_stream = out.name
            continue
        last_stream = None
        if kind == "error":
            parts.append(f'<pre class="error">{html.escape(strip_ansi(chr(10).join(out.traceback)))}</pre>')
            continue
        data = out.get("data", {})
        image = ""
        if "image/png" in data or "image/svg+xml" in data:
            alt = alts[images] if images < len(alts) else ""
            if not alt:
                book.missing_alt.append(f"{book.path.name} cell {index} image {images}")
            image = _image(data, alt)
            images += 1
        if WIDGET in data:
            parts.append(f'<figure class="explorer">{image}<figcaption>{LIVE_LINE}</figcaption></figure>')
        elif image:
            parts.append(f'<figure>{image}</figure>')
        elif "text/html" in data:
            parts.append(f'<div class="output-html">{"".join(data["text/html"])}</div>')
        elif "text/markdown" in data:
            parts.append(markdown("".join(data["text/markdown"]), ".html"))
        elif "text/plain" in data:
            parts.append(f'<pre class="result">{html.escape(strip_ansi("".join(data["text/plain"])))}</pre>')
    return "\n".join(parts)


def cell_html(book: Notebook, cell, index: int, suffix: str) -> str:
    if cell.cell_type == "markdown":
        return f'<div class="md">{markdown(cell.source, suffix)}</div>'
    if cell.cell_type != "code":
        return ""
    source = "" if "remove-input" in tags(cell) or not cell.source.strip() else _code(cell.source)
    shown = f'<div class="input">{source}</div>' if source else ""
    out = outputs(book, cell, index)
    return f'<div class="cell">{shown}{f"<div class=output>{out}</div>" if out else ""}</div>'


def load(path: Path) -> Notebook:
    return Notebook(path, nbformat.read(path, as_version=4))


def _css() -> str:
    return (ROOT / "tools" / "site.css").read_text() + HtmlFormatter().get_style_defs(".highlight")


# ---- slides -------------------------------------------------------------------------------------

def reveal_dir() -> Path:
    """reveal.js as shipped by the sphinx-revealjs package (found without importing Sphinx)."""
    spec = importlib.util.find_spec("sphinx_revealjs")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("sphinx-revealjs is not installed: run `make` (it installs requirements/lock.txt)")
    return Path(spec.submodule_search_locations[0]) / "_static" / "revealjs"


def deck(book: Notebook) -> str:
    """One reveal.js deck: a horizontal slide per ``slide`` cell, a vertical one per ``subslide``."""
    slides: list[list[list[str]]] = []
    for i, cell in enumerate(book.nb.cells):
        kind = slide_type(cell)
        if kind == "skip":
            continue
        if kind == "slide" or not slides:
            slides.append([[]])
        elif kind == "subslide":
            slides[-1].append([])
        slides[-1][-1].append(cell_html(book, cell, i, ".slides.html"))
    sections = "\n".join(
        "<section>" + "".join(f"<section>{''.join(sub)}</section>" for sub in stack) + "</section>"
        for stack in slides)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(book.title)}</title>
<link rel="stylesheet" href="reveal.js/dist/reveal.css">
<link rel="stylesheet" href="reveal.js/dist/theme/white.css">
<link rel="stylesheet" href="course.css">
</head><body class="deck">
<div class="reveal"><div class="slides">
{sections}
</div></div>
<script src="reveal.js/dist/reveal.js"></script>
<script>Reveal.initialize({{hash: true, center: false, width: 1280, height: 800, margin: 0.03,
  slideNumber: "c/t", transition: "none"}});</script>
</body></html>
"""


def build_slides(paths: list[Path], out: Path) -> list[Notebook]:
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "reveal.js", ignore_errors=True)
    src = reveal_dir()
    skip = shutil.ignore_patterns("*.map", "*.esm.js")
    shutil.copytree(src / "dist", out / "reveal.js" / "dist", ignore=skip)
    shutil.copy(src / "LICENSE", out / "reveal.js" / "LICENSE")
    (out / "course.css").write_text(_css())
    books = []
    for path in paths:
        book = load(path)
        (out / f"{path.stem}.slides.html").write_text(deck(book))
        books.append(book)
    return books


# ---- pages --------------------------------------------------------------------------------------

def _nav(books: list[Notebook], i: int) -> str:
    prev = (f'<a rel="prev" href="{books[i - 1].path.stem}.html">← {html.escape(books[i - 1].title)}</a>'
            if i > 0 else "<span></span>")
    nxt = (f'<a rel="next" href="{books[i + 1].path.stem}.html">{html.escape(books[i + 1].title)} →</a>'
           if i < len(books) - 1 else "<span></span>")
    return f'<nav class="pager">{prev}<a href="index.html">Contents</a>{nxt}</nav>'


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="course.css">
</head><body class="page"><main>
{body}
</main></body></html>
"""


def page(books: list[Notebook], i: int) -> str:
    book, parts = books[i], []
    for j, cell in enumerate(book.nb.cells):
        if cell.source.startswith(NAV_MARK):
            continue
        shown = cell_html(book, cell, j, ".html")
        if "solution" in tags(cell):
            shown = f'<details class="solution"><summary>Solution</summary>{shown}</details>'
        parts.append(shown)
    nav = _nav(books, i)
    return _page(book.title, nav + "\n".join(parts) + nav)


def index(books: list[Notebook]) -> str:
    rows = "\n".join(f'<tr><td>{b.path.stem[:2]}</td><td><a href="{b.path.stem}.html">'
                     f'{html.escape(b.title.split("·", 1)[-1].strip())}</a></td></tr>' for b in books)
    body = (f"<h1>{TITLE}</h1>\n<p>The executed course notebooks, in lecture order. Explorers show their "
            "first state here; open the notebooks in JupyterLab (<code>make lab</code>) to use them.</p>\n"
            f'<h2 id="contents">Contents</h2>\n<table class="contents"><tbody>\n{rows}\n</tbody></table>')
    return _page(TITLE, body)


def build_html(paths: list[Path], out: Path) -> list[Notebook]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "course.css").write_text(_css())
    books = [load(p) for p in paths]
    for i, book in enumerate(books):
        (out / f"{book.path.stem}.html").write_text(page(books, i))
    (out / "index.html").write_text(index(books))
    return books


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["slides", "html"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    paths = sorted(args.notebooks or NB_DIR.glob("[0-9][0-9]_*.ipynb"))
    out = args.out or ROOT / "build" / args.target
    books = (build_slides if args.target == "slides" else build_html)(paths, out)
    missing = [m for b in books for m in b.missing_alt]
    print(f"{args.target}: {len(books)} notebooks -> {out}")
    if missing:
        print(f"warning: {len(missing)} figures have no alt text (cell metadata 'alt'):",
              *missing, sep="\n  ")


if __name__ == "__main__":
    main(sys.argv[1:])
