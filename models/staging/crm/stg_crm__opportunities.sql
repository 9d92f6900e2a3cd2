-- One row per usable opportunity (see base_crm__opportunities for the rows
-- that were rejected and why), as known at var as_of: an opportunity closed
-- after as_of is still open then.

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
        coalesce(closed_at <= {{ lead_scoring.as_of_timestamp() }}, true)
        and is_closed as is_closed,
        coalesce(closed_at <= {{ lead_scoring.as_of_timestamp() }}, true)
        and is_won as is_won,
        case
            when closed_at <= {{ lead_scoring.as_of_timestamp() }}
                then closed_at
        end as closed_at
    from opportunities
)

select * from final
