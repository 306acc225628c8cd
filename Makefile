# Two commands on a fresh clone: `make demo` and `make test` (each sets up .venv/ first).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

PIP_VERSION := 26.3
PIP_TOOLS_VERSION := 7.6.2

.PHONY: setup demo test quick lint bench lock clean

setup: $(STAMP)

# The whole dependency tree comes from requirements.lock, every file checked against its hash,
# so a new release of any transitive package cannot change a fresh install. The project itself
# goes in last, editable, with no dependency resolution and the locked setuptools.
# Re-installs only when the lock or pyproject.toml changes; idempotent otherwise.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Re-resolve requirements.lock after changing a pin in pyproject.toml (needs the network).
# tests/test_lock.py fails until the two agree.
lock:
	@test -x .lockvenv/bin/pip-compile || ($(PY) -m venv .lockvenv && \
		.lockvenv/bin/python -m pip install --quiet pip==$(PIP_VERSION) pip-tools==$(PIP_TOOLS_VERSION))
	.lockvenv/bin/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--build-deps-for wheel --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml

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
# script; all run even when one misses its target, and the target fails if any did. These are
# exactly the invocations docs/*.md quote beside their figures (tests/test_make_bench.py
# checks both ways: every bench/*.py runs, every bench command in the docs is one of these).
BENCH_RUNS := \
	"bench/ingest.py --repeat 2" \
	"bench/hotspots.py" \
	"bench/simulate.py" \
	"bench/simulate.py --size region --repeat 1" \
	"bench/evaluation.py --part operations" \
	"bench/evaluation.py --part scaling" \
	"bench/calibration.py --part divergence --seeds 20" \
	"bench/calibration.py --part power-few --seeds 20" \
	"bench/calibration.py --part drug-areas --seeds 20" \
	"bench/priorities.py" \
	"bench/people_persistence.py --seeds 12" \
	"bench/people_bound.py --seeds 20" \
	"bench/forecast_learned.py" \
	"bench/forecast_learned.py --target types" \
	"bench/scale.py --sizes 1/8,1/2,1,7" \
	"bench/scale.py --engine pyspark --sizes 1/8,1"
bench: setup
	@status=0; for run in $(BENCH_RUNS); do \
		echo "== $$run"; $(BIN)/python $$run || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) .lockvenv build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache harmscope-demo
