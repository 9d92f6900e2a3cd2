"""Map the public "Marketing Funnel by Olist" data set onto the source contract.

Olist published 8,000 marketing-qualified leads of its marketplace (first
contacted 2017-06 to 2018-06) and the 842 of them that sales closed. It has no
activity stream, no sales touches and no lost deals, so the mapping fills the
six raw tables as follows (`lead-scoring load --from DIR --mapping olist`):

| raw table | what it gets |
|---|---|
| leads | one row per MQL: lead_id = mql_id; created_at = updated_at = first_contact_date; lead_source = origin (blank when Olist has none); campaign_id = landing_page_id; is_deleted false. Everything else stays empty: the closed-deal attributes (segment, behaviour profile, declared revenue...) exist only for won deals, so putting them on leads would leak the outcome into scoring. |
| activities | one form_submission per MQL at first_contact_date (the landing-page sign-up that made it an MQL), url `landing/<landing_page_id>`. |
| sales_activities | empty: Olist publishes no touches (speed to lead stays null). |
| lead_status_changes | one sales_accepted per closed deal at won_date (the latest moment the acceptance is known to have happened). |
| opportunities | one per closed deal: opportunity_id = `olist-<mql_id>`, created and closed won at won_date, stage `closed won`; amount empty (Olist gives no deal value). |
| marketing_spend | empty: no spend is published (cost per MQL and CAC stay null). |

Olist's leads are MQLs by definition. To reproduce that, build with
`--vars '{fast_track_activity_types: [form_submission], mql_min_fit_score: 0}'`
so each lead fast-tracks on its sign-up, and `as_of` after the last won date
(e.g. 2019-01-01). One deal is won two days before its first contact: its
acceptance and opportunity come before the MQL and are not attributed to it
(the lead still counts as a customer of its cohort).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from lead_scoring.contract import RAW_TABLES
from lead_scoring.errors import LeadScoringError

MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"
OLIST_VARS = {
    "fast_track_activity_types": ["form_submission"],
    "mql_min_fit_score": 0,
    "as_of": "2019-01-01 00:00:00",
}


class OlistMappingError(LeadScoringError):
    """The Olist files are missing or not in the published shape."""


# raw table -> (Olist file it comes from, {contract column: SQL expression}).
# Contract columns not named here stay empty.
MAPPING: dict[str, tuple[str, dict[str, str]]] = {
    "leads": ("mqls", {
        "lead_id": "mql_id",
        "created_at": "first_contact_date",
        "updated_at": "first_contact_date",
        "lead_source": "origin",
        "campaign_id": "landing_page_id",
        "is_deleted": "'false'",
    }),
    "activities": ("mqls", {
        "activity_id": "'olist-' || mql_id",
        "lead_id": "mql_id",
        "activity_type": "'form_submission'",
        "url": "'landing/' || landing_page_id",
        "campaign_id": "landing_page_id",
        "occurred_at": "first_contact_date",
    }),
    "lead_status_changes": ("deals", {
        "status_change_id": "'olist-accepted-' || mql_id",
        "lead_id": "mql_id",
        "status": "'sales_accepted'",
        "changed_at": "won_date",
    }),
    "opportunities": ("deals", {
        "opportunity_id": "'olist-' || mql_id",
        "lead_id": "mql_id",
        "created_at": "won_date",
        "stage": "'closed won'",
        "is_closed": "'true'",
        "is_won": "'true'",
        "closed_at": "won_date",
    }),
}


def olist_to_raw(
    source_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str]
) -> dict[str, int]:
    """Write the six raw tables (CSV, contract columns) mapped from Olist.

    Returns the rows written per table.
    """
    source = Path(source_dir)
    files = {"mqls": source / MQL_FILE, "deals": source / DEALS_FILE}
    for path in files.values():
        if not path.is_file():
            raise OlistMappingError(
                f"{path} not found",
                hint=f"point --from at the folder holding {MQL_FILE} and {DEALS_FILE}",
            )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with duckdb.connect() as connection:
        for table, columns in RAW_TABLES.items():
            origin, expressions = MAPPING.get(table, ("mqls", {}))
            select_list = ", ".join(
                f"cast({expressions.get(column, 'null')} as varchar) as {column}"
                for column in columns
            )
            where = "" if expressions else " where false"
            try:
                relation = connection.sql(
                    f"select {select_list} from read_csv("
                    f"'{files[origin]}', header = true, all_varchar = true){where}"
                )
                relation.write_csv(str(out / f"{table}.csv"), header=True)
                rows[table] = len(relation.fetchall())
            except duckdb.Error as exc:
                raise OlistMappingError(
                    f"could not map Olist data into {table}: {exc}",
                    hint="check that the files are the published Olist CSVs",
                ) from exc
    return rows
