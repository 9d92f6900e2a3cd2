-- Each live lead's scores at var as_of: every rule's counted, decayed points
-- summed per lead, clipped to +-max_points, then added up by category.
-- Leads no rule fires for score 0.

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

firings as (
    select * from {{ ref('int_rule_firings_weighted') }}
    where is_counted_at_as_of
),

rule_totals as (
    select
        lead_id,
        rule_id,
        category,
        {{ lead_scoring.clip_points(
            'sum(decayed_points_at_as_of)', 'max(max_points)'
        ) }} as rule_points
    from firings
    group by lead_id, rule_id, category
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
