"""Incremental builds equal full builds on PostgreSQL too.

The lead_incremental models are incremental on PostgreSQL as on DuckDB
(delete and insert in one transaction). A small generated data set is
loaded and built; then a second load is appended (activities three days
late, an earlier re-delivered copy of existing ids, an identical copy, rows
with blank keys, status changes that reset and disqualify, a lead that is
erased) and as_of moves a day on; then as_of moves back. After each step the
incremental build's marts must equal, row for row, those of a full build of
the same raw rows into other schemas (`except all` both ways, every column).

Needs the postgres extra and a server, like test_engines.py (skips without
them, fails in CI).
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from dbt.cli.main import dbtRunner

from conftest import (
    COMPARED_ROWS, MARTS, PROJECT_DIR, failure_summary, incremental_models,
)
from lead_scoring.contract import RAW_TABLES
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import load
from test_engines import (  # noqa: F401
    engine_env, postgres_connection, postgres_differences,
)

pytestmark = pytest.mark.slow

T0 = datetime(2026, 6, 30, 23, 59, 59)


def text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def build(root: Path, schema: str, raw_schema: str, as_of: datetime,
          *extra: str) -> list[str]:
    """Models and seeds (the data tests run elsewhere) on PostgreSQL; the
    incremental models it built."""
    os.environ["LEAD_SCORING_SCHEMA"] = schema
    result = dbtRunner().invoke([
        "build", "--resource-type", "model", "--resource-type", "seed", *extra,
        "--target", "postgres",
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(root / "target"), "--log-path", str(root / "logs"),
        "--vars", json.dumps({"as_of": text(as_of), "raw_schema": raw_schema}),
    ])
    assert result.success, f"dbt build on postgres failed: {failure_summary(result)}"
    return incremental_models(result)


def appended_load(source: Path, folder: Path) -> None:
    """The second load: rows derived from the first, as a day's delivery."""
    folder.mkdir()
    with open(source / "activities.csv", newline="") as handle:
        activities = [
            row for row in csv.DictReader(handle)
            if row["activity_id"].strip() and row["lead_id"].strip()
        ]
    with open(source / "leads.csv", newline="") as handle:
        leads = [row for row in csv.DictReader(handle) if row["lead_id"].strip()]
    late = [
        {**row, "activity_id": row["activity_id"] + "-late",
         "occurred_at": text(T0 - timedelta(days=3, minutes=index))}
        for index, row in enumerate(activities[::40])
    ]
    earlier_copies = [
        {**row, "occurred_at": "2025-07-03 00:00:00"} for row in activities[5::97]
    ]
    identical = activities[7::83]
    blank_keys = [
        {**activities[1], "activity_id": "", "occurred_at": text(T0 + timedelta(hours=2))},
        {**activities[2], "lead_id": " ", "activity_id": "blank-lead"},
    ]
    tables: dict[str, list[dict[str, Any]]] = {table: [] for table in RAW_TABLES}
    tables["activities"] = late + earlier_copies + identical + blank_keys
    erased = leads[10]
    tables["leads"] = [
        {**erased, "is_deleted": "true", "updated_at": text(T0 + timedelta(hours=5))},
        {**leads[11], "job_title": "Chief Executive Officer",
         "updated_at": text(T0 + timedelta(hours=6))},
    ]
    tables["lead_status_changes"] = [
        {"status_change_id": f"sc-late-{index}", "lead_id": lead["lead_id"],
         "status": status, "reason": "late", "changed_at": text(T0 - timedelta(days=2))}
        for index, (lead, status) in enumerate(
            zip(leads[20:26], ["sales_rejected", "recycled", "disqualified"] * 2)
        )
    ]
    for table, columns in RAW_TABLES.items():
        with open(folder / f"{table}.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            for row in tables[table]:
                writer.writerow({column: row.get(column, "") for column in columns})


@pytest.fixture(scope="module")
def postgres(engine_env: None) -> Iterator[Any]:  # noqa: F811
    connection = postgres_connection()
    yield connection
    connection.close()


def test_incremental_builds_equal_full_builds_on_postgres(
    postgres: Any, tmp_path: Path,
) -> None:
    run = "ls_" + uuid.uuid4().hex[:8]
    raw, built = run + "_raw", run + "_inc"
    schemas = [raw, built, built + "_restricted"]
    first = tmp_path / "first"
    generate(first, leads=150, seed=17, dirty_rate=0.05, fmt="csv",
             as_of=text(T0), activities_per_lead=15)
    try:
        load(first, target="postgres", raw_schema=raw, loaded_at=text(T0))
        build(tmp_path, built, raw, T0)
        appended_load(first, tmp_path / "second")
        load(tmp_path / "second", target="postgres", raw_schema=raw, mode="append",
             loaded_at=text(T0 + timedelta(days=1)))
        steps = [("day1", T0 + timedelta(days=1)), ("back-to-day0", T0)]
        for step, as_of in steps:
            build(tmp_path, built, raw, as_of)
            full = f"{run}_{step.replace('-', '_')}"
            schemas += [full, full + "_restricted"]
            models = build(tmp_path, full, raw, as_of, "--full-refresh")
            with postgres.cursor() as cursor:
                cursor.execute(
                    f'select count(*) from "{built}"."int_lead_rule_states"'
                )
                assert cursor.fetchone()[0] > 500
                found = postgres_differences(
                    cursor, built, full, [*MARTS, *models], COMPARED_ROWS
                )
            postgres.rollback()
            assert not found, f"{step}: incremental differs from full:\n" + "\n".join(found)
    finally:
        postgres.rollback()
        with postgres.cursor() as cursor:
            for name in schemas:
                cursor.execute(f'drop schema if exists "{name}" cascade')
        postgres.commit()
