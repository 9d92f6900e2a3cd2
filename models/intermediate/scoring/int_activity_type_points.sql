{{ config(materialized='table') }}

-- The slot columns are written by Jinja loops, whose layout the indentation
-- rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- One row per known activity type and slot group it has points in: the
-- points one activity of the type adds to each slot (the sum of its
-- matching rules' points in that slot; integers, so the sum is exact).

with

type_rules as (
    select * from {{ ref('int_activity_type_rules') }}
),

final as (
    select
        activity_type,
        slot_group
        {%- for slot in lead_scoring.score_slots() %},
        cast(
            sum(case when slot = {{ slot }} then points else 0 end)
            as integer
        ) as slot_{{ slot }}_points
        {%- endfor %}
    from type_rules
    group by activity_type, slot_group
)

select * from final
