"""The explorers render and respond in a real JupyterLab front end (headless Chromium).

nbval checks what the kernel prints, not what a student sees: a widget can pass nbval and still be
unusable in the browser (notebook 03's sliders once had no track). This test serves a copy of the
notebooks with the same JupyterLab command as `make lab`, runs each notebook that has an explorer
in Chromium, and checks that every explorer is drawn as a live widget and redraws when its first
slider moves or its first menu changes.

`make test-browser` runs it (`make test` skips it): the lock installs Playwright's Python package,
and the target installs Debian's chromium when it is missing and the user is root. By hand:

    COURSE_BROWSER=1 .venv/bin/python -m pytest tests/browser/test_widgets_browser.py

(``playwright install`` is not needed: the test drives the system Chromium.)
"""

import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest
from test_lab import lab_server

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
                 if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found")


def _explorer_cells(path: Path) -> int:
    return sum("explorer" in cell.get("metadata", {}).get("tags", [])
               for cell in json.loads(path.read_text())["cells"])


# Notebooks with an explorer (cells tagged `explorer`), and how many explorers each shows.
EXPLORERS = {path.name: n for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
             if (n := _explorer_cells(path))}
TOKEN = "widgets-test"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the notebooks (the browser's autosave must not touch them)."""
    tmp = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", tmp / "notebooks")
    with lab_server(tmp / "notebooks", TOKEN, tmp) as base:
        yield base


def _run_all(page, timeout=300):
    """Run every cell from the menu and wait until no cell is queued or running."""
    page.click("div.lm-MenuBar-itemLabel:text('Run')")
    page.click(".lm-Menu-itemLabel:text('Run All Cells')")
    time.sleep(5)
    deadline = time.time() + timeout
    busy = "() => Array.from(document.querySelectorAll('.jp-InputArea-prompt')).some(e => e.textContent.includes('*'))"
    while page.evaluate(busy):
        assert time.time() < deadline, "the notebook did not finish running"
        time.sleep(1)


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_explorers_render_and_respond(lab, name):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{lab}/lab/workspaces/{name.split('_')[0]}/tree/{name}?reset&token={TOKEN}")
            page.wait_for_selector(".jp-Notebook:visible", timeout=60_000)
            time.sleep(2)
            _run_all(page)
            errors = page.query_selector_all("[data-mime-type='application/vnd.jupyter.stderr']")
            assert not errors, errors[0].text_content()[:500]
            views = [w for w in page.query_selector_all(".jp-OutputArea-output > .jupyter-widgets")
                     if w.query_selector("img, .widget-slider, select")]
            assert len(views) == EXPLORERS[name], f"{len(views)} explorers drawn"
            for view in views:
                view.scroll_into_view_if_needed()
                before = hashlib.sha256(view.screenshot()).hexdigest()
                handle, menu = view.query_selector(".noUi-handle"), view.query_selector("select")
                if handle is not None:
                    handle.focus()
                    page.keyboard.press("ArrowRight")
                    page.keyboard.press("ArrowRight")
                else:
                    options = menu.evaluate("s => Array.from(s.options).map(o => o.value)")
                    menu.select_option(options[-1])
                time.sleep(4)  # the kernel redraws the figure
                assert hashlib.sha256(view.screenshot()).hexdigest() != before, "the explorer did not redraw"
        finally:
            browser.close()
