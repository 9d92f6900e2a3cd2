-- One row per usable lead status change: the earliest copy of each
-- status_change_id, of a live lead, dated by var as_of, with a status of
-- seeds/lead_statuses.csv and what it means to the lifecycle. The other raw
-- rows are in fct_rejected_rows, with the reason (macro
-- status_change_outcomes).

with

statuses as (
    select * from {{ ref('lead_statuses') }}
),

outcomes as (
    {{ lead_scoring.status_change_outcomes(
        status_changes=ref('base_crm__lead_status_changes'),
        leads=ref('base_crm__leads'),
        statuses=ref('lead_statuses'),
    ) }}
),

lead_status_changes as (
    select * from outcomes
    where rejection_reason is null
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
