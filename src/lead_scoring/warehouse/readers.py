"""Read a built warehouse, on the engine dbt built it on.

`summary`, `report`, `explain` and `calibrate` read the marts through a
`Reader`: the same plain SQL on DuckDB and PostgreSQL (the connection
settings of profiles.yml, lead_scoring.warehouse.engines, in a read-only
transaction). On DuckDB they read what BI tools read: the file the last
successful build published (lead_scoring.warehouse.publish), opened
read-only, never the file a build may be writing; `published=False` opens
the build file itself, with the raw tables and every model (`preview`, and
`summary` for the raw tables, when no build holds it). Each reader names the
warehouse it reads (`description`), so every message says which one was
used. Spark's tables live in the Spark session dbt builds in; these commands
refuse that target with a hint.

    with open_reader("postgres") as reader:
        reader.relations("analytics")                  # names of tables, views
        reader.rows("select count(*) from analytics.dim_leads")
        reader.columns("select lead_id, lead_score from analytics.dim_leads")
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from lead_scoring.warehouse import engines
from lead_scoring.errors import WarehouseError

__all__ = ["NotPublishedError", "Reader", "WarehouseError", "open_reader"]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _column_array(values: list[Any]) -> np.ndarray:
    """Values of one result column as DuckDB's fetchnumpy gives them: numbers
    (integers, floats, decimals) as floats, anything else as objects; nulls
    masked."""
    import decimal

    missing = [value is None for value in values]
    numeric = all(
        isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)
        for value in values if value is not None
    )
    if numeric:
        data = np.array(
            [np.nan if value is None else float(value) for value in values], dtype=float
        )
    else:
        data = np.array(["" if value is None else value for value in values], dtype=object)
    return np.ma.MaskedArray(data, mask=missing) if any(missing) else data


class NotPublishedError(WarehouseError):
    """A DuckDB build file exists, but no build has published its marts."""


class Reader:
    """Read-only queries against one warehouse (see the module docstring)."""

    description: str

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        raise NotImplementedError

    def columns(self, sql: str) -> dict[str, np.ndarray]:
        """The result as one array per column; nulls masked."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def relations(self, schema: str) -> set[str]:
        """Names of the tables and views of a schema."""
        return {
            row[0] for row in self.rows(
                "select table_name from information_schema.tables "
                "where table_schema = ?",
                [schema],
            )
        }

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class DuckDBReader(Reader):
    """A DuckDB warehouse file, opened read-only."""

    def __init__(
        self, duckdb_path: str | os.PathLike[str] | None, published: bool = True
    ) -> None:
        import duckdb

        from lead_scoring.warehouse.load import connect_read_only, resolve_duckdb_path
        from lead_scoring.warehouse.publish import published_path

        build = resolve_duckdb_path(duckdb_path)
        path = published_path(build) if published else build
        self.description = str(path)
        if not Path(path).is_file():
            if published and build.is_file():
                raise NotPublishedError(
                    f"no published marts at {path} (the build warehouse "
                    f"{build} has not published any)",
                    hint="run `dbt build` of the whole project: it publishes "
                    "the marts when every model and test passed",
                )
            raise WarehouseError(
                f"no DuckDB warehouse at {build}",
                hint="run `lead-scoring load --from DIR` and `dbt build` first, "
                "pass --duckdb-path, or --target postgres for a PostgreSQL build",
            )
        try:
            self._connection = connect_read_only(path)
        except duckdb.Error as exc:
            if "Conflicting lock" in str(exc):
                raise WarehouseError(
                    f"{path} is being written by another process (a dbt "
                    "build or a load)",
                    hint="wait for it to finish",
                ) from exc
            raise WarehouseError(
                f"cannot open {path} read-only: {_first_line(exc)}",
                hint="wait for the process writing it (dbt, a load) to finish",
            ) from exc
        self._error = duckdb.Error

    def _execute(self, sql: str, params: list[Any] | None = None) -> Any:
        """The executed query; WarehouseError on failure."""
        try:
            return self._connection.execute(sql, params or [])
        except self._error as exc:
            raise WarehouseError(
                f"cannot read {self.description}: {_first_line(exc)}",
                hint="run dbt build first; the marts may be missing or out of date",
            ) from exc

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self._execute(sql, params).fetchall()

    def columns(self, sql: str) -> dict[str, np.ndarray]:
        return self._execute(sql).fetchnumpy()

    def close(self) -> None:
        self._connection.close()


class PostgresReader(Reader):
    """The PostgreSQL database of the postgres target, read-only."""

    def __init__(self) -> None:
        settings = engines.postgres_settings()
        self.description = (
            f"PostgreSQL {settings['host']}:{settings['port']}/{settings['dbname']}"
        )
        self._connection = engines.postgres_connect()
        self._connection.set_session(readonly=True)
        import psycopg2

        self._error = psycopg2.Error

    def _execute(
        self, sql: str, params: list[Any] | None = None
    ) -> tuple[list[str], list[tuple]]:
        """Column names and rows of a query; WarehouseError on failure."""
        # DB-API placeholders: psycopg2 takes %s where DuckDB takes ?.
        statement = sql.replace("%", "%%").replace("?", "%s") if params else sql
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(statement, params or None)
                names = [column[0] for column in cursor.description or []]
                return names, [tuple(row) for row in cursor.fetchall()]
        except self._error as exc:
            self._connection.rollback()
            raise WarehouseError(
                f"cannot read {self.description}: {_first_line(exc)}",
                hint="run dbt build --target postgres first; the marts may be "
                "missing or out of date",
            ) from exc

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self._execute(sql, params)[1]

    def columns(self, sql: str) -> dict[str, np.ndarray]:
        names, fetched = self._execute(sql)
        return {
            name: _column_array([row[index] for row in fetched])
            for index, name in enumerate(names)
        }

    def close(self) -> None:
        self._connection.close()


def open_reader(
    target: str | None = None,
    duckdb_path: str | os.PathLike[str] | None = None,
    published: bool = True,
) -> Reader:
    """A reader of the warehouse of `target` (default $LEAD_SCORING_TARGET,
    else duckdb); WarehouseError (or EngineError) saying what to do. On
    DuckDB, duckdb_path is the build file (as for load and dbt), and the
    reader opens its published copy, or with published=False the build file
    itself."""
    chosen = target or engines.default_target()
    if chosen == "duckdb":
        return DuckDBReader(duckdb_path, published)
    if chosen == "postgres":
        return PostgresReader()
    if chosen == "spark":
        raise WarehouseError(
            "this command reads DuckDB or PostgreSQL; Spark's tables live in "
            "the Spark session dbt builds in",
            hint="query the marts from that session (spark.table('analytics.dim_leads')), "
            "or build on DuckDB or PostgreSQL to use it",
        )
    raise WarehouseError(
        f"unknown target {chosen!r}",
        hint=f"use --target {' or '.join(engines.TARGETS)}",
    )
