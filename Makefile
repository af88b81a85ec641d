# The two commands of the course (see README.md):
#   make lab   - set up .venv and open the notebooks in JupyterLab (prints the URL; works headless)
#   make test  - set up .venv and run ruff, the unit tests and nbval over every notebook
# In an environment you manage yourself (conda), skip the set-up with PY=python: make test PY=python
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PY     ?= $(BIN)/python
SETUP  := $(if $(filter $(BIN)/python,$(PY)),$(STAMP))
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
PORT   ?= 8888
ROOT_OK := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test lint unit nbval notebooks benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Python >= 3.10 is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[lab,test]'
	touch $(STAMP)

lab: $(SETUP)
	$(PY) -m jupyterlab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks $(ROOT_OK)

test: lint unit nbval

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

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
