"""The postgres target of the raw loader (see lead_scoring.warehouse.load):
every table written as text columns with COPY ... FROM STDIN (CSV), streamed
from a CSV that DuckDB writes from the files, in one transaction.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from lead_scoring.errors import LeadScoringError, LoadError
from lead_scoring.warehouse import engines
from lead_scoring.warehouse.load_common import LOADED_AT_COLUMN, quote_identifier
from lead_scoring.warehouse.load_files import TablePlan
from lead_scoring.warehouse.load_targets import (
    LoadOptions,
    _export,
    _lacks_marker,
    _target_columns,
)


# ----------------------------------------------------------------- PostgreSQL


def _pg_existing_columns(cursor, schema: str, table: str) -> list[str] | None:
    """Column names of an existing PostgreSQL table, None if it does not exist."""
    cursor.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    )
    return [row[0] for row in cursor.fetchall()] or None


def _load_postgres(plans: list[TablePlan], options: LoadOptions) -> dict[str, int]:
    """Write every table into PostgreSQL with COPY, in one transaction."""
    # Connect first: without the postgres extra this raises the EngineError
    # that names `pip install -e ".[postgres]"`, before psycopg2 is imported.
    connection = engines.postgres_connect()
    import psycopg2

    rows: dict[str, int] = {}
    current: TablePlan | None = None
    schema = quote_identifier(options.raw_schema)
    try:
        with tempfile.TemporaryDirectory(prefix="lead-scoring-load-") as folder:
            with connection.cursor() as cursor:
                cursor.execute(f"create schema if not exists {schema}")
                for plan in plans:
                    current = plan
                    started = time.monotonic()
                    target = f"{schema}.{quote_identifier(plan.table)}"
                    existing = _pg_existing_columns(
                        cursor, options.raw_schema, plan.table
                    )
                    if options.mode == "append" and _lacks_marker(plan, existing):
                        cursor.execute(
                            f"alter table {target} add column {LOADED_AT_COLUMN} text"
                        )
                        existing = [*existing, LOADED_AT_COLUMN]
                    columns = _target_columns(
                        plan, existing, options.mode,
                        f"{options.raw_schema}.{plan.table}",
                    )
                    if options.mode == "replace":
                        cursor.execute(f"drop table if exists {target}")
                        definitions = ", ".join(
                            f"{quote_identifier(name)} text" for name in columns
                        )
                        cursor.execute(f"create table {target} ({definitions})")
                    csv_path = Path(folder) / f"{plan.table}.csv"
                    _export(plan, columns, csv_path, "csv")
                    names = ", ".join(quote_identifier(name) for name in columns)
                    with open(csv_path, "rb") as handle:
                        cursor.copy_expert(
                            f"copy {target} ({names}) from stdin "
                            "with (format csv, header false)",
                            handle,
                        )
                    rows[plan.table] = cursor.rowcount
                    csv_path.unlink()
                    options.progress(
                        f"staged {options.raw_schema}.{plan.table}: "
                        f"{rows[plan.table]:,} rows "
                        f"({time.monotonic() - started:.1f}s)"
                    )
            connection.commit()
    except psycopg2.Error as exc:
        connection.rollback()
        where = f" table {current.table} from {current.describe()}" if current else ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "fix or re-export the file named above and load again"
        if isinstance(exc, psycopg2.errors.DependentObjectsStillExist):
            hint = "drop the views built on the raw tables (or load with --mode append)"
        raise LoadError(
            f"loading{where} into PostgreSQL failed, nothing was written: {first}",
            hint=hint,
        ) from exc
    except LeadScoringError:
        connection.rollback()
        raise
    finally:
        connection.close()
    return rows
