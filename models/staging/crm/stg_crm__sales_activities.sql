-- One row per usable sales activity: the earliest copy of each
-- sales_activity_id, of a live lead, dated by var as_of. The other raw rows
-- are in fct_rejected_rows, with the reason (macro sales_activity_outcomes).

with

outcomes as (
    {{ lead_scoring.sales_activity_outcomes(
        sales_activities=ref('base_crm__sales_activities'),
        leads=ref('base_crm__leads'),
    ) }}
),

final as (
    select
        sales_activity_id,
        lead_id,
        rep_id,
        activity_type,
        occurred_at
    from outcomes
    where rejection_reason is null
)

select * from final
