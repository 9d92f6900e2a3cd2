"""Readers beside scheduled builds on DuckDB: the published marts.

A DuckDB file is written by one process, and no other process may have it
open meanwhile. BI tools (and `summary`, `report`, `explain`) therefore read
the file the last successful build published (models/publication/
publication.py, lead_scoring.warehouse.publish); these tests show that
readers never block a build, never see a half-written or mixed state, and
that only a build that succeeded moves what they see.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR, Warehouse
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import load
from lead_scoring.warehouse.publish import publish, published_path
from lead_scoring.warehouse.readers import open_reader
from lead_scoring.warehouse.summary import summary

# One reader process: until the stop file exists, connect read-only to the
# published file, check that its marts are one build's, and append what it
# saw (or the error) to its output file as one JSON line per connection.
# "hold" readers keep one connection for the whole run instead.
READER = r'''
import json, sys, time
from pathlib import Path

import duckdb

published, stop, output, mode = sys.argv[1:5]


def check(connection):
    [(build_id, as_of)] = connection.execute(
        "select build_id, scores_as_of from analytics.publication").fetchall()
    problems = []
    for name, rows in connection.execute(
            "select relation_name, row_count from analytics.publication_relations"
    ).fetchall():
        counted = connection.execute(
            f"select count(*) from analytics.{name}").fetchone()[0]
        if counted != rows:
            problems.append(f"{name}: {counted} rows, published {rows}")
    built_by = connection.execute(
        "select distinct _invocation_id, scores_as_of "
        "from analytics.rpt_build_inputs").fetchall()
    if built_by != [(build_id, as_of)]:
        problems.append(f"rpt_build_inputs from {built_by}, published {build_id}")
    leads_as_of = connection.execute(
        "select distinct scores_as_of from analytics.dim_leads").fetchall()
    if leads_as_of != [(as_of,)]:
        problems.append(f"dim_leads as of {leads_as_of}, published {as_of}")
    qualified, first_events = connection.execute(
        "select (select count(*) from analytics.dim_leads "
        "where first_mql_at is not null), "
        "(select count(*) from analytics.fct_mql_events as events "
        "inner join analytics.dim_leads as leads "
        "on events.lead_id = leads.lead_id and events.mql_at = leads.first_mql_at "
        "where events.mql_sequence = 1)").fetchone()
    if qualified != first_events:
        problems.append(f"{qualified} leads with a first MQL, {first_events} first events")
    return build_id, problems


with open(output, "a") as out:
    held = None
    while not Path(stop).exists():
        if not Path(published).exists():
            out.write(json.dumps({"build_id": None, "problems": []}) + "\n")
            out.flush()
            time.sleep(0.05)
            continue
        if mode == "hold" and held is None:
            # Connects to the first publication and stays connected.
            held = duckdb.connect(published, read_only=True)
        try:
            if held is not None:
                build_id, problems = check(held)
            else:
                with duckdb.connect(published, read_only=True) as connection:
                    build_id, problems = check(connection)
            out.write(json.dumps({"build_id": build_id, "problems": problems}) + "\n")
        except Exception as exc:
            out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
        time.sleep(0.05)
'''


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _published_build(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            "select build_id from analytics.publication"
        ).fetchone()[0]


# ---------------------------------------------------------------- publish()


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A small build file: two marts with descriptions, and a raw table."""
    path = tmp_path / "build.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema analytics")
        connection.execute(
            "create table analytics.dim_things as "
            "select range as thing_id, 'x' || range as label from range(5)"
        )
        connection.execute("comment on table analytics.dim_things is 'One row per thing.'")
        connection.execute(
            "comment on column analytics.dim_things.thing_id is 'The thing.'"
        )
        connection.execute(
            "create view analytics.rpt_counts as "
            "select count(*) as things from analytics.dim_things"
        )
        connection.execute("create schema raw")
        connection.execute("create table raw.secrets as select 'pii' as email")
    return path


def _publish(
    path: Path, relations: list[str], build_id: str, views: list[str] = ()
) -> None:
    with duckdb.connect(str(path)) as connection:
        publish(
            connection, schema="analytics", relations=relations,
            target=published_path(path), build_id=build_id,
            scores_as_of=None, built_at=None, views=views,
        )


