-- One row per lead sales disqualified: its first disqualification (in
-- (changed_at, status_change_id) order), from which the lead qualifies no
-- more and its stage is final. Read by the qualification starts and the
-- lifecycle stage events, so both stop at the same change.

with

status_changes as (
    select * from {{ ref('stg_crm__lead_status_changes') }}
    where is_disqualification
),

ranked as (
    select
        lead_id,
        changed_at,
        status_change_id,
        row_number() over (
            partition by lead_id
            order by
                changed_at asc,
                {{ lead_scoring.text_order('status_change_id') }} asc
        ) as disqualification_rank
    from status_changes
),

final as (
    select
        lead_id,
        changed_at as disqualified_at,
        status_change_id as disqualified_change_id
    from ranked
    where disqualification_rank = 1
)

select * from final
