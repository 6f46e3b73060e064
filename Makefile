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
# What an internal index must mirror for `pip install "trustly-api-client[testing,cli,aiohttp]"`: the
# runtime dependencies and those of every extra (pyproject.toml), plus pytest, which runs the
# `testing` extra's plugin. Versions, transitive ones included, come from requirements-dev.txt,
# so the mirror holds exactly what the tests ran with.
MIRRORED := httpx attrs pyyaml jsonschema trustme click rich psycopg[binary] aiohttp pytest
DOCS := build/docs
PYTEST_ARGS ?=

.PHONY: help install generate golden-update check-generated lint lint-spec spec-drift typecheck docs pytest test check build publish demo bench clean

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

$(WHEELHOUSE_STAMP): $(VENV_STAMP) Makefile requirements-dev.txt
	rm -rf $(WHEELHOUSE)
	$(PY) -m pip download --quiet --only-binary=:all: --dest $(WHEELHOUSE) -c requirements-dev.txt $(MIRRORED)
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
	$(BIN)/ruff check overlays tests generator bench examples docs
	$(BIN)/ruff format --check overlays tests generator bench examples docs

lint-spec: $(NPM_STAMP)  ## redocly and spectral on the spec
	$(NPX)/redocly lint --config redocly.yaml $(SPEC)
	$(NPX)/spectral lint --ruleset .spectral.yaml --fail-severity warn $(SPEC)

spec-drift: $(VENV_STAMP)  ## What a newer published Trustly file (UPSTREAM=path) changed, and what our spec lacks
	@test -n "$${UPSTREAM:-}" || { echo "spec-drift: set UPSTREAM to the newly published Trustly OpenAPI file" >&2; exit 2; }
	$(PY) generator/spec_drift.py --upstream "$(UPSTREAM)" --baseline "$(BASELINE)" --spec $(SPEC)

typecheck: $(VENV_STAMP)  ## mypy --strict on the overlay and the generated package
	$(BIN)/mypy --strict overlays generated examples docs

docs: $(VENV_STAMP)  ## Offline HTML API reference (pdoc) in build/docs; fails on a public symbol without a docstring
	rm -rf $(DOCS)
	PYTHONPATH=overlays:generated $(PY) -W error docs/build.py --output $(DOCS)

pytest: install  ## Run the test suite only
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint lint-spec typecheck check-generated docs pytest  ## Everything CI runs: lints, types, regeneration, docs, tests

check: test  ## Same as test

build: $(VENV_STAMP) $(WHEELHOUSE_STAMP)  ## Wheel and sdist into dist/, and in dist/wheelhouse every dependency an index must mirror
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .
	mkdir -p dist/wheelhouse
	cp $(WHEELHOUSE)/*.whl dist/wheelhouse/

publish:  ## Build and upload to INDEX_URL (needs TWINE_USERNAME and TWINE_PASSWORD)
	@test -n "$${INDEX_URL:-}" || { echo "publish: set INDEX_URL to the index's upload URL" >&2; exit 2; }
	@test -n "$${TWINE_USERNAME:-}" || { echo "publish: set TWINE_USERNAME" >&2; exit 2; }
	@test -n "$${TWINE_PASSWORD:-}" || { echo "publish: set TWINE_PASSWORD" >&2; exit 2; }
	$(MAKE) --no-print-directory build
	$(BIN)/twine check --strict dist/*.whl dist/*.tar.gz
	$(BIN)/twine upload --non-interactive --disable-progress-bar --repository-url "$$INDEX_URL" dist/*.whl dist/*.tar.gz

demo: install  ## The end-to-end merchant flow against the local Trustly simulator
	PYTHONPATH=overlays:generated $(PY) examples/merchant_flow.py

bench: install  ## Per-call and async budgets vs raw httpx, aiohttp and the default generator (a table, JSON in .bench/)
	$(PY) bench/run.py $(BENCH_ARGS)

clean:  ## Remove build output and caches (keeps .venv and node_modules)
	rm -rf dist build .cache .mypy_cache .pytest_cache .ruff_cache