def test_publish_copies_the_marts_with_their_descriptions(built: Path) -> None:
    _publish(built, ["dim_things", "rpt_counts"], "build-1")
    target = published_path(built)
    assert target == built.with_name("build_published.duckdb")
    with duckdb.connect(str(target), read_only=True) as connection:
        assert connection.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "order by 2"
        ).fetchall() == [
            ("analytics", "dim_things", "BASE TABLE"),
            ("analytics", "publication", "BASE TABLE"),
            ("analytics", "publication_relations", "BASE TABLE"),
            ("analytics", "rpt_counts", "BASE TABLE"),  # a view, copied as a table
        ]
        assert connection.execute(
            "select count(*), sum(thing_id) from analytics.dim_things"
        ).fetchone() == (5, 10)
        assert connection.execute("select things from analytics.rpt_counts").fetchall() == [(5,)]
        assert connection.execute(
            "select build_id, published_path, relation_count, row_count "
            "from analytics.publication"
        ).fetchall() == [("build-1", str(target.resolve()), 2, 6)]
        assert connection.execute(
            "select * from analytics.publication_relations order by 1"
        ).fetchall() == [
            ("dim_things", 5, 5, None, None), ("rpt_counts", 1, 1, None, None),
        ]
        assert connection.execute(
            "select comment from duckdb_tables() where table_name = 'dim_things'"
        ).fetchone() == ("One row per thing.",)
        assert connection.execute(
            "select comment from duckdb_columns() where table_name = 'dim_things' "
            "and column_name = 'thing_id'"
        ).fetchone() == ("The thing.",)
    assert sorted(path.name for path in built.parent.iterdir()) == [
        "build.duckdb", "build_published.duckdb",
    ]


def test_a_failed_publication_leaves_the_published_file_as_it_was(built: Path) -> None:
    _publish(built, ["dim_things"], "build-1")
    target = published_path(built)
    before = _digest(target)
    # A relation that does not exist fails the copy half-way.
    with pytest.raises(duckdb.CatalogException, match="no_such_mart"):
        _publish(built, ["dim_things", "no_such_mart"], "build-2")
    assert _digest(target) == before
    assert _published_build(target) == "build-1"
    assert sorted(path.name for path in built.parent.iterdir()) == [
        "build.duckdb", "build_published.duckdb",
    ]
    # What a killed publication leaves behind goes with the next one.
    leftover = target.with_name(f".{target.name}.dead.unfinished")
    leftover.write_bytes(b"half a file")
    leftover.with_name(leftover.name + ".wal").write_bytes(b"log")
    _publish(built, ["dim_things"], "build-3")
    assert _published_build(target) == "build-3"
    assert sorted(path.name for path in built.parent.iterdir()) == [
        "build.duckdb", "build_published.duckdb",
    ]


def test_a_view_is_published_as_a_view_over_the_copies(built: Path) -> None:
    with duckdb.connect(str(built)) as connection:
        connection.execute("comment on view analytics.rpt_counts is 'Things counted.'")
    _publish(built, ["dim_things"], "build-1", views=["rpt_counts"])
    target = published_path(built)
    with duckdb.connect(str(built)) as connection:
        # The build changes after the publication: the published view reads
        # the copy in its own file, not the build's table.
        connection.execute("insert into analytics.dim_things values (99, 'late')")
    with duckdb.connect(str(target), read_only=True) as connection:
        assert connection.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_name in ('dim_things', 'rpt_counts') order by 1"
        ).fetchall() == [("dim_things", "BASE TABLE"), ("rpt_counts", "VIEW")]
        assert connection.execute("select things from analytics.rpt_counts").fetchall() == [(5,)]
        assert connection.execute(
            "select relation_name, row_count, rows_written "
            "from analytics.publication_relations order by 1"
        ).fetchall() == [("dim_things", 5, 5), ("rpt_counts", 1, 0)]
        assert connection.execute(
            "select comment from duckdb_views() where view_name = 'rpt_counts'"
        ).fetchone() == ("Things counted.",)
    # A reader that attaches the file under another name, beside a database
    # holding the same names, still reads the published copies.
    with duckdb.connect() as connection:
        connection.execute("create schema analytics")
        connection.execute("create table analytics.dim_things as select 1 as thing_id")
        connection.execute(f"attach '{target}' as published (read_only)")
        assert connection.execute(
            "select things from published.analytics.rpt_counts"
        ).fetchall() == [(5,)]


