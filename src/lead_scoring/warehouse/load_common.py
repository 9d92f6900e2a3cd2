"""Shared helpers of the raw loader (lead_scoring.warehouse.load) and the
warehouse readers: the load marker column, where the DuckDB file is and how to
open it read-only, SQL quoting, how column names are compared and the first
line of an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb

Progress = Callable[[str], None]
Connection = duckdb.DuckDBPyConnection

LOADED_AT_COLUMN = "_loaded_at"
ENV_DUCKDB_PATH = "LEAD_SCORING_DUCKDB_PATH"
DEFAULT_DUCKDB_PATH = Path("warehouse") / "lead_scoring.duckdb"


def resolve_duckdb_path(duckdb_path: str | os.PathLike[str] | None) -> Path:
    """The DuckDB file: the argument, else $LEAD_SCORING_DUCKDB_PATH, else default."""
    if duckdb_path:
        return Path(duckdb_path)
    from_env = os.environ.get(ENV_DUCKDB_PATH, "").strip()
    return Path(from_env) if from_env else DEFAULT_DUCKDB_PATH


def connect_read_only(path: str | os.PathLike[str]) -> Connection:
    """A read-only connection to a DuckDB file.

    When this process already holds the file open read-write (dbt-duckdb keeps
    its connection after a build run in-process through dbtRunner), DuckDB
    refuses a second connection with another configuration: then share that
    one. Callers only read either way.
    """
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        return duckdb.connect(str(path))


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _normal(name: str) -> str:
    """How column names are compared: trimmed, lower case."""
    return name.strip().lower()


def _first_line(exc: BaseException) -> str:
    """The first line of an exception message."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
