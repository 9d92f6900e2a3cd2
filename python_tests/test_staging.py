"""Staging turns dirty raw rows into typed tables and accounts for every row.

One small raw data set with known dirt, built once; each test asserts an exact
outcome for a specific dirty row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import STAGED, Warehouse, failure_summary

AS_OF = "2025-06-30 00:00:00"

LEAD_DEFAULTS = {
    "first_name": "Test",
    "last_name": "Person",
    "company_name": "Acme",
    "lead_source": "Paid Search",
    "owner_id": "U1",
    "created_at": "2025-01-01 10:00:00",
    "updated_at": "2025-01-01 10:00:00",
    "is_deleted": "false",
}

RAW = {
    "leads": [
        # L1: two versions, the later one (listed first) wins.
        {"lead_id": "L1", "email": "ann.lee@acme.com", "job_title": "Director of Sales",
         "employee_count": "250", "country": "DE", "industry": " Software ",
         "updated_at": "2025-02-01 10:00:00"},
        {"lead_id": "L1", "email": "Ann.Lee@Acme.com", "job_title": "VP Sales",
         "employee_count": "1,200", "country": " germany ",
         "updated_at": "2025-01-01 10:00:00"},
        {"lead_id": "L2", "email": "bob@gmail.com", "job_title": "Student",
         "employee_count": "", "country": "usa", "lead_source": "Organic Search"},
        # L3: the winning row asks for erasure; its activity must vanish too.
        {"lead_id": "L3", "email": "eve.secret@evil-corp.com", "first_name": "Evelyn",
         "last_name": "Secretname", "job_title": "CTO",
         "updated_at": "2025-01-05 00:00:00", "is_deleted": "TRUE"},
        {"lead_id": "L3", "email": "eve.secret@evil-corp.com", "job_title": "CTO",
         "updated_at": "2025-01-04 00:00:00", "is_deleted": "false"},
        # L5: an older row was deleted but the latest is live: not erased.
        {"lead_id": "L5", "email": "max@corp.io", "job_title": "Chief Executive Officer",
         "updated_at": "2025-01-02 00:00:00", "is_deleted": "true"},
        {"lead_id": "L5", "email": "max@corp.io", "job_title": "Chief Executive Officer",
         "updated_at": "2025-01-03 00:00:00", "is_deleted": "no"},
        {"lead_id": " ", "email": "nokey@x.com", "job_title": "Analyst"},
        {"lead_id": "L4", "email": "dan@corp.io", "job_title": "Director",
         "employee_count": "abc", "annual_revenue": "1e400", "country": "Atlantis",
         "created_at": "2025-01-04T09:00:00+02:00", "updated_at": "2025-01-04"},
        {"lead_id": "L6", "email": "no-at-sign", "job_title": "Senior Software Engineer",
         "employee_count": "12", "country": "United  Kingdom"},
    ],
    "activities": [
        {"activity_id": "A1", "lead_id": "L1", "activity_type": "Page View",
         "url": "https://x.com/Pricing?ref=ad", "occurred_at": "2025-02-01 10:00:00"},
        # A2 delivered twice; the later copy comes first, the earliest wins.
        {"activity_id": "A2", "lead_id": "L1", "activity_type": "EMAIL_OPEN",
         "occurred_at": "2025-02-03 10:00:00"},
        {"activity_id": "A2", "lead_id": "L1", "activity_type": "EMAIL_OPEN",
         "occurred_at": "2025-02-02 10:00:00"},
        {"activity_id": "A3", "lead_id": "L9", "activity_type": "email_open",
         "occurred_at": "2025-02-02 10:00:00"},
        {"activity_id": "A4", "lead_id": "L1", "activity_type": "email_open",
         "occurred_at": "not a date"},
        {"activity_id": "A5", "lead_id": "L1", "activity_type": "email_open",
         "occurred_at": "2030-01-01 00:00:00"},
        {"activity_id": "A6", "lead_id": "L3", "activity_type": "demo_request",
         "occurred_at": "2025-02-02 10:00:00"},
        {"activity_id": "", "lead_id": "L1", "activity_type": "email_open",
         "occurred_at": "2025-02-02 10:00:00"},
        {"activity_id": "A7", "lead_id": "L2", "activity_type": " page_view ",
         "url": "https://x.com/blog/post", "occurred_at": "2025-02-02 10:00:00"},
        {"activity_id": "A8", "lead_id": "L2", "activity_type": "Chat Message",
         "occurred_at": "2025-02-02T10:00:00Z"},
        {"activity_id": "A9", "lead_id": "L2", "activity_type": "page-view",
         "url": "https://x.com/careers/open-roles", "occurred_at": "2025-02-02 11:00:00"},
        {"activity_id": "A10", "lead_id": "", "activity_type": "email_open",
         "occurred_at": "2025-02-02 11:00:00"},
        {"activity_id": "A11", "lead_id": "L1", "activity_type": "email_open",
         "occurred_at": "2025-02-30 11:00:00"},
    ],
    "sales_activities": [
        {"sales_activity_id": "S1", "lead_id": "L1", "rep_id": "U1",
         "activity_type": "Call", "occurred_at": "2025-02-01 10:03:00"},
        {"sales_activity_id": "S2", "lead_id": "L3", "rep_id": "U1",
         "activity_type": "Call", "occurred_at": "2025-02-03 10:03:00"},
    ],
    "lead_status_changes": [
        {"status_change_id": "SC1", "lead_id": "L1", "status": "Sales Accepted",
         "changed_at": "2025-02-02 10:00:00"},
        {"status_change_id": "SC2", "lead_id": "L1", "status": "on hold",
         "changed_at": "2025-02-03 10:00:00"},
    ],
    "opportunities": [
        {"opportunity_id": "O1", "lead_id": "L1", "created_at": "2025-02-05",
         "stage": "Closed Won", "amount": "12000", "is_closed": "true",
         "is_won": "TRUE", "closed_at": "2025-03-01"},
        {"opportunity_id": "O2", "lead_id": "L2", "created_at": "2025-02-05",
         "stage": "Discovery", "amount": "$5k", "is_closed": "", "is_won": ""},
    ],
    "marketing_spend": [
        {"spend_date": "2025-02-01", "lead_source": "paid_search",
         "campaign_id": "C1", "amount": "100"},
        {"spend_date": "2025-02-01", "lead_source": "paid_search",
         "campaign_id": "C1", "amount": "90"},
        {"spend_date": "2025-02-02", "lead_source": "paid_search",
         "campaign_id": "C1", "amount": "abc"},
        {"spend_date": "2025-02-03", "lead_source": "", "campaign_id": "C1",
         "amount": "10"},
        {"spend_date": "2025-02-04", "lead_source": "Webinar", "campaign_id": "",
         "amount": "-5"},
        {"spend_date": "someday", "lead_source": "webinar", "campaign_id": "",
         "amount": "5"},
        {"spend_date": "2025-02-04", "lead_source": "Webinar", "campaign_id": "",
         "amount": "250.5"},
    ],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = Warehouse(Path(tmp_path_factory.mktemp("staging")))
    raw = {
        table: [
            {**LEAD_DEFAULTS, **row} if table == "leads" else row for row in rows
        ]
        for table, rows in RAW.items()
    }
    warehouse.write_raw(raw)
    warehouse.dbt("build", vars={"as_of": AS_OF})
    return warehouse


def rejections(warehouse: Warehouse, table: str) -> dict[str | None, list[str]]:
    """raw_key -> sorted reasons of the rejected rows of one raw table."""
    outcome: dict[str | None, list[str]] = {}
    for raw_key, reason in warehouse.query(
        "select raw_key, rejection_reason from analytics.fct_rejected_rows "
        "where source_table = ? order by raw_key, rejection_reason",
        [table],
    ):
        outcome.setdefault(raw_key, []).append(reason)
    return outcome


def test_latest_lead_version_wins(built: Warehouse) -> None:
    row = built.query(
        "select job_title, seniority, employee_count, company_size_band, "
        "country_code, industry, email_domain, lead_source "
        "from analytics_restricted.stg_crm__leads where lead_id = 'L1'"
    )
    assert row == [
        ("Director of Sales", "director", 250.0, "201-1000", "DE", "software",
         "acme.com", "paid search")
    ]


def test_lead_rejections_have_the_right_reason(built: Warehouse) -> None:
    assert rejections(built, "leads") == {
        "L1": ["duplicate"],
        None: ["erased", "erased", "missing_key"],
        "L5": ["duplicate"],
    }


def test_lead_attributes_are_cleaned(built: Warehouse) -> None:
    rows = dict(
        (row[0], row[1:])
        for row in built.query(
            "select lead_id, seniority, email_domain, country_code, employee_count, "
            "company_size_band, annual_revenue, created_at "
            "from analytics_restricted.stg_crm__leads order by lead_id"
        )
    )
    assert sorted(rows) == ["L1", "L2", "L4", "L5", "L6"]
    assert rows["L2"][:5] == ("student", "gmail.com", "US", None, None)
    # Junk numbers become null, unknown countries too; offsets become UTC.
    assert rows["L4"][:6] == ("director", "corp.io", None, None, None, None)
    assert str(rows["L4"][6]) == "2025-01-04 07:00:00"
    assert rows["L5"][0] == "c_level"
    # "Senior Software Engineer" matches no pattern; no @ means no domain;
    # inner blanks in a country name are folded before mapping.
    assert rows["L6"][:5] == ("individual_contributor", None, "GB", 12.0, "11-50")


def test_activity_outcomes(built: Warehouse) -> None:
    assert rejections(built, "activities") == {
        "A2": ["duplicate"],
        "A3": ["orphan_lead"],
        "A4": ["unparseable_timestamp"],
        "A5": ["future_dated"],
        "A10": ["orphan_lead"],
        "A11": ["unparseable_timestamp"],
        None: ["erased", "missing_key"],
    }
    used = {
        row[0]: row[1:]
        for row in built.query(
            "select activity_id, activity_type, source_activity_type, "
            "cast(occurred_at as varchar) from analytics.int_activities_valid"
        )
    }
    assert used == {
        "A1": ("pricing_page_view", "page_view", "2025-02-01 10:00:00"),
        "A2": ("email_open", "email_open", "2025-02-02 10:00:00"),
        "A7": ("page_view", "page_view", "2025-02-02 10:00:00"),
        "A8": ("chat_message", "chat_message", "2025-02-02 10:00:00"),
        "A9": ("careers_page_view", "page_view", "2025-02-02 11:00:00"),
    }


def test_crm_event_outcomes(built: Warehouse) -> None:
    assert rejections(built, "sales_activities") == {None: ["erased"]}
    assert rejections(built, "lead_status_changes") == {"SC2": ["unknown_status"]}
    assert built.query(
        "select status_change_id, status from analytics.stg_crm__lead_status_changes"
    ) == [("SC1", "sales_accepted")]
    assert built.query(
        "select opportunity_id, stage_name, amount, is_closed, is_won "
        "from analytics.stg_crm__opportunities order by 1"
    ) == [("O1", "closed won", 12000.0, True, True),
          ("O2", "discovery", None, False, False)]


def test_spend_outcomes(built: Warehouse) -> None:
    assert rejections(built, "marketing_spend") == {
        "2025-02-01|paid_search|C1": ["duplicate"],
        "2025-02-02|paid_search|C1": ["invalid_amount"],
        "2025-02-03||C1": ["missing_key"],
        "2025-02-04|Webinar|": ["duplicate"],
        "someday|webinar|": ["unparseable_timestamp"],
    }
    assert built.query(
        "select cast(spend_date as varchar), lead_source, campaign_id, amount "
        "from analytics.stg_marketing__spend order by 1"
    ) == [("2025-02-01", "paid_search", "C1", 100.0),
          ("2025-02-04", "webinar", None, 250.5)]


def test_every_raw_row_is_used_or_rejected(built: Warehouse) -> None:
    for table, model in STAGED.items():
        [(raw,)] = built.query(f"select count(*) from raw.{table}")
        [(used,)] = built.query(f"select count(*) from {model}")
        [(rejected,)] = built.query(
            "select count(*) from analytics.fct_rejected_rows where source_table = ?",
            [table],
        )
        assert raw == len(RAW[table]) == used + rejected, table


def test_erased_lead_leaves_no_trace(built: Warehouse) -> None:
    """No relation the project builds shows the erased lead's id, e-mail or name."""
    relations = built.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema like 'analytics%'"
    )
    assert len(relations) > 10
    for schema, name in relations:
        columns = [
            column
            for (column,) in built.query(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [schema, name],
            )
        ]
        text = " || '|' || ".join(
            f"coalesce(cast(\"{column}\" as varchar), '')" for column in columns
        )
        hits = built.query(
            f"select count(*) from \"{schema}\".\"{name}\" where regexp_matches(lower({text}), "
            "'(\\bl3\\b|eve\\.secret|secretname|evelyn)')"
        )
        assert hits == [(0,)], f"{name} still shows the erased lead"


def test_as_of_moves_the_future_boundary(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.write_raw({"leads": [{**LEAD_DEFAULTS, "lead_id": "L1"}],
                         "activities": [RAW["activities"][5]]})
    warehouse.dbt("build", "--select", "+int_activities_valid",
                  "--indirect-selection", "cautious",
                  vars={"as_of": "2030-01-01"})
    assert warehouse.query(
        "select activity_id from analytics.int_activities_valid"
    ) == [("A5",)]


def test_malformed_as_of_fails_with_a_clear_message(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.write_raw({})
    result = warehouse.dbt_raw("run", vars={"as_of": "2025-02-30"})
    assert not result.success
    assert "as_of = '2025-02-30' is not a valid date and time" in (
        failure_summary(result)
    )
