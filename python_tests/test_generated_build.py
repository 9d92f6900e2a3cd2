"""A generated data set with 5% dirt: staging rejects exactly the dirty rows.

The generator records what it planted (`_expected_rejections.csv`,
`_expected_nulls.csv`, `_manifest.json`); the build must reject exactly those
rows, each with the planted reason, and account for every raw row.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from lead_scoring.vocab import UNMAPPABLE_COUNTRIES

STAGED = {
    "leads": "analytics_restricted.stg_crm__leads",
    "activities": "analytics.stg_marketing__activities",
    "sales_activities": "analytics.stg_crm__sales_activities",
    "lead_status_changes": "analytics.stg_crm__lead_status_changes",
    "opportunities": "analytics.stg_crm__opportunities",
    "marketing_spend": "analytics.stg_marketing__spend",
}


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
        "select distinct base.country_text from analytics_restricted.base_crm__leads as base "
        "inner join analytics_restricted.stg_crm__leads as staged using (lead_id) "
        "where staged.country_code is null and base.country_text is not null "
        "and base.rejection_reason is null"
    )
    planted = {name.lower() for name in UNMAPPABLE_COUNTRIES if name}
    assert {text for (text,) in unmapped} <= planted


def test_manifest_is_what_was_loaded(generated) -> None:
    warehouse, manifest = generated
    on_disk = json.loads((warehouse.root / "raw" / "_manifest.json").read_text())
    assert on_disk["rows"] == manifest["rows"]
    assert manifest["dirty_rate"] == 0.05
