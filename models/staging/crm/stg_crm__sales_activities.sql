-- One row per usable sales activities record (see base_crm__sales_activities for the
-- rows that were rejected and why).

with

sales_activities as (
    select * from {{ ref('base_crm__sales_activities') }}
    where rejection_reason is null
),

final as (
    select
        sales_activity_id,
        lead_id,
        rep_id,
        activity_type,
        occurred_at
    from sales_activities
)

select * from final
