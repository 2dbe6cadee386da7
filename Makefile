# Two commands do all the set-up on a fresh machine with only Python on it:
#   make demo   create .venv, install tsattn, run the whole tutorial
#   make test   create .venv, install tsattn with its test extras, run the fast tests (a few minutes)
#   make test-all   the fast tests and the slow tier (SIGKILL/resume, DDP, notebook, browser, sklearn checks)
#   make lint   ruff check, ruff format --check, mypy --strict on src/, the import-layers contract
#   make docs   build the documentation site (build/site/) with warnings as errors
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test test-slow test-all lint docs bench install clean

demo: $(VENV)/.core
	$(BIN)/tsattn demo

test: $(VENV)/.test
	$(BIN)/python -m pytest

test-slow: $(VENV)/.test
	$(BIN)/python -m pytest -m slow

test-all: $(VENV)/.test
	$(BIN)/python -m pytest -m ""

lint: $(VENV)/.lint
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs
	$(BIN)/mypy
	$(BIN)/lint-imports

docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

bench: $(VENV)/.test
	$(BIN)/python benchmarks/seed_task.py

install: $(VENV)/.core

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.test: $(VENV)/.core
	$(PIP) -e ".[test,all]"
	touch $@

$(VENV)/.lint: $(VENV)/.core
	$(PIP) -e ".[lint]"
	touch $@

$(VENV)/.docs: $(VENV)/.core
	$(PIP) -e ".[docs]"
	touch $@

clean:
	rm -rf $(VENV) runs build src/*.egg-info
