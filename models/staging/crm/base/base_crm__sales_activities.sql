-- Every raw sales activity row, typed and renamed; nothing else. Its
-- outcome (used, or rejected with a reason) is decided by
-- stg_crm__sales_activities and fct_rejected_rows (macro
-- sales_activity_outcomes).

with

source as (
    select * from {{ source('crm', 'sales_activities') }}
),

typed as (
    select
        {{ lead_scoring.clean_text('sales_activity_id') }} as sales_activity_id,
        {{ lead_scoring.clean_text('lead_id') }} as lead_id,
        {{ lead_scoring.clean_text('rep_id') }} as rep_id,
        {{ lead_scoring.clean_label('activity_type') }} as activity_type,
        {{ lead_scoring.to_timestamp_utc('occurred_at') }} as occurred_at,
        {{ lead_scoring.clean_text('occurred_at') }} as occurred_at_text
    from source
)

select * from typed
