-- Columns and unions written by Jinja loops and branches, whose layout the
-- indentation rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- One row per raw row that staging did not use, from all six sources, with
-- the reason. Together with the staged rows it accounts for every raw row.
-- Rows of erased leads appear only as a one-way hash. Activities are decided
-- here (their base model holds every raw row, whatever as_of): the same
-- reasons in the same order as the other lead-level event tables.

{%- set base_models = [
    'base_crm__leads',
    'base_crm__sales_activities',
    'base_crm__lead_status_changes',
    'base_crm__opportunities',
    'base_marketing__spend',
] %}

with

activity_rows as (
    select * from {{ ref('base_marketing__activities') }}
),

live_leads as (
    select lead_id from {{ ref('base_crm__leads') }}
    where rejection_reason is null
),

classified_activities as (
    select
        activity_rows.*,
        {{ lead_scoring.lead_event_rejection_reason(
            is_erased='activity_rows.is_erased',
            key_column='activity_rows.activity_id',
            copy_rank='activity_rows.copy_rank',
            is_live_lead='(live_leads.lead_id is not null)',
            timestamp_column='activity_rows.occurred_at',
        ) }} as rejection_reason
    from activity_rows
    left join live_leads
        on activity_rows.lead_id = live_leads.lead_id
),

rejected_activities as (
    select
        case
            when is_erased then {{ dbt.hash(lead_scoring.encode_key([
                "'activities'", 'erased_content_hash', 'erased_copy_number',
            ])) }}
            else {{ dbt.hash(lead_scoring.encode_key([
                "'activities'", 'activity_id',
                'case when activity_id is null then lead_id end',
                'copy_rank',
            ])) }}
        end as rejected_row_id,
        'activities' as source_table,
        activity_id as raw_key,
        lead_id,
        rejection_reason,
        {{ lead_scoring.lead_event_rejection_detail(
            key_column='activity_id',
            timestamp_column='occurred_at',
            timestamp_text='occurred_at_text',
        ) }} as rejection_detail
    from classified_activities
    where rejection_reason is not null
),

unioned as (
    select
        rejected_row_id,
        source_table,
        raw_key,
        lead_id,
        rejection_reason,
        rejection_detail
    from rejected_activities
    {%- for base_model in base_models %}
    union all
    select
        rejected_row_id,
        source_table,
        raw_key,
        {{ 'null' if base_model == 'base_marketing__spend' else 'lead_id' }}
            as lead_id,
        rejection_reason,
        rejection_detail
    from {{ ref(base_model) }}
    where rejection_reason is not null
    {%- endfor %}
),

final as (
    select
        rejected_row_id,
        source_table,
        raw_key,
        rejection_reason,
        rejection_detail,
        cast(lead_id as {{ dbt.type_string() }}) as lead_id
    from unioned
)

select * from final
