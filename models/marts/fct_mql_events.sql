-- One row per MQL event: the moment a lead in nurture reached the score
-- threshold (or fast-tracked on a hand-raiser) with enough fit, and what
-- sales did with it. A lead that sales rejected or recycled can qualify
-- again later: a new event, which owns the touches, decisions and
-- opportunities from its own MQL moment on.

with

windows as (
    select * from {{ ref('int_mql_event_windows') }}
),

outcomes as (
    select * from {{ ref('int_mql_event_outcomes') }}
),

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

final as (
    select
        windows.mql_event_id,
        windows.lead_id,
        cast(
            row_number() over (
                partition by windows.lead_id order by windows.mql_at
            ) as integer
        ) as mql_sequence,
        windows.mql_at,
        windows.qualification_path,
        windows.trigger_activity_id,
        windows.lead_score_at_mql,
        windows.fit_score_at_mql,
        windows.reset_status_change_id,
        leads.lead_source,
        outcomes.first_sales_touch_at,
        cast(
            (
                {{ lead_scoring.epoch_seconds('outcomes.first_sales_touch_at') }}
                - {{ lead_scoring.epoch_seconds('windows.mql_at') }}
            ) / 60.0 as {{ lead_scoring.type_double() }}
        ) as speed_to_lead_minutes,
        coalesce(
            outcomes.first_sales_touch_at
            <= {{ lead_scoring.add_minutes(5, 'windows.mql_at') }},
            false
        ) as is_touched_within_5_minutes,
        coalesce(
            outcomes.first_sales_touch_at
            <= {{ lead_scoring.add_minutes(
                var('speed_to_lead_sla_minutes'), 'windows.mql_at'
            ) }},
            false
        ) as is_touched_within_sla,
        {{ lead_scoring.add_minutes(
            var('speed_to_lead_sla_minutes'), 'windows.mql_at'
        ) }} as sla_due_at,
        outcomes.outcome,
        outcomes.outcome_reason,
        outcomes.outcome_at,
        outcomes.sql_at,
        outcomes.opportunity_id,
        outcomes.opportunity_created_at,
        outcomes.won_at,
        outcomes.won_amount
    from windows
    inner join outcomes
        on windows.mql_event_id = outcomes.mql_event_id
    inner join leads
        on windows.lead_id = leads.lead_id
)

select * from final
