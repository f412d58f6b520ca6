# feedgate: `make run` serves on ./feedgate.db; `make test` runs the whole suite (SQLite and PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	FEEDGATE_DATABASE_URL=$${FEEDGATE_DATABASE_URL:-sqlite:///./feedgate.db} $(BIN)/feedgate serve --first-user

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/decisions.py
	$(BIN)/python benchmarks/failover_latency.py

clean:
	rm -rf $(VENV) feedgate.db feedgate.db-wal feedgate.db-shm
