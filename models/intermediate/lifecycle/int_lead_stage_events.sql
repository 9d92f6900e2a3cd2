{{ config(materialized='table') }}

-- Every event that can move a lead's lifecycle stage, in order, with the
-- stage the lead is in after it. Events: creation (subscriber), the first
-- activity other than newsletter_signup or email_open (lead), each MQL
-- event (mql), a sales acceptance (sql), an opportunity opened
-- (opportunity), a won opportunity (customer), an effective reset
-- (sales_rejected or recycled while an MQL or SQL: back to lead) and the
-- first disqualification (disqualified, final).
-- Stages only move forward (a skipped stage is simply skipped, e.g. an
-- opportunity without an MQL), except through a reset. At one timestamp,
-- status changes come before opportunities, and both before activities.

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

milestones as (
    select * from {{ ref('int_lead_activity_milestones') }}
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

stages as (
    select * from {{ ref('lifecycle_stages') }}
),

first_engagements as (
    select
        lead_id,
        first_engaged_at as occurred_at,
        first_engagement_activity_id as activity_id
    from milestones
    where first_engagement_activity_id is not null
),

first_disqualifications as (
    select * from {{ ref('int_lead_first_disqualifications') }}
),

events as (
    select
        lead_id,
        created_at as event_at,
        0 as event_priority,
        lead_id as event_key,
        'created' as event_type,
        'subscriber' as target_stage
    from leads
    where created_at is not null
    union all
    select
        lead_id,
        changed_at as event_at,
        1 as event_priority,
        status_change_id as event_key,
        'status_change' as event_type,
        'sql' as target_stage
    from status_changes
    where is_acceptance
    union all
    select
        epochs.lead_id,
        epochs.epoch_started_at as event_at,
        1 as event_priority,
        epochs.reset_status_change_id as event_key,
        'reset' as event_type,
        'lead' as target_stage
    from epochs
    where epochs.epoch_index > 0
    union all
    select
        lead_id,
        disqualified_at as event_at,
        1 as event_priority,
        disqualified_change_id as event_key,
        'disqualification' as event_type,
        'disqualified' as target_stage
    from first_disqualifications
    union all
    select
        lead_id,
        created_at as event_at,
        2 as event_priority,
        opportunity_id as event_key,
        'opportunity_opened' as event_type,
        'opportunity' as target_stage
    from opportunities
    union all
    select
        lead_id,
        coalesce(closed_at, created_at) as event_at,
        3 as event_priority,
        opportunity_id as event_key,
        'opportunity_won' as event_type,
        'customer' as target_stage
    from opportunities
    where is_won
    union all
    select
        lead_id,
        occurred_at as event_at,
        4 as event_priority,
        activity_id as event_key,
        'first_engagement' as event_type,
        'lead' as target_stage
    from first_engagements
    union all
    select
        lead_id,
        mql_at as event_at,
        5 as event_priority,
        trigger_activity_id as event_key,
        'mql' as event_type,
        'mql' as target_stage
    from epochs
    where trigger_activity_id is not null
),

ranked_events as (
    select
        events.*,
        stages.stage_rank as target_rank,
        sum(case when events.event_type = 'reset' then 1 else 0 end) over (
            partition by events.lead_id
            order by
                events.event_at,
                events.event_priority,
                {{ lead_scoring.text_order('events.event_key') }}
            rows between unbounded preceding and current row
        ) as reset_count
    from events
    inner join stages
        on events.target_stage = stages.lifecycle_stage
),

staged as (
    select
        *,
        max(target_rank) over (
            partition by lead_id, reset_count
            order by
                event_at, event_priority, {{ lead_scoring.text_order('event_key') }}
            rows between unbounded preceding and current row
        ) as stage_rank_after
    from ranked_events
),

final as (
    select
        staged.lead_id,
        staged.event_at,
        staged.event_priority,
        staged.event_key,
        staged.event_type,
        staged.target_stage,
        stages.lifecycle_stage as stage_after,
        row_number() over (
            partition by staged.lead_id
            order by
                staged.event_at,
                staged.event_priority,
                {{ lead_scoring.text_order('staged.event_key') }}
        ) as event_sequence
    from staged
    inner join stages
        on staged.stage_rank_after = stages.stage_rank
)

select * from final
