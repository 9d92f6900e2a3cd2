{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ lead_scoring.lead_scope_prepare(
        copies_relation=source('marketing', 'activities'),
        copies_from_raw=true,
        erased_key=true,
        status_changes=false,
        seeds=[],
    ) }}",
    post_hook="{{ lead_scoring.lead_scope_cleanup() }}",
) }}

-- Every raw marketing activity, typed, with its outcome: used (one row per
-- activity_id) or the reason it was rejected. Incremental by lead (see
-- macros/incremental/lead_scope.sql): a build recomputes the rows of the
-- leads in scope, ranking them against every raw copy of their activity_ids.

{%- set state = lead_scoring.lead_scope_state(seeds=[]) %}
{%- set lead_key = lead_scoring.clean_text('lead_id') %}

with

source as (
    select * from {{ source('marketing', 'activities') }}
),

source_rows as (
    -- The scoped leads' rows and every other copy of their activity_ids
    -- (every row when every lead is recomputed).
    select *
    from source
    {{ lead_scoring.where_in_lead_scope_or_copies(
        state, lead_key, lead_scoring.clean_text('activity_id'), 'source'
    ) }}
),

typed as (
    select
        {{ lead_scoring.clean_text('activity_id') }} as activity_id,
        {{ lead_key }} as lead_id,
        {{ lead_scoring.clean_label('activity_type') }} as activity_type,
        {{ lead_scoring.clean_text('url') }} as url,
        {{ lead_scoring.clean_text('asset') }} as asset,
        {{ lead_scoring.clean_text('campaign_id') }} as campaign_id,
        {{ lead_scoring.to_timestamp_utc('occurred_at') }} as occurred_at,
        {{ lead_scoring.clean_text('occurred_at') }} as occurred_at_text,
        {{ lead_scoring.in_lead_scope(state, lead_key) }} as is_in_scope
    from source_rows
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
        erased_key_hash=true,
        passthrough=['is_in_scope'],
    ) }}
),

final as (
    select
        source_table,
        rejected_row_id,
        raw_key,
        rejection_reason,
        rejection_detail,
        erased_lead_key_hash,
        activity_id,
        lead_id,
        activity_type,
        url,
        asset,
        campaign_id,
        occurred_at,
        {{ lead_scoring.scope_state_columns(state) }}
    from classified
    where is_in_scope
)

select * from final
