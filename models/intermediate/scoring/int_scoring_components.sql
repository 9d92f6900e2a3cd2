{{ config(materialized='table') }}

-- One row per active activity rule: the score component it adds its points
-- to, and where that component sits in the slot columns the score
-- trajectories are computed with.
--
-- A capped rule is a component of its own (its cap applies to its own
-- sum). Uncapped rules of one category and one half-life share a component:
-- decayed sums are linear, so they may be added before decaying.
--
-- Components are laid out in slot groups of score_slot_count() slots. A
-- group holds half-lives within a factor of 15 of each other (decay class:
-- floor(log15(half-life / smallest half-life)); rules without decay join
-- class 0), so that within one chunk of time of 64 times the group's
-- longest half-life every decayed weight stays below 2^960, inside the range
-- of a double (see int_activity_group_scores).

with

rules as (
    select * from {{ ref('int_scoring_rules_validated') }}
    where is_activity_rule
),

half_lives as (
    select
        decay_half_life_days,
        dense_rank() over (order by decay_half_life_days) as half_life_rank
    from rules
    where decay_half_life_days is not null
    group by decay_half_life_days
),

smallest as (
    select min(decay_half_life_days) as smallest_half_life_days
    from rules
),

keyed as (
    select
        rules.rule_id,
        rules.category,
        rules.points,
        rules.max_points,
        rules.decay_half_life_days,
        case
            when rules.max_points is not null
                then {{ dbt.concat(["'rule:'", 'rules.rule_id']) }}
            else {{ dbt.concat([
                "'group:'",
                'rules.category',
                "':'",
                "coalesce(cast(half_lives.half_life_rank as "
                    ~ dbt.type_string() ~ "), 'none')",
            ]) }}
        end as component_key,
        case
            when rules.decay_half_life_days is null then 0
            else cast(floor(
                ln(rules.decay_half_life_days / smallest.smallest_half_life_days)
                / ln({{ lead_scoring.decay_class_ratio() }}.0)
            ) as integer)
        end as decay_class
    from rules
    cross join smallest
    left join half_lives
        on rules.decay_half_life_days = half_lives.decay_half_life_days
),

components as (
    select
        component_key,
        decay_class,
        row_number() over (
            partition by decay_class
            order by {{ lead_scoring.text_order('component_key') }}
        ) - 1 as position_in_class
    from keyed
    group by component_key, decay_class
),

placed as (
    select
        component_key,
        cast(dense_rank() over (
            order by
                decay_class,
                floor(position_in_class / {{ lead_scoring.score_slot_count() }})
        ) as integer) as slot_group,
        cast(
            mod(position_in_class, {{ lead_scoring.score_slot_count() }}) + 1
            as integer
        ) as slot
    from components
),

final as (
    select
        keyed.rule_id,
        keyed.category,
        keyed.points,
        keyed.max_points,
        keyed.decay_half_life_days,
        keyed.component_key,
        placed.slot_group,
        placed.slot
    from keyed
    inner join placed
        on keyed.component_key = placed.component_key
)

select * from final
