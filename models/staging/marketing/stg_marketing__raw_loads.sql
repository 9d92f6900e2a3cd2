-- One row per raw marketing table: the rows it holds and the newest load
-- marker among them (var raw_loaded_at_column; null when the var is unset).
-- A view, read when a build runs: rpt_build_inputs keeps what that build
-- saw, so the tools can tell when raw rows were loaded after it.

with

activities as (
    {{ lead_scoring.raw_load_state(
        'activities', source('marketing', 'activities')
    ) }}
),

marketing_spend as (
    {{ lead_scoring.raw_load_state(
        'marketing_spend', source('marketing', 'marketing_spend')
    ) }}
),

final as (
    select * from activities
    union all
    select * from marketing_spend
)

select * from final
