"""The spark target of the raw loader (see lead_scoring.warehouse.load): the
files rewritten by DuckDB as text-only Parquet, read by the in-process Spark
session and saved as Parquet tables, each under a temporary name first.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from lead_scoring.errors import LeadScoringError, LoadError
from lead_scoring.warehouse import engines
from lead_scoring.warehouse.load_common import LOADED_AT_COLUMN, _first_line
from lead_scoring.warehouse.load_files import TablePlan
from lead_scoring.warehouse.load_targets import (
    LoadOptions,
    _export,
    _lacks_marker,
    _target_columns,
)


# ---------------------------------------------------------------------- Spark


def _spark_existing_columns(spark, database: str, table: str) -> list[str] | None:
    """Column names of an existing Spark table, None if it does not exist."""
    if not spark.catalog.tableExists(f"{database}.{table}"):
        return None
    return [column.name for column in spark.catalog.listColumns(table, database)]


def _spark_name(*parts: str) -> str:
    """A dotted Spark identifier with each part in backquotes."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


def _load_spark(plans: list[TablePlan], options: LoadOptions) -> dict[str, int]:
    """Write every table into the Spark warehouse as a Parquet table.

    All tables are written under temporary names first; the old tables are
    replaced only when every write succeeded.
    """
    spark = engines.spark_session()
    database = options.raw_schema
    rows: dict[str, int] = {}
    staged: list[tuple[TablePlan, str]] = []
    current: TablePlan | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="lead-scoring-load-") as folder:
            spark.sql(f"create database if not exists {_spark_name(database)}")
            for plan in plans:
                current = plan
                started = time.monotonic()
                existing = _spark_existing_columns(spark, database, plan.table)
                if options.mode == "append" and _lacks_marker(plan, existing):
                    spark.sql(
                        f"alter table {_spark_name(database, plan.table)} "
                        f"add columns ({LOADED_AT_COLUMN} string)"
                    )
                    existing = [*existing, LOADED_AT_COLUMN]
                columns = _target_columns(
                    plan, existing, options.mode, f"{database}.{plan.table}"
                )
                parquet_path = Path(folder) / f"{plan.table}.parquet"
                rows[plan.table] = _export(plan, columns, parquet_path, "parquet")
                frame = spark.read.parquet(str(parquet_path))
                if options.mode == "append":
                    frame.select(*columns).write.insertInto(
                        _spark_name(database, plan.table)
                    )
                else:
                    loading = f"{plan.table}__loading"
                    spark.sql(
                        f"drop table if exists {_spark_name(database, loading)}"
                    )
                    frame.write.format("parquet").mode("overwrite").saveAsTable(
                        _spark_name(database, loading)
                    )
                    staged.append((plan, loading))
                options.progress(
                    f"staged {database}.{plan.table}: {rows[plan.table]:,} rows "
                    f"({time.monotonic() - started:.1f}s)"
                )
            current = None
            for plan, loading in staged:
                spark.sql(f"drop table if exists {_spark_name(database, plan.table)}")
                spark.sql(
                    f"alter table {_spark_name(database, loading)} "
                    f"rename to {_spark_name(database, plan.table)}"
                )
    except LeadScoringError:
        raise
    except Exception as exc:  # py4j and Spark raise many exception types
        for _, loading in staged:
            spark.sql(f"drop table if exists {_spark_name(database, loading)}")
        where = f" table {current.table} from {current.describe()}" if current else ""
        raise LoadError(
            f"loading{where} into Spark failed: {_first_line(exc)}",
            hint="fix the problem above and load again"
            + ("" if current else " (some raw tables may already be replaced)"),
        ) from exc
    return rows
