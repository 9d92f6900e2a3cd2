# Two commands for a newcomer: `make demo` and `make test`.
# Everything is installed into .venv by the project itself.

PYTHON ?= python3
# The virtual environment everything is installed into; CI keeps a second
# one with the default extras only (see .ci/run).
VENV ?= .venv
BIN := $(VENV)/bin
# pip extras `make setup` / `make test` install: dev (test tools), report
# (plotly) and semantic (MetricFlow's `mf`) by default; CI adds dagster and
# the engines postgres and spark
# (`make test EXTRAS=dev,report,semantic,dagster,postgres,spark`, see .ci/run).
EXTRAS ?= dev,report,semantic
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
DEMO_DIR := warehouse/demo_raw
DEMO_AS_OF := 2026-06-30 23:59:59
DEMO_LEADS ?= 2000

export LEAD_SCORING_DUCKDB_PATH ?= warehouse/lead_scoring.duckdb
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: setup demo test lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lead-scoring generate --out $(DEMO_DIR) --leads $(DEMO_LEADS) \
		--seed 42 --dirty-rate 0.05 --as-of "$(DEMO_AS_OF)"
	$(BIN)/lead-scoring load --from $(DEMO_DIR)
	$(BIN)/lead-scoring check-seeds
	$(BIN)/dbt build --vars '{as_of: "$(DEMO_AS_OF)"}'
	$(BIN)/lead-scoring summary
	$(BIN)/lead-scoring report --out warehouse/funnel_report.html

# sqlfluff compiles through dbt's library, which leaves sqlparse's grouping
# limits at sqlparse's defaults; the dbt command line lifts them (its
# --sqlparse default), so lint lifts them alike: a model that reads
# ephemeral models is parsed whole when their CTEs are inserted. The files
# are linted by one process per core (LINT_PROCESSES); forked, each keeps
# the lifted limits.
LINT_PROCESSES ?= $(shell nproc 2>/dev/null || echo 1)
lint: $(STAMP)
	LEAD_SCORING_DUCKDB_PATH=:memory: $(BIN)/dbt parse --warn-error-options '{"error": ["Deprecations"]}'
	LEAD_SCORING_DUCKDB_PATH=:memory: $(BIN)/python -c 'import sys, sqlparse.engine.grouping as g; g.MAX_GROUPING_TOKENS = g.MAX_GROUPING_DEPTH = None; from sqlfluff.cli.commands import cli; sys.exit(cli(["lint", "--processes", "$(LINT_PROCESSES)", "models", "tests"]))'

# Arguments for pytest, e.g. `make test PYTEST_ARGS="-k publication"`.
PYTEST_ARGS ?=

test: $(STAMP) lint
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf warehouse target logs spark-warehouse metastore_db derby.log
