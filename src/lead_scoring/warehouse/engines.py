"""Connection settings of the warehouse engines, read from the environment.

profiles.yml reads the same variables with the same defaults, so the loader
(`lead-scoring load --target ...`), the summary and the tests reach exactly
the warehouse dbt builds in:

- duckdb: LEAD_SCORING_DUCKDB_PATH (see load.resolve_duckdb_path).
- postgres: LEAD_SCORING_PG_HOST (127.0.0.1), LEAD_SCORING_PG_PORT (5432),
  LEAD_SCORING_PG_USER (else PGUSER, else postgres), LEAD_SCORING_PG_PASSWORD
  (else PGPASSWORD, else none), LEAD_SCORING_PG_DATABASE (test).
- spark: an in-process Spark session (dbt-spark `method: session`) whose
  Hive metastore (Derby) and table files live under LEAD_SCORING_SPARK_DIR
  (warehouse/spark); LEAD_SCORING_SPARK_PARTITIONS (4),
  LEAD_SCORING_SPARK_MEMORY (2g) and LEAD_SCORING_THREADS (2) size it.

The optional drivers (psycopg2, pyspark) are imported only when used, so a
DuckDB installation needs neither.
"""

from __future__ import annotations

import os
from typing import Any

from lead_scoring.errors import LeadScoringError

TARGETS: tuple[str, ...] = ("duckdb", "postgres", "spark")
ENV_TARGET = "LEAD_SCORING_TARGET"


class EngineError(LeadScoringError):
    """An engine that cannot be reached or whose driver is not installed."""


def _env(name: str, default: str) -> str:
    """An environment variable, or the default when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def default_target() -> str:
    """$LEAD_SCORING_TARGET, else duckdb (the default target of profiles.yml)."""
    return _env(ENV_TARGET, "duckdb")


# ----------------------------------------------------------------- PostgreSQL


def postgres_settings() -> dict[str, Any]:
    """psycopg2 connection keywords, as the postgres target of profiles.yml."""
    settings: dict[str, Any] = {
        "host": _env("LEAD_SCORING_PG_HOST", "127.0.0.1"),
        "port": int(_env("LEAD_SCORING_PG_PORT", "5432")),
        "user": _env("LEAD_SCORING_PG_USER", _env("PGUSER", "postgres")),
        "dbname": _env("LEAD_SCORING_PG_DATABASE", "test"),
        "connect_timeout": 10,
    }
    given = _env("LEAD_SCORING_PG_PASSWORD", _env("PGPASSWORD", ""))
    if given:
        settings["password"] = given
    return settings


def postgres_connect():
    """A psycopg2 connection (autocommit off); EngineError saying what to do."""
    try:
        import psycopg2
    except ImportError as exc:
        raise EngineError(
            "the postgres target needs psycopg2, which is not installed",
            hint='pip install -e ".[postgres]"',
        ) from exc
    settings = postgres_settings()
    try:
        return psycopg2.connect(**settings)
    except psycopg2.Error as exc:
        where = f"{settings['user']}@{settings['host']}:{settings['port']}/{settings['dbname']}"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "does not exist" in first and "database" in first:
            hint = (
                f"create it (`createdb {settings['dbname']}`) or point "
                "LEAD_SCORING_PG_DATABASE at the database dbt builds in"
            )
        elif "authentication" in first or "password" in first:
            hint = "set LEAD_SCORING_PG_USER and LEAD_SCORING_PG_PASSWORD"
        else:
            hint = (
                "start the server or set LEAD_SCORING_PG_HOST, _PORT, _USER, "
                "_PASSWORD and _DATABASE"
            )
        raise EngineError(
            f"cannot connect to PostgreSQL {where}: {first}", hint=hint
        ) from exc


# ---------------------------------------------------------------------- Spark


def spark_dir() -> str:
    """Folder of the local Spark warehouse: metastore_db/ and tables/."""
    return _env("LEAD_SCORING_SPARK_DIR", "warehouse/spark")


def spark_conf() -> dict[str, str]:
    """Spark settings, equal to server_side_parameters of the spark target."""
    folder = spark_dir()
    partitions = _env("LEAD_SCORING_SPARK_PARTITIONS", "4")
    return {
        "spark.sql.warehouse.dir": f"{folder}/tables",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={folder}/metastore_db;create=true"
        ),
        # derby.log goes there too, not into the working directory.
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": partitions,
        "spark.default.parallelism": partitions,
        "spark.driver.memory": _env("LEAD_SCORING_SPARK_MEMORY", "2g"),
        "spark.master": f"local[{_env('LEAD_SCORING_THREADS', '2')}]",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.default": "parquet",
        "spark.sql.legacy.createHiveTableByDefault": "false",
        # dbt-spark sets this on every session it opens.
        "spark.sql.ansi.enabled": "false",
    }


def spark_session():
    """The process's Spark session, configured as dbt-spark's session method.

    dbt-spark calls SparkSession.builder.enableHiveSupport() with the same
    settings and getOrCreate(), so in one process both share one session,
    and across processes the same metastore and table files.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError(
            "the spark target needs pyspark, which is not installed",
            hint='pip install -e ".[spark]" (and a Java 17 runtime)',
        ) from exc
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf().items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM failing to start surfaces as many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(
            f"cannot start Spark: {first}",
            hint="install a Java 17 runtime (JAVA_HOME or java on PATH)",
        ) from exc
