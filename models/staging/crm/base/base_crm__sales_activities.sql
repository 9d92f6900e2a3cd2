-- Every raw sales activity, typed, with its outcome: used (one row per
-- sales_activity_id) or the reason it was rejected.

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
),

classified as (
    {{ lead_scoring.classify_lead_event_rows(
        typed_relation='typed',
        source_table='sales_activities',
        key_column='sales_activity_id',
        timestamp_column='occurred_at',
        columns=[
            'sales_activity_id', 'lead_id', 'rep_id', 'activity_type',
            'occurred_at',
        ],
    ) }}
)

select * from classified
