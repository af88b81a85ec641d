"""List the slides of built decks whose content runs past the bottom or the right of the slide.

    python tools/build_site.py slides [notebooks/NN_name.ipynb ...] [--out DIR]
    python tools/deck_overflow.py build/slides/*.slides.html

Opens each deck in headless Chromium (Debian's ``chromium``, driven by Playwright), visits every
slide and subslide, and compares the rendered height of its content with the deck's height
(``Reveal.getConfig().height``, 800 px at 1280 px wide): what is taller is cut off when an
instructor projects it. Likewise a code block or table wider than its box (it scrolls, which a
projected slide cannot) or anything past the window's right edge. ``nbtool.py check`` counts
lines instead and cannot see how a wrapped paragraph or a figure renders; this sees it. Exits
with 1 when a slide overflows.
``tests/browser/test_site_browser.py`` runs the same measurement (:data:`OVERFLOWING`).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Chromium's executable (Debian's package first), or None when there is none.
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
                 if Path(p).exists()), None)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: JavaScript run in a loaded deck: [[h, v, problem, title], ...], one row per slide or
#: subslide taller than the deck and per element cut at its right: a code block or table whose
#: lines are wider than its box (it scrolls), or anything reaching past the window's right edge.
OVERFLOWING = """() => {
  const height = Reveal.getConfig().height, found = [];
  for (const s of Reveal.getSlides()) {
    const i = Reveal.getIndices(s);
    Reveal.slide(i.h, i.v || 0);
    const title = (s.querySelector('h1, h2, h3') || {textContent: ''}).textContent.trim().slice(0, 70);
    const report = (problem) => found.push([i.h, i.v || 0, problem, title]);
    if (s.scrollHeight > height) report(`${s.scrollHeight} px tall > ${height} px`);
    for (const e of s.querySelectorAll('pre, table, img, svg, math, p, li')) {
      const box = e.getBoundingClientRect(), tag = e.tagName.toLowerCase();
      if (box.width === 0) continue;  // not shown (a hidden cell)
      if ((tag === 'pre' || tag === 'table') && e.scrollWidth > e.clientWidth + 1)
        report(`${tag} ${e.scrollWidth} px wide in ${e.clientWidth} px`);
      else if (box.right > window.innerWidth + 1)
        report(`${tag} reaches ${Math.round(box.right)} px > ${window.innerWidth} px`);
    }
  }
  return found;
}"""


def overflowing(page) -> list[list]:
    """[h, v, problem, title] for each overflow in the deck loaded in a Playwright ``page``."""
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=10_000)
    return page.evaluate(OVERFLOWING)


def main(decks: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        sys.exit("no Chromium: install Debian's chromium (`make test-browser` does, as root)")
    found = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for deck in decks:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(Path(deck).resolve().as_uri())
            for h, v, problem, title in overflowing(page):
                found += 1
                print(f"{Path(deck).name} slide {h}.{v}: {problem}  {title}")
            page.close()
        browser.close()
    print(f"{found} overflows in {len(decks)} decks")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
