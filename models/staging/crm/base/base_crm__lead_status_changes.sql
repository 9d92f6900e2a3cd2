-- Every raw lead status change, typed, with its outcome: used (one row per
-- status_change_id) or the reason it was rejected. Statuses outside the
-- contract's four are rejected as unknown_status.

with

source as (
    select * from {{ source('crm', 'lead_status_changes') }}
),

statuses as (
    select status from {{ ref('lead_statuses') }}
),

typed as (
    select
        {{ lead_scoring.clean_text('source.status_change_id') }}
            as status_change_id,
        {{ lead_scoring.clean_text('source.lead_id') }} as lead_id,
        {{ lead_scoring.clean_label('source.status') }} as status,
        {{ lead_scoring.clean_text('source.reason') }} as reason,
        {{ lead_scoring.to_timestamp_utc('source.changed_at') }} as changed_at,
        {{ lead_scoring.clean_text('source.changed_at') }} as changed_at_text,
        statuses.status is not null as is_known_status
    from source
    left join statuses
        on {{ lead_scoring.clean_label('source.status') }} = statuses.status
),

classified as (
    {{ lead_scoring.classify_lead_event_rows(
        typed_relation='typed',
        source_table='lead_status_changes',
        key_column='status_change_id',
        timestamp_column='changed_at',
        columns=[
            'status_change_id', 'lead_id', 'status', 'reason', 'changed_at',
        ],
        extra_checks=[{
            'reason': 'unknown_status',
            'condition': 'not is_known_status',
            'detail': dbt.concat([
                "'status '",
                "coalesce(status, '(blank)')",
                "' is not a known status'",
            ]),
        }],
    ) }}
)

select * from classified
