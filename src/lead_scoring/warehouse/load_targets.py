"""What the targets of the raw loader share (see lead_scoring.warehouse.load):
the settings of one load, the load marker and the columns to write into an
existing table, and the text export the postgres and spark targets write from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from lead_scoring.errors import LoadError
from lead_scoring.warehouse.load_common import (
    LOADED_AT_COLUMN,
    Progress,
    _first_line,
    _normal,
    _quote_literal,
    quote_identifier,
)
from lead_scoring.warehouse.load_files import TablePlan

# ------------------------------------------------------------------------ targets


@dataclass(frozen=True)
class LoadOptions:
    """Target-independent settings of one load."""

    raw_schema: str
    mode: str
    duckdb_path: Path
    progress: Progress


# ------------------------------------------------------- text export (postgres, spark)


def _text_select(plan: TablePlan, columns: tuple[str, ...]) -> str:
    """The plan's rows with every column as text, in the order of `columns`.

    `columns` are output names (normalised match); a column no file has is null.
    """
    present = {_normal(name): name for name in plan.columns}
    selected = []
    for name in columns:
        source = present.get(_normal(name))
        value = f"cast({quote_identifier(source)} as varchar)" if source else "null"
        selected.append(f"{value} as {quote_identifier(name)}")
    return f"select {', '.join(selected)} from (\n{plan.select_sql()}\n)"


def _export(plan: TablePlan, columns: tuple[str, ...], path: Path, fmt: str) -> int:
    """Write the plan's rows as text to a CSV (no header) or Parquet file.

    In the CSV, null is an empty field and an empty text is "" (how COPY
    tells them apart). Returns the number of rows.
    """
    options = (
        "format csv, header false, quote '\"', escape '\"'"
        if fmt == "csv"
        else "format parquet"
    )
    query = _text_select(plan, columns)
    try:
        with duckdb.connect() as connection:
            written = connection.execute(
                f"copy ({query}) to {_quote_literal(str(path))} ({options})"
            ).fetchone()
            return int(written[0]) if written else 0
    except duckdb.Error as exc:
        raise LoadError(
            f"cannot read table {plan.table} from {plan.describe()}: {_first_line(exc)}",
            hint="fix or re-export the file named above and load again",
        ) from exc


def _lacks_marker(plan: TablePlan, existing: list[str] | None) -> bool:
    """Whether an existing raw table (from an older load) needs the load marker."""
    return (
        plan.loaded_at is not None
        and existing is not None
        and LOADED_AT_COLUMN not in map(_normal, existing)
    )


def _with_marker(plan: TablePlan, loaded_at: str) -> TablePlan:
    """The plan with the load marker column added (kept if the files have it)."""
    if LOADED_AT_COLUMN in map(_normal, plan.columns):
        return replace(plan, loaded_at=loaded_at)
    return replace(plan, loaded_at=loaded_at, columns=(*plan.columns, LOADED_AT_COLUMN))


def _target_columns(
    plan: TablePlan, existing: list[str] | None, mode: str, where: str
) -> tuple[str, ...]:
    """Columns to write: the plan's (replace) or the existing table's (append)."""
    if mode == "replace":
        return plan.columns
    if existing is None:
        raise LoadError(
            f"table {where} does not exist, cannot append",
            hint="load with --mode replace first",
        )
    spelled = {_normal(column) for column in existing}
    unknown = [name for name in plan.columns if _normal(name) not in spelled]
    if unknown:
        raise LoadError(
            f"{plan.describe()}: column(s) {', '.join(unknown)} are not in {where}",
            hint="drop those columns or load with --mode replace",
        )
    return tuple(existing)
