-- Every raw lead status change row, typed and renamed; nothing else. Its
-- outcome (used, or rejected with a reason: statuses outside the
-- lead_statuses seed are unknown_status) is decided by
-- stg_crm__lead_status_changes and fct_rejected_rows (macro
-- status_change_outcomes).

with

source as (
    select * from {{ source('crm', 'lead_status_changes') }}
),

typed as (
    select
        {{ lead_scoring.clean_text('status_change_id') }} as status_change_id,
        {{ lead_scoring.clean_text('lead_id') }} as lead_id,
        {{ lead_scoring.clean_label('status') }} as status,
        {{ lead_scoring.clean_text('reason') }} as reason,
        {{ lead_scoring.to_timestamp_utc('changed_at') }} as changed_at,
        {{ lead_scoring.clean_text('changed_at') }} as changed_at_text
    from source
)

select * from typed
