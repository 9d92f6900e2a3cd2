{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ lead_scoring.lead_scope_prepare(status_changes=false) }}",
    post_hook="{{ lead_scoring.lead_scope_cleanup() }}",
) }}

-- One row per usable activity and activity rule (field activity_type) that
-- matches it, with the rule's raw points. The type compared is the
-- normalised (and URL-re-typed) activity_type. Unknown types (not in the
-- activity_types seed) score 0, so they match no rule; numeric operators
-- never match an activity type. Incremental by lead
-- (macros/incremental/lead_scope.sql).
{%- set state = lead_scoring.lead_scope_state() %}

with

activities as (
    select * from {{ ref('stg_marketing__activities') }}
    where
        is_known_type
        and {{ lead_scoring.in_lead_scope(state, 'lead_id') }}
),

rules as (
    select * from {{ ref('int_scoring_rules_validated') }}
    where is_activity_rule
),

rule_values as (
    select * from {{ ref('int_scoring_rule_values') }}
    where field = 'activity_type'
),

equality_matches as (
    select
        activities.activity_id,
        rule_values.rule_id
    from activities
    inner join rule_values
        on activities.activity_type = rule_values.value_piece
    where rule_values.operator in ('equals', 'in')
),

contains_matches as (
    select
        activities.activity_id,
        rule_values.rule_id
    from activities
    inner join rule_values
        on {{ dbt.position(
            'rule_values.value_piece', 'activities.activity_type'
        ) }} > 0
    where rule_values.operator = 'contains'
),

matched as (
    select * from equality_matches
    union
    select * from contains_matches
),

final as (
    select
        matched.activity_id,
        activities.lead_id,
        activities.occurred_at,
        activities.activity_type,
        matched.rule_id,
        rules.category,
        rules.points,
        rules.max_points,
        rules.decay_half_life_days,
        {{ lead_scoring.scope_state_columns(state) }}
    from matched
    inner join activities
        on matched.activity_id = activities.activity_id
    inner join rules
        on matched.rule_id = rules.rule_id
)

select * from final
