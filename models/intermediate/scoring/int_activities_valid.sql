-- One row per valid activity: the winning copy of each activity_id
-- (stg_marketing__activities), of a lead live at var as_of
-- (stg_crm__leads), with a timestamp at or before as_of. Page views are
-- re-typed by URL; unknown types are kept (they score 0). The other raw
-- rows are in fct_rejected_rows.

with

activities as (
    select * from {{ ref('stg_marketing__activities') }}
),

live_leads as (
    select lead_id from {{ ref('stg_crm__leads') }}
),

final as (
    select
        activities.activity_id,
        activities.lead_id,
        activities.activity_type,
        activities.source_activity_type,
        activities.url,
        activities.asset,
        activities.campaign_id,
        activities.occurred_at,
        activities.is_known_type
    from activities
    inner join live_leads
        on activities.lead_id = live_leads.lead_id
    where
        not activities.is_erased
        and activities.activity_id is not null
        and activities.copy_rank = 1
        and activities.occurred_at <= {{ lead_scoring.as_of_timestamp() }}
)

select * from final
