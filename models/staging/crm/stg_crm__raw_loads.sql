-- One row per raw CRM table: the rows it holds and the newest load marker
-- among them (var raw_loaded_at_column; null when the var is unset). A view,
-- read when a build runs: rpt_build_inputs keeps what that build saw, so
-- the tools can tell when raw rows were loaded after it.

with

leads as (
    {{ lead_scoring.raw_load_state(
        'leads', source('crm', 'leads')
    ) }}
),

sales_activities as (
    {{ lead_scoring.raw_load_state(
        'sales_activities', source('crm', 'sales_activities')
    ) }}
),

lead_status_changes as (
    {{ lead_scoring.raw_load_state(
        'lead_status_changes', source('crm', 'lead_status_changes')
    ) }}
),

opportunities as (
    {{ lead_scoring.raw_load_state(
        'opportunities', source('crm', 'opportunities')
    ) }}
),

final as (
    select * from leads
    union all
    select * from sales_activities
    union all
    select * from lead_status_changes
    union all
    select * from opportunities
)

select * from final
