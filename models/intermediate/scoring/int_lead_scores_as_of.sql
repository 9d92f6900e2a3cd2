-- Each live lead's scores at var as_of, in O(leads x rules) from the
-- per-rule states (int_lead_rule_states): each rule's counted points
-- decayed from their reference time to as_of, clipped to +-max_points, then
-- added up by category. Leads no rule fires for score 0.

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

rule_states as (
    select * from {{ ref('int_lead_rule_states') }}
    where counted_firings > 0
),

rule_totals as (
    select
        lead_id,
        category,
        {{ lead_scoring.clip_points(
            'points_at_reference * ' ~ lead_scoring.decay_factor(
                lead_scoring.epoch_seconds(lead_scoring.as_of_timestamp())
                ~ ' - ' ~ lead_scoring.epoch_seconds('reference_at'),
                'decay_half_life_days',
            ),
            'max_points',
        ) }} as rule_points
    from rule_states
),

category_totals as (
    select
        lead_id,
        {{ lead_scoring.sum_by_category('rule_points', 'score') }}
    from rule_totals
    group by lead_id
),

final as (
    select
        leads.lead_id,
        cast(coalesce(category_totals.fit_score, 0) as {{ lead_scoring.type_double() }}) as fit_score,
        cast(coalesce(category_totals.engagement_score, 0) as {{ lead_scoring.type_double() }})
            as engagement_score,
        cast(coalesce(category_totals.negative_score, 0) as {{ lead_scoring.type_double() }})
            as negative_score,
        cast(
            coalesce(category_totals.fit_score, 0)
            + coalesce(category_totals.engagement_score, 0)
            + coalesce(category_totals.negative_score, 0)
            as {{ lead_scoring.type_double() }}
        ) as lead_score
    from leads
    left join category_totals
        on leads.lead_id = category_totals.lead_id
)

select * from final
