-- The loop back from sales to marketing: MQL events sales rejected,
-- recycled or disqualified, by month of the decision, lead source and the
-- reason sales gave, with their share of that source's MQL events.

with

mql_events as (
    select * from {{ ref('fct_mql_events') }}
),

source_totals as (
    select
        coalesce(lead_source, 'unknown') as lead_source,
        count(*) as source_mql_events
    from mql_events
    group by 1
),

feedback as (
    select
        cast({{ dbt.date_trunc('month', 'outcome_at') }} as date)
            as outcome_month,
        coalesce(lead_source, 'unknown') as lead_source,
        outcome,
        coalesce(outcome_reason, '(no reason given)') as outcome_reason,
        count(*) as mql_events,
        {{ lead_scoring.average_exactly('lead_score_at_mql') }}
            as avg_lead_score_at_mql,
        {{ lead_scoring.average_exactly('fit_score_at_mql') }}
            as avg_fit_score_at_mql
    from mql_events
    where outcome in ('rejected', 'recycled', 'disqualified')
    group by 1, 2, 3, 4
),

final as (
    select
        feedback.outcome_month,
        feedback.lead_source,
        feedback.outcome,
        feedback.outcome_reason,
        feedback.mql_events,
        {{ lead_scoring.safe_ratio(
            'feedback.mql_events', 'source_totals.source_mql_events'
        ) }} as share_of_source_mql_events,
        feedback.avg_lead_score_at_mql,
        feedback.avg_fit_score_at_mql
    from feedback
    inner join source_totals
        on feedback.lead_source = source_totals.lead_source
)

select * from final
