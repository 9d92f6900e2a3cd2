-- One row per MQL event: the moment a lead in nurture reached the score
-- threshold (or fast-tracked on a hand-raiser) with enough fit. A lead that
-- sales rejected or recycled can qualify again later: a new event.

with

epochs as (
    select * from {{ ref('int_lead_qualification_epochs') }}
    where trigger_activity_id is not null
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            'lead_id', "'#'", 'trigger_activity_id',
        ])) }} as mql_event_id,
        lead_id,
        cast(
            row_number() over (partition by lead_id order by mql_at)
            as integer
        ) as mql_sequence,
        mql_at,
        qualification_path,
        trigger_activity_id,
        lead_score_at_mql,
        fit_score_at_mql,
        reset_status_change_id
    from epochs
)

select * from final
