-- Why does a lead have its score? Every rule that fired for it, with the
-- points it gave at as_of and whether they still count. Compile and run by
-- hand:
--   dbt compile -s explain_lead_score --vars '{explain_lead_id: L0000042}'
-- then run the SQL in target/compiled/ with any client.

with

ledger as (
    select * from {{ ref('fct_score_ledger') }}
    where lead_id = '{{ var("explain_lead_id", "") }}'
),

rules as (
    select * from {{ ref('int_scoring_rules_validated') }}
),

final as (
    select
        ledger.category,
        ledger.rule_id,
        rules.field,
        rules.operator,
        rules.rule_value,
        ledger.activity_id,
        ledger.occurred_at,
        ledger.points,
        ledger.max_points,
        ledger.decay_half_life_days,
        ledger.is_counted_at_as_of,
        ledger.decayed_points_at_as_of
    from ledger
    inner join rules
        on ledger.rule_id = rules.rule_id
)

select * from final
order by category, rule_id, occurred_at
