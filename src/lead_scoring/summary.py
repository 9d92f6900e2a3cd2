"""A short text report of a built DuckDB warehouse.

It shows the row counts of the raw tables, of every relation in the modelled
schema grouped by layer (by name prefix), and the rejected raw rows by source
table and reason from `fct_rejected_rows`. The database is opened read-only.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from lead_scoring.contract import RAW_TABLES
from lead_scoring.errors import SummaryError
from lead_scoring.load import quote_identifier, resolve_duckdb_path

# (layer title, name prefixes), in report order; unmatched names go to "other".
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("staging", ("stg_", "base_")),
    ("intermediate", ("int_",)),
    ("dimensions", ("dim_",)),
    ("facts", ("fct_",)),
    ("reports", ("rpt_",)),
)
REJECTED_ROWS = "fct_rejected_rows"
_WIDTH = 50

Connection = duckdb.DuckDBPyConnection


def layer_of(name: str) -> str:
    """The layer a relation belongs to by its name prefix."""
    for title, prefixes in LAYERS:
        if name.lower().startswith(prefixes):
            return title
    return "other"


def _line(label: str, value: int | str, indent: int = 2) -> str:
    """One aligned report line."""
    text = f"{value:,}" if isinstance(value, int) else value
    return f"{' ' * indent}{label:<{_WIDTH - indent}} {text:>12}"


def _relations(connection: Connection, schema: str) -> list[str]:
    """Names of the tables and views of a schema, sorted."""
    rows = connection.execute(
        "select table_name from information_schema.tables "
        "where table_schema = ? order by table_name",
        [schema],
    ).fetchall()
    return [row[0] for row in rows]


def _count(connection: Connection, schema: str, name: str) -> int | str:
    """Rows of a relation, or the first line of the error counting them."""
    relation = f"{quote_identifier(schema)}.{quote_identifier(name)}"
    try:
        return int(connection.execute(f"select count(*) from {relation}").fetchone()[0])
    except duckdb.Error as exc:
        return "error: " + str(exc).strip().splitlines()[0][:60]


def _raw_section(connection: Connection, raw_schema: str) -> list[str]:
    """Row counts of the raw tables (contract tables first)."""
    present = _relations(connection, raw_schema)
    lines = [f"raw tables (schema {raw_schema})"]
    for table in RAW_TABLES:
        if table in present:
            lines.append(_line(table, _count(connection, raw_schema, table)))
        else:
            lines.append(_line(table, "missing"))
    for table in present:
        if table not in RAW_TABLES:
            lines.append(_line(table, _count(connection, raw_schema, table)))
    return lines


def _schema_section(
    connection: Connection, schema: str, names: list[str]
) -> list[str]:
    """Row counts of a schema's relations grouped by layer."""
    lines = [f"relations (schema {schema})"]
    if not names:
        schemas = connection.execute(
            "select distinct table_schema from information_schema.tables "
            "order by 1"
        ).fetchall()
        present = ", ".join(row[0] for row in schemas) or "none"
        lines.append(f"  none (schemas with relations: {present})")
        return lines
    for title in [title for title, _ in LAYERS] + ["other"]:
        members = [name for name in names if layer_of(name) == title]
        if members:
            lines.append(f"  {title}")
            lines.extend(
                _line(name, _count(connection, schema, name), 4) for name in members
            )
    return lines


def _rejections_section(connection: Connection, schema: str) -> list[str]:
    """Rejected raw rows by source table and reason."""
    relation = f"{quote_identifier(schema)}.{quote_identifier(REJECTED_ROWS)}"
    lines = [f"rejected rows ({schema}.{REJECTED_ROWS})"]
    try:
        rows = connection.execute(
            f"select source_table, rejection_reason, count(*) from {relation} "
            "group by all order by 1, 2"
        ).fetchall()
    except duckdb.Error as exc:
        lines.append("  error: " + str(exc).strip().splitlines()[0])
        return lines
    for source_table, reason, count in rows:
        lines.append(_line(f"{source_table} / {reason}", int(count)))
    lines.append(_line("total", sum(int(count) for *_, count in rows)))
    return lines


def summary(
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
    raw_schema: str = "raw",
) -> str:
    """The report as text (see the module docstring)."""
    path = resolve_duckdb_path(duckdb_path)
    if not Path(path).is_file():
        raise SummaryError(
            f"no DuckDB warehouse at {path}",
            hint="run `lead-scoring load --from DIR` and `dbt build` first, "
            "or pass --duckdb-path",
        )
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise SummaryError(
            f"cannot open {path} read-only: {str(exc).strip().splitlines()[0]}",
            hint="wait for the process writing it (dbt, a load) to finish",
        ) from exc
    try:
        names = _relations(connection, schema)
        sections = [
            [f"warehouse {path}"],
            _raw_section(connection, raw_schema),
            _schema_section(connection, schema, names),
        ]
        restricted = f"{schema}_restricted"
        restricted_names = _relations(connection, restricted)
        if restricted_names:
            sections.append(
                _schema_section(connection, restricted, restricted_names)
            )
        if REJECTED_ROWS in names:
            sections.append(_rejections_section(connection, schema))
    finally:
        connection.close()
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"
