-- Every score in dim_leads can be recomputed from fct_score_ledger: per lead
-- and rule, the counted decayed points summed and clipped to +-max_points,
-- then added up by category. Returns the leads where any score differs by
-- more than 1e-6. dim_leads reads its scores from the per-rule states, the
-- ledger decays every firing itself: two computations that must agree.
-- Checks the leads the latest build recomputed (every lead after a
-- rebuild): the others' states were checked when they were written, and
-- both sides decay the same states to as_of.

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

ledger as (
    select * from {{ ref('fct_score_ledger') }}
    where
        is_counted_at_as_of
        and lead_id in (select recomputed_leads.lead_id from recomputed_leads)
),

leads as (
    select * from {{ ref('dim_leads') }}
    where lead_id in (select recomputed_leads.lead_id from recomputed_leads)
),

rule_totals as (
    select
        lead_id,
        rule_id,
        category,
        {{ lead_scoring.clip_points(
            lead_scoring.sum_exactly('decayed_points_at_as_of'),
            'max(max_points)',
        ) }} as rule_points
    from ledger
    group by lead_id, rule_id, category
),

recomputed as (
    select
        lead_id,
        {{ lead_scoring.sum_by_category('rule_points', 'score') }}
    from rule_totals
    group by lead_id
)

select
    leads.lead_id,
    leads.fit_score,
    recomputed.fit_score as ledger_fit_score,
    leads.engagement_score,
    recomputed.engagement_score as ledger_engagement_score,
    leads.negative_score,
    recomputed.negative_score as ledger_negative_score
from leads
left join recomputed
    on leads.lead_id = recomputed.lead_id
where
    abs(leads.fit_score - coalesce(recomputed.fit_score, 0)) > 1e-6
    or abs(leads.engagement_score - coalesce(recomputed.engagement_score, 0))
    > 1e-6
    or abs(leads.negative_score - coalesce(recomputed.negative_score, 0))
    > 1e-6
    or abs(
        leads.lead_score
        - leads.fit_score - leads.engagement_score - leads.negative_score
    ) > 1e-6
