-- Every raw marketing spend row, typed and renamed; nothing else. Its
-- outcome (used, or rejected with a reason) is decided by
-- stg_marketing__spend and fct_rejected_rows (macro spend_outcomes).

with

source as (
    select * from {{ source('marketing', 'marketing_spend') }}
),

typed as (
    select
        {{ lead_scoring.clean_text('spend_date') }} as spend_date_text,
        cast({{ lead_scoring.to_timestamp_utc('spend_date') }} as date)
            as spend_date,
        {{ lead_scoring.clean_category('lead_source') }} as lead_source,
        {{ lead_scoring.clean_text('lead_source') }} as lead_source_text,
        lower({{ lead_scoring.clean_text('campaign_id') }}) as campaign_key,
        {{ lead_scoring.clean_text('campaign_id') }} as campaign_id,
        {{ lead_scoring.clean_text('amount') }} as amount_text,
        {{ lead_scoring.to_number('amount') }} as amount
    from source
)

select * from typed
