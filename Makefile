# Two commands on a fresh clone: `make demo` and `make test` (each sets up .venv/ first).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test quick lint bench clean

setup: $(STAMP)

# Re-installs only when the dependency pins change; idempotent otherwise.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: setup
	$(BIN)/harmscope demo

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q

quick: setup
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Every benchmark, each printing its figures as ratios against a baseline run in the same
# script; all run even when one misses its target, and the target fails if any did.
BENCHES := ingest hotspots simulate evaluation
bench: setup
	@status=0; for b in $(BENCHES); do \
		echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache harmscope-demo
