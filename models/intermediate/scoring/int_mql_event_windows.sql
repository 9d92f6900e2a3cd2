-- Each MQL event with the span of time it "owns": from its MQL moment up to
-- the effective reset that ended it (the start of the lead's next epoch) or,
-- when there is none, open-ended. Sales touches, status changes and
-- opportunities are attributed to the event whose span holds them.

with

epochs as (
    select * from {{ ref('int_lead_qualification_epochs') }}
),

with_next as (
    select
        *,
        lead(epoch_started_at) over (
            partition by lead_id order by epoch_index
        ) as window_ends_at,
        lead(reset_status_change_id) over (
            partition by lead_id order by epoch_index
        ) as ending_status_change_id
    from epochs
),

final as (
    select
        {{ lead_scoring.key_hash(['trigger_activity_id']) }} as mql_event_id,
        lead_id,
        epoch_index,
        reset_status_change_id,
        trigger_activity_id,
        mql_at,
        qualification_path,
        lead_score_at_mql,
        fit_score_at_mql,
        window_ends_at,
        ending_status_change_id
    from with_next
    where trigger_activity_id is not null
)

select * from final
