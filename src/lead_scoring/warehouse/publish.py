"""Publish the marts of a finished build to readers, on the embedded DuckDB.

DuckDB lets one process write a database file, and a process cannot open a
file for writing while another process has it open, even read-only. So BI
tools (and `summary`, `report`, `explain`) never open the file dbt builds
in. They read the *published* file beside it: after a build whose models and
tests all passed, the last model of the project (models/publication/
publication.py) calls `publish`, which

1. writes every mart, with its descriptions, into a new file in the
   published file's folder, with two tables saying what was published
   (`publication`: build id, as_of, times; `publication_relations`: the
   relations and their rows). A mart that is a view over relations the
   publication copies (`views`: fct_score_ledger) is published as the same
   view, not as rows: it reads the copies in the new file as it reads the
   build's relations;
2. closes it (DuckDB writes it whole: no write-ahead log is left) and flushes
   it to disk;
3. renames it over the published file.

A rename is atomic: a reader that connects sees the previous build's file or
the new one, whole, never a mix. A reader already connected keeps reading the
file it opened (Linux and macOS keep a replaced file alive while it is open)
until it reconnects. A build that fails, or is killed, before step 3 leaves
the published file exactly as it was (its unfinished file is removed then,
or by the next publication). Builds never wait for readers, and readers
never wait for builds.

    published_path(Path("warehouse/lead_scoring.duckdb"))
    # -> warehouse/lead_scoring_published.duckdb ($LEAD_SCORING_PUBLISHED_PATH)
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from lead_scoring.warehouse.load_common import (
    Connection,
    _quote_literal,
    quote_identifier,
    resolve_duckdb_path,
)

ENV_PUBLISHED_PATH = "LEAD_SCORING_PUBLISHED_PATH"
PUBLISHED_SUFFIX = "_published"
# The tables written beside the marts.
PUBLICATION = "publication"
PUBLICATION_RELATIONS = "publication_relations"
# Name of the new file while it is written: hidden, in the same folder (a
# rename is atomic only within one file system).
_UNFINISHED = ".{name}.{suffix}.unfinished"


@dataclass(frozen=True)
class Publication:
    """What one publication wrote."""

    path: Path
    build_id: str
    scores_as_of: datetime | None
    built_at: datetime | None
    published_at: datetime
    rows: dict[str, int]


def published_path(build_path: str | os.PathLike[str] | None = None) -> Path:
    """The published file: $LEAD_SCORING_PUBLISHED_PATH, else the build file's
    name with `_published` before its extension, in the same folder."""
    from_env = os.environ.get(ENV_PUBLISHED_PATH, "").strip()
    if from_env:
        return Path(from_env)
    build = resolve_duckdb_path(build_path)
    return build.with_name(f"{build.stem}{PUBLISHED_SUFFIX}{build.suffix}")


def publish(
    connection: Connection,
    *,
    schema: str,
    relations: list[str],
    target: Path,
    build_id: str,
    scores_as_of: datetime | None,
    built_at: datetime | None,
    views: list[str] = (),
) -> Publication:
    """Copy `schema`.`relations` of the connection's current database into a
    new file, create `schema`.`views` there from their definitions, and
    rename the file over `target` (see the module docstring). On any error
    (a view reading a relation that is not copied included) the new file is
    removed, `target` is untouched, and the error is raised."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_unfinished(target)
    unfinished = target.with_name(
        _UNFINISHED.format(name=target.name, suffix=uuid.uuid4().hex)
    )
    alias = "lead_scoring_publication"
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    attached = False
    try:
        connection.execute(f"attach {_quote_literal(str(unfinished))} as {alias}")
        attached = True
        rows = _copy_relations(connection, alias, schema, relations)
        rows.update(_create_views(connection, alias, schema, list(views)))
        _write_record(
            connection, alias, schema, rows,
            (build_id, scores_as_of, built_at, published_at, str(target.resolve())),
        )
        connection.execute(f"detach {alias}")
        attached = False
        _flush(unfinished)
        os.replace(unfinished, target)
        _flush(target.parent)
    except BaseException:
        if attached:
            connection.execute(f"detach {alias}")
        unfinished.unlink(missing_ok=True)
        unfinished.with_name(unfinished.name + ".wal").unlink(missing_ok=True)
        raise
    return Publication(target, build_id, scores_as_of, built_at, published_at, rows)


