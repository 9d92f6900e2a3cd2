"""The project plugs into the dbt ecosystem: selectors, exposures, docs."""

from __future__ import annotations

import json
import re

from conftest import Warehouse


def listed(warehouse: Warehouse, *args: str) -> set[str]:
    result = warehouse.dbt("ls", "--quiet", "--output", "name", *args)
    return set(result.result)


def test_selectors_pick_the_right_jobs(tmp_path) -> None:
    warehouse = Warehouse(tmp_path)
    scoring = listed(warehouse, "--selector", "scoring_refresh",
                     "--resource-type", "model")
    assert {"dim_leads", "fct_mql_events", "fct_score_ledger",
            "int_lead_score_trajectories", "int_activity_group_scores",
            "stg_marketing__activities"} <= scoring
    assert not scoring & {"rpt_funnel_conversion", "rpt_score_calibration"}
    everything = listed(warehouse, "--selector", "daily_marts")
    reports = listed(warehouse, "--selector", "reports", "--resource-type", "model")
    assert {"rpt_funnel_conversion", "rpt_score_calibration",
            "rpt_threshold_backtest", "rpt_sales_feedback",
            "rpt_rule_effectiveness", "fct_lifecycle_transitions"} <= reports
    assert reports | scoring <= everything
    quality = listed(warehouse, "--selector", "data_quality")
    assert "assert_raw_rows_are_used_or_rejected" in quality
    assert "score_trajectories_thresholds_and_ties" in quality
    assert not quality & {"dim_leads", "scoring_rules"}
    # The scheduled jobs run the data tests, not the unit tests (CI's).
    unit_tests = listed(warehouse, "--resource-type", "unit_test")
    assert "score_trajectories_thresholds_and_ties" in unit_tests
    assert unit_tests <= quality
    scheduled = everything | listed(warehouse, "--selector", "scoring_refresh") | listed(
        warehouse, "--selector", "reports"
    )
    assert not unit_tests & scheduled
    assert {"assert_raw_rows_are_used_or_rejected", "unique_dim_leads_lead_id"} <= everything


def test_exposures_name_the_marts_they_read(tmp_path) -> None:
    warehouse = Warehouse(tmp_path)
    assert listed(warehouse, "--resource-type", "exposure") == {
        "funnel_dashboard", "score_calibration", "sales_sla", "funnel_report",
        "scoring_calibration",
    }
    feeding = listed(warehouse, "--select", "+exposure:sales_sla",
                     "--resource-type", "model")
    assert {"fct_mql_events", "rpt_sales_feedback"} <= feeding


def test_docs_generate_offline(generated) -> None:
    warehouse, _ = generated
    warehouse.dbt("docs", "generate", "--static")
    target = warehouse.root / "target"
    assert (target / "static_index.html").stat().st_size > 100_000
    catalog = json.loads((target / "catalog.json").read_text())
    dim_leads = catalog["nodes"]["model.lead_scoring.dim_leads"]
    assert {"lead_id", "lead_score", "lifecycle_stage"} <= set(
        column.lower() for column in dim_leads["columns"]
    )
    manifest = json.loads((target / "manifest.json").read_text())
    undocumented = [
        f"{node['name']}.{column}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for column, spec in node["columns"].items()
        if not spec.get("description")
    ] + [
        node["name"] for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed"} and not node["description"]
    ]
    assert undocumented == []
    # Every column a model or seed really has is described, and nothing
    # described is missing from the warehouse (catalog against manifest).
    mismatched = []
    for unique_id, built in catalog["nodes"].items():
        node = manifest["nodes"].get(unique_id)
        if node is None or node["package_name"] != "lead_scoring":
            continue
        built_columns = {column.lower() for column in built["columns"]}
        described = {column.lower() for column in node["columns"]}
        if built_columns != described:
            mismatched.append(
                f"{node['name']}: undescribed {sorted(built_columns - described)}, "
                f"described but not built {sorted(described - built_columns)}"
            )
    assert mismatched == []
    # Offline: the page loads no script, style sheet or image from the web.
    html = (target / "static_index.html").read_text()
    assert re.findall(
        r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
        html, re.I,
    ) == []


