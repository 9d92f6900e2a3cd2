-- One row per live lead: the points its attribute rules give, by category
-- (each rule counted once, clipped to +-max_points; sums exact), and
-- whether its fit_score can ever reach var mql_min_fit_score: its attribute
-- fit plus the most its activity rules of category fit could add (each
-- capped rule its cap; any uncapped one without limit). A lead that cannot
-- reach it never qualifies on either path, so its score trajectory need not
-- be evaluated.

with

leads as (
    select lead_id from {{ ref('stg_crm__leads') }}
),

attribute_matches as (
    select * from {{ ref('int_lead_attribute_rules_matched') }}
),

components as (
    select * from {{ ref('int_scoring_components') }}
),

attribute_totals as (
    select
        lead_id,
        {{ lead_scoring.sum_by_category('points_awarded', 'points') }}
    from attribute_matches
    group by lead_id
),

activity_fit_bound as (
    select
        count(
            case
                when category = 'fit' and points > 0 and max_points is null
                    then 1
            end
        ) > 0 as has_uncapped_fit_rule,
        coalesce(sum(
            case
                when category = 'fit' and points > 0 then max_points else 0
            end
        ), 0) as most_capped_fit_points
    from components
),

final as (
    select
        leads.lead_id,
        coalesce(attribute_totals.fit_points, 0) as fit_points,
        coalesce(attribute_totals.engagement_points, 0) as engagement_points,
        coalesce(attribute_totals.negative_points, 0) as negative_points,
        activity_fit_bound.has_uncapped_fit_rule
        or {{ lead_scoring.round_to(
            'coalesce(attribute_totals.fit_points, 0)'
            ~ ' + activity_fit_bound.most_capped_fit_points',
            6,
        ) }} >= {{ var('mql_min_fit_score') }} as can_reach_min_fit
    from leads
    cross join activity_fit_bound
    left join attribute_totals
        on leads.lead_id = attribute_totals.lead_id
)

select * from final
