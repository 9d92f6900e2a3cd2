{{ config(materialized='table') }}

-- One row per live lead with its cohort (month created, lead source) and how
-- far it got: MQL (any MQL event), SQL (an MQL event accepted by sales),
-- opportunity (any opportunity, with or without an MQL), customer (a won
-- opportunity), with the amount it won.

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

mql_events as (
    select * from {{ ref('int_mql_event_windows') }}
),

outcomes as (
    select * from {{ ref('int_mql_event_outcomes') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

mql_summaries as (
    select
        mql_events.lead_id,
        count(*) as mql_events,
        max(case when outcomes.sql_at is not null then 1 else 0 end)
            as is_sql
    from mql_events
    inner join outcomes
        on mql_events.mql_event_id = outcomes.mql_event_id
    group by mql_events.lead_id
),

opportunity_summaries as (
    select
        lead_id,
        count(*) as opportunities,
        max(case when is_won then 1 else 0 end) as is_customer,
        {{ lead_scoring.sum_in_order(
            'case when is_won then amount end'
        ) }} as won_amount
    from opportunities
    group by lead_id
),

final as (
    select
        leads.lead_id,
        cast({{ dbt.date_trunc('month', 'leads.created_at') }} as date)
            as cohort_month,
        coalesce(leads.lead_source, 'unknown') as lead_source,
        coalesce(mql_summaries.mql_events, 0) > 0 as is_mql,
        coalesce(mql_summaries.is_sql, 0) = 1 as is_sql,
        coalesce(opportunity_summaries.opportunities, 0) > 0
            as has_opportunity,
        coalesce(opportunity_summaries.is_customer, 0) = 1 as is_customer,
        opportunity_summaries.won_amount
    from leads
    left join mql_summaries
        on leads.lead_id = mql_summaries.lead_id
    left join opportunity_summaries
        on leads.lead_id = opportunity_summaries.lead_id
)

select * from final