def test_activity_types_seed_knows_what_the_generator_writes() -> None:
    """The known types are the seed's rows: every raw type the generator
    writes but its planted unknown one, and the page types URLs re-type page
    views into (seeds/url_page_patterns.csv)."""
    import csv

    from conftest import PROJECT_DIR
    from lead_scoring.synthetic import vocab

    def column(seed: str, name: str) -> set[str]:
        with open(PROJECT_DIR / "seeds" / f"{seed}.csv", newline="") as handle:
            return {row[name] for row in csv.DictReader(handle)}

    seeded = column("activity_types", "activity_type")
    written = set(vocab.ACTIVITY_TYPES) - {vocab.UNKNOWN_ACTIVITY_TYPE}
    assert vocab.UNKNOWN_ACTIVITY_TYPE not in seeded
    assert seeded == written | column("url_page_patterns", "page_type")


def test_scoring_refresh_builds_on_an_empty_warehouse(tmp_path) -> None:
    """The hourly job runs first on a new warehouse: none of its tests may
    read a model it does not build (the reports, the lifecycle)."""
    from lead_scoring.synthetic.generate import generate
    from lead_scoring.warehouse.load import load

    warehouse = Warehouse(tmp_path)
    generate(tmp_path / "raw", leads=120, seed=3, dirty_rate=0.05, fmt="csv",
             as_of="2026-06-30 23:59:59", activities_per_lead=8)
    load(tmp_path / "raw", duckdb_path=str(warehouse.path))
    result = warehouse.dbt("build", "--selector", "scoring_refresh",
                           vars={"as_of": "2026-06-30 23:59:59"})
    ran = {node_result.node.name for node_result in result.result.results}
    assert {"dim_leads", "fct_mql_events", "assert_raw_rows_are_used_or_rejected",
            "assert_scores_equal_ledger"} <= ran
    assert not ran & {"rpt_funnel_conversion", "fct_lifecycle_transitions",
                      "assert_current_stage_is_last_transition"}
    assert warehouse.query("select count(*) from analytics.dim_leads")[0][0] > 90


def test_source_freshness_thresholds_follow_each_feed(tmp_path) -> None:
    """Each feed is judged by its own rhythm: engagement hourly, sales on
    business days, spend a day late, opportunities weekly."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc).replace(tzinfo=None)

    def ago(**delta: float) -> str:
        return (now - timedelta(**delta)).strftime("%Y-%m-%d %H:%M:%S")

    warehouse = Warehouse(tmp_path)
    warehouse.write_raw({
        "leads": [{"lead_id": "L1", "updated_at": ago(hours=30)}],
        "activities": [{"activity_id": "A1", "lead_id": "L1",
                        "occurred_at": ago(hours=20)}],
        "sales_activities": [{"sales_activity_id": "S1", "lead_id": "L1",
                              "occurred_at": ago(days=2, hours=12)}],
        "lead_status_changes": [{"status_change_id": "C1", "lead_id": "L1",
                                 "status": "sales_accepted",
                                 "changed_at": ago(days=8)}],
        "opportunities": [{"opportunity_id": "O1", "lead_id": "L1",
                           "created_at": ago(days=10)}],
        "marketing_spend": [{"spend_date": (now - timedelta(days=1)).strftime("%Y-%m-%d"),
                             "lead_source": "webinar", "amount": "10"}],
    })
    result = warehouse.dbt_raw("source", "freshness")
    statuses = {
        node_result.node.name: str(node_result.status)
        for node_result in result.result.results
        if node_result.node.resource_type == "source"
    }
    assert statuses == {
        "leads": "warn",  # over a day
        "activities": "warn",  # over 12 hours
        "sales_activities": "pass",  # a long weekend
        "lead_status_changes": "error",  # over a week
        "opportunities": "warn",  # over a week, under two
        "marketing_spend": "pass",  # yesterday's spend
    }
