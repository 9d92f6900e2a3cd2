-- Every raw opportunity, typed, with its outcome: used (one row per
-- opportunity_id) or the reason it was rejected.

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
),

classified as (
    {{ lead_scoring.classify_lead_event_rows(
        typed_relation='typed',
        source_table='opportunities',
        key_column='opportunity_id',
        timestamp_column='created_at',
        columns=[
            'opportunity_id', 'lead_id', 'created_at', 'stage_name', 'amount',
            'is_closed', 'is_won', 'closed_at',
        ],
        number_columns=['amount'],
    ) }}
)

select * from classified
