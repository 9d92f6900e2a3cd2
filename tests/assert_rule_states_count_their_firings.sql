-- The per-rule states count exactly the firings the ledger's inputs hold:
-- for each lead and rule, int_lead_rule_states.firings equals the rows of
-- int_rule_firings_weighted, and its activity firings are the rows of
-- int_activity_rules_matched (before any reset). Returns the lead x rule
-- pairs where a count differs. Checks the leads the latest build
-- recomputed (every lead after a rebuild), as assert_scores_equal_ledger.

with

rule_states as (
    select * from {{ ref('int_lead_rule_states') }}
),

recomputed_leads as (
    select distinct lead_id
    from rule_states
    where _recomputed_at = (
        select max(latest._recomputed_at) from rule_states as latest
    )
),

firings as (
    select
        lead_id,
        rule_id,
        count(*) as firings,
        count(activity_id) as activity_firings
    from {{ ref('int_rule_firings_weighted') }}
    where lead_id in (select recomputed_leads.lead_id from recomputed_leads)
    group by lead_id, rule_id
),

matches as (
    select
        lead_id,
        rule_id,
        count(*) as activity_firings
    from {{ ref('int_activity_rules_matched') }}
    where lead_id in (select recomputed_leads.lead_id from recomputed_leads)
    group by lead_id, rule_id
),

states as (
    select
        lead_id,
        rule_id,
        firings
    from rule_states
    where lead_id in (select recomputed_leads.lead_id from recomputed_leads)
),

final as (
    select
        states.firings as state_firings,
        firings.firings as ledger_firings,
        firings.activity_firings,
        matches.activity_firings as matched_activity_firings,
        coalesce(states.lead_id, firings.lead_id) as lead_id,
        coalesce(states.rule_id, firings.rule_id) as rule_id
    from states
    full outer join firings
        on
            states.lead_id = firings.lead_id
            and states.rule_id = firings.rule_id
    left join matches
        on
            firings.lead_id = matches.lead_id
            and firings.rule_id = matches.rule_id
)

select * from final
where
    state_firings is null
    or ledger_firings is null
    or state_firings != ledger_firings
    or coalesce(matched_activity_firings, 0) != activity_firings
