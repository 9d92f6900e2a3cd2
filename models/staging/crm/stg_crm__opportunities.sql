-- One row per usable opportunity: the earliest copy of each opportunity_id,
-- of a live lead, created by var as_of, as known then: an opportunity closed
-- after as_of is still open. The other raw rows are in fct_rejected_rows,
-- with the reason (macro opportunity_outcomes).

with

outcomes as (
    {{ lead_scoring.opportunity_outcomes(
        opportunities=ref('base_crm__opportunities'),
        leads=ref('base_crm__leads'),
    ) }}
),

opportunities as (
    select * from outcomes
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
