{{ config(materialized='table') }}

-- One row per known activity type and activity rule that matches it. Rules
-- on activity_type compare with the type alone, so matching the few known
-- types once (instead of every activity) gives every activity its rules by
-- a join on the type. equals and in compare the whole type, contains looks
-- for each piece inside it; numeric operators never match a type. Types
-- outside the activity_types seed score 0 and match nothing.

with

known_types as (
    select activity_type from {{ ref('activity_types') }}
),

rule_values as (
    select * from {{ ref('int_scoring_rule_values') }}
    where field = 'activity_type'
),

components as (
    select * from {{ ref('int_scoring_components') }}
),

equality_matches as (
    select
        known_types.activity_type,
        rule_values.rule_id
    from known_types
    inner join rule_values
        on known_types.activity_type = rule_values.value_piece
    where rule_values.operator in ('equals', 'in')
),

contains_matches as (
    select
        known_types.activity_type,
        rule_values.rule_id
    from known_types
    inner join rule_values
        on {{ dbt.position(
            'rule_values.value_piece', 'known_types.activity_type'
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
        matched.activity_type,
        matched.rule_id,
        components.category,
        components.points,
        components.max_points,
        components.decay_half_life_days,
        components.slot_group,
        components.slot
    from matched
    inner join components
        on matched.rule_id = components.rule_id
)

select * from final
