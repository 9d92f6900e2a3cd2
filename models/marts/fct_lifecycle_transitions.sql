-- One row per lifecycle stage change of a live lead: from which stage, to
-- which, when, and how long the lead had been in the stage it left. The
-- first row of a lead has from_stage null (it entered the funnel). Cohorts
-- by the month a lead entered a stage: group on to_stage and the month of
-- transitioned_at.

with

events as (
    select * from {{ ref('int_lead_stage_events') }}
),

compared as (
    select
        *,
        lag(stage_after) over (
            partition by lead_id order by event_sequence
        ) as stage_before
    from events
),

changes as (
    select
        lead_id,
        event_sequence,
        event_type,
        event_key,
        stage_before as from_stage,
        stage_after as to_stage,
        event_at as transitioned_at
    from compared
    where stage_before is null or stage_before != stage_after
),

timed as (
    select
        *,
        lag(transitioned_at) over (
            partition by lead_id order by event_sequence
        ) as entered_from_stage_at
    from changes
),

final as (
    select
        {{ lead_scoring.key_hash(
            ['lead_id', 'event_sequence']
        ) }} as transition_id,
        lead_id,
        from_stage,
        to_stage,
        transitioned_at,
        cast(
            (
                {{ lead_scoring.epoch_seconds('transitioned_at') }}
                - {{ lead_scoring.epoch_seconds('entered_from_stage_at') }}
            ) / 86400.0 as {{ lead_scoring.type_double() }}
        ) as days_in_from_stage,
        event_type as transition_cause,
        event_key as cause_key,
        cast(
            row_number() over (
                partition by lead_id order by event_sequence
            ) as integer
        ) as transition_sequence
    from timed
)

select * from final
