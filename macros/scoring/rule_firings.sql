{% macro rule_firings(attribute_matches, activity_matches, epochs) %}
    {#- Every rule firing (grain: lead x rule x activity) with its weight as
        of var as_of: whether it still counts (an activity firing before
        the lead's latest effective reset does not) and its points decayed
        to as_of. For int_rule_firings_weighted, int_lead_rule_states and
        fct_score_ledger, which read the same firings from different
        relations. -#}
    with

    latest_resets as (
        select
            lead_id,
            max(epoch_started_at) as reset_at
        from {{ epochs }}
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
            cast(null as {{ lead_scoring.type_double() }})
                as decay_half_life_days,
            true as is_counted_at_as_of,
            cast(points as {{ lead_scoring.type_double() }})
                as decayed_points_at_as_of
        from {{ attribute_matches }}
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
        from {{ activity_matches }} as activity_matches
        left join latest_resets
            on activity_matches.lead_id = latest_resets.lead_id
    )

    select * from attribute_firings
    union all
    select * from activity_firings
{%- endmacro %}
