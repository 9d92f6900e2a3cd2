-- Every rule firing (an attribute rule matching a lead, an activity rule
-- matching an activity), with its weight as of var as_of: whether it still
-- counts (activity firings before the lead's latest effective reset do not)
-- and its points decayed to as_of. Grain: lead x rule x activity.

with

attribute_matches as (
    select * from {{ ref('int_lead_attribute_rules_matched') }}
),

activity_matches as (
    select * from {{ ref('int_activity_rules_matched') }}
),

epochs as (
    select * from {{ ref('int_lead_qualification_epochs') }}
),

latest_resets as (
    select
        lead_id,
        max(epoch_started_at) as reset_at
    from epochs
    where epoch_index > 0
    group by lead_id
),

attribute_firings as (
    select
        lead_id,
        rule_id,
        category,
        cast(null as {{ dbt.type_string() }}) as activity_id,
        cast(null as {{ dbt.type_timestamp() }}) as occurred_at,
        points,
        max_points,
        cast(null as {{ lead_scoring.type_double() }}) as decay_half_life_days,
        true as is_counted_at_as_of,
        cast(points as {{ lead_scoring.type_double() }}) as decayed_points_at_as_of
    from attribute_matches
),

activity_firings as (
    select
        activity_matches.lead_id,
        activity_matches.rule_id,
        activity_matches.category,
        activity_matches.activity_id,
        activity_matches.occurred_at,
        activity_matches.points,
        activity_matches.max_points,
        activity_matches.decay_half_life_days,
        (
            latest_resets.reset_at is null
            or activity_matches.occurred_at >= latest_resets.reset_at
        ) as is_counted_at_as_of,
        activity_matches.points * {{ lead_scoring.decay_factor(
            lead_scoring.epoch_seconds(lead_scoring.as_of_timestamp())
            ~ ' - '
            ~ lead_scoring.epoch_seconds('activity_matches.occurred_at'),
            'activity_matches.decay_half_life_days',
        ) }} as decayed_points_at_as_of
    from activity_matches
    left join latest_resets
        on activity_matches.lead_id = latest_resets.lead_id
),

final as (
    select * from attribute_firings
    union all
    select * from activity_firings
)

select * from final
