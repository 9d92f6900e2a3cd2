"""The semantic layer: MetricFlow reads the marts and gives their numbers.

`mf validate-configs` must pass, and `mf query` for the funnel metrics by
month and lead source must equal, value for value, what SQL over the marts
gives: rpt_funnel_conversion for the cohort metrics, and direct queries on
fct_mql_events joined to dim_leads (independent of the report) for MQLs,
SQLs, the conversion rate, MQL events and speed to lead.

Needs the `semantic` extra (dbt-metricflow): skipped without it, failed
without it when LEAD_SCORING_REQUIRE_ALL=1.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import Warehouse, copy_project, require_module

HOW_TO_ENABLE = "install it with `pip install -e .[semantic]` (make test does)"


class MetricFlow:
    """`mf` against a private copy of the project and of a built warehouse."""

    def __init__(self, project_dir: Path, duckdb_path: Path) -> None:
        self.project_dir = project_dir
        self.duckdb_path = duckdb_path
        self.executable = Path(sys.executable).with_name("mf")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Run `mf ARGS` in the project; fail the test with its output if it fails."""
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(self.project_dir),
            "DBT_PROJECT_DIR": str(self.project_dir),
            "LEAD_SCORING_DUCKDB_PATH": str(self.duckdb_path),
        }
        completed = subprocess.run(
            [str(self.executable), *args], cwd=self.project_dir, env=env,
            capture_output=True, text=True, timeout=300,
        )
        assert completed.returncode == 0, (
            f"mf {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
        )
        return completed

    def query(self, metrics: list[str], group_by: list[str]) -> dict[tuple, dict]:
        """Rows of `mf query`, keyed by the group-by values."""
        out = self.project_dir / "target" / "mf_query.csv"
        self.run("query", "--metrics", ",".join(metrics),
                 "--group-by", ",".join(group_by), "--csv", str(out), "--quiet")
        with open(out, newline="") as handle:
            rows = list(csv.DictReader(handle))
        keyed = {}
        for row in rows:
            key = tuple(normalise_key(row[name]) for name in group_by)
            assert key not in keyed, f"mf returned {key} twice"
            keyed[key] = {metric: number(row[metric]) for metric in metrics}
        return keyed


def normalise_key(value: str) -> Any:
    """A month as a date (mf writes a timestamp), anything else as text."""
    try:
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        return value


def number(text: str) -> float | None:
    return None if text == "" else float(text)


def same(actual: float | None, expected: float | None) -> bool:
    """Equal, both null, or equal to 12 significant digits (float sums)."""
    if actual is None or expected is None:
        return actual is None and expected is None
    return actual == pytest.approx(float(expected), rel=1e-12, abs=1e-9)


def assert_same_table(
    actual: dict[tuple, dict], expected: dict[tuple, dict], what: str
) -> None:
    assert set(actual) == set(expected), (
        f"{what}: groups differ: only in mf {sorted(set(actual) - set(expected))[:5]}, "
        f"only in SQL {sorted(set(expected) - set(actual))[:5]}"
    )
    mismatches = [
        (key, metric, actual[key][metric], value)
        for key, row in expected.items()
        for metric, value in row.items()
        if not same(actual[key][metric], value)
    ]
    assert mismatches == [], f"{what}: mf != SQL for {mismatches[:10]}"


@pytest.fixture(scope="session")
def metricflow_installed() -> None:
    """Skip (or fail in CI) before the warehouse is built when mf is missing."""
    require_module("dbt_metricflow", HOW_TO_ENABLE)


@pytest.fixture(scope="module")
def metricflow(
    metricflow_installed, generated, tmp_path_factory: pytest.TempPathFactory
) -> tuple[MetricFlow, Warehouse]:
    """mf over a copy of the `generated` warehouse (a second process cannot
    open a DuckDB file this one holds), with the project's semantic manifest."""
    warehouse, _ = generated
    root = Path(tmp_path_factory.mktemp("semantic"))
    project = copy_project(root / "project")
    # Rooted in the project: mf reads <project>/target/semantic_manifest.json.
    private = Warehouse(project, project_dir=project)
    warehouse.query("checkpoint")
    shutil.copyfile(warehouse.path, private.path)
    private.dbt("parse")
    assert (project / "target" / "semantic_manifest.json").is_file()
    return MetricFlow(project, private.path), warehouse


def test_validate_configs_passes(metricflow) -> None:
    mf, _ = metricflow
    completed = mf.run("validate-configs", "--show-all")
    output = completed.stdout + completed.stderr
    # Semantic checks and the checks against the warehouse (every semantic
    # model, dimension, entity, measure and metric queried on DuckDB).
    for step in ["semantics of built manifest", "semantic models against",
                 "dimensions against", "entities against",
                 "measures against", "metrics against"]:
        line = next(line for line in output.splitlines() if step in line
                    and "Successfully" in line)
        assert "ERRORS: 0," in line, line
    assert [line for line in output.splitlines() if "WARNING:" in line] == []


FUNNEL_METRICS = {
    # metric: column of rpt_funnel_conversion with the same definition
    "leads": "leads",
    "mqls": "mqls",
    "sqls": "sqls",
    "customers": "customers",
    "mql_to_sql_rate": "mql_to_sql_rate",
    "marketing_spend": "spend",
    "cost_per_mql": "cost_per_mql",
    "cac": "cac",
    "won_revenue": "won_amount",
}


