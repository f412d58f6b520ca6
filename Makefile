# feedgate: `make run` serves on ./feedgate.db; `make test` runs the whole suite (SQLite and PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime

.PHONY: install run test conformance lint bench bench-fleet bench-bad-day clean

# `make run` needs the server's dependencies only; the dev extras (playwright, mypy, schemathesis) come with
# `make test`, `make lint` and the benchmarks.
$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server]'
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/pip install --quiet -e '.[server,dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(RUNTIME)
	FEEDGATE_DATABASE_URL=$${FEEDGATE_DATABASE_URL:-sqlite:///./feedgate.db} $(BIN)/feedgate serve --first-user

test: install  # the whole suite; the conformance test in it rewrites docs/conformance.md
	FEEDGATE_CONFORMANCE_REPORT=docs/conformance.md $(BIN)/python -m pytest $(PYTEST_ARGS)

conformance: install  # the 24 documented endpoints, field by field -> docs/conformance.md
	FEEDGATE_CONFORMANCE_REPORT=docs/conformance.md $(BIN)/python -m pytest -q tests/contract

lint: install  # style, types, and the layers of docs/design.md (a new upward import fails here)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install  # about 9 minutes; bench-fleet adds the 5-minute fleet runs (about 15 minutes)
	$(BIN)/python benchmarks/heartbeats.py
	$(BIN)/python benchmarks/heartbeats.py --postgres --instances 2
	$(BIN)/python benchmarks/engine_tick.py
	$(BIN)/python benchmarks/decisions.py
	$(BIN)/python benchmarks/viewer_stream.py
	$(BIN)/python benchmarks/viewer_stream.py --workers 2 --viewers 5000,10000
	$(BIN)/python benchmarks/failover_latency.py --slicers 2000 --minutes 1

bench-bad-day: install  # about 9 minutes: every slicer at once, a site failing, the fleet silent (#31)
	$(BIN)/python benchmarks/bulk.py
	$(BIN)/python benchmarks/fleet.py --slicers 2000
	$(BIN)/python benchmarks/fleet.py --slicers 1000 --scenario site
	$(BIN)/python benchmarks/fleet.py --slicers 1000 --scenario partition
	$(BIN)/python benchmarks/fleet.py --slicers 2000 --instances 2 --postgres
	$(BIN)/python benchmarks/fleet.py --slicers 5000 --instances 2 --postgres

bench-fleet: install
	$(BIN)/python benchmarks/failover_latency.py --slicers 2000 --minutes 5
	$(BIN)/python benchmarks/failover_latency.py --slicers 5000 --minutes 5 --instances 2 --postgres

clean:
	rm -rf $(VENV) feedgate.db feedgate.db-wal feedgate.db-shm
