"""A short text report of a built warehouse (DuckDB or PostgreSQL).

It shows the row counts of the raw tables, of every relation in the modelled
schema grouped by layer (by name prefix), and the rejected raw rows by source
table and reason from `fct_rejected_rows`. The warehouse is read through
lead_scoring.warehouse (read-only), and named in the first line.
"""

from __future__ import annotations

import os

from lead_scoring.contract import RAW_TABLES
from lead_scoring.load import quote_identifier
from lead_scoring.warehouse import Reader, WarehouseError, open_reader

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


def _relations(connection: Reader, schema: str) -> list[str]:
    """Names of the tables and views of a schema, sorted."""
    return sorted(connection.relations(schema))


def _count(connection: Reader, schema: str, name: str) -> int | str:
    """Rows of a relation, or the first line of the error counting them."""
    relation = f"{quote_identifier(schema)}.{quote_identifier(name)}"
    try:
        return int(connection.rows(f"select count(*) from {relation}")[0][0])
    except WarehouseError as exc:
        return "error: " + str(exc).split(": ", 1)[-1][:60]


def _raw_section(connection: Reader, raw_schema: str) -> list[str]:
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
        schemas = connection.rows(
            "select distinct table_schema from information_schema.tables "
            "order by 1"
        )
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


def _rejections_section(connection: Reader, schema: str) -> list[str]:
    """Rejected raw rows by source table and reason."""
    relation = f"{quote_identifier(schema)}.{quote_identifier(REJECTED_ROWS)}"
    lines = [f"rejected rows ({schema}.{REJECTED_ROWS})"]
    try:
        rows = connection.rows(
            f"select source_table, rejection_reason, count(*) from {relation} "
            "group by source_table, rejection_reason order by 1, 2"
        )
    except WarehouseError as exc:
        lines.append(f"  error: {exc}")
        return lines
    for source_table, reason, count in rows:
        lines.append(_line(f"{source_table} / {reason}", int(count)))
    lines.append(_line("total", sum(int(count) for *_, count in rows)))
    return lines


def summary(
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
    raw_schema: str = "raw",
    target: str | None = None,
) -> str:
    """The report as text (see the module docstring); target as for dbt
    (default $LEAD_SCORING_TARGET, else duckdb)."""
    with open_reader(target, duckdb_path) as connection:
        names = _relations(connection, schema)
        header = [f"warehouse {connection.description}"]
        if "dim_leads" in names:
            try:
                as_of = connection.rows(
                    f"select max(scores_as_of) from {quote_identifier(schema)}.dim_leads"
                )[0][0]
                header.append(f"marts as of {as_of or 'unknown (dim_leads is empty)'}")
            except WarehouseError as exc:
                header.append(f"marts as of unknown ({exc})")
        sections = [
            header,
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
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"