def test_funnel_metrics_by_month_and_source_equal_the_funnel_report(metricflow) -> None:
    mf, warehouse = metricflow
    actual = mf.query(list(FUNNEL_METRICS), ["metric_time__month", "lead_source"])
    columns = ", ".join(FUNNEL_METRICS.values())
    expected = {
        (month, source): dict(zip(FUNNEL_METRICS, values))
        for month, source, *values in warehouse.query(
            f"select cohort_month, lead_source, {columns} "
            "from analytics.rpt_funnel_conversion"
        )
    }
    assert_same_table(actual, expected, "funnel metrics")
    # Not a vacuous comparison: the data has MQLs, SQLs, customers, spend.
    totals = {metric: sum(row[metric] or 0 for row in actual.values())
              for metric in ["mqls", "sqls", "customers", "marketing_spend", "won_revenue"]}
    assert totals["mqls"] > 150 and totals["sqls"] > 20, totals
    assert totals["customers"] > 0 and totals["won_revenue"] > 0, totals
    assert totals["marketing_spend"] > 0, totals
    assert any(0 < (row["mql_to_sql_rate"] or 0) < 1 for row in actual.values())


def test_mqls_sqls_and_rate_equal_sql_on_the_event_marts(metricflow) -> None:
    """MQL and SQL counts by cohort from fct_mql_events joined to dim_leads,
    and the rate equals sqls / mqls."""
    mf, warehouse = metricflow
    metrics = ["mqls", "sqls", "mql_to_sql_rate"]
    actual = mf.query(metrics, ["metric_time__month", "lead_source"])
    direct = warehouse.query(
        """
        select
            cast(date_trunc('month', leads.created_at) as date),
            coalesce(leads.lead_source, 'unknown'),
            count(distinct events.lead_id),
            count(distinct case when events.sql_at is not null
                then events.lead_id end)
        from analytics.fct_mql_events as events
        inner join analytics.dim_leads as leads
            on events.lead_id = leads.lead_id
        group by all
        """
    )
    assert len(direct) > 20
    for month, source, mqls, sqls in direct:
        row = actual[(month, source)]
        assert (row["mqls"], row["sqls"]) == (mqls, sqls), (month, source)
        assert same(row["mql_to_sql_rate"], sqls / mqls), (month, source)
    # Groups without an MQL: no conversion rate, and no MQL to count.
    without = set(actual) - {(month, source) for month, source, *_ in direct}
    assert all(actual[key]["mqls"] == 0 for key in without)
    assert all(actual[key]["mql_to_sql_rate"] is None for key in without)


def test_rates_roll_up_as_ratios_of_sums(metricflow) -> None:
    """By source alone (all months), each rate is the ratio of the summed
    counts, not an average of monthly rates."""
    mf, warehouse = metricflow
    metrics = ["mql_to_sql_rate", "cost_per_mql", "cac"]
    actual = mf.query(metrics, ["lead_source"])
    expected = {
        (source,): dict(zip(metrics, values))
        for source, *values in warehouse.query(
            """
            select
                lead_source,
                sum(sqls) / nullif(sum(mqls), 0),
                sum(spend) / nullif(sum(mqls), 0),
                sum(spend) / nullif(sum(customers), 0)
            from analytics.rpt_funnel_conversion
            group by lead_source
            """
        )
    }
    assert_same_table(actual, expected, "rates by lead_source")


def test_event_metrics_by_mql_month_and_source_equal_sql(metricflow) -> None:
    """MQL events, median speed to lead and the 5-minute share by the month
    of the MQL moment, against fct_mql_events joined to dim_leads."""
    mf, warehouse = metricflow
    metrics = ["mql_events", "median_speed_to_lead_minutes", "pct_touched_within_5_minutes"]
    actual = mf.query(metrics, ["metric_time__month", "lead_source"])
    expected = {
        (month, source): dict(zip(metrics, values))
        for month, source, *values in warehouse.query(
            """
            select
                cast(date_trunc('month', events.mql_at) as date),
                coalesce(leads.lead_source, 'unknown'),
                count(*),
                median(events.speed_to_lead_minutes),
                avg(case when events.is_touched_within_5_minutes
                    then 1.0 else 0.0 end)
            from analytics.fct_mql_events as events
            inner join analytics.dim_leads as leads
                on events.lead_id = leads.lead_id
            group by all
            """
        )
    }
    assert_same_table(actual, expected, "event metrics")
    assert sum(row["mql_events"] for row in actual.values()) > 150
    assert sum(row["median_speed_to_lead_minutes"] is not None
               for row in actual.values()) > 10


def test_median_speed_to_lead_by_cohort_equals_the_funnel_report(metricflow) -> None:
    """Grouped by the lead's cohort month instead of metric_time, the
    median speed to lead is rpt_funnel_conversion's."""
    mf, warehouse = metricflow
    actual = mf.query(["median_speed_to_lead_minutes"],
                      ["lead__created_at__month", "lead_source"])
    expected = {
        (month, source): {"median_speed_to_lead_minutes": median}
        for month, source, median in warehouse.query(
            "select cohort_month, lead_source, median_speed_to_lead_minutes "
            "from analytics.rpt_funnel_conversion where mql_events > 0"
        )
    }
    assert_same_table(actual, expected, "median speed to lead by cohort")
