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
   relations, their rows and the rows written). A mart that is a view over
   relations the publication copies (`views`: fct_score_ledger) is
   published as the same view, not as rows: it reads the copies in the new
   file as it reads the build's relations. A big relation keyed by lead
   (`patched`: fct_activities, one row per activity) is not copied whole
   each time: the new file starts as a copy of the published one, and only
   the rows of the keys whose rows changed are replaced (see
   `_patch_relation`);
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
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

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
# A digest of each key's rows of the patched relations, as published.
PUBLICATION_DIGESTS = "publication_digests"
# A patched relation is written whole again (the new file then starts
# empty) once the rows replaced since it was last written whole would exceed
# this share of its rows: DuckDB does not reclaim the space of deleted rows
# scattered over the table, so each patch grows the file by the rows it
# replaces.
REWRITE_SHARE = 0.25
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
    patched: dict[str, str] | None = None,
) -> Publication:
    """Copy `schema`.`relations` of the connection's current database into a
    new file, create `schema`.`views` there from their definitions, and
    rename the file over `target` (see the module docstring). `patched`
    names relations among `relations` (and their key column) whose changed
    keys alone are written when the published file can be reused. On any
    error (a view reading a relation that is not copied included) the new
    file is removed, `target` is untouched, and the error is raised."""
    patched = dict(patched or {})
    unknown = sorted(set(patched) - set(relations))
    if unknown:
        raise ValueError(
            f"patched names {', '.join(unknown)}, not among the relations "
            f"published ({', '.join(relations)})"
        )
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
        previous = _reusable(target, schema, patched)
        if previous is not None:
            shutil.copyfile(target, unfinished)
        connection.execute(f"attach {_quote_literal(str(unfinished))} as {alias}")
        attached = True
        _drop_all_but(connection, alias, schema, set(patched) | {PUBLICATION_DIGESTS})
        # The dropped relations' space is reused only after a checkpoint.
        connection.execute(f"checkpoint {alias}")
        rows = _copy_relations(
            connection, alias, schema, [name for name in relations if name not in patched]
        )
        written = dict(rows)
        replaced = {}
        for name in [name for name in relations if name in patched]:
            rows[name], written[name], replaced[name] = _patch_relation(
                connection, alias, schema, name, patched[name],
                None if previous is None else previous[name],
            )
        view_rows = _create_views(connection, alias, schema, list(views))
        rows.update(view_rows)
        written.update({name: 0 for name in view_rows})
        _write_record(
            connection, alias, schema, rows, written, replaced,
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
    connection.execute(f"create schema if not exists {alias}.{quoted_schema}")
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


def _reusable(
    target: Path, schema: str, patched: dict[str, str]
) -> dict[str, int] | None:
    """When the published file can start the new one (it holds the digests
    of every patched relation, written by this DuckDB version, and their
    replaced rows are within REWRITE_SHARE): the rows each patched relation
    had replaced since it was last written whole. Else None: the new file
    starts empty."""
    if not patched or not target.exists():
        return None
    try:
        with duckdb.connect(str(target), read_only=True) as published:
            found = published.execute(
                "select relation_name, row_count, rows_replaced_since_rewrite, "
                "digest_engine from " + ".".join(
                    [quote_identifier(schema), PUBLICATION_RELATIONS]
                ) + " where digest_engine is not null"
            ).fetchall()
            digests = published.execute(
                "select count(*) from duckdb_tables() "
                "where schema_name = ? and table_name = ?",
                [schema, PUBLICATION_DIGESTS],
            ).fetchone()[0]
    except duckdb.Error:
        # A file of an older publication (no such columns) or not DuckDB's.
        return None
    state = {name: (rows, replaced, engine) for name, rows, replaced, engine in found}
    if digests != 1 or set(state) != set(patched):
        return None
    if any(
        engine != _digest_engine() or replaced > REWRITE_SHARE * rows
        for rows, replaced, engine in state.values()
    ):
        return None
    return {name: replaced for name, (_, replaced, _) in state.items()}


def _digest_engine() -> str:
    """What the row digests depend on besides the rows: DuckDB's hash()."""
    return f"duckdb {duckdb.__version__}"


def _drop_all_but(connection: Connection, alias: str, schema: str, kept: set[str]) -> None:
    """In a new file started from the published one: every table and view of
    `schema` but `kept` (the patched relations and their digests)."""
    for name, kind in connection.execute(
        "select table_name, 'table' from duckdb_tables() "
        "where database_name = ? and schema_name = ? union all "
        "select view_name, 'view' from duckdb_views() "
        "where database_name = ? and schema_name = ?",
        [alias, schema] * 2,
    ).fetchall():
        if name not in kept:
            connection.execute(
                f"drop {kind} {alias}.{quote_identifier(schema)}.{quote_identifier(name)}"
            )


def _patch_relation(
    connection: Connection,
    alias: str,
    schema: str,
    name: str,
    key: str,
    replaced_before: int | None,
) -> tuple[int, int, int]:
    """Publish `name` keyed by `key`: its rows, the rows written, and the rows
    replaced since it was last written whole.

    Each key's rows in the build get a digest: their count and the sum of a
    hash of every column (order-free). Started from the published file
    (`replaced_before` not None) with the same columns, only the keys whose
    digest differs from the published one (new keys and vanished keys
    included) have their rows deleted and inserted again; else the relation
    is written whole. The digests are stored beside it for the next
    publication, and the published row count is checked against the
    build's."""
    source_database = connection.execute("select current_database()").fetchone()[0]
    quoted_schema = quote_identifier(schema)
    source = f"{quote_identifier(source_database)}.{quoted_schema}.{quote_identifier(name)}"
    published = f"{alias}.{quoted_schema}.{quote_identifier(name)}"
    digests = f"{alias}.{quoted_schema}.{PUBLICATION_DIGESTS}"
    keys = "lead_scoring_publication_keys"

    def columns(database: str) -> list[tuple[str, str]]:
        return connection.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = ? and schema_name = ? and table_name = ? "
            "order by column_index",
            [database, schema, name],
        ).fetchall()

    built_columns = columns(source_database)
    row_hash = "hash(" + ", ".join(quote_identifier(c) for c, _ in built_columns) + ")"
    key_value = f"cast({quote_identifier(key)} as varchar)"
    connection.execute(
        f"create or replace temp table {keys} as "
        f"select {key_value} as key_value, sum({row_hash}) as row_digest, "
        f"count(*) as row_count from {source} group by all"
    )
    try:
        if replaced_before is not None and columns(alias) == built_columns:
            changed = (
                "select coalesce(built.key_value, published.key_value) as key_value "
                f"from {keys} as built full outer join ("
                f"select key_value, row_digest, row_count from {digests} "
                f"where relation_name = {_quote_literal(name)}) as published "
                "on built.key_value is not distinct from published.key_value "
                "where built.row_digest is distinct from published.row_digest "
                "or built.row_count is distinct from published.row_count"
            )
            in_changed = (
                f"exists (select 1 from ({changed}) as changed_keys "
                f"where changed_keys.key_value is not distinct from {key_value})"
            )
            deleted = connection.execute(
                f"delete from {published} where {in_changed}"
            ).fetchone()[0]
            written = connection.execute(
                f"insert into {published} select * from {source} where {in_changed}"
            ).fetchone()[0]
            replaced = replaced_before + deleted
        else:
            connection.execute(f"drop table if exists {published}")
            connection.execute(f"create table {published} as select * from {source}")
            written, replaced = None, 0
        connection.execute(
            f"create table if not exists {digests} (relation_name varchar not null, "
            "key_value varchar, row_digest hugeint not null, row_count bigint not null)"
        )
        connection.execute(
            f"comment on table {digests} is 'What the next publication compares "
            "the build with to replace only the changed rows: per relation "
            "published by key and key value, the count and summed hash of its rows.'"
        )
        connection.execute(
            f"delete from {digests} where relation_name = {_quote_literal(name)}"
        )
        connection.execute(
            f"insert into {digests} select {_quote_literal(name)}, key_value, "
            f"row_digest, row_count from {keys}"
        )
        [(rows, expected)] = connection.execute(
            f"select (select count(*) from {published}), "
            f"(select coalesce(sum(row_count), 0) from {keys})"
        ).fetchall()
    finally:
        connection.execute(f"drop table if exists {keys}")
    if rows != expected:
        raise RuntimeError(
            f"{schema}.{name}: {rows} rows published, the build has {expected}"
        )
    _copy_comments(connection, source_database, alias, schema, name)
    return rows, rows if written is None else written, replaced


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
    written: dict[str, int],
    replaced: dict[str, int],
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
        "relation_name varchar not null, row_count bigint not null, "
        "rows_written bigint not null, rows_replaced_since_rewrite bigint, "
        "digest_engine varchar)"
    )
    connection.execute(
        f"comment on table {relations} is 'Each published mart, its rows and "
        "the rows this publication wrote (0 for a view; for a relation "
        "published by key, those of the keys whose rows changed, and the rows "
        "replaced since it was last written whole).'"
    )
    if rows:
        connection.executemany(
            f"insert into {relations} values (?, ?, ?, ?, ?)",
            [
                (
                    name, count, written[name], replaced.get(name),
                    _digest_engine() if name in replaced else None,
                )
                for name, count in sorted(rows.items())
            ],
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
