"""The raw source contract: table names and their columns, key first.

This mirrors section 1 of the project's contract (docs/contract.md,
"1. Sources").
The loader checks incoming files against it and the generator writes it.
"""

from __future__ import annotations

RAW_TABLES: dict[str, tuple[str, ...]] = {
    "leads": (
        "lead_id",
        "email",
        "first_name",
        "last_name",
        "job_title",
        "company_name",
        "company_domain",
        "employee_count",
        "industry",
        "country",
        "annual_revenue",
        "lead_source",
        "campaign_id",
        "is_decision_maker",
        "purchase_timeframe",
        "email_opt_out",
        "owner_id",
        "created_at",
        "updated_at",
        "is_deleted",
    ),
    "activities": (
        "activity_id",
        "lead_id",
        "activity_type",
        "url",
        "asset",
        "campaign_id",
        "occurred_at",
    ),
    "sales_activities": (
        "sales_activity_id",
        "lead_id",
        "rep_id",
        "activity_type",
        "occurred_at",
    ),
    "lead_status_changes": (
        "status_change_id",
        "lead_id",
        "status",
        "reason",
        "changed_at",
    ),
    "opportunities": (
        "opportunity_id",
        "lead_id",
        "created_at",
        "stage",
        "amount",
        "is_closed",
        "is_won",
        "closed_at",
    ),
    "marketing_spend": (
        "spend_date",
        "lead_source",
        "campaign_id",
        "amount",
    ),
}

# Reasons a raw row can be rejected by staging, in the order staging applies
# them (the first that applies is the one recorded).
REJECTION_REASONS: tuple[str, ...] = (
    "erased",
    "missing_key",
    "duplicate",
    "orphan_lead",
    "unparseable_timestamp",
    "future_dated",
    "unknown_status",
    "invalid_amount",
)
