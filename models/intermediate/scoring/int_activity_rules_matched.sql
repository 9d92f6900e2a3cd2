-- One row per valid activity and activity rule (field activity_type) that
-- matches it, with the rule's raw points: the activity's normalised (and
-- URL-re-typed) type joined to the rules matching that type
-- (int_activity_type_rules). Unknown types (not in the activity_types seed)
-- score 0, so they match no rule.

with

activities as (
    select * from {{ ref('int_activities_valid') }}
),

type_rules as (
    select * from {{ ref('int_activity_type_rules') }}
),

final as (
    select
        activities.activity_id,
        activities.lead_id,
        activities.occurred_at,
        activities.activity_type,
        type_rules.rule_id,
        type_rules.category,
        type_rules.points,
        type_rules.max_points,
        type_rules.decay_half_life_days
    from activities
    inner join type_rules
        on activities.activity_type = type_rules.activity_type
)

select * from final
