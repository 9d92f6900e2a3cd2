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

# Activity types after staging's normalisation: the contract's fourteen, then
# the three a page_view can be re-typed into by URL. Anything else is an
# unknown type (kept, scores 0). The seed seeds/activity_types.csv and the
# macro contract_activity_types hold the same list (tested).
ACTIVITY_TYPES: tuple[str, ...] = (
    "email_open",
    "email_click",
    "email_bounce",
    "unsubscribe",
    "newsletter_signup",
    "page_view",
    "content_download",
    "webinar_registration",
    "webinar_attendance",
    "form_submission",
    "demo_request",
    "contact_request",
    "trial_signup",
    "event_attendance",
    "pricing_page_view",
    "product_page_view",
    "careers_page_view",
)

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
