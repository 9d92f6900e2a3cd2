{{ config(materialized='view') }}

-- One row per rule firing: which rule gave (or took) how many points to which
-- lead, for which activity. Every score in dim_leads can be recomputed from
-- it: per lead and rule, sum decayed_points_at_as_of over the rows that
-- count, clip to +-max_points, and add up by category (tested).

with

firings as (
    select * from {{ ref('int_rule_firings_weighted') }}
),

final as (
    select
        {{ lead_scoring.key_hash(
            ['lead_id', 'rule_id', 'activity_id']
        ) }} as ledger_entry_id,
        lead_id,
        rule_id,
        category,
        activity_id,
        occurred_at,
        points,
        max_points,
        decay_half_life_days,
        is_counted_at_as_of,
        decayed_points_at_as_of
    from firings
)

select * from final
