"""A generated data set with 5% dirt: staging rejects exactly the dirty rows.

The generator records what it planted (`_expected_rejections.csv`,
`_expected_nulls.csv`, `_manifest.json`); the build must reject exactly those
rows, each with the planted reason, and account for every raw row.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from conftest import STAGED
from lead_scoring.synthetic.vocab import UNMAPPABLE_COUNTRIES

def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_rejection_counts_match_the_planted_dirt(generated) -> None:
    warehouse, manifest = generated
    got: dict[str, dict[str, int]] = {table: {} for table in STAGED}
    for table, reason, count in warehouse.query(
        "select source_table, rejection_reason, count(*) "
        "from analytics.fct_rejected_rows group by all"
    ):
        got[table][reason] = count
    assert got == manifest["expected_rejections"]
    # Every kind of dirt was planted, so the comparison means something.
    reasons = {reason for table in got.values() for reason in table}
    assert reasons == {
        "erased", "missing_key", "duplicate", "orphan_lead",
        "unparseable_timestamp", "future_dated", "unknown_status",
        "invalid_amount",
    }


def test_each_rejected_row_is_the_planted_one(generated) -> None:
    """Row by row: same (table, key, reason) multiset as planted.

    Erased rows keep no key in the warehouse, and a spend row's key is the
    text of its three columns, so those two are compared by count only (the
    test above).
    """
    warehouse, _ = generated
    expected = Counter(
        (row["table_name"], row["raw_key"] or None, row["rejection_reason"])
        for row in read_csv(warehouse.root / "raw" / "_expected_rejections.csv")
        if row["rejection_reason"] != "erased"
        and row["table_name"] != "marketing_spend"
    )
    got = Counter(
        warehouse.query(
            "select source_table, raw_key, rejection_reason "
            "from analytics.fct_rejected_rows "
            "where rejection_reason != 'erased' "
            "and source_table != 'marketing_spend'"
        )
    )
    assert got == expected
    assert sum(expected.values()) > 500


def test_raw_rows_are_used_or_rejected(generated) -> None:
    warehouse, manifest = generated
    for table, model in STAGED.items():
        [(raw,)] = warehouse.query(f"select count(*) from raw.{table}")
        [(used,)] = warehouse.query(f"select count(*) from {model}")
        [(rejected,)] = warehouse.query(
            "select count(*) from analytics.fct_rejected_rows "
            "where source_table = ?",
            [table],
        )
        assert raw == manifest["rows"][table] == used + rejected, table
        assert used == manifest["expected_used_rows"][table], table


def test_junk_numbers_become_null(generated) -> None:
    warehouse, _ = generated
    junk = read_csv(warehouse.root / "raw" / "_expected_nulls.csv")
    assert junk, "the generator planted no junk numbers"
    for row in junk:
        column = row["column_name"]
        assert column in {"employee_count", "annual_revenue"}
        [(value,)] = warehouse.query(
            f"select {column} from analytics_restricted.stg_crm__leads where lead_id = ?",
            [row["raw_key"]],
        )
        assert value is None, row


def test_generated_countries_all_map(generated) -> None:
    """Every country the generator writes in a known spelling maps to ISO-2."""
    warehouse, _ = generated
    unmapped = warehouse.query(
        "select distinct country_text from analytics_restricted.stg_crm__leads "
        "where country_code is null and country_text is not null"
    )
    planted = {name.lower() for name in UNMAPPABLE_COUNTRIES if name}
    assert {text for (text,) in unmapped} <= planted


def test_rule_effectiveness_matches_the_ledger(generated) -> None:
    """Recompute each rule's 2x2 table from the ledger and the outcomes."""
    import math

    warehouse, _ = generated
    fired: dict[str, set[str]] = {}
    for rule_id, lead_id in warehouse.query(
        "select distinct rule_id, lead_id from analytics.fct_score_ledger"
    ):
        fired.setdefault(rule_id, set()).add(lead_id)
    sql_leads = {
        lead_id for (lead_id,) in warehouse.query(
            "select distinct lead_id from analytics.fct_mql_events "
            "where sql_at is not null"
        )
    }
    [(total,)] = warehouse.query("select count(*) from analytics.dim_leads")
    rows = warehouse.query(
        "select rule_id, leads_fired, sqls_fired, sql_rate_fired, "
        "log_odds_ratio, never_fires from analytics.rpt_rule_effectiveness"
    )
    assert len(rows) == warehouse.query(
        "select count(*) from analytics.int_scoring_rules_validated"
    )[0][0]
    checked = 0
    for rule_id, leads_fired, sqls_fired, sql_rate, log_odds, never in rows:
        leads = fired.get(rule_id, set())
        assert leads_fired == len(leads), rule_id
        assert sqls_fired == len(leads & sql_leads), rule_id
        assert never == (not leads)
        if leads and len(leads) < total:
            a, b = len(leads & sql_leads), len(leads - sql_leads)
            c = len(sql_leads - leads)
            d = total - len(leads) - c
            expected = math.log(
                (a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))
            )
            assert log_odds == pytest.approx(expected, rel=1e-9), rule_id
            assert sql_rate == pytest.approx(a / len(leads)), rule_id
            checked += 1
        else:
            assert log_odds is None
    assert checked >= 15
