# One command each: `make demo` (set up, then run the local stack with the demo store)
# and `make test` (set up, then lint, type-check and run every test). CI runs `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: setup demo local test lint unit bench clean openapi

$(STAMP):
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.2.1
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# The console's browser tests (tests/e2e/test_console.py) drive Debian's chromium with Playwright
# (no browser download): installed here when missing, as root (CI runs as root on a fresh machine).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else \
		echo "note: $(CHROMIUM) is missing; as root: apt-get install -y --no-install-recommends chromium (the console's browser tests need it)"; \
	fi

setup: $(STAMP) $(CHROMIUM)

# In a terminal the demo's stack stays up after the summary until Ctrl-C (its curl hint
# works); anywhere else (CI, a pipe) it ends, printing the command that keeps it up.
demo: setup
	@if [ -t 1 ]; then $(BIN)/patron demo --keep-running; else $(BIN)/patron demo; fi

local: setup
	$(BIN)/patron local

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The tests run on every core (pytest-xdist): tests that share a stack, a Chalice build or a
# module's fixture run together on one worker, the rest one by one wherever a worker is free
# (tests/conftest.py); the 25 slowest are listed at the end. `make test PYTEST_WORKERS=0` runs
# them all in this one process.
PYTEST_WORKERS ?= auto

test: lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=25

unit: setup
	$(BIN)/python -m pytest -q tests/unit

# The API's OpenAPI 3.1 description, committed: a test compares it with the routes.
openapi: setup
	$(BIN)/patron openapi

bench: setup
	$(BIN)/patron bench ingest --orders 1000 --json
	$(BIN)/patron bench segments --profiles 1000000 --json
	$(BIN)/patron bench freshness --customers 5000 --orders 20 --json
	$(BIN)/patron bench campaign --recipients 20000 --json
	$(BIN)/patron bench report --profiles 10000 --other-workspaces 10 --json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache functions/.chalice/deployments
