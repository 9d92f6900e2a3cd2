-- Every raw marketing activity row, typed and renamed; nothing else
-- (ephemeral: no relation keeps a raw activity as loaded, so an erased
-- lead's are in none). loaded_at is the row's load marker (var
-- raw_loaded_at_column), by which stg_marketing__activities reads only the
-- rows loaded since its previous build.

with

source as (
    select * from {{ source('marketing', 'activities') }}
),

typed as (
    select
        {{ lead_scoring.clean_text('activity_id') }} as activity_id,
        {{ lead_scoring.clean_text('lead_id') }} as lead_id,
        {{ lead_scoring.clean_label('activity_type') }} as source_activity_type,
        {{ lead_scoring.clean_text('url') }} as url,
        {{ lead_scoring.clean_text('asset') }} as asset,
        {{ lead_scoring.clean_text('campaign_id') }} as campaign_id,
        {{ lead_scoring.to_timestamp_utc('occurred_at') }} as occurred_at,
        {{ lead_scoring.clean_text('occurred_at') }} as occurred_at_text,
        {{ lead_scoring.marker_of(source('marketing', 'activities')) }}
            as loaded_at
    from source
)

select * from typed
