"""Configuration errors stop a run before any model is built, clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PROJECT_DIR, Warehouse, failure_summary


def built_relations(warehouse: Warehouse) -> set[str]:
    return {
        name for (name,) in warehouse.query(
            "select table_name from information_schema.tables "
            "where table_schema like 'analytics%'"
        )
    }


@pytest.fixture
def loaded(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path)
    warehouse.write_raw({})
    return warehouse


@pytest.mark.parametrize(
    ("bad_vars", "message"),
    [
        ({"mql_score_threshold": -5},
         "var mql_score_threshold = -5 must be a number >= 0"),
        ({"mql_score_threshold": "seventy"},
         "var mql_score_threshold = seventy must be a number >= 0"),
        ({"mql_min_fit_score": True}, "var mql_min_fit_score = True must be a number"),
        ({"lead_grade_fit_edges": [10, 20, 30]},
         "var lead_grade_fit_edges = [10, 20, 30] must be in decreasing order"),
        ({"speed_to_lead_sla_minutes": 0},
         "var speed_to_lead_sla_minutes = 0 must be a number > 0"),
        ({"backtest_thresholds": [50, "x"]},
         "var backtest_thresholds has 'x', not a number"),
        ({"as_of": "yesterday"}, "var as_of = 'yesterday' is not in the form"),
    ],
)
def test_bad_var_stops_the_run(loaded: Warehouse, bad_vars: dict, message: str) -> None:
    result = loaded.dbt_raw("build", vars={"as_of": "2025-01-01", **bad_vars})
    assert not result.success
    assert message in failure_summary(result)
    assert built_relations(loaded) == set()


def test_unknown_fast_track_type_stops_the_run_before_scoring(loaded: Warehouse) -> None:
    """The known types are the rows of seeds/activity_types.csv: a type the
    seed does not hold stops the run at int_scoring_rules_validated, with
    the seed's types; nothing downstream of the rules is built."""
    result = loaded.dbt_raw("build", vars={
        "as_of": "2025-01-01",
        "fast_track_activity_types": ["demo_request", "Chat", " Webinar_Attendance "],
    })
    assert not result.success
    message = failure_summary(result)
    assert (
        "var fast_track_activity_types names 'chat', which is not an activity "
        "type of seeds/activity_types.csv (known: careers_page_view, "
        "contact_request, content_download, demo_request,"
    ) in message
    assert "webinar_attendance'" not in message  # trimmed and lower-cased, it is known
    built = built_relations(loaded)
    assert {"activity_types", "int_scoring_rules_checked"} <= built
    assert not {"int_scoring_rules_validated", "int_activity_group_scores",
                "dim_leads"} & built


def test_a_type_added_to_the_seed_can_be_fast_tracked(tmp_path: Path) -> None:
    """A new activity type written into seeds/activity_types.csv is known at
    once: var fast_track_activity_types may name it, and a lead's activity
    of that type qualifies it at that moment."""
    warehouse = Warehouse(tmp_path)
    seed = (PROJECT_DIR / "seeds" / "activity_types.csv").read_text()
    warehouse.with_seed(
        "activity_types",
        seed + "sales_chat,web,false,Chatted with sales on the website\n",
    )
    warehouse.write_raw({
        "leads": [{"lead_id": "L1", "created_at": "2025-01-02 09:00:00",
                   "updated_at": "2025-01-02 09:00:00"}],
        "activities": [{"activity_id": "A1", "lead_id": "L1",
                        "activity_type": "Sales Chat",
                        "occurred_at": "2025-01-03 10:00:00"}],
    })
    result = warehouse.dbt_raw("build", vars={
        "as_of": "2025-02-01 00:00:00", "mql_min_fit_score": 0,
        "fast_track_activity_types": ["sales_chat"],
    })
    assert result.success, failure_summary(result)
    assert warehouse.query(
        "select lead_id, cast(mql_at as varchar), qualification_path "
        "from analytics.fct_mql_events"
    ) == [("L1", "2025-01-03 10:00:00", "fast_track")]


def test_a_raw_table_without_the_load_marker_is_read_whole(tmp_path: Path) -> None:
    """Raw activities without the var raw_loaded_at_column's column (a
    connector that writes none): every build reads the table whole, its
    rows score, and rpt_build_inputs records no newest load for it."""
    import duckdb

    warehouse = Warehouse(tmp_path)
    warehouse.write_raw({
        "leads": [{"lead_id": "L1", "created_at": "2025-01-02 09:00:00",
                   "updated_at": "2025-01-02 09:00:00"}],
        "activities": [{"activity_id": "A1", "lead_id": "L1",
                        "activity_type": "demo_request",
                        "occurred_at": "2025-01-03 10:00:00"}],
    })
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.execute("alter table raw.activities drop column _loaded_at")
    for _ in range(2):  # the second build finds no marker to go on either
        warehouse.dbt("build", vars={"as_of": "2025-02-01 00:00:00"})
    assert warehouse.query(
        "select raw_rows, newest_loaded_at from analytics.rpt_build_inputs "
        "where source_table = 'activities'"
    ) == [(1, None)]
    assert warehouse.query(
        "select count(*) from analytics.int_activities_valid"
    ) == [(1,)]


