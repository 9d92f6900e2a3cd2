"""A short text report of a built warehouse (DuckDB or PostgreSQL).

It states the as_of of the marts and when they were built, warns when raw
rows were loaded after that build (`build_freshness`, which the report uses
too), and shows the row counts of the raw tables, of every relation in the
modelled schema grouped by layer (by name prefix), and the rejected raw rows
by source table and reason from `fct_rejected_rows`. The warehouse is read through
lead_scoring.warehouse.readers (read-only), and named in the first line: on
DuckDB the marts the last successful build published, and the raw tables
from the build file unless a build is writing it (then the report says so).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lead_scoring.contract import RAW_TABLES
from lead_scoring.warehouse.load import quote_identifier
from lead_scoring.warehouse.publish import PUBLICATION
from lead_scoring.warehouse.readers import (
    NotPublishedError,
    Reader,
    WarehouseError,
    open_reader,
)

# (layer title, name prefixes), in report order; unmatched names go to "other".
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("staging", ("stg_", "base_")),
    ("intermediate", ("int_",)),
    ("dimensions", ("dim_",)),
    ("facts", ("fct_",)),
    ("reports", ("rpt_",)),
)
REJECTED_ROWS = "fct_rejected_rows"
BUILD_INPUTS = "rpt_build_inputs"
# The views that count the raw tables (one per source), read by the build
# into BUILD_INPUTS and here for what the raw tables hold now.
RAW_LOADS_SUFFIX = "__raw_loads"
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


def _raw_section(connection: Reader | str, raw_schema: str) -> list[str]:
    """Row counts of the raw tables (contract tables first), or why they
    cannot be read now."""
    lines = [f"raw tables (schema {raw_schema})"]
    if isinstance(connection, str):
        return [*lines, f"  not read: {connection}"]
    present = _relations(connection, raw_schema)
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
    connection: Reader, schema: str, names: list[str]
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


@dataclass(frozen=True)
class BuildFreshness:
    """What the latest build read, against the raw tables now."""

    as_of: str | None = None
    built_at: str | None = None
    warnings: list[str] = field(default_factory=list)
    # rows of each raw table when the build read it
    raw_rows: dict[str, int] = field(default_factory=dict)
    # the build's id and when its marts were published (DuckDB)
    build_id: str | None = None
    published_at: str | None = None

    def lines(self) -> list[str]:
        """The header lines: as_of, build time, publication, then one line a
        warning."""
        lines = [
            f"marts as of {self.as_of or 'unknown'}"
            + (f", built {self.built_at} UTC" if self.built_at else "")
        ]
        if self.build_id:
            lines.append(
                f"published {self.published_at} UTC by build {self.build_id}"
            )
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        return lines


def _moment(value: object) -> datetime | None:
    """A load marker as a naive UTC datetime (None for null or unreadable)."""
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=None) if value is not None else None
    try:
        return datetime.fromisoformat(str(value).strip()).replace(tzinfo=None)
    except ValueError:
        return None


def _text(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "none"


def build_freshness(
    connection: Reader, schema: str = "analytics", raw: Reader | str | None = None
) -> BuildFreshness:
    """The latest build's as_of and time (rpt_build_inputs), its build id and
    publication time when the marts were published (DuckDB), and a warning
    for every raw table whose rows or newest load marker differ from what
    that build read: the marts do not include those rows yet.

    `connection` reads the marts; `raw` the warehouse holding the raw tables
    now (the same one when None; on DuckDB the build file, or the reason it
    cannot be opened: a build holds it). What the raw tables hold now is read
    through the same views the build recorded them with
    (stg_crm__raw_loads, stg_marketing__raw_loads: every view named
    *__raw_loads in the schema), so the raw schema, the load marker column
    (var raw_loaded_at_column, or none) and its cast are the build's own."""
    relation = f"{quote_identifier(schema)}.{quote_identifier(BUILD_INPUTS)}"
    present = connection.relations(schema)
    if BUILD_INPUTS not in present:
        return BuildFreshness(warnings=[
            f"{schema}.{BUILD_INPUTS} is missing, so whether raw rows are "
            "newer than the marts cannot be told: run dbt build"
        ])
    recorded = connection.rows(
        "select source_table, raw_rows, newest_loaded_at, scores_as_of, "
        f"_built_at from {relation} order by source_table"
    )
    if not recorded:
        return BuildFreshness(warnings=[
            f"{schema}.{BUILD_INPUTS} is empty: run dbt build"
        ])
    published = _publication(connection, schema, present)
    if isinstance(raw, str):
        warnings = [
            "whether raw rows were loaded after this build cannot be told "
            f"now: {raw}"
        ]
    else:
        warnings = _raw_changes(raw or connection, schema, recorded)
    return BuildFreshness(
        as_of=str(recorded[0][3])[:19], built_at=str(recorded[0][4])[:19],
        warnings=warnings,
        raw_rows={table: int(rows) for table, rows, *_ in recorded},
        build_id=published[0] if published else None,
        published_at=str(published[1])[:19] if published else None,
    )


