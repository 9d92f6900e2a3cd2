-- Columns and unions written by Jinja loops and branches, whose layout the
-- indentation rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- One row per raw row that staging did not use, from all six sources, with
-- the reason. Together with the staged rows it accounts for every raw row.
-- Rows of erased leads appear only as a one-way hash. Activities are decided
-- here (stg_marketing__activities holds every raw row, whatever as_of): the
-- same reasons in the same order as the other lead-level event tables,
-- whose outcomes come from the macros their staging models use
-- (macros/staging/source_outcomes.sql).

with

activity_rows as (
    select * from {{ ref('stg_marketing__activities') }}
),

live_lead_ids as (
    select lead_id from {{ ref('stg_crm__leads') }}
),

classified_activities as (
    select
        activity_rows.*,
        {{ lead_scoring.lead_event_rejection_reason(
            is_erased='activity_rows.is_erased',
            key_column='activity_rows.activity_id',
            copy_rank='activity_rows.copy_rank',
            is_live_lead='(live_lead_ids.lead_id is not null)',
            timestamp_column='activity_rows.occurred_at',
        ) }} as rejection_reason
    from activity_rows
    left join live_lead_ids
        on activity_rows.lead_id = live_lead_ids.lead_id
),

lead_rows as (
    {{ lead_scoring.lead_outcomes(ref('base_crm__leads')) }}
),

-- The other tables' outcomes, by the macros their staging models use.
sales_activity_rows as (
    {{ lead_scoring.sales_activity_outcomes(
        sales_activities=ref('base_crm__sales_activities'),
        leads=ref('base_crm__leads'),
    ) }}
),

status_change_rows as (
    {{ lead_scoring.status_change_outcomes(
        status_changes=ref('base_crm__lead_status_changes'),
        leads=ref('base_crm__leads'),
        statuses=ref('lead_statuses'),
    ) }}
),

opportunity_rows as (
    {{ lead_scoring.opportunity_outcomes(
        opportunities=ref('base_crm__opportunities'),
        leads=ref('base_crm__leads'),
    ) }}
),

spend_rows as (
    {{ lead_scoring.spend_outcomes(ref('base_marketing__spend')) }}
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
    {%- for table_rows in [
        'lead_rows', 'sales_activity_rows', 'status_change_rows',
        'opportunity_rows', 'spend_rows',
    ] %}
    union all
    select
        rejected_row_id,
        source_table,
        raw_key,
        {{ 'null' if table_rows == 'spend_rows' else 'lead_id' }} as lead_id,
        rejection_reason,
        rejection_detail
    from {{ table_rows }}
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
