-- The funnel by lead cohort (month the lead was created) and lead source:
-- how many leads became MQLs, SQLs, opportunities and customers, how fast
-- sales worked the MQLs, how long they took to close, and what they cost.
-- Spend is the marketing spend of the same month and lead source (0 where
-- none was recorded); a month with spend but no leads still has a row. The
-- cost ratios are null only when their denominator is 0. Sums and averages
-- are exact (sum_exactly), so two builds agree bit for bit.

with

leads as (
    select * from {{ ref('int_lead_funnel_flags') }}
),

mql_events as (
    select * from {{ ref('fct_mql_events') }}
),

spend as (
    select * from {{ ref('stg_marketing__spend') }}
),

lead_counts as (
    select
        cohort_month,
        lead_source,
        count(*) as leads,
        count(case when is_mql then 1 end) as mqls,
        count(case when is_sql then 1 end) as sqls,
        count(case when has_opportunity then 1 end) as opportunities,
        count(case when is_customer then 1 end) as customers,
        {{ lead_scoring.sum_in_order('won_amount') }} as won_amount,
        {{ lead_scoring.sum_in_order(
            'case when is_customer then won_amount end'
        ) }} / nullif(count(case when is_customer then won_amount end), 0)
            as avg_won_amount
    from leads
    where cohort_month is not null
    group by cohort_month, lead_source
),

event_metrics as (
    select
        leads.cohort_month,
        leads.lead_source,
        count(*) as mql_events,
        {{ lead_scoring.median('mql_events.speed_to_lead_minutes') }}
            as median_speed_to_lead_minutes,
        {{ lead_scoring.safe_ratio(
            'count(case when mql_events.is_touched_within_5_minutes'
            ~ ' then 1 end)',
            'count(*)',
        ) }} as pct_touched_within_5_minutes,
        {{ lead_scoring.median(
            '(' ~ lead_scoring.epoch_seconds('mql_events.won_at')
            ~ ' - ' ~ lead_scoring.epoch_seconds('mql_events.mql_at')
            ~ ') / 86400.0'
        ) }} as median_sales_cycle_days
    from mql_events
    inner join leads
        on mql_events.lead_id = leads.lead_id
    where leads.cohort_month is not null
    group by leads.cohort_month, leads.lead_source
),

monthly_spend as (
    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date)
            as cohort_month,
        lead_source,
        {{ lead_scoring.sum_in_order('amount') }} as spend
    from spend
    group by
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date),
        lead_source
),

cohorts as (
    select
        cohort_month,
        lead_source
    from lead_counts
    union
    select
        cohort_month,
        lead_source
    from monthly_spend
),

final as (
    select
        cohorts.cohort_month,
        cohorts.lead_source,
        coalesce(lead_counts.leads, 0) as leads,
        coalesce(lead_counts.mqls, 0) as mqls,
        coalesce(lead_counts.sqls, 0) as sqls,
        coalesce(lead_counts.opportunities, 0) as opportunities,
        coalesce(lead_counts.customers, 0) as customers,
        coalesce(event_metrics.mql_events, 0) as mql_events,
        {{ lead_scoring.safe_ratio('lead_counts.mqls', 'lead_counts.leads') }}
            as lead_to_mql_rate,
        {{ lead_scoring.safe_ratio('lead_counts.sqls', 'lead_counts.mqls') }}
            as mql_to_sql_rate,
        {{ lead_scoring.safe_ratio(
            'lead_counts.customers', 'lead_counts.opportunities'
        ) }} as opportunity_to_customer_rate,
        event_metrics.median_speed_to_lead_minutes,
        event_metrics.pct_touched_within_5_minutes,
        event_metrics.median_sales_cycle_days,
        lead_counts.avg_won_amount,
        coalesce(lead_counts.won_amount, 0) as won_amount,
        coalesce(monthly_spend.spend, 0) as spend,
        {{ lead_scoring.safe_ratio(
            'coalesce(monthly_spend.spend, 0)', 'lead_counts.mqls'
        ) }} as cost_per_mql,
        {{ lead_scoring.safe_ratio(
            'coalesce(monthly_spend.spend, 0)', 'lead_counts.customers'
        ) }} as cac
    from cohorts
    left join lead_counts
        on
            cohorts.cohort_month = lead_counts.cohort_month
            and cohorts.lead_source = lead_counts.lead_source
    left join event_metrics
        on
            cohorts.cohort_month = event_metrics.cohort_month
            and cohorts.lead_source = event_metrics.lead_source
    left join monthly_spend
        on
            cohorts.cohort_month = monthly_spend.cohort_month
            and cohorts.lead_source = monthly_spend.lead_source
)

select * from final
