-- The moments from which a lead's activity points may count: the beginning
-- (start_index 0, start_at null) and every sales_rejected or recycled status
-- change (a reset, when the lead is an MQL or SQL at that moment; whether it
-- is one is decided in int_mql_events_resolved). Also each lead's first
-- disqualification, which stops all qualification from then on.

with

milestones as (
    select * from {{ ref('int_lead_activity_milestones') }}
),

status_changes as (
    select * from {{ ref('stg_crm__lead_status_changes') }}
),

first_disqualifications as (
    select * from {{ ref('int_lead_first_disqualifications') }}
),

beginnings as (
    select
        lead_id,
        0 as start_index,
        cast(null as {{ dbt.type_timestamp() }}) as start_at,
        cast(null as {{ dbt.type_string() }}) as start_change_id
    from milestones
),

resets as (
    select
        lead_id,
        cast(
            row_number() over (
                partition by lead_id
                order by
                    changed_at asc,
                    {{ lead_scoring.text_order('status_change_id') }} asc
            ) as integer
        ) as start_index,
        changed_at as start_at,
        status_change_id as start_change_id
    from status_changes
    where is_reset
),

starts as (
    select * from beginnings
    union all
    select * from resets
),

final as (
    select
        starts.lead_id,
        starts.start_index,
        starts.start_at,
        starts.start_change_id,
        first_disqualifications.disqualified_at,
        first_disqualifications.disqualified_change_id
    from starts
    left join first_disqualifications
        on starts.lead_id = first_disqualifications.lead_id
)

select * from final
