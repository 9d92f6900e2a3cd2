-- One row per usable lead status change (see base_crm__lead_status_changes
-- for the rows that were rejected and why), with what the status means to
-- the lifecycle (seeds/lead_statuses.csv).

with

lead_status_changes as (
    select * from {{ ref('base_crm__lead_status_changes') }}
    where rejection_reason is null
),

statuses as (
    select * from {{ ref('lead_statuses') }}
),

final as (
    select
        lead_status_changes.status_change_id,
        lead_status_changes.lead_id,
        lead_status_changes.status,
        statuses.mql_outcome,
        statuses.is_acceptance,
        statuses.is_reset,
        statuses.is_disqualification,
        lead_status_changes.reason,
        lead_status_changes.changed_at
    from lead_status_changes
    inner join statuses
        on lead_status_changes.status = statuses.status
)

select * from final
