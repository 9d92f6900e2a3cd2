-- Every rule firing (an attribute rule matching a lead, an activity rule
-- matching an activity), with its weight as of var as_of: whether it still
-- counts (activity firings before the lead's latest effective reset do not)
-- and its points decayed to as_of (macro rule_firings, which
-- int_lead_rule_states applies to the recomputed leads' matches and
-- fct_score_ledger to the published activities). Grain: lead x rule x
-- activity. Unit-tested, and read by the test
-- assert_rule_states_count_their_firings.

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

final as (
    {{ lead_scoring.rule_firings(
        'attribute_matches', 'activity_matches', 'epochs'
    ) }}
)

select * from final
