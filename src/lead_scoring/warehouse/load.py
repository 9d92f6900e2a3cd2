"""Load a folder of raw files into the warehouse's raw schema.

For every table of the source contract (`contract.RAW_TABLES`) the folder must
hold `<table>.parquet`, `<table>.csv`, `<table>.csv.gz`, or a folder `<table>/`
of such parts. Files whose names start with `_` or `.` are ignored (the
generator's manifest and expectations). CSV files need a header row; every CSV
column is read as text, so a bad value never fails a load; Parquet columns keep
their types. Column names are matched to the contract case-insensitively after
trimming, and extra columns are kept.

Loading happens in two steps. Planning finds and inspects every file and checks
the required columns; it writes nothing and is the same for every target. The
target then writes all tables in one transaction, so a failure (a corrupt data
page, a malformed CSV row, a locked database) leaves the previous raw tables as
they were. Targets (`_TARGET_LOADERS`):

- duckdb: tables created from the files by DuckDB itself, in one transaction.
- postgres: every table written as text columns (like a CSV load into
  DuckDB) with COPY ... FROM STDIN (CSV), streamed from a CSV that DuckDB
  writes from the files; one transaction, so a failure keeps the old tables.
- spark: the files are rewritten by DuckDB as one text-only Parquet file per
  table, read by the same in-process Spark session dbt-spark uses (see
  lead_scoring.warehouse.engines) and saved as Parquet tables in the raw database. Spark
  has no transactions: each table is written under a temporary name first and
  swapped in only once all of them were written.

For postgres and spark every column is text, so the warehouse sees the same
values whatever the engine; Parquet values are written as DuckDB prints them.

Every row written gets the load marker `_loaded_at` (LOADED_AT_COLUMN): the
time of the load, UTC, the same for all rows of one load (a timestamp in
DuckDB, ISO text elsewhere), unless the files carry that column themselves.
The incremental models find the rows that arrived since their last build by
it (dbt var raw_loaded_at_column).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from lead_scoring.warehouse import engines
from lead_scoring.contract import RAW_TABLES
from lead_scoring.errors import LeadScoringError, LoadError

__all__ = ["LoadError", "TablePlan", "SourceFile", "load", "plan_load"]

Progress = Callable[[str], None]
Connection = duckdb.DuckDBPyConnection

MODES: tuple[str, ...] = ("replace", "append")
LOADED_AT_COLUMN = "_loaded_at"
ENV_DUCKDB_PATH = "LEAD_SCORING_DUCKDB_PATH"
DEFAULT_DUCKDB_PATH = Path("warehouse") / "lead_scoring.duckdb"
_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".parquet", "parquet"),
    (".csv", "csv"),
    (".csv.gz", "csv"),
)


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


def _first_line(exc: BaseException) -> str:
    """The first line of an exception message."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


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


# ------------------------------------------------------------------------ targets


@dataclass(frozen=True)
class LoadOptions:
    """Target-independent settings of one load."""

    raw_schema: str
    mode: str
    duckdb_path: Path
    progress: Progress


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


def parse_utc(text: str) -> datetime | None:
    """An ISO date and time ('YYYY-MM-DD HH:MM:SS', an offset allowed) as a
    naive UTC datetime (no offset means UTC); None if it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _marker_text(loaded_at: str | None) -> str:
    """The load marker as 'YYYY-MM-DD HH:MM:SS.ffffff'; LoadError if malformed."""
    if loaded_at is None:
        moment = datetime.now(timezone.utc).replace(tzinfo=None)
    else:
        moment = parse_utc(loaded_at)
        if moment is None:
            raise LoadError(
                f"--loaded-at {loaded_at!r} is not a date and time",
                hint="use 'YYYY-MM-DD HH:MM:SS' (UTC) or leave it out for now",
            )
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if moment > now:
            raise LoadError(
                f"--loaded-at {loaded_at!r} is in the future (now is "
                f"{now:%Y-%m-%d %H:%M:%S} UTC)",
                hint="a load marker after the next load's would hide that load "
                "from incremental builds; give the time the rows arrived, in "
                "UTC, or leave it out for now",
            )
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


_TARGET_LOADERS: dict[str, Callable[[list[TablePlan], LoadOptions], dict[str, int]]]
_TARGET_LOADERS = {
    "duckdb": _load_duckdb,
    "postgres": _load_postgres,
    "spark": _load_spark,
}


def describe_target(target: str, duckdb_path: str | os.PathLike[str] | None) -> str:
    """The warehouse a target writes to, for messages."""
    if target == "postgres":
        settings = engines.postgres_settings()
        return (
            f"PostgreSQL {settings['host']}:{settings['port']}/{settings['dbname']}"
        )
    if target == "spark":
        return f"the Spark warehouse in {engines.spark_dir()}"
    return str(resolve_duckdb_path(duckdb_path))


def _refuse_empty(plans: list[TablePlan]) -> None:
    """LoadError when a table to replace has no row (a header-only file)."""
    empty = [plan for plan in plans if plan.is_empty]
    if empty:
        described = "; ".join(f"{plan.table} ({plan.describe()})" for plan in empty)
        raise LoadError(
            f"no rows below the header for table(s) {described}: replacing "
            "would empty them",
            hint="check the export; pass --allow-empty if the tables are "
            "meant to be empty",
        )


def load(
    source_dir: str | os.PathLike[str],
    target: str = "duckdb",
    raw_schema: str = "raw",
    mode: str = "replace",
    duckdb_path: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    loaded_at: str | None = None,
    allow_empty: bool = False,
) -> dict[str, int]:
    """Load the six raw tables of source_dir; return rows written per table.

    target is duckdb, postgres or spark (connection settings from the
    environment, see lead_scoring.warehouse.engines). mode 'replace' recreates the
    tables, 'append' inserts by column name into existing ones. Raises
    LoadError (EngineError when the engine cannot be reached), and writes
    nothing, on any problem. loaded_at ('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC)
    is the load marker written to every row; by default the time of the load,
    never a later one. A table without rows (a header-only file) is refused
    in mode 'replace' unless allow_empty (in mode 'append' it adds nothing).
    Nothing is reported as loaded before the transaction commits: the
    progress lines say "staged" until the closing "committed".
    """
    if target not in _TARGET_LOADERS:
        known = ", ".join(_TARGET_LOADERS)
        raise LoadError(
            f"unknown target {target!r} (known: {known})",
            hint="use --target duckdb, postgres or spark",
        )
    if mode not in MODES:
        raise LoadError(
            f"unknown mode {mode!r}",
            hint=f"use --mode {' or --mode '.join(MODES)}",
        )
    if not raw_schema or not raw_schema.strip():
        raise LoadError(
            "raw schema name is empty",
            hint="pass --raw-schema NAME (default raw, the dbt var raw_schema)",
        )
    report = progress or (lambda message: None)
    started = time.monotonic()
    marker = _marker_text(loaded_at)
    plans = [_with_marker(plan, marker) for plan in plan_load(source_dir)]
    if mode == "replace" and not allow_empty:
        _refuse_empty(plans)
    files = sum(len(plan.files) for plan in plans)
    report(f"checked {files} files in {source_dir} ({time.monotonic() - started:.1f}s)")
    options = LoadOptions(raw_schema, mode, resolve_duckdb_path(duckdb_path), report)
    report(
        f"writing {len(plans)} tables into {describe_target(target, duckdb_path)} "
        f"({mode})"
    )
    rows = _TARGET_LOADERS[target](plans, options)
    report(f"committed {sum(rows.values()):,} rows ({time.monotonic() - started:.1f}s)")
    return rows
