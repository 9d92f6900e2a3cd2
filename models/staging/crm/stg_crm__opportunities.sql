-- One row per usable opportunities record (see base_crm__opportunities for the
-- rows that were rejected and why).

with

opportunities as (
    select * from {{ ref('base_crm__opportunities') }}
    where rejection_reason is null
),

final as (
    select
        opportunity_id,
        lead_id,
        created_at,
        stage_name,
        amount,
        is_closed,
        is_won,
        closed_at
    from opportunities
)

select * from final
