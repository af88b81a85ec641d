"""Every deck and every page works from file:// with the network blocked (headless Chromium).

Fails on any request outside ``file://``, a deck whose slide count differs from its notebook's
slide/subslide cells, a slide whose content runs past the deck's 800 px or is cut at its right
(``tools/deck_overflow.py`` measures both; the line budget of ``nbtool.py check`` cannot see how
prose, a table or a figure renders), math left as LaTeX source, or a solution a reader can see. Uses
``build/slides`` and ``build/html`` (``make test-browser`` builds them first).
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402
import deck_overflow  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BUILD = ROOT / "build"
CHROMIUM, ARGS = deck_overflow.CHROMIUM, deck_overflow.CHROMIUM_ARGS
# Text of markdown cells (code and MathML removed) that still looks like LaTeX source.
RAW_MATH = r"""() => {
  const raw = /\$[^$\n]+\$|\\\(|\\\[|\\begin\{|\\frac|\\sum/;
  return Array.from(document.querySelectorAll('.md')).map(md => {
    const copy = md.cloneNode(true);
    copy.querySelectorAll('math, code, pre').forEach(e => e.remove());
    return copy.textContent;
  }).filter(text => raw.test(text)).map(text => text.slice(0, 200));
}"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    assert CHROMIUM, "no Chromium: `make test-browser` installs Debian's chromium when run as root"
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site():
    missing = [d for d in ("slides", "html") if not (BUILD / d).is_dir()]
    assert not missing, f"build/{missing[0]} is missing: run `make test-browser` (it builds them)"
    return BUILD


def _open(browser, path: Path):
    """Open ``path`` with every request outside file:// (and data:) aborted and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    outside = []

    def guard(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else outside.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, outside


def _solutions(nb) -> list[str]:
    return [c.source.strip().splitlines()[-1] for c in nb.cells
            if "solution" in c.metadata.get("tags", []) and c.source.strip()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_deck_works_offline(browser, site, path):
    nb = nbformat.read(path, as_version=4)
    context, page, outside = _open(browser, site / "slides" / f"{path.stem}.slides.html")
    try:
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=10_000)
        expected = sum(c.metadata.get("slideshow", {}).get("slide_type") in {"slide", "subslide"}
                       and "solution" not in c.metadata.get("tags", []) for c in nb.cells)
        assert page.evaluate("Reveal.getTotalSlides()") == expected == build_site.deck_slide_count(nb)
        assert page.locator("section.present").first.is_visible()
        assert not page.evaluate(RAW_MATH), "math left as LaTeX source"
        text = page.evaluate("document.body.textContent")
        shown = [line for line in _solutions(nb) if line in text]
        assert not shown, f"solution text in the deck: {shown[:2]}"
        page.evaluate("Reveal.slide(Reveal.getHorizontalSlides().length - 1)")
        assert page.locator("section.present").last.is_visible()
        overflows = [f"slide {h}.{v} {title!r}: {problem}"
                     for h, v, problem, title in deck_overflow.overflowing(page)]
        assert not overflows, f"content cut off on the deck: {overflows}"
        assert not outside, f"requests outside file://: {outside[:3]}"
    finally:
        context.close()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_page_works_offline(browser, site, path):
    nb = nbformat.read(path, as_version=4)
    context, page, outside = _open(browser, site / "html" / f"{path.stem}.html")
    try:
        assert not page.evaluate(RAW_MATH), "math left as LaTeX source"
        folded = page.locator("details.solution")
        assert folded.count() == sum("solution" in c.metadata.get("tags", []) for c in nb.cells)
        for i in range(folded.count()):
            assert folded.nth(i).get_attribute("open") is None
            assert not folded.nth(i).locator(".cell").is_visible(), "a solution is shown unfolded"
        assert page.locator("nav.pager a[href='index.html']").count() == 2
        images = page.locator("img")
        for i in range(images.count()):
            assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), "a broken image"
        assert not outside, f"requests outside file://: {outside[:3]}"
    finally:
        context.close()


def test_index_lists_every_notebook_in_order(browser, site):
    context, page, outside = _open(browser, site / "html" / "index.html")
    try:
        links = page.locator("table.contents a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
        assert links == [f"{p.stem}.html" for p in NOTEBOOKS]
        page.locator("table.contents a").first.click()
        page.wait_for_load_state("load")
        assert re.search(r"/00_\w+\.html$", page.url)
        assert not outside
    finally:
        context.close()
