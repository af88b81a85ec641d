"""Real-browser checks (headless Chromium): `make test-browser` runs them, `make test` skips them.

    make test-browser                                    # builds decks and pages, then runs these
    COURSE_BROWSER=1 .venv/bin/python -m pytest tests/browser    # the same, on an existing build/
"""

import os

import pytest

ENABLED = os.environ.get("COURSE_BROWSER") == "1"


def pytest_runtest_setup(item):
    if not ENABLED:
        pytest.skip("real-browser check: run `make test-browser`")
