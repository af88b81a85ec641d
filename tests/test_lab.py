"""`make lab` serves the notebooks: start the same JupyterLab command headless and ask it for one."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def lab_server(root_dir, token, state_dir, **env):
    """JupyterLab as `make lab` starts it, on a free port; yields its base URL once it answers.

    ``state_dir`` holds its runtime and user config (nothing of the user's is read); ``env`` adds
    environment variables (e.g. JUPYTER_CONFIG_PATH). The server is stopped on exit.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(state_dir), JUPYTER_CONFIG_DIR=str(state_dir), **env)
    log = Path(state_dir) / "jupyterlab.log"  # a file, not a pipe: a long session's log would fill a pipe
    with log.open("w") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None, log.read_text()[-2000:]
                time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not answer within 60 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_jupyterlab_serves_the_notebooks(tmp_path):
    token = "course-test"
    with lab_server("notebooks", token, tmp_path) as base:
        listing = json.load(urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=10))
        names = {item["name"] for item in listing["content"]}
        assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} <= names
        assert "nbval_sanitize.cfg" in names
        lab = urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10)
        assert lab.status == 200
        page = lab.read().decode()
        assert "jupyterlab-rise" in page, "the RISE slides extension is not installed"
