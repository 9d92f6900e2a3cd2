"""Scoring from the rule file: validation, re-scoring and exact values."""

from __future__ import annotations

from pathlib import Path

from conftest import Warehouse, failure_summary

HEADER = (
    "rule_id,category,field,operator,value,points,max_points,"
    "decay_half_life_days,is_active,description\n"
)

LEAD = {
    "lead_id": "L1", "email": "ann@acme.com", "job_title": "VP Marketing",
    "employee_count": "500", "country": "US", "industry": "software",
    "lead_source": "webinar", "owner_id": "U1",
    "created_at": "2025-01-01 00:00:00", "updated_at": "2025-01-01 00:00:00",
    "is_deleted": "false",
}


def activity(activity_id: str, activity_type: str, occurred_at: str,
             url: str = "") -> dict[str, str]:
    return {"activity_id": activity_id, "lead_id": "L1",
            "activity_type": activity_type, "url": url,
            "occurred_at": occurred_at}


def test_malformed_rules_stop_the_build_before_scoring(tmp_path: Path) -> None:
    rules = HEADER + "\n".join([
        "good,fit,seniority,equals,vp,20,,,true,",
        "bad_field,fit,shoe_size,equals,42,5,,,true,",
        "bad_operator,fit,industry,like,soft%,5,,,true,",
        "bad_points,engagement,activity_type,equals,email_open,lots,,,true,",
        "bad_between,fit,employee_count,between,500,5,,,true,",
        "bad_range,fit,employee_count,between,900|100,5,,,true,",
        "bad_decay,fit,industry,equals,software,5,,30,true,",
        "off_but_broken,fit,shoe_size,equals,1,x,,,false,",
    ]) + "\n"
    warehouse = Warehouse(tmp_path).with_seed("scoring_rules", rules)
    warehouse.write_raw({"leads": [LEAD]})
    result = warehouse.dbt_raw("build", vars={"as_of": "2025-02-01"})
    assert not result.success
    message = failure_summary(result)
    assert "6 invalid active rule(s)" in message
    for expected in [
        "rule bad_field: unknown field shoe_size",
        "rule bad_operator: unknown operator like",
        "rule bad_points: points lots is not an integer",
        "rule bad_between: between value 500 is not lo|hi",
        "rule bad_range: between value 900|100 is not lo|hi",
        "rule bad_decay: decay_half_life_days is only for activity_type rules",
    ]:
        assert expected in message, message
    assert "off_but_broken" not in message
    # Nothing downstream of the rules was built.
    built = {
        name for (name,) in warehouse.query(
            "select table_name from information_schema.tables "
            "where table_schema like 'analytics%'"
        )
    }
    assert "stg_crm__leads" in built
    assert not built & {
        "int_lead_score_trajectories", "dim_leads", "fct_mql_events",
        "fct_score_ledger",
    }


def test_the_points_decide_the_mql_moment(tmp_path: Path) -> None:
    """Three leads view pages three times; the rule of each lead's page type
    gives 10, 15 or 30 points: the MQL moment is the third, second or first
    view (40 + 3 x 10 = 70, 40 + 2 x 15, 40 + 30). Editing the rule file and
    rebuilding re-scores all history: see test_definition_changes.py."""
    rules = HEADER + "\n".join([
        "fit_vp,fit,seniority,equals,vp,40,,,true,",
        "pricing,engagement,activity_type,equals,pricing_page_view,10,,,true,",
        "product,engagement,activity_type,equals,product_page_view,15,,,true,",
        "careers,engagement,activity_type,equals,careers_page_view,30,,,true,",
    ]) + "\n"
    pages = {"P10": "pricing", "P15": "product", "P30": "careers"}
    leads = [{**LEAD, "lead_id": lead_id, "email": f"{lead_id}@acme.com"}
             for lead_id in pages]
    activities = [
        {**activity(f"{lead_id}-{day}", "page_view", f"2025-01-1{day} 09:00:00",
                    f"https://x.io/{page}"), "lead_id": lead_id}
        for lead_id, page in pages.items() for day in (1, 2, 3)
    ]
    warehouse = Warehouse(tmp_path).with_seed("scoring_rules", rules)
    warehouse.write_raw({"leads": leads, "activities": activities})
    warehouse.dbt("build", vars={"as_of": "2025-02-01",
                                 "mql_score_threshold": 70,
                                 "mql_min_fit_score": 30})
    assert warehouse.query(
        "select lead_id, trigger_activity_id, lead_score_at_mql "
        "from analytics.fct_mql_events order by lead_id"
    ) == [("P10", "P10-3", 70.0), ("P15", "P15-2", 70.0), ("P30", "P30-1", 70.0)]


def test_decay_cap_and_precision_over_years(tmp_path: Path) -> None:
    """A half-life of a few hours over three years of history stays exact."""
    rules = HEADER + "\n".join([
        "fit_vp,fit,seniority,equals,vp,40,,,true,",
        "clicks,engagement,activity_type,equals,email_click,10,25,0.125,true,",
        "opens,engagement,activity_type,equals,email_open,1,,30,true,",
    ]) + "\n"
    activities = [
        activity("A1", "email_click", "2022-01-01 00:00:00"),
        activity("A2", "email_open", "2022-01-01 00:00:00"),
        # Three years later: the first click is 8,760 half-lives old.
        activity("A3", "email_click", "2025-01-01 00:00:00"),
        activity("A4", "email_click", "2025-01-01 03:00:00"),
        activity("A5", "email_click", "2025-01-01 03:00:00"),
        activity("A6", "email_open", "2025-01-31 03:00:00"),
    ]
    warehouse = Warehouse(tmp_path).with_seed("scoring_rules", rules)
    warehouse.write_raw({"leads": [LEAD], "activities": activities})
    # The backtest's thresholds read the score where each is first reached:
    # 51 at A1 and A2 (40 + 10 + 1, same second); 65 at A4 and A5 (three
    # years later, same second: 40 + 10*0.5 + 10 + 10 = 65, the cap of 25
    # met exactly, plus what is left of the 2022 open). A3 (40 + 10 + almost
    # nothing) and A6 reach neither.
    warehouse.dbt("build", vars={"as_of": "2025-01-31 03:00:00",
                                 "mql_score_threshold": 1000,
                                 "backtest_thresholds": [51, 65]})
    reached = {
        threshold: (activity_id, score) for threshold, activity_id, score in
        warehouse.query(
            "select mql_score_threshold, trigger_activity_id, "
            "lead_score_at_qualification from analytics.int_lead_score_trajectories "
            "where start_index = 0"
        )
    }
    three_hours = 0.5 ** (3 / 24 / 0.125)  # one half-life: 0.5
    opens_a2 = 0.5 ** ((3 * 365 + 1) * 24 / (30 * 24))  # 2022 -> 2025 open
    assert set(reached) == {51.0, 65.0}
    assert reached[51.0][0] == "A1" and abs(reached[51.0][1] - 51.0) < 1e-9
    assert reached[65.0][0] == "A4"
    assert abs(reached[65.0][1] - (65.0 + opens_a2 * 0.5 ** (3 / 24 / 30))) < 1e-6
    # At as_of, 30 days after the clicks: they decayed to nothing; the open
    # of A6 counts 1 and the 2022 open almost nothing.
    [(engagement,)] = warehouse.query(
        "select engagement_score from analytics.dim_leads"
    )
    clicks_now = (10 * three_hours + 20) * 0.5 ** (30 * 24 / 3)
    assert abs(engagement - (1.0 + clicks_now + opens_a2 * 0.5 ** 1)) < 1e-6
