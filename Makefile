# jobs_assets: `make demo` (offline, recorded responses), `make run` (live APIs), `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.12 python3.11 python3.13 python3; do command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11) or sys.version_info >= (3, 14))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# dagster-dbt runs the `dbt` it finds on the PATH (prepare-and-package, `dagster dev`)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
PYTEST_ARGS ?=
# pytest-xdist workers: one more than the cores (up to 8), since tests spend part of their
# time waiting on servers and subprocesses (2 cores: 3 workers 318 s, 2 workers 345 s).
# Groups are handed out in the order conftest.py sorts them (the stack, then the long
# module groups, then the rest), not by their number of tests: a long group handed out
# last ran alone at the end.
PYTEST_WORKERS ?= $(shell python3 -c "import os; print(min((os.cpu_count() or 1) + 1, 8))" 2>/dev/null || echo 2)
BENCH_SCALE ?= full
BENCH_STAMP := $(VENV)/.bench-installed
MANIFEST := jobs_assets/dbt/target/manifest.json
DBT_SOURCES := $(shell find jobs_assets/dbt -path jobs_assets/dbt/target -prune -o -path jobs_assets/dbt/logs -prune -o -type f -print)
API_PORT ?= 8000
DAGSTER_PORT ?= 3000
# DEMO=1: psql, api, dev, backup and restore work on the demo's folder, database and instance
DEMO_FLAG := $(if $(DEMO),--demo)

.PHONY: help install manifest run demo dev api psql latest-window test lint format bench bench-demo bench-api migrate db-stop backup restore clean

help:
	@echo "make demo     the pipeline on recorded API responses (offline)"
	@echo "make run      the pipeline on the live APIs, latest window"
	@echo "make dev      the Dagster UI on http://127.0.0.1:$(DAGSTER_PORT) (DAGSTER_PORT=N; schedules stopped unless JOBS_AUTOMATION=on)"
	@echo "make psql     psql on the project's database (DEMO=1: the demo's); reads stdin too"
	@echo "make latest-window   the newest complete window key (for --partition and examples)"
	@echo "make api      the read API and search page on http://127.0.0.1:$(API_PORT) (API_PORT=N)"
	@echo "make manifest   the marts' dbt manifest (dagster-dbt project prepare-and-package)"
	@echo "make test     lint and the whole test suite"
	@echo "make bench    benchmarks into BENCHMARKS.md (BENCH_SCALE=small: under 2 minutes)"
	@echo "make migrate  bring the database schema to the newest migration (runs anyway before each run)"
	@echo "make db-stop  stop the embedded PostgreSQL"
	@echo "make backup   back the database up now (postgres_backup, the latest 6-hour window)"
	@echo "make restore BACKUP=jobs_data/backups/<file>.dump   restore a backup (YES=1: no prompt)"
	@echo "  (psql, api, dev, backup, restore: DEMO=1 for the demo's data, database and instance)"

install: $(STAMP) $(MANIFEST)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 to 3.13 is required (python3 --version)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

# The marts' dbt manifest, made ahead as Dagster's reference projects do (`dagster dev`
# re-parses on every load instead); again whenever a file of the dbt project changes.
manifest: $(MANIFEST)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	$(BIN)/dagster-dbt project prepare-and-package --file jobs_assets/defs/marts/project.py
	@touch $@

run: $(STAMP) $(MANIFEST)
	$(BIN)/jobs run

demo: $(STAMP) $(MANIFEST)
	$(BIN)/jobs demo

psql: $(STAMP)
	@$(BIN)/jobs psql $(DEMO_FLAG)

latest-window: $(STAMP)
	@$(BIN)/jobs latest-window

# `dagster dev` on a workspace file naming the location as pyproject.toml does
dev: $(STAMP) $(MANIFEST)
	$(BIN)/jobs dev $(DEMO_FLAG) --port $(DAGSTER_PORT)

api: $(STAMP)
	$(BIN)/jobs api $(DEMO_FLAG) --port $(API_PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Bytecode is cached (PYTHONDONTWRITEBYTECODE emptied, whatever the machine sets): each
# worker and each process a test starts would otherwise compile the package, and pytest
# rewrite the asserts of every test module and plugin, again (about a minute of CPU a run).
test: lint $(MANIFEST)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	@touch $@

# Not part of `make test`: a full run takes about 15 minutes, plus the ceiling (one
# window at 50x today's volume through the whole pipeline; see BENCHMARKS.md).
bench: $(BENCH_STAMP) $(MANIFEST) bench-demo
	$(BIN)/python -m benchmarks --scale $(BENCH_SCALE)
	$(BIN)/python -m benchmarks.ceiling --scale $(BENCH_SCALE)
	$(BIN)/python -m benchmarks.searches --scale $(BENCH_SCALE)

# `make demo` against `dagster definitions validate` (the floor), wall and CPU time.
bench-demo: $(STAMP) $(MANIFEST)
	$(BIN)/python -m benchmarks.demo

# The read API under load (benchmarks/api.py; not part of `make test`).
bench-api: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.api

migrate: $(STAMP)
	$(BIN)/jobs migrate

db-stop: $(STAMP)
	$(BIN)/jobs db-stop

restore: $(STAMP)
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=jobs_data/backups/<file>.dump [YES=1] [DEMO=1]" >&2; exit 2; }
	$(BIN)/jobs restore "$(BACKUP)" $(if $(YES),--yes) $(DEMO_FLAG)

backup: $(STAMP)
	$(BIN)/jobs backup $(DEMO_FLAG)

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis build *.egg-info
