-- Every raw marketing activity, typed, with its outcome: used (one row per
-- activity_id) or the reason it was rejected.

with

source as (
    select * from {{ source('marketing', 'activities') }}
),

typed as (
    select
        {{ lead_scoring.clean_text('activity_id') }} as activity_id,
        {{ lead_scoring.clean_text('lead_id') }} as lead_id,
        {{ lead_scoring.clean_label('activity_type') }} as activity_type,
        {{ lead_scoring.clean_text('url') }} as url,
        {{ lead_scoring.clean_text('asset') }} as asset,
        {{ lead_scoring.clean_text('campaign_id') }} as campaign_id,
        {{ lead_scoring.to_timestamp_utc('occurred_at') }} as occurred_at,
        {{ lead_scoring.clean_text('occurred_at') }} as occurred_at_text
    from source
),

classified as (
    {{ lead_scoring.classify_lead_event_rows(
        typed_relation='typed',
        source_table='activities',
        key_column='activity_id',
        timestamp_column='occurred_at',
        columns=[
            'activity_id', 'lead_id', 'activity_type', 'url', 'asset',
            'campaign_id', 'occurred_at',
        ],
    ) }}
)

select * from classified
