"""`make lab` adds the project's Jupyter config (.jupyter/): JupyterLab starts without the news pop-up."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from test_lab import free_port

ROOT = Path(__file__).resolve().parent.parent
NEWS = "@jupyterlab/apputils-extension:announcements"


def test_make_lab_uses_the_project_config():
    recipe = (ROOT / "Makefile").read_text().split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "JUPYTER_CONFIG_PATH=$(CURDIR)/.jupyter" in recipe


def test_the_news_plugin_is_disabled_in_the_served_page(tmp_path):
    port, token = free_port(), "config-test"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.root_dir=notebooks", f"--IdentityProvider.token={token}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path),
               JUPYTER_CONFIG_PATH=str(ROOT / ".jupyter"))
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(120):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not answer within 60 s")
        data = re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
        config = json.loads(data.group(1))
        assert NEWS in config["disabledExtensions"], config["disabledExtensions"]
    finally:
        server.terminate()
        server.wait(timeout=30)
