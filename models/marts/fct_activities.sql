{{ config(materialized='view') }}

-- One row per valid marketing activity: the activities the scores are
-- evaluated at (staged, not rejected, occurred by var as_of), whether or
-- not a rule scores them. fct_score_ledger holds the rule firings among
-- them; the activities no rule fires for are here only (calibrate looks
-- there for activity types worth a rule of their own).

with

activities as (
    select * from {{ ref('int_activities_valid') }}
),

final as (
    select
        activity_id,
        lead_id,
        activity_type,
        source_activity_type,
        campaign_id,
        occurred_at,
        is_known_type
    from activities
)

select * from final
