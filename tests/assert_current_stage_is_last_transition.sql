-- One current stage per lead: dim_leads.lifecycle_stage is the to_stage of
-- the lead's last transition (subscriber when it has none). Returns the
-- leads where the two disagree.

with

leads as (
    select * from {{ ref('dim_leads') }}
),

transitions as (
    select * from {{ ref('fct_lifecycle_transitions') }}
),

last_transitions as (
    select
        lead_id,
        to_stage,
        row_number() over (
            partition by lead_id order by transition_sequence desc
        ) as recency_rank
    from transitions
)

select
    leads.lead_id,
    leads.lifecycle_stage,
    last_transitions.to_stage
from leads
left join last_transitions
    on
        leads.lead_id = last_transitions.lead_id
        and last_transitions.recency_rank = 1
where leads.lifecycle_stage != coalesce(last_transitions.to_stage, 'subscriber')
