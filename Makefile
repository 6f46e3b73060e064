# The one entry point for developers and CI. Every target installs what it needs first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
NPX := node_modules/.bin
VENV_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
WHEELHOUSE := .cache/wheelhouse
WHEELHOUSE_STAMP := $(WHEELHOUSE)/.installed
SPEC := spec/trustly-openapi.yaml
# Trustly's published OpenAPI file our spec last followed, named by the date it was published or fetched.
BASELINE ?= $(lastword $(sort $(wildcard spec/upstream/trustly-north-america-openapi.*.yml)))
# Runtime dependencies mirrored into the local test index, as an internal index mirrors PyPI.
RUNTIME_PINS := httpx==0.28.1 attrs==26.1.0
PYTEST_ARGS ?=

.PHONY: help install generate golden-update check-generated lint lint-spec spec-drift typecheck pytest test check build publish demo bench clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WHEELHOUSE_STAMP): $(VENV_STAMP) Makefile
	$(PY) -m pip download --quiet --only-binary=:all: --dest $(WHEELHOUSE) $(RUNTIME_PINS)
	touch $@

install: $(VENV_STAMP) $(NPM_STAMP) $(WHEELHOUSE_STAMP)  ## Create .venv and node_modules with the pinned tools

generate: $(VENV_STAMP)  ## Regenerate generated/trustly_api_client from the spec
	$(PY) generator/generate.py --spec $(SPEC) --output generated/trustly_api_client --stamp generator/stamp.json

golden-update: $(VENV_STAMP)  ## Refresh the golden record after a deliberate template change
	$(PY) generator/generate.py --spec tests/golden/fixture.yaml --output tests/golden/expected/trustly_api_client

check-generated: generate  ## Fail if regeneration changes or adds any file
	@git diff --exit-code --stat -- generated generator/stamp.json || \
		{ echo "generated/ is out of date: run 'make generate' and commit the result" >&2; exit 1; }
	@untracked=$$(git status --porcelain --untracked-files=all -- generated generator/stamp.json); \
		if [ -n "$$untracked" ]; then echo "$$untracked"; echo "make generate created files that are not committed" >&2; exit 1; fi

lint: $(VENV_STAMP)  ## ruff on the handwritten code
	$(BIN)/ruff check overlays tests generator bench examples
	$(BIN)/ruff format --check overlays tests generator bench examples

lint-spec: $(NPM_STAMP)  ## redocly and spectral on the spec
	$(NPX)/redocly lint --config redocly.yaml $(SPEC)
	$(NPX)/spectral lint --ruleset .spectral.yaml --fail-severity warn $(SPEC)

spec-drift: $(VENV_STAMP)  ## What a newer published Trustly file (UPSTREAM=path) changed, and what our spec lacks
	@test -n "$${UPSTREAM:-}" || { echo "spec-drift: set UPSTREAM to the newly published Trustly OpenAPI file" >&2; exit 2; }
	$(PY) generator/spec_drift.py --upstream "$(UPSTREAM)" --baseline "$(BASELINE)" --spec $(SPEC)

typecheck: $(VENV_STAMP)  ## mypy --strict on the overlay and the generated package
	$(BIN)/mypy --strict overlays generated examples

pytest: install  ## Run the test suite only
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint lint-spec typecheck check-generated pytest  ## Everything CI runs: lints, types, regeneration, tests

check: test  ## Same as test

build: $(VENV_STAMP)  ## Build the wheel and sdist into dist/
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .

publish:  ## Build and upload to INDEX_URL (needs TWINE_USERNAME and TWINE_PASSWORD)
	@test -n "$${INDEX_URL:-}" || { echo "publish: set INDEX_URL to the index's upload URL" >&2; exit 2; }
	@test -n "$${TWINE_USERNAME:-}" || { echo "publish: set TWINE_USERNAME" >&2; exit 2; }
	@test -n "$${TWINE_PASSWORD:-}" || { echo "publish: set TWINE_PASSWORD" >&2; exit 2; }
	$(MAKE) --no-print-directory build
	$(BIN)/twine check --strict dist/*
	$(BIN)/twine upload --non-interactive --disable-progress-bar --repository-url "$$INDEX_URL" dist/*

demo: install  ## The end-to-end merchant flow against the local Trustly simulator
	PYTHONPATH=overlays:generated $(PY) examples/merchant_flow.py

bench: install  ## Benchmarks against raw httpx, printed as a table (reported, not pass/fail)
	$(PY) bench/run.py

clean:  ## Remove build output and caches (keeps .venv and node_modules)
	rm -rf dist build .cache .mypy_cache .pytest_cache .ruff_cache
