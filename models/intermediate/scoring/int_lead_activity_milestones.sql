{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    unique_key='lead_id',
    scope='changed_leads',
) }}

-- One row per lead with at least one usable activity: how many, the first
-- one, and its first engagement (the first activity whose type is not a
-- subscriber activity in seeds/activity_types.csv, i.e. other than
-- newsletter_signup or email_open, in (occurred_at, activity_id) order),
-- which makes it a lead rather than a subscriber. What the qualification
-- starts and the lifecycle read, so that they need not scan every activity.
-- Incremental by lead (macros/incremental/lead_incremental.sql).
{%- set mode = lead_scoring.incremental_mode() %}
{#- Set here, not in the incremental branch below, so that dbt sees
    the dependencies whatever the mode. #}
{%- set live_leads = ref('stg_crm__leads') %}
{%- set is_recomputed = lead_scoring.in_changed_leads(mode, 'lead_id') %}

with

{%- if mode.incremental %}

recomputed_leads as (
    -- The live leads this build recomputes, a lead-level table the
    -- activities are filtered by (filtered by the changed-lead query
    -- directly, DuckDB built its join's hash table on the activities).
    select lead_id from {{ live_leads }}
    where {{ is_recomputed }}
),

{%- endif %}

activities as (
    select * from {{ ref('int_activities_valid') }}
    {%- if mode.incremental %}
    where lead_id in (select recomputed_leads.lead_id from recomputed_leads)
    {%- endif %}
),

subscriber_types as (
    select activity_type from {{ ref('activity_types') }}
    where is_subscriber_activity
),

typed as (
    -- Unknown types are engagement too: only the listed ones keep a lead
    -- a subscriber.
    select
        activities.lead_id,
        activities.activity_id,
        activities.occurred_at,
        subscriber_types.activity_type is null as is_engagement
    from activities
    left join subscriber_types
        on activities.activity_type = subscriber_types.activity_type
),

ranked as (
    select
        lead_id,
        activity_id,
        occurred_at,
        is_engagement,
        row_number() over (
            partition by lead_id, is_engagement
            order by occurred_at, {{ lead_scoring.text_order('activity_id') }}
        ) as type_rank
    from typed
),

aggregated as (
    select
        lead_id,
        count(*) as activities,
        min(occurred_at) as first_activity_at,
        max(
            case when is_engagement and type_rank = 1 then activity_id end
        ) as first_engagement_activity_id,
        max(
            case when is_engagement and type_rank = 1 then occurred_at end
        ) as first_engaged_at
    from ranked
    group by lead_id
),

final as (
    select
        *,
        {{ lead_scoring.build_state_columns(mode) }}
    from aggregated
)

select * from final
