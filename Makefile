# Two entry points: `make demo` and `make test`. Everything else is their plumbing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.deps-installed
UV_VERSION := 0.13.9
# pytest options for both passes, e.g. PYTEST_ARGS="-x -k fleet"
PYTEST_ARGS ?=
# Test processes (pytest-xdist), each taking a whole file at a time so that a file's
# module fixtures (the demo run, a fleet) start once, the longest files first (tests/
# conftest.py); most tests wait on servers, so more processes than cores pay off.
# TEST_PROCESSES=0 runs everything in one process.
TEST_PROCESSES ?= 3
PYTEST := $(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder
# demo options, e.g. DEMO_ARGS="--port 8001" or "--no-serve" (python -m demo --help)
DEMO_ARGS ?=
# how far test-future moves the clock: anything `date -d` reads, e.g. FUTURE='+30 days'
FUTURE ?= +400 days

.PHONY: test test-future demo lint format system-deps bench clean

# Bytecode is kept (in __pycache__, ignored by git) even where the environment says not to:
# every pytest process would otherwise rewrite and compile all test modules again, and
# every server and worker the suite starts would compile tlsposture anew.
unexport PYTHONDONTWRITEBYTECODE

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv installs the same pinned requirements as pip in seconds rather than minutes (it
# downloads in parallel), compiled to bytecode as pip does: every server and worker the
# tests start imports from it. pip does it all where uv cannot run.
$(DEPS): requirements.txt requirements-dev.txt | $(BIN)/python
	@if $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); then \
		$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt; \
	else \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt; \
	fi
	touch $@

system-deps:
	@scripts/ensure-system-deps.sh

lint: $(DEPS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEPS)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# First pass on SQLite (the embedded default); then, when DATABASE_URL names a
# PostgreSQL server, every test that touches the database once more against it.
test: $(DEPS) system-deps lint
	env -u DATABASE_URL $(PYTEST) $(PYTEST_ARGS)
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then \
		echo "== database tests again on PostgreSQL ($${DATABASE_URL%%@*}@…)"; \
		$(PYTEST) -m database $(PYTEST_ARGS); \
	else \
		echo "== DATABASE_URL names no PostgreSQL server: PostgreSQL pass skipped"; \
	fi

# The whole suite again with the wall clock moved by $(FUTURE) (libfaketime), so that a test
# that depends on the date it runs on fails now, not on the day it starts to. On SQLite, or
# with DATABASE_URL naming PostgreSQL its database tests run there (the code never asks a
# database for the time, so either holds; README, "Tests").
test-future: $(DEPS) system-deps
	scripts/run-at-date.sh '$(FUTURE)' $(PYTEST) $(PYTEST_ARGS)

# The demo needs MariaDB from Debian, not the browser or the clock the tests use.
demo: $(DEPS)
	@TLSPOSTURE_SKIP_CHROMIUM=1 TLSPOSTURE_SKIP_FAKETIME=1 TLSPOSTURE_SKIP_PROMETHEUS=1 \
		scripts/ensure-system-deps.sh
	$(BIN)/python -m demo $(DEMO_ARGS)

bench: $(DEPS) system-deps
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var artifacts staticfiles .pytest_cache .ruff_cache
