"""The duckdb target of the raw loader (see lead_scoring.warehouse.load): the
tables are created from the files by DuckDB itself, in one transaction.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from lead_scoring.errors import LoadError
from lead_scoring.warehouse.load_common import (
    LOADED_AT_COLUMN,
    Connection,
    _first_line,
    _normal,
    quote_identifier,
)
from lead_scoring.warehouse.load_files import TablePlan
from lead_scoring.warehouse.load_targets import LoadOptions, _lacks_marker


def _connect(path: Path) -> Connection:
    """Open (or create) the DuckDB file; LoadError if it is locked or broken."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(path))
    except (duckdb.Error, OSError) as exc:
        raise LoadError(
            f"cannot open DuckDB database {path}: {_first_line(exc)}",
            hint="close other programs using it (dbt, a notebook) or pass "
            "--duckdb-path",
        ) from exc


def _existing_columns(
    connection: Connection, schema: str, table: str
) -> list[str] | None:
    """Column names of an existing table, None if it does not exist."""
    rows = connection.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [row[0] for row in rows] or None


def _append_targets(
    connection: Connection, plans: list[TablePlan], schema: str
) -> dict[str, dict[str, str]]:
    """For append: the existing spelling of every column; LoadError if unfit."""
    targets = {}
    for plan in plans:
        existing = _existing_columns(connection, schema, plan.table)
        if existing is None:
            raise LoadError(
                f"table {schema}.{plan.table} does not exist, cannot append",
                hint="load with --mode replace first",
            )
        spelled = {_normal(column): column for column in existing}
        unknown = [name for name in plan.columns if _normal(name) not in spelled]
        if unknown:
            raise LoadError(
                f"{plan.describe()}: column(s) {', '.join(unknown)} are not in "
                f"{schema}.{plan.table}",
                hint="drop those columns or load with --mode replace",
            )
        targets[plan.table] = spelled
    return targets


def _write_table(
    connection: Connection,
    plan: TablePlan,
    options: LoadOptions,
    names: dict[str, str] | None,
) -> int:
    """Write one table inside the open transaction; return rows written."""
    target = f"{quote_identifier(options.raw_schema)}.{quote_identifier(plan.table)}"
    if options.mode == "replace":
        connection.execute(f"create or replace table {target} as\n{plan.select_sql()}")
        return connection.execute(f"select count(*) from {target}").fetchone()[0]
    result = connection.execute(
        f"insert into {target} by name\n{plan.select_sql(names)}"
    ).fetchone()
    return int(result[0]) if result else 0


def _load_duckdb(plans: list[TablePlan], options: LoadOptions) -> dict[str, int]:
    """Write every table into DuckDB in one transaction."""
    connection = _connect(options.duckdb_path)
    rows: dict[str, int] = {}
    try:
        names = {}
        connection.execute("begin transaction")
        current = None
        try:
            if options.mode == "append":
                for plan in plans:
                    if _lacks_marker(
                        plan, _existing_columns(connection, options.raw_schema, plan.table)
                    ):
                        connection.execute(
                            f"alter table {quote_identifier(options.raw_schema)}."
                            f"{quote_identifier(plan.table)} "
                            f"add column {LOADED_AT_COLUMN} timestamp"
                        )
                names = _append_targets(connection, plans, options.raw_schema)
            schema = quote_identifier(options.raw_schema)
            connection.execute(f"create schema if not exists {schema}")
            for plan in plans:
                current = plan
                started = time.monotonic()
                rows[plan.table] = _write_table(
                    connection, plan, options, names.get(plan.table)
                )
                seconds = time.monotonic() - started
                options.progress(
                    f"staged {options.raw_schema}.{plan.table}: "
                    f"{rows[plan.table]:,} rows ({seconds:.1f}s)"
                )
            connection.execute("commit")
        except (duckdb.Error, LoadError) as exc:
            connection.execute("rollback")
            if isinstance(exc, LoadError):
                raise
            where = f" from {current.describe()}" if current else ""
            table = f" table {current.table}" if current else ""
            raise LoadError(
                f"loading{table}{where} failed, nothing was written: "
                f"{_first_line(exc)}",
                hint="fix or re-export the file named above and load again",
            ) from exc
    finally:
        connection.close()
    return rows
