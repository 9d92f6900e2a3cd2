{{ config(materialized='table') }}

-- The slot columns are written by Jinja loops, whose layout the indentation
-- rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- One row per slot group of score components (at least group 1, even
-- without activity rules, so that fast-track activities are still
-- evaluated): what each slot holds (category, cap, half-life in seconds)
-- and the length of the chunks of time its decayed weights are anchored to
-- (64 times the group's longest half-life; null when nothing in the group
-- decays). See int_scoring_components and int_activity_group_scores.

with

components as (
    select * from {{ ref('int_scoring_components') }}
),

groups as (
    select 1 as slot_group
    union
    select slot_group from components
),

settings as (
    select
        slot_group,
        max(decay_half_life_days) as longest_half_life_days
        {%- for slot in lead_scoring.score_slots() %},
        max(case when slot = {{ slot }} then category end)
            as slot_{{ slot }}_category,
        max(case when slot = {{ slot }} then max_points end)
            as slot_{{ slot }}_max_points,
        max(
            case
                when slot = {{ slot }} then decay_half_life_days * 86400.0
            end
        ) as slot_{{ slot }}_half_life_seconds
        {%- endfor %}
    from components
    group by slot_group
),

final as (
    select
        groups.slot_group,
        cast(
            {{ lead_scoring.decay_chunk_half_lives() }}
            * settings.longest_half_life_days * 86400.0
            as {{ lead_scoring.type_double() }}
        ) as chunk_seconds
        {%- for slot in lead_scoring.score_slots() %},
        cast(settings.slot_{{ slot }}_category as {{ dbt.type_string() }})
            as slot_{{ slot }}_category,
        cast(
            settings.slot_{{ slot }}_max_points
            as {{ lead_scoring.type_double() }}
        ) as slot_{{ slot }}_max_points,
        cast(
            settings.slot_{{ slot }}_half_life_seconds
            as {{ lead_scoring.type_double() }}
        ) as slot_{{ slot }}_half_life_seconds
        {%- endfor %}
    from groups
    left join settings
        on groups.slot_group = settings.slot_group
)

select * from final
