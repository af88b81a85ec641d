"""tools/build_site.py: decks and pages follow the notebook conventions and need no network."""

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


class _Sections(HTMLParser):
    """Counts reveal slides (innermost <section>s) and collects every src/href."""

    def __init__(self):
        super().__init__()
        self.depth, self.leaves, self.urls, self._inner = 0, 0, [], []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in {"src", "href"} and v is not None]
        if tag == "section":
            if self._inner:
                self._inner[-1] = True
            self._inner.append(False)

    def handle_endtag(self, tag):
        if tag == "section" and not self._inner.pop():
            self.leaves += 1


def _parse(text: str) -> _Sections:
    parser = _Sections()
    parser.feed(text)
    return parser


def _slide(source, kind, **meta):
    return new_markdown_cell(source, metadata={"slideshow": {"slide_type": kind}, **meta})


def _code(source, kind="-", outputs=(), **meta):
    cell = new_code_cell(source, metadata={"slideshow": {"slide_type": kind}, **meta})
    cell.outputs = list(outputs)
    return cell


@pytest.fixture
def toy(tmp_path):
    """A small notebook with every convention the builder honours."""
    nb = new_notebook(cells=[
        _slide("# 98 · Toy\n\nYou will be able to: add.", "slide"),
        _slide("<!-- nav -->\n[← 97](97_x.ipynb) | [Contents](../README.md#contents)", "skip"),
        _code("import numpy as np", "skip", tags=["imports"]),
        _slide("## Sums\n\nInline $a_i + b$ and display $$\\frac{H - R}{U} + 1$$", "slide"),
        _code("print(f'{1 + 1}')", outputs=[new_output("stream", name="stdout", text="2\n")]),
        _slide("### A figure", "subslide"),
        _code("draw()", tags=["remove-input"], alt=["A single grey pixel"],
              outputs=[new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]),
        _slide("### An explorer", "subslide"),
        _code("conv_explorer()", tags=["explorer"], alt=["The explorer's first state"],
              outputs=[new_output("display_data", data={
                  "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2,
                                                               "version_minor": 0},
                  "image/png": PNG, "text/plain": "VBox()"})]),
        _slide("## Exercises\n\n1. Add 40 and 2.", "slide"),
        _code("answer_is_forty_two = 40 + 2\nassert answer_is_forty_two == 42", "skip", tags=["solution"]),
    ])
    path = tmp_path / "98_toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_deck_has_one_slide_per_slide_cell_and_leaves_out_skip_and_solution(toy, tmp_path):
    [book] = build_site.build_slides([toy], tmp_path / "slides")
    text = (tmp_path / "slides" / "98_toy.slides.html").read_text()
    assert _parse(text).leaves == build_site.deck_slide_count(book.nb) == 5
    assert "answer_is_forty_two" not in text
    assert "import numpy" not in text and "&lt;!-- nav" not in text and "97_x" not in text
    assert "draw()" not in text, "a remove-input cell showed its source"
    assert text.count("<img") == 2 and build_site.LIVE_LINE in text


def test_page_folds_solutions_and_renders_math_as_mathml(toy, tmp_path):
    build_site.build_html([toy], tmp_path / "html")
    text = (tmp_path / "html" / "98_toy.html").read_text()
    folded = re.search(r'<details class="solution"><summary>Solution</summary>(.*?)</details>', text, re.S)
    assert folded and "answer_is_forty_two" in folded.group(1)
    assert " open" not in text.split('<details class="solution"')[1][:5]
    assert text.count("<math") == 2 and '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in text
    for md in re.findall(r'<div class="md">(.*?)</div>', text, re.S):
        assert not re.search(r"\$|\\\(|\\\[", re.sub(r"<math.*?</math>", "", md, flags=re.S)), md
    assert 'alt="A single grey pixel"' in text and "The explorer&#x27;s first state" in text
    assert 'href="index.html"' in text and "README.md" not in text


def test_pages_link_in_lecture_order(tmp_path):
    paths = NOTEBOOKS[:3]
    books = build_site.build_html(paths, tmp_path)
    index = (tmp_path / "index.html").read_text()
    assert [m for m in re.findall(r'href="(\d\d_[\w-]+)\.html"', index)] == [p.stem for p in paths]
    middle = (tmp_path / f"{paths[1].stem}.html").read_text()
    assert f'rel="prev" href="{paths[0].stem}.html"' in middle
    assert f'rel="next" href="{paths[2].stem}.html"' in middle
    assert books[0].title.startswith("00 · ")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    decks = build_site.build_slides(NOTEBOOKS, out / "slides")
    pages = build_site.build_html(NOTEBOOKS, out / "html")
    return out, decks, pages


def test_every_deck_and_page_refers_only_to_files_inside_the_build(built):
    out, decks, _ = built
    for path in [*(out / "slides").glob("*.html"), *(out / "html").glob("*.html")]:
        for url in _parse(path.read_text()).urls:
            assert not re.match(r"^[a-z]+://|^//", url), f"{path.name} refers to {url}"
            if not url.startswith(("data:", "#")):
                assert (path.parent / url.split("#")[0]).exists(), f"{path.name}: {url} is missing"
    for book in decks:
        text = (out / "slides" / f"{book.path.stem}.slides.html").read_text()
        assert _parse(text).leaves == build_site.deck_slide_count(book.nb), book.path.name


def test_every_course_figure_has_alt_text(built):
    _, decks, pages = built
    missing = [m for b in pages for m in b.missing_alt]
    assert not missing, f"{len(missing)} figures without cell metadata 'alt': {missing}"


def test_consecutive_prints_show_as_one_block():
    cell = new_code_cell("for i in range(2): print(i)", outputs=[
        new_output("stream", name="stdout", text="0\n"), new_output("stream", name="stdout", text="1\n"),
        new_output("stream", name="stderr", text="warn\n")])
    book = build_site.Notebook(Path("x.ipynb"), new_notebook(cells=[cell]))
    html_out = build_site.outputs(book, cell, 0)
    assert html_out.count('<pre class="stream">') == 1 and "0\n1\n</pre>" in html_out
    assert html_out.count('<pre class="stream stderr">') == 1
