"""Load a folder of raw files into the warehouse's raw schema.

For every table of the source contract (`contract.RAW_TABLES`) the folder must
hold `<table>.parquet`, `<table>.csv`, `<table>.csv.gz`, or a folder `<table>/`
of such parts. Files whose names start with `_` or `.` are ignored (the
generator's manifest and expectations). CSV files need a header row; every CSV
column is read as text, so a bad value never fails a load; Parquet columns keep
their types. Column names are matched to the contract case-insensitively after
trimming, and extra columns are kept.

Loading happens in two steps. Planning finds and inspects every file and checks
the required columns; it writes nothing and is the same for every target. The
target then writes all tables in one transaction, so a failure (a corrupt data
page, a malformed CSV row, a locked database) leaves the previous raw tables as
they were. Targets (`_TARGET_LOADERS`):

- duckdb: tables created from the files by DuckDB itself, in one transaction.
- postgres: every table written as text columns (like a CSV load into
  DuckDB) with COPY ... FROM STDIN (CSV), streamed from a CSV that DuckDB
  writes from the files; one transaction, so a failure keeps the old tables.
- spark: the files are rewritten by DuckDB as one text-only Parquet file per
  table, read by the same in-process Spark session dbt-spark uses (see
  lead_scoring.warehouse.engines) and saved as Parquet tables in the raw database. Spark
  has no transactions: each table is written under a temporary name first and
  swapped in only once all of them were written.

For postgres and spark every column is text, so the warehouse sees the same
values whatever the engine; Parquet values are written as DuckDB prints them.

Every row written gets the load marker `_loaded_at` (LOADED_AT_COLUMN): the
time of the load, UTC, the same for all rows of one load (a timestamp in
DuckDB, ISO text elsewhere), unless the files carry that column themselves.
The incremental models find the rows that arrived since their last build by
it (dbt var raw_loaded_at_column).

The code is split by step, beside this module: load_files (planning),
load_targets (what the targets share), load_duckdb, load_postgres and
load_spark (the targets), load_common (helpers shared with the readers). The
names other modules import from lead_scoring.warehouse.load are re-exported
here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timezone

from lead_scoring.errors import LoadError
from lead_scoring.warehouse import engines
from lead_scoring.warehouse.load_common import (
    DEFAULT_DUCKDB_PATH,
    ENV_DUCKDB_PATH,
    LOADED_AT_COLUMN,
    Progress,
    connect_read_only,
    quote_identifier,
    resolve_duckdb_path,
)
from lead_scoring.warehouse.load_duckdb import _load_duckdb
from lead_scoring.warehouse.load_files import SourceFile, TablePlan, plan_load
from lead_scoring.warehouse.load_postgres import _load_postgres
from lead_scoring.warehouse.load_spark import _load_spark
from lead_scoring.warehouse.load_targets import LoadOptions, _with_marker

__all__ = [
    "LoadError",
    "TablePlan",
    "SourceFile",
    "load",
    "plan_load",
    # re-exported from load_common for the modules that import them from here
    "DEFAULT_DUCKDB_PATH",
    "ENV_DUCKDB_PATH",
    "LOADED_AT_COLUMN",
    "connect_read_only",
    "quote_identifier",
    "resolve_duckdb_path",
    # defined here and imported elsewhere
    "describe_target",
    "parse_utc",
]

MODES: tuple[str, ...] = ("replace", "append")


def parse_utc(text: str) -> datetime | None:
    """An ISO date and time ('YYYY-MM-DD HH:MM:SS', an offset allowed) as a
    naive UTC datetime (no offset means UTC); None if it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _marker_text(loaded_at: str | None) -> str:
    """The load marker as 'YYYY-MM-DD HH:MM:SS.ffffff'; LoadError if malformed."""
    if loaded_at is None:
        moment = datetime.now(timezone.utc).replace(tzinfo=None)
    else:
        moment = parse_utc(loaded_at)
        if moment is None:
            raise LoadError(
                f"--loaded-at {loaded_at!r} is not a date and time",
                hint="use 'YYYY-MM-DD HH:MM:SS' (UTC) or leave it out for now",
            )
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if moment > now:
            raise LoadError(
                f"--loaded-at {loaded_at!r} is in the future (now is "
                f"{now:%Y-%m-%d %H:%M:%S} UTC)",
                hint="a load marker after the next load's would hide that load "
                "from incremental builds; give the time the rows arrived, in "
                "UTC, or leave it out for now",
            )
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


