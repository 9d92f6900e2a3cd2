"""Planning a load (see lead_scoring.warehouse.load): finding, inspecting and
checking the raw files of every table of the source contract. Planning writes
nothing and is the same for every target.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lead_scoring.contract import RAW_TABLES
from lead_scoring.errors import LoadError
from lead_scoring.warehouse.load_common import (
    LOADED_AT_COLUMN,
    Connection,
    _first_line,
    _normal,
    _quote_literal,
    quote_identifier,
)

_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".parquet", "parquet"),
    (".csv", "csv"),
    (".csv.gz", "csv"),
)


# -------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class SourceFile:
    """One readable file of a table and its columns as named in the file."""

    path: Path
    kind: str
    columns: tuple[str, ...]
    # Whether the file holds at least one row below its header.
    has_rows: bool = True

    def reader(self) -> str:
        """A DuckDB table function call reading this file."""
        path = _quote_literal(str(self.path))
        if self.kind == "parquet":
            return f"read_parquet({path})"
        types = ", ".join(
            f"{_quote_literal(name)}: 'VARCHAR'" for name in self.columns
        )
        return (
            f"read_csv({path}, auto_detect = false, header = true, "
            f"columns = {{{types}}}, delim = ',', quote = '\"', escape = '\"', "
            "allow_quoted_nulls = false)"
        )


@dataclass(frozen=True)
class TablePlan:
    """Everything needed to load one raw table, checked before writing."""

    table: str
    files: tuple[SourceFile, ...]
    columns: tuple[str, ...]
    # The load marker given to rows whose files have no _loaded_at column
    # ('YYYY-MM-DD HH:MM:SS.ffffff', UTC); None: no marker added.
    loaded_at: str | None = None

    def select_sql(self, target_names: dict[str, str] | None = None) -> str:
        """One query over all files with columns renamed to the output names.

        target_names maps normalised names to the names to write (for append,
        the existing table's spelling); by default the plan's own names.
        """
        names = target_names or {_normal(name): name for name in self.columns}
        parts = []
        for source in self.files:
            selected = ", ".join(
                f"{quote_identifier(column)} as "
                f"{quote_identifier(names[_normal(column)])}"
                for column in source.columns
            )
            if self.loaded_at and LOADED_AT_COLUMN not in map(_normal, source.columns):
                marker = names.get(LOADED_AT_COLUMN, LOADED_AT_COLUMN)
                selected += (
                    f", cast({_quote_literal(self.loaded_at)} as timestamp) "
                    f"as {quote_identifier(marker)}"
                )
            parts.append(f"select {selected} from {source.reader()}")
        return "\nunion all by name\n".join(parts)

    def describe(self) -> str:
        """The files of this table, for messages."""
        return ", ".join(str(source.path) for source in self.files)

    @property
    def is_empty(self) -> bool:
        """Whether no file of the table holds a row (a header only)."""
        return not any(source.has_rows for source in self.files)


def _candidates(source_dir: Path, table: str) -> list[Path]:
    """Existing files or folders that could hold a table."""
    names = [table + suffix for suffix, _ in _SUFFIXES] + [table]
    return [source_dir / name for name in names if (source_dir / name).exists()]


def _kind_of(path: Path) -> str | None:
    """'parquet' or 'csv' from a file name, None for anything else."""
    name = path.name.lower()
    for suffix, kind in sorted(_SUFFIXES, key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return kind
    return None


def _table_paths(source_dir: Path, table: str) -> list[tuple[Path, str]]:
    """The files (with their kind) holding one table; LoadError if unclear."""
    found = _candidates(source_dir, table)
    looked_for = ", ".join([table + suffix for suffix, _ in _SUFFIXES] + [table + "/"])
    if not found:
        raise LoadError(
            f"no file for table {table!r} in {source_dir} (looked for {looked_for})",
            hint="export the table under one of these names",
        )
    if len(found) > 1:
        names = ", ".join(path.name for path in found)
        raise LoadError(
            f"table {table!r} is ambiguous in {source_dir}: found {names}",
            hint="keep exactly one of them",
        )
    path = found[0]
    if not path.is_dir():
        return [(path, _kind_of(path) or "csv")]
    parts = [
        (part, _kind_of(part))
        for part in sorted(path.iterdir())
        if part.is_file() and part.name[0] not in "_." and _kind_of(part)
    ]
    if not parts:
        raise LoadError(
            f"folder {path} holds no .parquet, .csv or .csv.gz parts",
            hint="put the table's files in it or remove the folder",
        )
    return parts


def _csv_header(path: Path) -> tuple[tuple[str, ...], bool]:
    """Column names from the header row of a CSV file, and whether a row
    follows it (a line that is not blank)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            header = next(reader, None)
            has_rows = any(any(value.strip() for value in row) for row in reader)
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as exc:
        raise LoadError(
            f"cannot read CSV file {path}: {exc}",
            hint="check the file is UTF-8 CSV with a header row",
        ) from exc
    if not header or not any(name.strip() for name in header):
        raise LoadError(
            f"CSV file {path} has no header row",
            hint="the first line must name the columns",
        )
    return tuple(header), has_rows


def _parquet_columns(path: Path, connection: Connection) -> tuple[tuple[str, ...], bool]:
    """Column names of a Parquet file and whether it holds rows (both read
    from its footer)."""
    literal = _quote_literal(str(path))
    try:
        columns = tuple(
            row[0] for row in connection.execute(
                f"describe select * from read_parquet({literal})"
            ).fetchall()
        )
        rows = connection.execute(
            f"select coalesce(sum(num_rows), 0) from parquet_file_metadata({literal})"
        ).fetchone()[0]
        return columns, rows > 0
    except duckdb.Error as exc:
        raise LoadError(
            f"cannot read Parquet file {path}: {_first_line(exc)}",
            hint="the file is corrupt or not Parquet; export it again",
        ) from exc


def _inspect(path: Path, kind: str, connection: Connection) -> SourceFile:
    """Read a file's column names; LoadError if unreadable or duplicated."""
    columns, has_rows = (
        _csv_header(path) if kind == "csv" else _parquet_columns(path, connection)
    )
    seen: dict[str, str] = {}
    for column in columns:
        key = _normal(column)
        if not key:
            raise LoadError(
                f"{path} has a column without a name",
                hint="name every column in the header",
            )
        if key in seen:
            raise LoadError(
                f"{path} has column {column!r} twice (also as {seen[key]!r})",
                hint="column names must be unique ignoring case and blanks",
            )
        seen[key] = column
    return SourceFile(path, kind, tuple(columns), has_rows)


def _check_required(table: str, source: SourceFile) -> None:
    """LoadError naming the file and the columns the contract needs but lacks."""
    present = {_normal(column) for column in source.columns}
    missing = [column for column in RAW_TABLES[table] if column not in present]
    if missing:
        raise LoadError(
            f"{source.path} (table {table!r}) is missing required column(s): "
            f"{', '.join(missing)}",
            hint=f"table {table} needs columns {', '.join(RAW_TABLES[table])}",
        )


def _output_columns(table: str, sources: list[SourceFile]) -> tuple[str, ...]:
    """Contract columns first, then extra columns in order of appearance."""
    columns = list(RAW_TABLES[table])
    seen = set(columns)
    for source in sources:
        for column in source.columns:
            if _normal(column) not in seen:
                seen.add(_normal(column))
                columns.append(column.strip())
    return tuple(columns)


def plan_load(source_dir: str | os.PathLike[str]) -> list[TablePlan]:
    """Find, inspect and check the files of every raw table; writes nothing."""
    folder = Path(source_dir)
    if folder.is_file():
        raise LoadError(
            f"--from takes a folder, and {folder} is a file",
            hint="put the files of the raw tables ("
            + ", ".join(RAW_TABLES)
            + ") in one folder and pass that folder",
        )
    if not folder.is_dir():
        raise LoadError(
            f"source folder {folder} does not exist",
            hint="pass the folder holding the raw files, e.g. one made by "
            "`lead-scoring generate`",
        )
    plans = []
    with duckdb.connect() as connection:
        for table in RAW_TABLES:
            sources = []
            for path, kind in _table_paths(folder, table):
                source = _inspect(path, kind, connection)
                _check_required(table, source)
                sources.append(source)
            plans.append(
                TablePlan(table, tuple(sources), _output_columns(table, sources))
            )
    return plans
