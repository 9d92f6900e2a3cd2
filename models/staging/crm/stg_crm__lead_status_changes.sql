-- One row per usable lead status changes record (see base_crm__lead_status_changes for the
-- rows that were rejected and why).

with

lead_status_changes as (
    select * from {{ ref('base_crm__lead_status_changes') }}
    where rejection_reason is null
),

final as (
    select
        status_change_id,
        lead_id,
        status,
        reason,
        changed_at
    from lead_status_changes
)

select * from final