def test_a_view_whose_input_is_not_published_fails_the_publication(built: Path) -> None:
    _publish(built, ["dim_things"], "build-1")
    target = published_path(built)
    before = _digest(target)
    with pytest.raises(duckdb.CatalogException, match="dim_things"):
        _publish(built, [], "build-2", views=["rpt_counts"])
    with pytest.raises(ValueError, match="not a view"):
        _publish(built, [], "build-3", views=["dim_things"])
    assert _digest(target) == before
    assert _published_build(target) == "build-1"
    assert sorted(path.name for path in built.parent.iterdir()) == [
        "build.duckdb", "build_published.duckdb",
    ]


def _published_rows(target: Path, name: str) -> list[tuple]:
    with duckdb.connect(str(target), read_only=True) as connection:
        return connection.execute(
            f"select * from analytics.{name} order by all"
        ).fetchall()


def _publication_state(target: Path, name: str) -> tuple:
    """row_count, rows_written, rows_replaced_since_rewrite of a relation."""
    with duckdb.connect(str(target), read_only=True) as connection:
        return connection.execute(
            "select row_count, rows_written, rows_replaced_since_rewrite "
            "from analytics.publication_relations where relation_name = ?",
            [name],
        ).fetchone()


def test_a_relation_published_by_key_is_written_only_where_keys_changed(
    built: Path,
) -> None:
    with duckdb.connect(str(built)) as connection:
        connection.execute(
            "create table analytics.fct_events as select "
            "case when range < 40 then 'k' || (range % 10) end as lead_id, "
            "range as event, range / 2 as points from range(44)"
        )
        connection.execute("comment on table analytics.fct_events is 'Events.'")
    target = published_path(built)

    def publish_events(build_id: str) -> list[tuple]:
        with duckdb.connect(str(built)) as connection:
            publish(
                connection, schema="analytics", relations=["dim_things", "fct_events"],
                target=target, build_id=build_id, scores_as_of=None, built_at=None,
                patched={"fct_events": "lead_id"},
            )
            expected = connection.execute(
                "select * from analytics.fct_events order by all"
            ).fetchall()
        assert _published_rows(target, "fct_events") == expected
        assert _published_rows(target, "dim_things") == _published_rows(
            built, "dim_things"
        )
        return expected

    def change(sql: str) -> None:
        with duckdb.connect(str(built)) as connection:
            connection.execute(sql)

    # The first publication writes it whole (44 rows: 4 of them keyless).
    publish_events("build-1")
    assert _publication_state(target, "fct_events") == (44, 44, 0)
    # Nothing changed: nothing written.
    publish_events("build-2")
    assert _publication_state(target, "fct_events") == (44, 0, 0)
    # One value of k1's rows, a new key, every row of k2 gone: their rows
    # alone are replaced (k1's 4 and k2's 4 deleted; k1's 4 and k99's 1
    # inserted).
    change(
        "update analytics.fct_events set points = points + 0.5 "
        "where lead_id = 'k1' and event = 11; "
        "insert into analytics.fct_events values ('k99', 100, 1); "
        "delete from analytics.fct_events where lead_id = 'k2'"
    )
    publish_events("build-3")
    assert _publication_state(target, "fct_events") == (41, 5, 8)
    # A changed keyless row: the keyless rows are one key.
    change("update analytics.fct_events set points = -1 where event = 41")
    publish_events("build-4")
    assert _publication_state(target, "fct_events") == (41, 4, 12)
    with duckdb.connect(str(target), read_only=True) as connection:
        assert connection.execute(
            "select comment from duckdb_tables() where table_name = 'fct_events'"
        ).fetchone() == ("Events.",)
    # Past a quarter of the rows replaced, the next publication writes the
    # relation whole again, into a new file.
    publish_events("build-5")
    assert _publication_state(target, "fct_events") == (41, 41, 0)
    # A new column: written whole.
    change("alter table analytics.fct_events add column source varchar default 'web'")
    publish_events("build-6")
    assert _publication_state(target, "fct_events") == (41, 41, 0)
    # A patched name that is not published is refused before anything is
    # written: the published file stays as it was, and no other file is
    # left beside it (the build file, opened to publish from, aside).
    def published_files() -> dict[str, int]:
        return {
            path.name: path.stat().st_mtime_ns for path in target.parent.iterdir()
            if not path.name.startswith(built.name)
        }

    files_before = published_files()
    with duckdb.connect(str(built)) as connection:
        with pytest.raises(ValueError, match="patched names fct_other, not among"):
            publish(
                connection, schema="analytics", relations=["fct_events"],
                target=target, build_id="build-7", scores_as_of=None,
                built_at=None, patched={"fct_other": "lead_id"},
            )
    assert published_files() == files_before
    assert _published_build(target) == "build-6"
    # Refused before any file is touched: a target no folder can be made for
    # (its parent would be a file) gives the same error, not an OSError.
    with duckdb.connect(str(built)) as connection:
        with pytest.raises(ValueError, match="patched names fct_other, not among"):
            publish(
                connection, schema="analytics", relations=["fct_events"],
                target=target / "nested.duckdb", build_id="build-7",
                scores_as_of=None, built_at=None, patched={"fct_other": "lead_id"},
            )


