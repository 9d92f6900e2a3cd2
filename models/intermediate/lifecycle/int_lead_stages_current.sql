-- Each live lead's lifecycle stage at var as_of (the stage after its last
-- stage event; subscriber when it has none) and its first MQL moment.

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

stage_events as (
    select * from {{ ref('int_lead_stage_events') }}
),

epochs as (
    select * from {{ ref('int_lead_qualification_epochs') }}
),

latest_events as (
    select
        lead_id,
        stage_after,
        row_number() over (
            partition by lead_id order by event_sequence desc
        ) as recency_rank
    from stage_events
),

first_mqls as (
    select
        lead_id,
        min(mql_at) as first_mql_at
    from epochs
    group by lead_id
),

final as (
    select
        leads.lead_id,
        first_mqls.first_mql_at,
        coalesce(latest_events.stage_after, 'subscriber') as lifecycle_stage
    from leads
    left join latest_events
        on
            leads.lead_id = latest_events.lead_id
            and latest_events.recency_rank = 1
    left join first_mqls
        on leads.lead_id = first_mqls.lead_id
)

select * from final
