{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ lead_scoring.lead_scope_prepare(status_changes=false) }}",
    post_hook="{{ lead_scoring.lead_scope_cleanup() }}",
) }}

-- One row per usable marketing activity, with the normalised activity type.
-- Page views are re-typed by URL (pricing, product, careers pages) through
-- the url_page_patterns seed; other page views stay page_view. Types not in
-- the activity_types seed are kept but flagged: they score 0. Incremental by
-- lead (macros/incremental/lead_scope.sql).

{%- set state = lead_scoring.lead_scope_state() %}

with

activities as (
    select * from {{ ref('base_marketing__activities') }}
    where
        rejection_reason is null
        and {{ lead_scoring.in_lead_scope(state, 'lead_id') }}
),

url_patterns as (
    select * from {{ ref('url_page_patterns') }}
),

known_types as (
    select * from {{ ref('activity_types') }}
),

page_view_matches as (
    select
        activities.activity_id,
        url_patterns.page_type,
        row_number() over (
            partition by activities.activity_id
            order by
                url_patterns.match_priority asc,
                {{ lead_scoring.text_order('url_patterns.url_pattern') }} asc
        ) as match_rank
    from activities
    inner join url_patterns
        on lower(activities.url) like {{ dbt.concat([
            "'%'", 'lower(url_patterns.url_pattern)', "'%'",
        ]) }}
    where activities.activity_type = 'page_view'
),

retyped as (
    select
        activities.activity_id,
        activities.lead_id,
        activities.activity_type as source_activity_type,
        activities.url,
        activities.asset,
        activities.campaign_id,
        activities.occurred_at,
        coalesce(page_view_matches.page_type, activities.activity_type)
            as activity_type
    from activities
    left join page_view_matches
        on
            activities.activity_id = page_view_matches.activity_id
            and page_view_matches.match_rank = 1
),

final as (
    select
        retyped.*,
        known_types.activity_type is not null as is_known_type,
        {{ lead_scoring.scope_state_columns(state) }}
    from retyped
    left join known_types
        on retyped.activity_type = known_types.activity_type
)

select * from final