def test_the_published_path_can_be_set(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = built.parent / "bi" / "marts.duckdb"
    monkeypatch.setenv("LEAD_SCORING_PUBLISHED_PATH", str(elsewhere))
    assert published_path(built) == elsewhere
    _publish(built, ["dim_things"], "build-1")  # the folder is created
    assert _published_build(elsewhere) == "build-1"


def test_readers_name_a_build_that_has_not_published(built: Path) -> None:
    from lead_scoring.errors import WarehouseError

    with pytest.raises(WarehouseError, match="no published marts at .*build_published"):
        open_reader("duckdb", built)
    with open_reader("duckdb", built, published=False) as reader:
        assert "secrets" in reader.relations("raw")


# ---------------------------------------------------------------- with dbt

def _dbt_build(root: Path, as_of: str) -> subprocess.Popen:
    """A `dbt build` (no unit tests) in a process group of its own."""
    env = {
        **os.environ,
        "LEAD_SCORING_DUCKDB_PATH": str(root / "build.duckdb"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
    }
    env.pop("LEAD_SCORING_PUBLISHED_PATH", None)
    command = [
        str(Path(sys.executable).with_name("dbt")), "build",
        "--project-dir", str(PROJECT_DIR),
        "--target-path", str(root / "target"), "--log-path", str(root / "logs"),
        "--exclude-resource-type", "unit_test",
        "--vars", json.dumps({"as_of": as_of}),
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )


def _built_id(root: Path) -> str:
    """The build id the last build recorded in the build file."""
    with duckdb.connect(str(root / "build.duckdb"), read_only=True) as connection:
        return connection.execute(
            "select build_id from analytics.publication"
        ).fetchone()[0]


@pytest.mark.slow
def _assert_published_as_built(build_file: Path, target: Path) -> None:
    """Every published relation holds the rows of the build's, every column,
    floats included (fct_score_ledger, a view in both, too)."""
    with duckdb.connect(str(build_file), read_only=True) as connection:
        connection.execute(f"attach '{target}' as published (read_only)")
        relations = dict(connection.execute(
            "select relation_name, row_count from published.analytics.publication_relations"
        ).fetchall())
        assert {"fct_score_ledger", "fct_activities", "dim_leads"} <= set(relations)
        assert connection.execute(
            "select table_type from information_schema.tables "
            "where table_catalog = 'published' and table_name = 'fct_score_ledger'"
        ).fetchall() == [("VIEW",)]
        for name, rows in relations.items():
            built = f"analytics.{name}"
            published = f"published.analytics.{name}"
            assert connection.execute(f"select count(*) from {built}").fetchone() == (rows,)
            assert connection.execute(
                f"select count(*) from (select * from {built} except all "
                f"select * from {published})"
            ).fetchone() == (0,), name
            assert connection.execute(
                f"select count(*) from (select * from {published} except all "
                f"select * from {built})"
            ).fetchone() == (0,), name
        assert relations["fct_score_ledger"] > 0
    # Opened alone, as a BI tool opens it: the view reads the file's copies.
    with duckdb.connect(str(target), read_only=True) as connection:
        assert connection.execute(
            "select count(*) from analytics.fct_score_ledger"
        ).fetchone() == (relations["fct_score_ledger"],)
        [(definition,)] = connection.execute(
            "select sql from duckdb_views() where view_name = 'fct_score_ledger'"
        ).fetchall()
        # No relation named with the build's database.
        assert f"{build_file.stem}.analytics" not in definition.replace('"', "")


def test_readers_see_whole_builds_while_builds_run(tmp_path: Path) -> None:
    """Reader processes query the published marts in a loop, checking they
    are one build's, while two builds run back to back (the first on an
    empty warehouse) and a third is killed part-way: no reader error, no
    build error, never a mixed state, and the published build moves only
    after a successful build."""
    raw = tmp_path / "raw"
    generate(raw, leads=120, seed=7, as_of="2026-06-30 23:59:59", dirty_rate=0.05)
    build_file = tmp_path / "build.duckdb"
    load(raw, duckdb_path=str(build_file))
    target = published_path(build_file)

    builds: list[str] = []
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen([
            sys.executable, "-c", READER, str(target), str(stop),
            str(tmp_path / f"reader-{number}.jsonl"), mode,
        ])
        for number, mode in enumerate(["loop", "loop", "loop", "hold"])
    ]
    try:
        for as_of in ("2026-03-31 23:59:59", "2026-06-30 23:59:59"):
            process = _dbt_build(tmp_path, as_of)
            output, _ = process.communicate()
            assert process.returncode == 0, output[-3000:]
            builds.append(_built_id(tmp_path))
            assert _published_build(target) == builds[-1]
        _assert_published_as_built(build_file, target)
        # The second publication started from the first's file and replaced
        # the activities of the leads whose activities changed (as_of moved
        # three months: all of them here; the test above shows a patch that
        # writes less), and its result is the build's (above).
        rows, written, replaced = _publication_state(target, "fct_activities")
        assert written > 0 and replaced > 0, (rows, written, replaced)
        # A third build, killed once it has built some models and before it
        # publishes: the published file stays exactly as it was.
        before = _digest(target)
        doomed = _dbt_build(tmp_path, "2026-05-31 23:59:59")
        seen = []
        for line in doomed.stdout:
            seen.append(line)
            if sum(" OK created " in line for line in seen) >= 5:
                break
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait()
        assert not any("publication" in line for line in seen), "".join(seen)
        assert _digest(target) == before
        assert _published_build(target) == builds[-1]
        time.sleep(1)  # the readers read the last publication a few times
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)

    assert len(set(builds)) == 2
    for number in range(len(readers)):
        lines = (tmp_path / f"reader-{number}.jsonl").read_text().splitlines()
        seen_ids = [json.loads(line).get("build_id") for line in lines]
        errors = [line for line in lines if '"error"' in line or '"problems": ["' in line]
        assert errors == [], errors[:5]
        published = [build for build in seen_ids if build is not None]
        assert len(published) > 20
        if number == 3:
            # A reader that stays connected keeps its build, whole.
            assert set(published) == {builds[0]}
            continue
        assert set(published) <= set(builds)
        # Nothing, then the builds in the order they were published, each
        # as one run of lines: never back to an earlier state.
        runs = [build for index, build in enumerate(seen_ids)
                if index == 0 or build != seen_ids[index - 1]]
        order = [None, *builds]
        assert runs == sorted(runs, key=order.index)
        assert runs[-1] == builds[-1]
    # Between them the looping readers saw every published build.
    every = {
        json.loads(line)["build_id"]
        for number in range(3)
        for line in (tmp_path / f"reader-{number}.jsonl").read_text().splitlines()
    }
    assert every == {None, *builds}
    # The tools read what the readers read.
    text = summary(build_file, target="duckdb")
    assert f"warehouse {target}" in text
    assert f"by build {builds[-1]}" in text