def test_every_bad_var_is_reported_at_once(loaded: Warehouse) -> None:
    result = loaded.dbt_raw("run", vars={
        "mql_score_threshold": -1, "score_band_width": -20,
        "sales_capacity_mqls_per_month": "lots",
    })
    message = failure_summary(result)
    assert "mql_score_threshold" in message
    assert "score_band_width" in message
    assert "sales_capacity_mqls_per_month" in message


def test_missing_raw_table_is_named(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.write_raw({})
    result = warehouse.dbt_raw("build", vars={"raw_schema": "crm_export"})
    assert not result.success
    message = failure_summary(result)
    for table in ["leads", "activities", "marketing_spend"]:
        assert f"raw table crm_export.{table} does not exist" in message
    assert "lead-scoring load" in message
    assert built_relations(warehouse) == set()


def test_seeds_alone_need_no_raw_tables(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.dbt("seed", vars={"raw_schema": "crm_export"})
    assert "scoring_rules" in built_relations(warehouse)


def test_source_freshness_sees_stale_feeds(tmp_path: Path) -> None:
    """A fresh feed passes; an old one errors, even with future-dated junk."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    recent = (now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    old = (now - timedelta(days=10)).strftime("%Y-%m-%d %H:%M:%S")
    future = (now + timedelta(days=400)).strftime("%Y-%m-%d %H:%M:%S")
    warehouse = Warehouse(tmp_path)
    warehouse.write_raw({
        "leads": [{"lead_id": "L1", "updated_at": recent}],
        "activities": [
            {"activity_id": "A1", "lead_id": "L1", "occurred_at": old},
            {"activity_id": "A2", "lead_id": "L1", "occurred_at": future},
        ],
    })
    result = warehouse.dbt_raw("source", "freshness")
    statuses = {
        node_result.node.name: str(node_result.status)
        for node_result in result.result.results
    }
    assert statuses["leads"] == "pass"
    assert statuses["activities"] == "error"  # 10 days old; the future row is ignored


def _seed_with_bad_row(tmp_path: Path, bad_row: str) -> tuple[Warehouse, str]:
    """`dbt seed` of country_codes with `bad_row` as line 5 of the file (the
    header is line 1); the warehouse and the failure message."""
    lines = (PROJECT_DIR / "seeds" / "country_codes.csv").read_text().splitlines()
    lines.insert(4, bad_row)
    warehouse = Warehouse(tmp_path).with_seed(
        "country_codes", "\n".join(lines) + "\n"
    )
    result = warehouse.dbt_raw("seed", "--select", "country_codes")
    assert not result.success
    return warehouse, failure_summary(result)


def test_short_seed_row_is_named_by_file_and_line(tmp_path: Path) -> None:
    """A seed row with a missing field fails the seed load with the file and
    line (not DuckDB's sniffer hints), and no seed table is left behind."""
    warehouse, message = _seed_with_bad_row(tmp_path, "af")
    assert "seeds/country_codes.csv line 5: missing columns" in message
    assert "one value per header column (country_alias, country_code)" in message
    assert "sniff" not in message.lower()
    assert "country_codes" not in built_relations(warehouse)


def test_long_seed_row_is_named_by_file_and_row(tmp_path: Path) -> None:
    """A row with an extra field stops dbt itself while it reads the file
    (before any SQL runs): its message names the file and the data row
    (counted from 0 after the header, so line 5 is row 3)."""
    warehouse, message = _seed_with_bad_row(tmp_path, "af,AF,extra")
    assert "seeds/country_codes.csv" in message
    assert "Row 3 has 3 values, but Table only has 2 columns" in message
    assert "country_codes" not in built_relations(warehouse)


def test_seed_whose_columns_changed_says_to_load_it_anew(tmp_path: Path) -> None:
    """A seed file that gained a column since its table was loaded stops the
    load with both column lists and the command that loads it anew."""
    warehouse = Warehouse(tmp_path)
    original = (PROJECT_DIR / "seeds" / "lead_statuses.csv").read_text()
    warehouse.with_seed("lead_statuses", original)
    warehouse.dbt("seed", "--select", "lead_statuses")
    lines = original.splitlines()
    widened = [lines[0] + ",owner_team"] + [line + ",sales" for line in lines[1:]]
    (warehouse.project_dir / "seeds" / "lead_statuses.csv").write_text(
        "\n".join(widened) + "\n"
    )
    result = warehouse.dbt_raw("seed", "--select", "lead_statuses")
    assert not result.success
    message = failure_summary(result)
    assert "seeds/lead_statuses.csv has the columns (" in message
    assert ", owner_team) but the existing table" in message
    assert "dbt seed --full-refresh --select lead_statuses" in message
    assert warehouse.dbt_raw(
        "seed", "--full-refresh", "--select", "lead_statuses"
    ).success
    assert warehouse.query(
        "select distinct owner_team from analytics.lead_statuses"
    ) == [("sales",)]
