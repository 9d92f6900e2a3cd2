"""Spark builds the same marts as DuckDB (see test_engines.py).

The generated data set with the adversarial rules of test_engines.py is
loaded into Spark with `lead_scoring.load.load(target="spark")` and built
with `dbt build --target spark` (dbt-spark's session method, Spark inside
this process); every mart is compared row by row with the DuckDB build of
the same data. A module of its own because the Spark build is the slowest
of the suite: the test runner gives it a worker while the other engines'
builds run on another.

Needs the `spark` extra and a Java 17 runtime; without them the tests skip
with a message saying how to enable them, with LEAD_SCORING_REQUIRE_ALL=1
(as in CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import PROJECT_DIR
from lead_scoring.warehouse import engines
from lead_scoring.contract import RAW_TABLES
from lead_scoring.warehouse.load import load
from test_engines import (  # noqa: F401 (fixtures shared with test_engines)
    MART_KEYS, RAW, assert_same_marts, assert_same_raw, duckdb_marts,
    duckdb_warehouse, engine_env, project, raw_dir, run_dbt, run_id, unavailable,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark_marts(
    raw_dir: Path, project: Path, tmp_path_factory: pytest.TempPathFactory,
    run_id: str, engine_env: None,
) -> dict[str, list[dict[str, Any]]]:
    try:
        import pyspark  # noqa: F401
        import dbt.adapters.spark  # noqa: F401
    except ImportError:
        unavailable('Spark tests need the spark extra: pip install -e ".[spark]"')
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        unavailable("Spark tests need a Java 17 runtime (java on PATH or JAVA_HOME)")
    root = Path(tmp_path_factory.mktemp("engines_spark"))
    os.environ["LEAD_SCORING_SPARK_DIR"] = str(root / "spark")
    try:
        spark = engines.spark_session()
    except engines.EngineError as exc:
        unavailable(f"{exc} (needed by the Spark tests)")
    schema, raw_schema = run_id, run_id + "_raw"
    load(raw_dir, target="spark", raw_schema=raw_schema)
    run_dbt(root, "spark", schema, raw_schema, project)
    marts = {}
    for mart in MART_KEYS:
        frame = spark.table(f"{schema}.{mart}")
        # Python datetimes from Spark are in the process's local time zone:
        # timestamps are fetched as UTC text instead.
        selected = [
            f"date_format(`{field.name}`, 'yyyy-MM-dd HH:mm:ss') as `{field.name}`"
            if field.dataType.simpleString() == "timestamp"
            else f"`{field.name}`"
            for field in frame.schema.fields
        ]
        marts[mart] = [row.asDict() for row in frame.selectExpr(*selected).collect()]
    for table in RAW_TABLES:
        marts[RAW + table] = [
            row.asDict() for row in spark.table(f"{raw_schema}.{table}").collect()
        ]
    for name in (schema, schema + "_restricted", raw_schema):
        spark.sql(f"drop database if exists {name} cascade")
    return marts


def test_spark_loader_session_equals_the_dbt_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loader's Spark settings are the profile's server_side_parameters
    (rendered with the same environment), so both see one warehouse."""
    import jinja2

    monkeypatch.setenv("LEAD_SCORING_SPARK_DIR", "/data/spark")
    monkeypatch.setenv("LEAD_SCORING_SPARK_PARTITIONS", "7")
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    spark = profile["lead_scoring"]["outputs"]["spark"]
    assert spark["method"] == "session"

    def env_var(name: str, default: str | None = None) -> str | None:
        return os.environ.get(name, default)

    rendered = {
        key: jinja2.Template(str(value)).render(env_var=env_var)
        for key, value in spark["server_side_parameters"].items()
    }
    expected = dict(engines.spark_conf())
    assert expected.pop("spark.sql.ansi.enabled") == "false"  # set by dbt-spark
    assert rendered == expected
    assert expected["spark.sql.warehouse.dir"] == "/data/spark/tables"
    assert expected["spark.sql.shuffle.partitions"] == "7"


def test_spark_builds_the_same_marts(
    duckdb_marts: dict[str, list[dict[str, Any]]],
    spark_marts: dict[str, list[dict[str, Any]]],
) -> None:
    assert_same_raw("Spark", duckdb_marts, spark_marts)
    assert_same_marts("Spark", duckdb_marts, spark_marts)