def _copy_relations(
    connection: Connection, alias: str, schema: str, relations: list[str]
) -> dict[str, int]:
    """Each relation as a table of the same schema and name in `alias`, with
    the table and column comments dbt wrote (persist_docs); its row count."""
    source_database = connection.execute("select current_database()").fetchone()[0]
    quoted_schema = quote_identifier(schema)
    connection.execute(f"create schema {alias}.{quoted_schema}")
    rows = {}
    for name in relations:
        relation = f"{quoted_schema}.{quote_identifier(name)}"
        connection.execute(
            f"create table {alias}.{relation} as "
            f"select * from {quote_identifier(source_database)}.{relation}"
        )
        rows[name] = connection.execute(
            f"select count(*) from {alias}.{relation}"
        ).fetchone()[0]
        _copy_comments(connection, source_database, alias, schema, name)
    return rows


def _create_views(
    connection: Connection, alias: str, schema: str, views: list[str]
) -> dict[str, int]:
    """Each view as the build defines it, in `alias`, with its comments; its
    row count. DuckDB keeps a view's definition with the relations it reads
    named without their database, so in `alias` it reads the copies there
    (and a relation not copied fails the publication)."""
    source_database, default_schema = connection.execute(
        "select current_database(), current_schema()"
    ).fetchone()
    rows = {}
    for name in views:
        found = connection.execute(
            "select sql from duckdb_views() where database_name = ? "
            "and schema_name = ? and view_name = ?",
            [source_database, schema, name],
        ).fetchone()
        if found is None:
            raise ValueError(
                f"{schema}.{name} is published as a view but is not a view "
                f"of {source_database}"
            )
        connection.execute(f"use {quote_identifier(alias)}")
        try:
            connection.execute(found[0])
        finally:
            connection.execute(
                f"use {quote_identifier(source_database)}."
                f"{quote_identifier(default_schema)}"
            )
        relation = f"{alias}.{quote_identifier(schema)}.{quote_identifier(name)}"
        rows[name] = connection.execute(f"select count(*) from {relation}").fetchone()[0]
        _copy_comments(connection, source_database, alias, schema, name)
    return rows


def _copy_comments(
    connection: Connection, source_database: str, alias: str, schema: str, name: str
) -> None:
    """The descriptions of a relation and its columns, so BI tools show them."""
    relation = f"{alias}.{quote_identifier(schema)}.{quote_identifier(name)}"
    table_comment = connection.execute(
        "select comment from duckdb_tables() where database_name = ? "
        "and schema_name = ? and table_name = ? union all "
        "select comment from duckdb_views() where database_name = ? "
        "and schema_name = ? and view_name = ?",
        [source_database, schema, name] * 2,
    ).fetchone()
    if table_comment and table_comment[0]:
        connection.execute(
            f"comment on table {relation} is {_quote_literal(table_comment[0])}"
        )
    for column, comment in connection.execute(
        "select column_name, comment from duckdb_columns() where database_name = ? "
        "and schema_name = ? and table_name = ? and comment is not null",
        [source_database, schema, name],
    ).fetchall():
        connection.execute(
            f"comment on column {relation}.{quote_identifier(column)} "
            f"is {_quote_literal(comment)}"
        )


def _write_record(
    connection: Connection,
    alias: str,
    schema: str,
    rows: dict[str, int],
    build: tuple[str, datetime | None, datetime | None, datetime, str],
) -> None:
    """The publication (one row: the columns of the dbt model `publication`,
    models/publication/_publication__models.yml) and its relations (one row
    each), described for BI tools."""
    publication = f"{alias}.{quote_identifier(schema)}.{PUBLICATION}"
    relations = f"{alias}.{quote_identifier(schema)}.{PUBLICATION_RELATIONS}"
    connection.execute(
        f"create table {publication} (build_id varchar not null, "
        "scores_as_of timestamp, built_at timestamp, published_at timestamp, "
        "published_path varchar, relation_count integer, row_count bigint)"
    )
    connection.execute(
        f"insert into {publication} values (?, ?, ?, ?, ?, ?, ?)",
        [*build, len(rows), sum(rows.values())],
    )
    connection.execute(
        f"comment on table {publication} is 'The build these marts come from "
        "(one row): its dbt invocation id, as_of and start, when it was "
        "published, and how many marts and rows.'"
    )
    connection.execute(
        f"create table {relations} ("
        "relation_name varchar not null, row_count bigint not null)"
    )
    connection.execute(
        f"comment on table {relations} is 'Each published mart and its rows.'"
    )
    if rows:
        connection.executemany(
            f"insert into {relations} values (?, ?)", sorted(rows.items())
        )


def _flush(path: Path) -> None:
    """Write a file's (or a folder's entries') data through to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_unfinished(target: Path) -> None:
    """Files a publication to `target` left when its process was killed."""
    # The file and its write-ahead log (.wal), if one was left.
    pattern = _UNFINISHED.format(name=target.name, suffix="*") + "*"
    for leftover in target.parent.glob(pattern):
        leftover.unlink(missing_ok=True)
