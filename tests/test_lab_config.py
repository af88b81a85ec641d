"""`make lab` adds the project's Jupyter config (.jupyter/): JupyterLab starts without the news pop-up."""

import json
import re
import urllib.request
from pathlib import Path

from test_lab import lab_server

ROOT = Path(__file__).resolve().parent.parent
NEWS = "@jupyterlab/apputils-extension:announcements"


def test_make_lab_uses_the_project_config():
    recipe = (ROOT / "Makefile").read_text().split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "JUPYTER_CONFIG_PATH=$(CURDIR)/.jupyter" in recipe


def test_the_news_plugin_is_disabled_in_the_served_page(tmp_path):
    token = "config-test"
    with lab_server("notebooks", token, tmp_path, JUPYTER_CONFIG_PATH=str(ROOT / ".jupyter")) as base:
        page = urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10).read()
    data = re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    config = json.loads(data.group(1))
    assert NEWS in config["disabledExtensions"], config["disabledExtensions"]
