"""Same models, three engines: DuckDB, PostgreSQL and Spark build equal marts.

One generated data set with dirt (400 leads, seed 11), plus three years of
daily activity for a few leads, is loaded with
`lead_scoring.load.load(target=...)` and built with `dbt build` on each
engine, with the default rules plus adversarial ones (ADVERSARIAL_RULES:
half-lives from 0.05 days to ten years, caps, rule ids and values holding
quotes, backslashes, %, --, non-ASCII text and SQL fragments); every mart of
models/marts is then compared row by row, ordered by its key (the columns
its unique test names): numbers to 1e-9 relative, timestamps to the second,
everything else exactly. PostgreSQL builds twice: the two builds' marts are
identical (`except all` both ways, every column, floats included).

The Spark comparison is in test_engines_spark.py (same data, rules and
comparison), so that it can run beside this module.

PostgreSQL needs the `postgres` extra and a server (LEAD_SCORING_PG_* or
127.0.0.1:5432, database test); Spark needs the `spark` extra and Java 17.
Without them these tests skip with a message saying how to enable them;
with LEAD_SCORING_REQUIRE_ALL=1 (as in CI) they fail instead. Every run uses
schemas of its own (ls_<random>...), dropped afterwards.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from dbt.cli.main import dbtRunner

from conftest import PROJECT_DIR, copy_project, failure_summary
from lead_scoring.warehouse import engines
from lead_scoring.cli import main
from lead_scoring.contract import RAW_TABLES
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import LoadError, load

pytestmark = pytest.mark.slow

AS_OF = "2026-06-30 23:59:59"
LEADS = 400
SEED = 11
MARTS_YML = PROJECT_DIR / "models" / "marts" / "_marts__models.yml"
RAW = "raw."  # key prefix of the raw tables among the fetched relations
ENGINE_ENV = (
    "LEAD_SCORING_TARGET", "LEAD_SCORING_SCHEMA", "LEAD_SCORING_DUCKDB_PATH",
    "LEAD_SCORING_SPARK_DIR",
)


def unavailable(message: str) -> None:
    """Skip with `message`, or fail when LEAD_SCORING_REQUIRE_ALL=1 (CI)."""
    if os.environ.get("LEAD_SCORING_REQUIRE_ALL") == "1":
        pytest.fail(message + " (LEAD_SCORING_REQUIRE_ALL=1 makes it mandatory)")
    pytest.skip(message)


def mart_keys() -> dict[str, list[str]]:
    """Each mart and the columns of its unique test (its key)."""
    models = yaml.safe_load(MARTS_YML.read_text())["models"]
    keys: dict[str, list[str]] = {}
    for model in models:
        for test in model.get("data_tests") or []:
            if isinstance(test, dict):
                for name, config in test.items():
                    if name.endswith("unique_combination_of_columns"):
                        keys[model["name"]] = list(
                            config["arguments"]["combination_of_columns"]
                        )
        for column in model["columns"]:
            tests = column.get("data_tests") or []
            if any(test == "unique" or (isinstance(test, dict) and "unique" in test)
                   for test in tests):
                keys[model["name"]] = [column["name"]]
    return keys


# Marts whose key is not tested on the mart itself (see
# test_project_conventions.NO_PRIMARY_KEY_ALLOWED), and their key.
UNTESTED_KEYS = {
    "fct_score_ledger": ["ledger_entry_id"],
    "fct_activities": ["activity_id"],
}
MART_KEYS = {**UNTESTED_KEYS, **mart_keys()}


def test_every_mart_has_a_key() -> None:
    """The comparison covers every model in models/marts."""
    on_disk = {path.stem for path in (PROJECT_DIR / "models" / "marts").glob("*.sql")}
    assert on_disk == set(MART_KEYS)


# ------------------------------------------------------------------ builds


# Rules added to the default rule file for the engine comparison: any valid
# rule file must give the same marts everywhere. Half-lives of an hour and a
# few hours over three years of history (decayed weights far beyond a
# double's range without the chunked sums), ten years, caps met exactly,
# and rule ids and values no SQL text may be built from.
ADVERSARIAL_RULES = [
    ("adv_clicks_hourly", "engagement", "activity_type", "equals",
     "email_click", "6", "9", "0.05"),
    ("adv_pages_hours", "engagement", "activity_type", "in",
     "product_page_view|pricing_page_view", "2", "", "0.2"),
    ("adv_downloads_decade", "engagement", "activity_type", "equals",
     "content_download", "5", "40", "3650"),
    ("adv_bounce_exact_cap", "negative", "activity_type", "equals",
     "email_bounce", "-7", "7", ""),
    ("o'reilly \\ 100% -- ünïcødé", "fit", "industry", "contains",
     "soft'ware|software|%|--", "3", "", ""),
    ("x') or ('1'='1", "engagement", "activity_type", "equals",
     "email_open' or '1'='1", "50", "", ""),
    ("q\"uote; drop table leads; --", "negative", "country_code", "in",
     "US|'; delete from leads; --", "-2", "", ""),
]
HISTORY_LEADS = 12


def engine_project(destination: Path) -> Path:
    """A private copy of the project whose rule file adds ADVERSARIAL_RULES."""
    copy_project(destination)
    rules = destination / "seeds" / "scoring_rules.csv"
    with open(rules, "a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for rule_id, category, field, operator, value, points, cap, half_life in (
            ADVERSARIAL_RULES
        ):
            writer.writerow([
                rule_id, category, field, operator, value, points, cap,
                half_life, "true", "adversarial rule of the engine comparison",
            ])
    return destination


def run_dbt(root: Path, target: str, schema: str, raw_schema: str,
            project: Path = PROJECT_DIR) -> None:
    """`dbt build` of the project on `target`; fails the test if it fails."""
    os.environ["LEAD_SCORING_SCHEMA"] = schema
    result = dbtRunner().invoke([
        "build",
        "--target", target,
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(root / f"target_{target}"),
        "--log-path", str(root / "logs"),
        "--vars", json.dumps({"as_of": AS_OF, "raw_schema": raw_schema}),
    ])
    assert result.success, f"dbt build on {target} failed: {failure_summary(result)}"


@pytest.fixture(scope="module")
def engine_env() -> Iterator[None]:
    """Restore the environment variables the builds set."""
    saved = {name: os.environ.get(name) for name in ENGINE_ENV}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return engine_project(Path(tmp_path_factory.mktemp("engines_project")) / "project")


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated raw data set, as CSV (every value text, with dirt), and
    three years of activity every 30 hours for a few leads: e-mail clicks
    (a half-life of 0.05 days), page views (0.2 days), downloads (ten
    years) and a demo request near the end, some in the same second."""
    folder = Path(tmp_path_factory.mktemp("engines_raw"))
    generate(
        folder, leads=LEADS, seed=SEED, dirty_rate=0.05, fmt="csv", as_of=AS_OF,
        activities_per_lead=20,
    )
    with open(folder / "leads.csv", newline="") as handle:
        lead_ids = sorted({
            row["lead_id"].strip() for row in csv.DictReader(handle)
            if row["lead_id"] and row["lead_id"].strip()
        })[:HISTORY_LEADS]
    end = dt.datetime.strptime(AS_OF, "%Y-%m-%d %H:%M:%S")
    start = end - dt.timedelta(days=3 * 365)
    types = ["email_click", "page_view", "content_download", "email_click"]
    columns = RAW_TABLES["activities"]
    with open(folder / "activities.csv", "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        for lead_number, lead_id in enumerate(lead_ids):
            moment = start + dt.timedelta(hours=lead_number)
            step = 0
            while moment < end:
                kind = types[step % len(types)]
                for copy in range(1 + (step % 7 == 0)):  # some same-second pairs
                    writer.writerow({
                        "activity_id": f"H{lead_number}-{step}-{copy}",
                        "lead_id": lead_id,
                        "activity_type": kind,
                        "url": "https://example.com/product/tour" if kind == "page_view" else "",
                        "asset": "",
                        "campaign_id": "",
                        "occurred_at": moment.strftime("%Y-%m-%d %H:%M:%S"),
                    })
                moment += dt.timedelta(hours=30)
                step += 1
            writer.writerow({
                "activity_id": f"H{lead_number}-demo", "lead_id": lead_id,
                "activity_type": "demo_request", "url": "", "asset": "",
                "campaign_id": "",
                "occurred_at": (end - dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"),
            })
    return folder


@pytest.fixture(scope="module")
def run_id() -> str:
    """A schema prefix of this run, so parallel runs do not collide."""
    return "ls_" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def duckdb_warehouse(
    raw_dir: Path, project: Path, tmp_path_factory: pytest.TempPathFactory,
    engine_env: None,
) -> Path:
    """The DuckDB build of the data set: the file (schemas raw, analytics)."""
    root = Path(tmp_path_factory.mktemp("engines_duckdb"))
    path = root / "warehouse.duckdb"
    os.environ["LEAD_SCORING_DUCKDB_PATH"] = str(path)
    load(raw_dir, duckdb_path=path)
    run_dbt(root, "duckdb", "analytics", "raw", project)
    return path


@pytest.fixture(scope="module")
def duckdb_marts(duckdb_warehouse: Path) -> dict[str, list[dict[str, Any]]]:
    with duckdb.connect(str(duckdb_warehouse)) as connection:
        marts = {
            mart: fetch_dicts(connection.execute(f"select * from analytics.{mart}"))
            for mart in MART_KEYS
        }
        for table in RAW_TABLES:
            marts[RAW + table] = fetch_dicts(
                connection.execute(f"select * from raw.{table}")
            )
        marts["slot_groups"] = fetch_dicts(connection.execute(
            "select * from analytics.int_scoring_slot_groups"
        ))
        marts["ledger_rules"] = fetch_dicts(connection.execute(
            "select rule_id, count(*) as firings from analytics.fct_score_ledger "
            "group by rule_id"
        ))
        return marts


def fetch_dicts(cursor: Any) -> list[dict[str, Any]]:
    """All rows of an executed DB-API cursor as dicts."""
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def postgres_connection() -> Any:
    """A connection to the test server; skip (or fail in CI) without one."""
    try:
        import psycopg2  # noqa: F401
        import dbt.adapters.postgres  # noqa: F401
    except ImportError:
        unavailable(
            'PostgreSQL tests need the postgres extra: pip install -e ".[postgres]"'
        )
    try:
        return engines.postgres_connect()
    except engines.EngineError as exc:
        unavailable(
            f"{exc}; start PostgreSQL (e.g. pg_ctlcluster <version> main start) "
            "or point LEAD_SCORING_PG_HOST/_PORT/_USER/_PASSWORD/_DATABASE at one"
        )


def postgres_differences(
    cursor: Any, left: str, right: str, relations: list[str],
    where: dict[str, str] | None = None,
) -> list[str]:
    """What the relations of schema `left` and schema `right` of PostgreSQL
    differ by: `except all` both ways over every column but the build state
    (columns starting with _), floats included; rows filtered by `where`
    (per relation) on both sides. One line per relation and direction that
    has extra rows; none when they are identical."""
    found = []
    for relation in relations:
        cursor.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (left, relation),
        )
        columns = ", ".join(
            f'"{name}"' for (name,) in cursor.fetchall() if not name.startswith("_")
        )
        assert columns, f"{left}.{relation} does not exist"
        condition = (where or {}).get(relation, "true")
        for one, other in ((left, right), (right, left)):
            cursor.execute(
                f'select count(*) from (select {columns} from "{one}"."{relation}" '
                f'where {condition} except all select {columns} '
                f'from "{other}"."{relation}" where {condition}) as extra'
            )
            extra = cursor.fetchone()[0]
            if extra:
                found.append(f"{relation}: {extra} rows of {one} not in {other}")
    return found


@pytest.fixture(scope="module")
def postgres_marts(
    raw_dir: Path, project: Path, tmp_path_factory: pytest.TempPathFactory,
    run_id: str, engine_env: None,
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """The marts of a PostgreSQL build, and under "rebuild differences" what
    a second build of the same raw rows into other schemas differs by
    (`except all` both ways, per mart: should be nothing)."""
    connection = postgres_connection()
    schema, raw_schema, again = run_id, run_id + "_raw", run_id + "_again"
    root = Path(tmp_path_factory.mktemp("engines_postgres"))
    try:
        load(raw_dir, target="postgres", raw_schema=raw_schema)
        run_dbt(root, "postgres", schema, raw_schema, project)
        run_dbt(root, "postgres", again, raw_schema, project)
        marts = {}
        with connection.cursor() as cursor:
            for mart in MART_KEYS:
                cursor.execute(f'select * from "{schema}"."{mart}"')
                marts[mart] = fetch_dicts(cursor)
            for table in RAW_TABLES:
                cursor.execute(f'select * from "{raw_schema}"."{table}"')
                marts[RAW + table] = fetch_dicts(cursor)
            marts["rebuild differences"] = postgres_differences(
                cursor, schema, again, list(MART_KEYS)
            )
        connection.rollback()
        yield marts
    finally:
        connection.rollback()
        with connection.cursor() as cursor:
            for name in (schema, schema + "_restricted", again,
                         again + "_restricted", raw_schema):
                cursor.execute(f'drop schema if exists "{name}" cascade')
        connection.commit()
        connection.close()


@pytest.fixture
def pg_connection() -> Iterator[Any]:
    """A psycopg2 connection to the test server (skip or fail without one)."""
    connection = postgres_connection()
    yield connection
    connection.close()


def test_postgres_load_appends_and_a_failed_load_writes_nothing(
    raw_dir: Path, tmp_path: Path, pg_connection: Any, run_id: str
) -> None:
    schema = run_id + "_append"

    def counts() -> dict[str, int]:
        found = {}
        with pg_connection.cursor() as cursor:
            for table in RAW_TABLES:
                cursor.execute(f'select count(*) from "{schema}"."{table}"')
                found[table] = cursor.fetchone()[0]
        pg_connection.rollback()
        return found

    try:
        first = load(raw_dir, target="postgres", raw_schema=schema)
        assert counts() == first
        assert load(raw_dir, target="postgres", raw_schema=schema, mode="append") == first
        doubled = {table: 2 * rows for table, rows in first.items()}
        assert counts() == doubled
        # The last table breaks while COPY runs: the five before it were
        # already written in the transaction, and are rolled back.
        broken = tmp_path / "broken"
        shutil.copytree(raw_dir, broken)
        with open(broken / "marketing_spend.csv", "a") as handle:
            handle.write('2026-01-01,"never closed,c1,5\n')
        with pytest.raises(LoadError, match="marketing_spend"):
            load(broken, target="postgres", raw_schema=schema)
        assert counts() == doubled
    finally:
        with pg_connection.cursor() as cursor:
            cursor.execute(f'drop schema if exists "{schema}" cascade')
        pg_connection.commit()


def test_cli_loads_into_postgres(
    raw_dir: Path, pg_connection: Any, run_id: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`lead-scoring load --target postgres` says where the rows went."""
    schema = run_id + "_cli"
    try:
        assert main(["load", "--target", "postgres", "--raw-schema", schema,
                     "--from", str(raw_dir)]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith(f"loaded into {schema} in PostgreSQL ")
        with pg_connection.cursor() as cursor:
            cursor.execute(f'select count(*) from "{schema}"."leads"')
            leads = cursor.fetchone()[0]
        assert out[1].split() == ["leads", f"{leads:,}", "rows"]
    finally:
        pg_connection.rollback()
        with pg_connection.cursor() as cursor:
            cursor.execute(f'drop schema if exists "{schema}" cascade')
        pg_connection.commit()


# ------------------------------------------------------------- comparison


def normal(value: Any) -> Any:
    """A value in a comparable form: numbers as float, timestamps as text to
    the second, dates as ISO text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# Columns that say when a build wrote the row, or when the raw rows it read
# were loaded: they differ between builds and loads.
BUILD_TIME_COLUMNS = {"_recomputed_at", "_built_at", "_invocation_id",
                      "newest_loaded_at"}


def same(left: Any, right: Any) -> bool:
    """Equal, numbers within 1e-9 relative (NaN equals NaN)."""
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)
    return left == right


def keyed(rows: list[dict[str, Any]], key: list[str]) -> dict[tuple, dict[str, Any]]:
    """Rows by key, values normalised; the key must be unique."""
    out = {}
    for row in rows:
        values = {name: normal(value) for name, value in row.items()}
        out[tuple(values[name] for name in key)] = values
    assert len(out) == len(rows), f"key {key} is not unique"
    return out


def differences(
    mart: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> list[str]:
    """Every difference between two builds of one mart, as readable lines."""
    key = MART_KEYS[mart]
    left, right = keyed(expected, key), keyed(actual, key)
    problems = []
    if expected and actual and set(expected[0]) != set(actual[0]):
        problems.append(f"columns differ: {sorted(expected[0])} vs {sorted(actual[0])}")
        return problems
    for missing in sorted(set(left) - set(right), key=str)[:5]:
        problems.append(f"row {missing} missing")
    for extra in sorted(set(right) - set(left), key=str)[:5]:
        problems.append(f"row {extra} not expected")
    for row_key in sorted(set(left) & set(right), key=str):
        for column, value in left[row_key].items():
            if column in BUILD_TIME_COLUMNS:
                continue
            if not same(value, right[row_key][column]):
                problems.append(
                    f"row {row_key} {column}: {value!r} vs {right[row_key][column]!r}"
                )
    return problems


def assert_same_marts(
    engine: str,
    expected: dict[str, list[dict[str, Any]]],
    actual: dict[str, list[dict[str, Any]]],
) -> None:
    """Every mart equal row by row, or one message listing the differences."""
    report = []
    for mart in MART_KEYS:
        found = differences(mart, expected[mart], actual[mart])
        if found:
            report.append(f"{mart}: {len(found)} difference(s)")
            report.extend("  " + line for line in found[:10])
    assert not report, f"{engine} differs from DuckDB:\n" + "\n".join(report)


def assert_same_raw(
    engine: str,
    expected: dict[str, list[dict[str, Any]]],
    actual: dict[str, list[dict[str, Any]]],
) -> None:
    """Every raw table holds the same text values (null and '' kept apart).

    The load marker _loaded_at is the time of each load, so it differs
    between the engines' loads; it must be set on every row."""
    for table in RAW_TABLES:
        def rows(found: list[dict[str, Any]]) -> list[tuple]:
            assert all(row["_loaded_at"] is not None for row in found), table
            return sorted(
                tuple(
                    (value is None, value or "")
                    for name, value in row.items() if name != "_loaded_at"
                )
                for row in found
            )

        left, right = expected[RAW + table], actual[RAW + table]
        assert left and list(left[0]) == list(right[0]), table
        assert rows(left) == rows(right), f"{engine} loaded {table} differently"


def test_comparison_sees_a_difference(
    duckdb_marts: dict[str, list[dict[str, Any]]],
) -> None:
    """The comparison itself: a changed score, a lost row and a timestamp off
    by a second are found; float noise and sub-second parts are not."""
    leads = [dict(row) for row in duckdb_marts["dim_leads"]]
    assert len(leads) > 300
    assert differences("dim_leads", duckdb_marts["dim_leads"], leads) == []
    leads[0]["lead_score"] = float(leads[0]["lead_score"]) * (1 + 1e-12)
    assert differences("dim_leads", duckdb_marts["dim_leads"], leads) == []
    leads[0]["lead_score"] = float(leads[0]["lead_score"]) + 0.001
    leads[1]["created_at"] = leads[1]["created_at"] + dt.timedelta(seconds=1)
    found = differences("dim_leads", duckdb_marts["dim_leads"], leads[:-1])
    assert len(found) == 3, found


def test_generated_build_has_every_kind_of_row(
    duckdb_marts: dict[str, list[dict[str, Any]]],
) -> None:
    """The data set exercises what the engines must agree on: rejections of
    each reason, MQL events of both paths, resets, decay, funnel rows."""
    reasons = {row["rejection_reason"] for row in duckdb_marts["fct_rejected_rows"]}
    assert {"erased", "duplicate", "orphan_lead", "unparseable_timestamp",
            "future_dated", "missing_key", "invalid_amount"} <= reasons
    paths = {row["qualification_path"] for row in duckdb_marts["fct_mql_events"]}
    assert paths == {"threshold", "fast_track"}
    assert any(row["mql_sequence"] > 1 for row in duckdb_marts["fct_mql_events"])
    assert all(duckdb_marts[mart] for mart in MART_KEYS), [
        mart for mart in MART_KEYS if not duckdb_marts[mart]
    ]


def test_postgres_builds_the_same_marts(
    duckdb_marts: dict[str, list[dict[str, Any]]],
    postgres_marts: dict[str, list[dict[str, Any]]],
) -> None:
    assert_same_raw("PostgreSQL", duckdb_marts, postgres_marts)
    assert_same_marts("PostgreSQL", duckdb_marts, postgres_marts)


def test_postgres_builds_the_same_marts_twice(
    postgres_marts: dict[str, list[dict[str, Any]]],
) -> None:
    """Two builds of the same inputs and as_of: identical, bit for bit."""
    assert postgres_marts["rebuild differences"] == []
    assert sum(len(postgres_marts[mart]) for mart in MART_KEYS) > 10_000


def test_the_adversarial_rules_are_exercised(
    duckdb_marts: dict[str, list[dict[str, Any]]],
) -> None:
    """The rule file needs several slot groups (half-lives 0.05 days to ten
    years), chunks of time shorter than the history (the carried sums), and
    every adversarial rule that can fire does; the one whose value is an SQL
    fragment matches nothing (it would match every e-mail open if pasted)."""
    groups = duckdb_marts["slot_groups"]
    assert len(groups) >= 3, groups
    assert min(row["chunk_seconds"] or 1e18 for row in groups) < 30 * 86400
    fired = {row["rule_id"]: row["firings"] for row in duckdb_marts["ledger_rules"]}
    for rule_id in ("adv_clicks_hourly", "adv_pages_hours", "adv_downloads_decade",
                    "adv_bounce_exact_cap", "o'reilly \\ 100% -- ünïcødé"):
        assert fired.get(rule_id, 0) > 0, rule_id
    assert "x') or ('1'='1" not in fired


def test_the_tools_read_postgres_as_they_read_duckdb(
    duckdb_warehouse: Path,
    postgres_marts: dict[str, list[dict[str, Any]]],
    project: Path,
    run_id: str,
) -> None:
    """summary, report and calibrate reach the PostgreSQL build through the
    profile's connection settings, name it, and read there what they read
    from the DuckDB build of the same rows."""
    from lead_scoring.analysis import calibrate as cal
    from lead_scoring.analysis.report import read_marts
    from lead_scoring.warehouse.summary import summary
    from lead_scoring.warehouse.readers import open_reader

    where = "PostgreSQL {host}:{port}/{dbname}".format(**engines.postgres_settings())
    text = summary(target="postgres", schema=run_id, raw_schema=run_id + "_raw")
    assert text.startswith(f"warehouse {where}\n")
    duck_text = summary(duckdb_warehouse, target="duckdb")
    from lead_scoring.warehouse.publish import published_path

    # DuckDB's readers read the file the build published.
    assert duck_text.startswith(f"warehouse {published_path(duckdb_warehouse)}\n")

    def counted(report: str) -> dict[str, str]:
        """Row counts of the marts and raw tables, and the rejections."""
        lines = [line.split() for line in report.splitlines()]
        return {
            " ".join(words[:-1]): words[-1] for words in lines
            if len(words) >= 2 and (
                words[0] in MART_KEYS or words[0] in RAW_TABLES or "/" in words
            )
        }

    assert counted(text) == counted(duck_text)
    assert len(counted(text)) > len(MART_KEYS) + len(RAW_TABLES)

    on_pg = read_marts("postgres", schema=run_id)
    on_duck = read_marts("duckdb", duckdb_path=duckdb_warehouse)
    assert on_pg.source == f"{where} (schema {run_id})"
    assert on_pg.funnel == on_duck.funnel and on_pg.funnel["leads"] > 300
    assert on_pg.cohorts == on_duck.cohorts
    assert on_pg.mql_events == on_duck.mql_events
    assert on_pg.touched_within_5_minutes == on_duck.touched_within_5_minutes
    for field in ("scores_sql", "scores_not_sql", "speed_to_lead_minutes"):
        left, right = sorted(getattr(on_pg, field)), sorted(getattr(on_duck, field))
        assert len(left) == len(right) and all(map(same, left, right)), field
    assert len(on_pg.calibration) == len(on_duck.calibration)
    for left, right in zip(on_pg.calibration, on_duck.calibration):
        assert all(same(normal(left[key]), normal(right[key])) for key in left), left

    rules = cal.read_rules(project / "seeds" / "scoring_rules.csv")
    with open_reader("postgres") as reader:
        pg_data = cal.read_warehouse(cal.warehouse_query(reader), run_id, rules, "sql")
    duck_data = cal.read_warehouse(
        cal.duckdb_query(duckdb_warehouse), "analytics", rules, "sql"
    )
    assert list(pg_data.lead_ids) == list(duck_data.lead_ids)
    assert same(pg_data.as_of, duck_data.as_of)
    for field in ("created", "converted", "disqualified", "act_lead", "act_time"):
        left, right = getattr(pg_data, field), getattr(duck_data, field)
        assert all(map(same, left.tolist(), right.tolist())), field

    def firings(data: Any) -> list[tuple]:
        """(lead, rule, time) of every firing; attribute firings have no time."""
        return sorted(
            (lead, rule, None if math.isnan(time) else time)
            for lead, rule, time in zip(data.fire_lead.tolist(),
                                        data.fire_rule.tolist(),
                                        data.fire_time.tolist())
        )

    assert firings(pg_data) == firings(duck_data) and firings(pg_data)
    assert list(pg_data.activity_types) == list(duck_data.activity_types)
    assert list(pg_data.act_type) == list(duck_data.act_type) and len(pg_data.act_type)
    assert pg_data.backtest == duck_data.backtest and pg_data.backtest


def test_explain_on_postgres_adds_up_like_on_duckdb(
    duckdb_warehouse: Path,
    postgres_marts: dict[str, list[dict[str, Any]]],
    run_id: str,
) -> None:
    """explain over every lead of the PostgreSQL build: its totals equal
    that build's dim_leads (1e-6), and every lead's rules, points and MQL
    events are the DuckDB build's."""
    from lead_scoring.analysis.explain import explain, explain_leads
    from lead_scoring.warehouse.readers import open_reader

    with open_reader("postgres") as reader:
        on_pg = explain_leads(reader, run_id)
    with open_reader("duckdb", duckdb_warehouse) as reader:
        on_duck = explain_leads(reader, "analytics")
    assert sorted(on_pg) == sorted(on_duck) and len(on_pg) > 300
    for lead_id, explanation in on_pg.items():
        for score in ("fit_score", "engagement_score", "negative_score",
                      "lead_score"):
            shown = getattr(explanation, score)
            assert abs(shown - explanation.dim_leads_scores[score]) <= 1e-6, lead_id
            assert same(shown, getattr(on_duck[lead_id], score)), (lead_id, score)
        duck_rules = {rule.rule_id: rule for rule in on_duck[lead_id].rules}
        assert sorted(rule.rule_id for rule in explanation.rules) == \
            sorted(duck_rules), lead_id
        for rule in explanation.rules:
            assert same(rule.points_at_as_of, duck_rules[rule.rule_id].points_at_as_of)
            assert len(rule.firings) == len(duck_rules[rule.rule_id].firings)
        assert len(explanation.mql_events) == len(on_duck[lead_id].mql_events)
    some_lead = sorted(on_pg)[0]
    one = explain(some_lead, target="postgres", schema=run_id)
    assert one.lead_id == some_lead and same(one.lead_score, on_pg[some_lead].lead_score)


def test_a_missing_postgres_database_is_named_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    postgres_connection().close()
    monkeypatch.setenv("LEAD_SCORING_PG_DATABASE", "no_such_database_here")
    assert main(["summary", "--target", "postgres"]) == 2
    error = capsys.readouterr().err
    assert "cannot connect to PostgreSQL" in error and "no_such_database_here" in error
    assert "hint: create it (`createdb no_such_database_here`)" in error


def test_spark_is_refused_by_the_readers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--target", "spark"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: this command reads DuckDB or PostgreSQL")


def test_preview_on_postgres_equals_preview_on_duckdb(
    duckdb_warehouse: Path,
    postgres_marts: dict[str, list[dict[str, Any]]],
    project: Path,
    run_id: str,
    tmp_path: Path,
) -> None:
    """The same proposed rule file previewed beside the PostgreSQL build and
    beside the DuckDB build of the same rows gives the same figures; the
    scratch schemas are dropped and the live marts untouched."""
    from lead_scoring.analysis.preview import preview

    rules = tmp_path / "proposed.csv"
    rows = list(csv.DictReader((project / "seeds" / "scoring_rules.csv").open()))
    for row in rows:
        if row["rule_id"] in ("eng_pricing_page", "fit_director_title"):
            row["points"] = str(int(row["points"]) * 2)
    with rules.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    live = tmp_path / "live.duckdb"
    with duckdb.connect(str(duckdb_warehouse)) as connection:
        connection.execute("checkpoint")
    shutil.copyfile(duckdb_warehouse, live)
    variables = {"raw_schema": run_id + "_raw"}
    on_pg = preview(rules, target="postgres", schema=run_id, raw_schema=run_id + "_raw",
                    project_dir=project, variables=variables)
    on_duck = preview(rules, target="duckdb", duckdb_path=live, project_dir=project)
    assert on_pg.live.startswith("PostgreSQL ")
    assert on_pg.mqls_by_month == on_duck.mqls_by_month
    assert on_pg.stage_moves == on_duck.stage_moves and on_pg.grade_moves == on_duck.grade_moves
    assert sum(on_pg.grade_moves.values()) > 0
    assert dict(on_pg.rules_by_leads_changed) == dict(on_duck.rules_by_leads_changed)
    for left, right in zip(on_pg.auc + on_pg.top_band_lift, on_duck.auc + on_duck.top_band_lift):
        assert same(normal(left), normal(right))
    connection = postgres_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            "select count(*) from information_schema.schemata where schema_name like %s",
            (run_id + "_preview%",),
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(f'select count(*) from "{run_id}".dim_leads')
        assert cursor.fetchone()[0] == len(postgres_marts["dim_leads"])
    connection.close()
