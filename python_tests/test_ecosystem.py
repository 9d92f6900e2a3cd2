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
            "int_activity_scores_evaluated", "stg_marketing__activities"} <= scoring
    assert not scoring & {"rpt_funnel_conversion", "rpt_score_calibration"}
    everything = listed(warehouse, "--selector", "daily_marts")
    reports = listed(warehouse, "--selector", "reports", "--resource-type", "model")
    assert {"rpt_funnel_conversion", "rpt_score_calibration",
            "rpt_threshold_backtest", "rpt_sales_feedback",
            "fct_lifecycle_transitions"} <= reports
    assert reports | scoring <= everything
    quality = listed(warehouse, "--selector", "data_quality")
    assert "assert_raw_rows_are_used_or_rejected" in quality
    assert "mql_candidates_threshold_edges_and_fast_track" in quality
    assert not quality & {"dim_leads", "scoring_rules"}


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


def test_activity_types_seed_is_the_contract_list() -> None:
    import csv

    from conftest import PROJECT_DIR
    from lead_scoring.contract import ACTIVITY_TYPES

    with open(PROJECT_DIR / "seeds" / "activity_types.csv", newline="") as handle:
        seeded = [row["activity_type"] for row in csv.DictReader(handle)]
    assert sorted(seeded) == sorted(ACTIVITY_TYPES)
    assert len(set(ACTIVITY_TYPES)) == 17
