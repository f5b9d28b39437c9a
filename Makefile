# Set-up and checks for sk-riskscore. Everything installs into ./.venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# make test runs the suite on one pytest-xdist worker per CPU (PYTEST_WORKERS=0:
# in one process). --dist loadfile keeps each test module on one worker, so a
# module-scoped fixture (the Spark session, the MLflow model server, the CLI's
# fitted model and demo run) is built once, not once per worker.
PYTEST_WORKERS ?= logical

.PHONY: demo test install install-test docs bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[mlflow,onnx,plot,cli]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $@ $(VENV)/.demo-installed

install: $(VENV)/.demo-installed

install-test: $(VENV)/.test-installed

## make demo: install and run the main job end to end on a bundled data set
demo: $(VENV)/.demo-installed
	$(BIN)/sk-riskscore demo --output demo_output

## make test: install with test extras and run the whole test suite
test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

docs: $(VENV)/.test-installed
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/bench_solver.py

lint: $(VENV)/.test-installed
	$(BIN)/python -m ruff check sk_riskscore mlflow_plugin tests benchmarks examples .ci

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build demo_output
