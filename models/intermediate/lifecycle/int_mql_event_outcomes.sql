{{ config(materialized='table') }}

-- What sales did with each MQL event, within the span the event owns (see
-- int_mql_event_windows): the first sales touch at or after the MQL moment
-- (touches before it do not count for speed to lead), the first sales
-- decision after it (a status change in the same second came before the MQL
-- and belongs to the previous state; an acceptance makes the event an SQL),
-- and the first opportunity opened at or after the MQL moment, with its win
-- (won_at is the close date, or the opening date when none was recorded).

with

windows as (
    select * from {{ ref('int_mql_event_windows') }}
),

touches as (
    select * from {{ ref('stg_crm__sales_activities') }}
),

status_changes as (
    select * from {{ ref('stg_crm__lead_status_changes') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

first_touches as (
    select
        windows.mql_event_id,
        min(touches.occurred_at) as first_sales_touch_at
    from windows
    inner join touches
        on
            windows.lead_id = touches.lead_id
            and windows.mql_at <= touches.occurred_at
            and (
                windows.window_ends_at is null
                or windows.window_ends_at > touches.occurred_at
            )
    group by windows.mql_event_id
),

decisions as (
    select
        windows.mql_event_id,
        status_changes.mql_outcome,
        status_changes.is_acceptance,
        status_changes.reason,
        status_changes.changed_at,
        row_number() over (
            partition by windows.mql_event_id
            order by
                status_changes.changed_at asc,
                {{ lead_scoring.text_order('status_changes.status_change_id') }} asc
        ) as decision_rank
    from windows
    inner join status_changes
        on
            windows.lead_id = status_changes.lead_id
            and windows.mql_at < status_changes.changed_at
            and (
                windows.window_ends_at is null
                or windows.window_ends_at > status_changes.changed_at
                or (
                    windows.window_ends_at = status_changes.changed_at
                    and {{ lead_scoring.text_order(
                        'windows.ending_status_change_id'
                    ) }}
                    >= {{ lead_scoring.text_order(
                        'status_changes.status_change_id'
                    ) }}
                )
            )
),

attributed_opportunities as (
    select
        windows.mql_event_id,
        opportunities.opportunity_id,
        opportunities.created_at,
        opportunities.is_won,
        opportunities.closed_at,
        opportunities.amount,
        row_number() over (
            partition by windows.mql_event_id
            order by
                opportunities.created_at asc,
                {{ lead_scoring.text_order('opportunities.opportunity_id') }} asc
        ) as opportunity_rank
    from windows
    inner join opportunities
        on
            windows.lead_id = opportunities.lead_id
            and windows.mql_at <= opportunities.created_at
            and (
                windows.window_ends_at is null
                or windows.window_ends_at > opportunities.created_at
            )
),

final as (
    select
        windows.mql_event_id,
        first_touches.first_sales_touch_at,
        decisions.reason as outcome_reason,
        decisions.changed_at as outcome_at,
        attributed_opportunities.opportunity_id,
        attributed_opportunities.created_at as opportunity_created_at,
        coalesce(decisions.mql_outcome, 'pending') as outcome,
        case
            when decisions.is_acceptance then decisions.changed_at
        end as sql_at,
        case
            when attributed_opportunities.is_won
                then coalesce(
                    attributed_opportunities.closed_at,
                    attributed_opportunities.created_at
                )
        end as won_at,
        case
            when attributed_opportunities.is_won
                then attributed_opportunities.amount
        end as won_amount
    from windows
    left join first_touches
        on windows.mql_event_id = first_touches.mql_event_id
    left join decisions
        on
            windows.mql_event_id = decisions.mql_event_id
            and decisions.decision_rank = 1
    left join attributed_opportunities
        on
            windows.mql_event_id = attributed_opportunities.mql_event_id
            and attributed_opportunities.opportunity_rank = 1
)

select * from final