def _publication(
    connection: Reader, schema: str, present: set[str]
) -> tuple[str, Any] | None:
    """Build id and publication time of published marts (DuckDB), else None."""
    if PUBLICATION not in present:
        return None
    rows = connection.rows(
        "select build_id, published_at from "
        f"{quote_identifier(schema)}.{quote_identifier(PUBLICATION)}"
    )
    return rows[0] if rows else None


def _raw_changes(raw: Reader, schema: str, recorded: list[tuple]) -> list[str]:
    """A warning for each raw table that changed since the build recorded it."""
    warnings = []
    now: dict[str, tuple[int, Any]] = {}
    present = raw.relations(schema)
    for view in sorted(name for name in present if name.endswith(RAW_LOADS_SUFFIX)):
        try:
            rows = raw.rows(
                "select source_table, raw_rows, newest_loaded_at from "
                f"{quote_identifier(schema)}.{quote_identifier(view)}"
            )
        except WarehouseError as exc:
            warnings.append(
                f"{schema}.{view} cannot be read, so whether its raw tables "
                f"changed since the build cannot be told (a raw table gone?): "
                f"{str(exc).strip().splitlines()[0]}"
            )
            continue
        now.update({table: (int(count), newest) for table, count, newest in rows})
    for table, built_rows, built_marker, *_ in recorded:
        if table not in now:
            continue  # its view could not be read: warned above
        rows_now, marker_now = now[table]
        newest_now, newest_then = _moment(marker_now), _moment(built_marker)
        if rows_now == int(built_rows) and newest_now == newest_then:
            continue
        warnings.append(
            f"raw table {table} changed after the build: {rows_now:,} rows now "
            f"against {int(built_rows):,} then, newest load {_text(newest_now)} "
            f"against {_text(newest_then)}; the marts do not show this yet "
            "(run dbt build)"
        )
    return warnings


def open_raw_reader(
    target: str | None, duckdb_path: str | os.PathLike[str] | None
) -> Reader | str:
    """A reader of the warehouse holding the raw tables now: on DuckDB the
    build file, read-only, or why it cannot be opened (a build is writing
    it); elsewhere the warehouse itself."""
    try:
        return open_reader(target, duckdb_path, published=False)
    except WarehouseError as exc:
        return str(exc)


def summary(
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
    raw_schema: str = "raw",
    target: str | None = None,
) -> str:
    """The report as text (see the module docstring); target as for dbt
    (default $LEAD_SCORING_TARGET, else duckdb)."""
    with ExitStack() as stack:
        raw = open_raw_reader(target, duckdb_path)
        if isinstance(raw, Reader):
            stack.enter_context(raw)
        try:
            connection = stack.enter_context(open_reader(target, duckdb_path))
            unpublished = []
        except NotPublishedError as exc:
            if not isinstance(raw, Reader):
                raise
            # Loaded, or built without publishing: what the build file holds.
            connection = raw
            unpublished = [f"warning: {exc}; readers see no marts yet"]
        names = _relations(connection, schema)
        header = [f"warehouse {connection.description}", *unpublished]
        try:
            header.extend(build_freshness(connection, schema, raw).lines())
        except WarehouseError as exc:
            header.append(f"warning: cannot tell how fresh the marts are ({exc})")
        sections = [
            header,
            _raw_section(raw, raw_schema),
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
