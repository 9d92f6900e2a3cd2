-- Each live lead's lifecycle stage at var as_of and its first MQL moment.
-- The stage is the furthest the lead has got in its current epoch:
-- disqualified (any disqualification), customer (a won opportunity),
-- opportunity (any other opportunity), sql (accepted by sales after its
-- current MQL), mql (an MQL in the current epoch), lead (any activity other
-- than newsletter_signup or email_open), else subscriber.

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

activities as (
    select * from {{ ref('stg_marketing__activities') }}
),

status_changes as (
    select * from {{ ref('stg_crm__lead_status_changes') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

epochs as (
    select * from {{ ref('int_lead_qualification_epochs') }}
),

current_epochs as (
    select
        lead_id,
        mql_at,
        row_number() over (
            partition by lead_id order by epoch_index desc
        ) as recency_rank
    from epochs
),

mql_moments as (
    select
        lead_id,
        min(mql_at) as first_mql_at
    from epochs
    group by lead_id
),

acceptances as (
    select
        current_epochs.lead_id,
        count(*) as acceptances
    from current_epochs
    inner join status_changes
        on
            current_epochs.lead_id = status_changes.lead_id
            and current_epochs.mql_at < status_changes.changed_at
    where
        current_epochs.recency_rank = 1
        and status_changes.status = 'sales_accepted'
    group by current_epochs.lead_id
),

disqualifications as (
    select distinct lead_id
    from status_changes
    where status = 'disqualified'
),

opportunity_summaries as (
    select
        lead_id,
        max(case when is_won then 1 else 0 end) as has_won_opportunity
    from opportunities
    group by lead_id
),

engaged_leads as (
    select distinct lead_id
    from activities
    where activity_type not in ('newsletter_signup', 'email_open')
),

final as (
    select
        leads.lead_id,
        mql_moments.first_mql_at,
        case
            when disqualifications.lead_id is not null then 'disqualified'
            when opportunity_summaries.has_won_opportunity = 1
                then 'customer'
            when opportunity_summaries.lead_id is not null then 'opportunity'
            when acceptances.lead_id is not null then 'sql'
            when current_epochs.mql_at is not null then 'mql'
            when engaged_leads.lead_id is not null then 'lead'
            else 'subscriber'
        end as lifecycle_stage
    from leads
    left join current_epochs
        on
            leads.lead_id = current_epochs.lead_id
            and current_epochs.recency_rank = 1
    left join mql_moments
        on leads.lead_id = mql_moments.lead_id
    left join acceptances
        on leads.lead_id = acceptances.lead_id
    left join disqualifications
        on leads.lead_id = disqualifications.lead_id
    left join opportunity_summaries
        on leads.lead_id = opportunity_summaries.lead_id
    left join engaged_leads
        on leads.lead_id = engaged_leads.lead_id
)

select * from final