_TARGET_LOADERS: dict[str, Callable[[list[TablePlan], LoadOptions], dict[str, int]]]
_TARGET_LOADERS = {
    "duckdb": _load_duckdb,
    "postgres": _load_postgres,
    "spark": _load_spark,
}


def describe_target(target: str, duckdb_path: str | os.PathLike[str] | None) -> str:
    """The warehouse a target writes to, for messages."""
    if target == "postgres":
        settings = engines.postgres_settings()
        return (
            f"PostgreSQL {settings['host']}:{settings['port']}/{settings['dbname']}"
        )
    if target == "spark":
        return f"the Spark warehouse in {engines.spark_dir()}"
    return str(resolve_duckdb_path(duckdb_path))


def _refuse_empty(plans: list[TablePlan]) -> None:
    """LoadError when a table to replace has no row (a header-only file)."""
    empty = [plan for plan in plans if plan.is_empty]
    if empty:
        described = "; ".join(f"{plan.table} ({plan.describe()})" for plan in empty)
        raise LoadError(
            f"no rows below the header for table(s) {described}: replacing "
            "would empty them",
            hint="check the export; pass --allow-empty if the tables are "
            "meant to be empty",
        )


def load(
    source_dir: str | os.PathLike[str],
    target: str = "duckdb",
    raw_schema: str = "raw",
    mode: str = "replace",
    duckdb_path: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    loaded_at: str | None = None,
    allow_empty: bool = False,
) -> dict[str, int]:
    """Load the six raw tables of source_dir; return rows written per table.

    target is duckdb, postgres or spark (connection settings from the
    environment, see lead_scoring.warehouse.engines). mode 'replace' recreates the
    tables, 'append' inserts by column name into existing ones. Raises
    LoadError (EngineError when the engine cannot be reached), and writes
    nothing, on any problem. loaded_at ('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC)
    is the load marker written to every row; by default the time of the load,
    never a later one. A table without rows (a header-only file) is refused
    in mode 'replace' unless allow_empty (in mode 'append' it adds nothing).
    Nothing is reported as loaded before the transaction commits: the
    progress lines say "staged" until the closing "committed".
    """
    if target not in _TARGET_LOADERS:
        known = ", ".join(_TARGET_LOADERS)
        raise LoadError(
            f"unknown target {target!r} (known: {known})",
            hint="use --target duckdb, postgres or spark",
        )
    if mode not in MODES:
        raise LoadError(
            f"unknown mode {mode!r}",
            hint=f"use --mode {' or --mode '.join(MODES)}",
        )
    if not raw_schema or not raw_schema.strip():
        raise LoadError(
            "raw schema name is empty",
            hint="pass --raw-schema NAME (default raw, the dbt var raw_schema)",
        )
    report = progress or (lambda message: None)
    started = time.monotonic()
    marker = _marker_text(loaded_at)
    plans = [_with_marker(plan, marker) for plan in plan_load(source_dir)]
    if mode == "replace" and not allow_empty:
        _refuse_empty(plans)
    files = sum(len(plan.files) for plan in plans)
    report(f"checked {files} files in {source_dir} ({time.monotonic() - started:.1f}s)")
    options = LoadOptions(raw_schema, mode, resolve_duckdb_path(duckdb_path), report)
    report(
        f"writing {len(plans)} tables into {describe_target(target, duckdb_path)} "
        f"({mode})"
    )
    rows = _TARGET_LOADERS[target](plans, options)
    report(f"committed {sum(rows.values()):,} rows ({time.monotonic() - started:.1f}s)")
    return rows
