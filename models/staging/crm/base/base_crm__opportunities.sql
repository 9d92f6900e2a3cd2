-- Every raw opportunity row, typed and renamed; nothing else. Its outcome
-- (used, or rejected with a reason) is decided by stg_crm__opportunities and
-- fct_rejected_rows (macro opportunity_outcomes).

with

source as (
    select * from {{ source('crm', 'opportunities') }}
),

typed as (
    select
        {{ lead_scoring.clean_text('opportunity_id') }} as opportunity_id,
        {{ lead_scoring.clean_text('lead_id') }} as lead_id,
        {{ lead_scoring.to_timestamp_utc('created_at') }} as created_at,
        {{ lead_scoring.clean_text('created_at') }} as created_at_text,
        {{ lead_scoring.clean_category('stage') }} as stage_name,
        {{ lead_scoring.to_number('amount') }} as amount,
        coalesce({{ lead_scoring.to_boolean('is_closed') }}, false)
            as is_closed,
        coalesce({{ lead_scoring.to_boolean('is_won') }}, false) as is_won,
        {{ lead_scoring.to_timestamp_utc('closed_at') }} as closed_at
    from source
)

select * from typed
