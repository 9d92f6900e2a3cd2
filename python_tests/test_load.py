"""Tests of the raw loader (lead_scoring.warehouse.load), the summary and the CLI."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from lead_scoring.cli import main
from lead_scoring.contract import RAW_TABLES
from lead_scoring.warehouse.engines import EngineError
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import ENV_DUCKDB_PATH, LoadError, load
from lead_scoring.warehouse.summary import summary


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, dict]:
    """A small generated Parquet data set (do not modify: copy it)."""
    folder = tmp_path_factory.mktemp("raw")
    return folder, generate(folder, leads=200, activities_per_lead=5, seed=1)


@pytest.fixture
def folder(source, tmp_path) -> Path:
    """A private copy of the generated data set."""
    copy = tmp_path / "raw"
    shutil.copytree(source[0], copy)
    return copy


@pytest.fixture
def db(tmp_path) -> Path:
    """Path of a fresh DuckDB file."""
    return tmp_path / "warehouse" / "test.duckdb"


def counts(path: Path, schema: str = "raw") -> dict[str, int]:
    """Rows per raw table in a DuckDB file."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            table: connection.execute(
                f"select count(*) from {schema}.{table}"
            ).fetchone()[0]
            for table in RAW_TABLES
        }


def columns(path: Path, table: str) -> list[tuple[str, str]]:
    """(name, type) of a raw table's columns."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()


def to_csv(folder: Path, table: str) -> Path:
    """Replace <table>.parquet with <table>.csv of the same rows."""
    parquet = folder / f"{table}.parquet"
    target = folder / f"{table}.csv"
    pa_csv.write_csv(pq.read_table(parquet), target)
    parquet.unlink()
    return target


def test_round_trip_counts_and_columns(source, db):
    folder, manifest = source
    progress: list[str] = []
    rows = load(folder, duckdb_path=db, progress=progress.append)
    assert rows == manifest["rows"]
    assert counts(db) == manifest["rows"]
    for table, names in RAW_TABLES.items():
        assert columns(db, table) == [(name, "VARCHAR") for name in names] + [
            ("_loaded_at", "TIMESTAMP")
        ]
    assert any("staged raw.activities" in line for line in progress)
    with duckdb.connect(str(db), read_only=True) as connection:
        loaded = connection.execute(
            "select * exclude (_loaded_at) from raw.leads order by all"
        ).fetchall()
        markers = connection.execute(
            "select distinct _loaded_at from raw.activities"
        ).fetchall()
    written = pq.read_table(folder / "leads.parquet").to_pylist()
    assert Counter(loaded) == Counter(tuple(row.values()) for row in written)
    # One marker for the whole load: its time (UTC), to the microsecond.
    assert len(markers) == 1
    age = datetime.now(timezone.utc).replace(tzinfo=None) - markers[0][0]
    assert timedelta(0) <= age < timedelta(minutes=5)


def test_load_marker_is_given_or_kept_and_added_to_older_tables(folder, db):
    load(folder, duckdb_path=db, loaded_at="2026-07-01 06:00:00")
    with duckdb.connect(str(db)) as connection:
        # A raw table written before load markers existed.
        connection.execute("alter table raw.leads drop column _loaded_at")
    load(folder, duckdb_path=db, mode="append", loaded_at="2026-07-02T06:00:00+02:00")
    with duckdb.connect(str(db), read_only=True) as connection:
        leads = connection.execute(
            "select _loaded_at, count(*) from raw.leads group by all order by all"
        ).fetchall()
        activities = connection.execute(
            "select _loaded_at, count(*) from raw.activities group by all order by all"
        ).fetchall()
    half = counts(db)["leads"] // 2
    assert leads == [(datetime(2026, 7, 2, 4, 0), half), (None, half)]
    assert [marker for marker, _ in activities] == [
        datetime(2026, 7, 1, 6, 0), datetime(2026, 7, 2, 4, 0),
    ]
    with pytest.raises(LoadError, match="--loaded-at 'yesterday' is not a date"):
        load(folder, duckdb_path=db, loaded_at="yesterday")


def test_csv_with_junk_values_loads_as_text(folder, db):
    path = to_csv(folder, "leads")
    text = path.read_text().splitlines()
    header = text[0].split(",")
    position = header.index('"employee_count"')
    first = text[1].split('","')
    first[position] = "1,200"
    text[1] = '","'.join(first)
    text.append(
        ",".join('"007"' if name == '"employee_count"' else '"x"' for name in header)
    )
    path.write_text("\n".join(text) + "\n")
    load(folder, duckdb_path=db)
    assert ("employee_count", "VARCHAR") in columns(db, "leads")
    with duckdb.connect(str(db), read_only=True) as connection:
        rows = connection.execute("select employee_count from raw.leads").fetchall()
    values = {row[0] for row in rows}
    assert {"1,200", "007"} <= values


def test_header_names_match_case_insensitively_and_extras_are_kept(folder, db):
    table = pq.read_table(folder / "opportunities.parquet")
    renamed = table.rename_columns([f" {name.upper()} " for name in table.column_names])
    renamed = renamed.append_column("Source_System", pa.array(["crm"] * len(table)))
    (folder / "opportunities.parquet").unlink()
    pa_csv.write_csv(renamed, folder / "opportunities.csv")
    load(folder, duckdb_path=db)
    names = [name for name, _ in columns(db, "opportunities")]
    assert names == list(RAW_TABLES["opportunities"]) + ["Source_System", "_loaded_at"]
    assert counts(db)["opportunities"] == len(table)


def test_folder_of_parts_is_one_table(folder, db):
    activities = pq.read_table(folder / "activities.parquet")
    (folder / "activities.parquet").unlink()
    parts = folder / "activities"
    parts.mkdir()
    half = len(activities) // 2
    pq.write_table(activities.slice(0, half), parts / "part-00000.parquet")
    pa_csv.write_csv(activities.slice(half), parts / "part-00001.csv")
    (parts / "_SUCCESS").write_text("")
    rows = load(folder, duckdb_path=db)
    assert rows["activities"] == len(activities) == counts(db)["activities"]


def test_missing_table_file_names_what_was_looked_for(folder, db):
    (folder / "opportunities.parquet").unlink()
    with pytest.raises(LoadError) as error:
        load(folder, duckdb_path=db)
    message = str(error.value)
    assert "opportunities.parquet" in message and "opportunities.csv" in message
    assert str(folder) in message
    assert not db.exists()


def test_missing_column_names_the_file_and_column(folder, db):
    leads = pq.read_table(folder / "leads.parquet").drop_columns(["email", "owner_id"])
    (folder / "leads.parquet").unlink()
    pa_csv.write_csv(leads, folder / "leads.csv")
    with pytest.raises(LoadError) as error:
        load(folder, duckdb_path=db)
    message = str(error.value)
    assert str(folder / "leads.csv") in message
    assert "email" in message and "owner_id" in message


def test_corrupt_parquet_names_the_file(folder, db):
    (folder / "activities.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(LoadError) as error:
        load(folder, duckdb_path=db)
    assert str(folder / "activities.parquet") in str(error.value)


def test_two_files_for_one_table_are_ambiguous(folder, db):
    pa_csv.write_csv(pq.read_table(folder / "leads.parquet"), folder / "leads.csv")
    with pytest.raises(LoadError, match="ambiguous"):
        load(folder, duckdb_path=db)


def test_failed_load_leaves_existing_tables_unchanged(source, folder, db):
    _, manifest = source
    load(folder, duckdb_path=db)
    before = counts(db)
    # a data error found only while writing: a CSV row with too many fields,
    # in the last table, after the other tables were already replaced
    generate(folder / "other", leads=50, activities_per_lead=3, seed=9)
    spend = to_csv(folder / "other", "marketing_spend")
    with open(spend, "a") as handle:
        handle.write('"2026-01-01","paid_search","cmp-ps-brand","1.00","extra"\n')
    progress: list[str] = []
    with pytest.raises(LoadError) as error:
        # (50 leads have no opportunity: that table is empty on purpose)
        load(folder / "other", duckdb_path=db, progress=progress.append,
             allow_empty=True)
    assert "marketing_spend" in str(error.value)
    # the tables written before the failure were staged, never called loaded
    assert any(line.startswith("staged raw.leads") for line in progress)
    assert not any("loaded" in line or "committed" in line for line in progress)
    assert counts(db) == before == manifest["rows"]
    # a planning error (missing column) does not touch the tables either
    (folder / "other" / "leads.parquet").unlink()
    pa_csv.write_csv(pa.table({"lead_id": ["L1"]}), folder / "other" / "leads.csv")
    with pytest.raises(LoadError):
        load(folder / "other", duckdb_path=db, mode="append")
    assert counts(db) == before


def test_append_adds_rows(source, db):
    folder, manifest = source
    load(folder, duckdb_path=db)
    added = load(folder, duckdb_path=db, mode="append")
    assert added == manifest["rows"]
    assert counts(db) == {table: 2 * rows for table, rows in manifest["rows"].items()}


def test_append_needs_existing_tables(source, db):
    with pytest.raises(LoadError, match="does not exist"):
        load(source[0], duckdb_path=db, mode="append")


def test_raw_schema_and_env_path(source, tmp_path, monkeypatch):
    path = tmp_path / "from_env" / "w.duckdb"
    monkeypatch.setenv(ENV_DUCKDB_PATH, str(path))
    load(source[0], raw_schema="landing")
    assert counts(path, schema="landing") == source[1]["rows"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"target": "oracle"}, "unknown target 'oracle'"),
        ({"mode": "merge"}, "unknown mode 'merge'"),
    ],
)
def test_unknown_target_or_mode(source, db, arguments, message):
    with pytest.raises(LoadError, match=message):
        load(source[0], duckdb_path=db, **arguments)


def test_unreachable_postgres_says_what_to_do(source, monkeypatch):
    """No server (or no driver): a clear error naming the way out."""
    monkeypatch.setenv("LEAD_SCORING_PG_HOST", "127.0.0.1")
    monkeypatch.setenv("LEAD_SCORING_PG_PORT", "9")  # discard port: refused
    with pytest.raises(EngineError) as caught:
        load(source[0], target="postgres")
    message = str(caught.value)
    assert "127.0.0.1:9" in message or "psycopg2" in message
    assert caught.value.hint


def test_summary_reports_layers_and_rejections(source, db):
    load(source[0], duckdb_path=db)
    with duckdb.connect(str(db)) as connection:
        connection.execute("create schema analytics")
        connection.execute("create table analytics.stg_leads as select 1 as x")
        connection.execute("create view analytics.base_leads as select 1 as x")
        connection.execute("create table analytics.dim_leads as select 1 as x")
        connection.execute(
            "create table analytics.fct_rejected_rows as select * from (values "
            "('activities', 'duplicate'), ('activities', 'duplicate'), "
            "('leads', 'erased')) as t(source_table, rejection_reason)"
        )
    report = summary(db)
    lines = report.splitlines()
    activities = source[1]["rows"]["activities"]
    assert any(line.split() == ["activities", f"{activities:,}"] for line in lines)
    staging = lines.index("  staging")
    assert lines[staging + 1].split() == ["base_leads", "1"]
    assert lines[staging + 2].split() == ["stg_leads", "1"]
    assert "  dimensions" in lines and "  facts" in lines
    assert any(line.split() == ["activities", "/", "duplicate", "2"] for line in lines)
    assert any(line.split() == ["total", "3"] for line in lines)


def test_cli_generate_load_summary(tmp_path, capsys):
    data, db_path = tmp_path / "data", tmp_path / "w.duckdb"
    assert main(["generate", "--out", str(data), "--leads", "60",
                 "--activities-per-lead", "3", "--format", "csv"]) == 0
    assert (data / "leads.csv").exists()
    # 60 leads may have no opportunity yet: an empty table is allowed
    assert main(["load", "--from", str(data), "--duckdb-path", str(db_path),
                 "--allow-empty"]) == 0
    assert main(["summary", "--duckdb-path", str(db_path)]) == 0
    captured = capsys.readouterr()
    assert "raw tables (schema raw)" in captured.out
    assert "staged raw.leads" in captured.err


def test_cli_errors_exit_2_without_traceback(tmp_path, capsys):
    assert main(["load", "--from", str(tmp_path / "nowhere"),
                 "--duckdb-path", str(tmp_path / "w.duckdb")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: source folder")
    assert "hint:" in error and "Traceback" not in error
    assert main(["summary", "--duckdb-path", str(tmp_path / "none.duckdb")]) == 2
    assert capsys.readouterr().err.startswith("error: no DuckDB warehouse")


def test_cli_load_reports_progress_from_check_to_commit(folder, db, capsys):
    assert main(["load", "--from", str(folder), "--duckdb-path", str(db)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"checked {len(RAW_TABLES)} files in {folder} (")
    assert lines[1] == f"writing {len(RAW_TABLES)} tables into {db} (replace)"
    assert [line.split(":")[0] for line in lines[2:-1]] == [
        f"staged raw.{table}" for table in RAW_TABLES
    ]
    total = sum(counts(db).values())
    assert lines[-1].startswith(f"committed {total:,} rows (")


@pytest.mark.parametrize(
    ("arguments", "message", "hint"),
    [
        (["--target", "oracle"], "error: unknown target 'oracle'",
         "hint: use --target duckdb, postgres or spark"),
        (["--raw-schema", " "], "error: raw schema name is empty",
         "hint: pass --raw-schema NAME"),
    ],
)
def test_cli_load_errors_say_what_to_do(folder, db, capsys, arguments, message, hint):
    argv = ["load", "--from", str(folder), "--duckdb-path", str(db), *arguments]
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(message)
    assert lines[1].startswith(hint)
    assert not db.exists()


def test_cli_load_names_a_locked_warehouse(folder, db, capsys):
    assert main(["load", "--from", str(folder), "--duckdb-path", str(db)]) == 0
    capsys.readouterr()
    # a read-only connection of this process stands in for a program holding
    # the file: DuckDB refuses the loader's read-write connection
    with duckdb.connect(str(db), read_only=True):
        assert main(["load", "--from", str(folder), "--duckdb-path", str(db)]) == 2
    error = capsys.readouterr().err
    assert f"error: cannot open DuckDB database {db}" in error
    assert "hint: close other programs using it (dbt, a notebook)" in error


def test_header_only_file_is_refused_unless_allowed(folder, db, capsys):
    """A header-only export would silently empty the table on replace."""
    load(folder, duckdb_path=db)
    before = counts(db)
    (folder / "opportunities.parquet").unlink()
    (folder / "opportunities.csv").write_text(",".join(RAW_TABLES["opportunities"]) + "\n\n")
    with pytest.raises(LoadError) as error:
        load(folder, duckdb_path=db)
    assert "no rows below the header for table(s) opportunities" in str(error.value)
    assert str(folder / "opportunities.csv") in str(error.value)
    assert "--allow-empty" in error.value.hint
    assert counts(db) == before
    # on the command line: exit 2, the same message, nothing written
    assert main(["load", "--from", str(folder), "--duckdb-path", str(db)]) == 2
    assert "no rows below the header" in capsys.readouterr().err
    assert counts(db) == before
    # appending an empty delivery adds nothing and is fine
    load(folder, duckdb_path=db, mode="append")
    assert counts(db)["opportunities"] == before["opportunities"]
    # allowed: the table is replaced with no rows
    assert main(["load", "--from", str(folder), "--duckdb-path", str(db),
                 "--allow-empty"]) == 0
    assert counts(db)["opportunities"] == 0


def test_empty_parquet_file_is_refused_too(folder, db):
    empty = pa.table({name: pa.array([], pa.string()) for name in RAW_TABLES["leads"]})
    (folder / "leads.parquet").unlink()
    pq.write_table(empty, folder / "leads.parquet")
    with pytest.raises(LoadError, match="no rows below the header for table"):
        load(folder, duckdb_path=db)
    assert not db.exists()


def test_future_load_marker_is_refused(folder, db):
    """A marker after the next load's would hide that load from incremental
    builds."""
    with pytest.raises(LoadError) as error:
        load(folder, duckdb_path=db, loaded_at="2999-01-01 00:00:00")
    assert "is in the future" in str(error.value)
    assert not db.exists()
    in_an_hour = datetime.now(timezone.utc) + timedelta(hours=1)
    with pytest.raises(LoadError, match="is in the future"):
        load(folder, duckdb_path=db, loaded_at=in_an_hour.isoformat())


def test_a_file_passed_as_from_is_named(folder, db, capsys):
    assert main(["load", "--from", str(folder / "leads.parquet"),
                 "--duckdb-path", str(db)]) == 2
    error = capsys.readouterr().err
    assert f"error: --from takes a folder, and {folder / 'leads.parquet'} is a file" in error
    assert "hint: put the files of the raw tables" in error
