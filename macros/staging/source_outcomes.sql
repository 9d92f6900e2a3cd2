{#-
    Every raw row of a source table with its outcome: used (rejection_reason
    null) or rejected with the reason. The table's staging model keeps the
    used rows and fct_rejected_rows the others; both call the macro below,
    so each table's rules are written once and the two always account for
    every raw row. The arguments are the typed raw rows (base models) the
    caller refs. The macros' own CTE names differ from their callers'
    (Spark refuses a nested CTE that shadows an outer one).
-#}

{% macro lead_outcomes(leads) %}
    {#- Every raw lead row with its outcome: the winning version of each live
        lead (rejection_reason null: the latest updated_at, ties broken by
        the other columns) or why it was not used: missing_key, erased
        (the winning version asks for erasure: every row of the lead is
        masked, only lead_key_hash, a one-way hash of lead_id, remains),
        duplicate (an older version) or future_dated (created after var
        as_of: not a lead yet). E-mails and names are kept on used rows
        only. -#}
    with

    lead_rows_ranked as (
        select
            *,
            row_number() over lead_versions as version_rank,
            first_value(is_deleted) over lead_versions as is_erased
        from {{ leads }} as typed_leads
        window lead_versions as (
            partition by lead_id
            order by
                updated_at desc nulls last,
                is_deleted desc,
                created_at desc nulls last,
                {{ lead_scoring.text_order('email') }} asc nulls last,
                {{ lead_scoring.text_order('job_title') }} asc nulls last,
                {{ lead_scoring.text_order('company_name') }} asc nulls last,
                employee_count asc nulls last,
                {{ lead_scoring.text_order('country_text') }} asc nulls last,
                {{ lead_scoring.text_order('lead_source') }} asc nulls last,
                {{ lead_scoring.text_order('owner_id') }} asc nulls last
        )
    ),

    lead_rows_classified as (
        select
            *,
            case
                when lead_id is null then 'missing_key'
                when is_erased then 'erased'
                when version_rank > 1 then 'duplicate'
                when created_at > {{ lead_scoring.as_of_timestamp() }}
                    then 'future_dated'
            end as rejection_reason
        from lead_rows_ranked
    )

    select
        'leads' as source_table,
        {{ lead_scoring.rejected_row_id(
            'leads', ['lead_id'], 'version_rank'
        ) }} as rejected_row_id,
        case
            when rejection_reason = 'erased'
                then {{ lead_scoring.pii_hash('lead_id') }}
        end as lead_key_hash,
        case when rejection_reason = 'erased' then null else lead_id end
            as raw_key,
        rejection_reason,
        case rejection_reason
            when 'erased' then 'the lead asked to be erased'
            when 'missing_key' then 'lead_id is blank'
            when 'duplicate'
                then 'older version; the latest updated_at is kept'
            when 'future_dated' then {{ dbt.concat([
                "'created_at '",
                dbt.safe_cast('created_at', dbt.type_string()),
                "' is after as_of'",
            ]) }}
        end as rejection_detail,
        -- Personal data of a row that is not used (an older version, a row
        -- without a key) serves nothing: it is not passed on.
        {%- for column in ['email', 'first_name', 'last_name'] %}
            case
                when rejection_reason is null then {{ column }}
            end as {{ column }},
        {%- endfor %}
        {{ lead_scoring.erasable_columns([
            'lead_id', 'campaign_id', 'owner_id', 'job_title', 'company_name',
            'company_domain', 'employee_count', 'industry', 'country_text',
            'annual_revenue', 'lead_source', 'is_decision_maker',
            'purchase_timeframe', 'has_opted_out_of_email', 'created_at',
            'updated_at', 'is_deleted',
        ]) }}
    from lead_rows_classified
{% endmacro %}


{% macro sales_activity_outcomes(sales_activities, leads) %}
    {{ lead_scoring.classify_lead_event_rows(
        rows=sales_activities,
        leads=leads,
        source_table='sales_activities',
        key_column='sales_activity_id',
        timestamp_column='occurred_at',
        columns=[
            'sales_activity_id', 'lead_id', 'rep_id', 'activity_type',
            'occurred_at',
        ],
    ) }}
{% endmacro %}


{% macro status_change_outcomes(status_changes, leads, statuses) %}
    {#- Statuses outside the lead_statuses seed are rejected as
        unknown_status. -#}
    {%- set rows -%}
        (
            select
                status_changes.*,
                statuses.status is not null as is_known_status
            from {{ status_changes }} as status_changes
            left join {{ statuses }} as statuses
                on status_changes.status = statuses.status
        )
    {%- endset %}
    {{ lead_scoring.classify_lead_event_rows(
        rows=rows,
        leads=leads,
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
{% endmacro %}


{% macro opportunity_outcomes(opportunities, leads) %}
    {{ lead_scoring.classify_lead_event_rows(
        rows=opportunities,
        leads=leads,
        source_table='opportunities',
        key_column='opportunity_id',
        timestamp_column='created_at',
        columns=[
            'opportunity_id', 'lead_id', 'created_at', 'stage_name', 'amount',
            'is_closed', 'is_won', 'closed_at',
        ],
        number_columns=['amount'],
    ) }}
{% endmacro %}


{% macro spend_outcomes(spend) %}
    {#- One used row per spend_date x lead_source x campaign_id (the largest
        non-negative amount wins); the others are missing_key, duplicate,
        unparseable_timestamp, future_dated or invalid_amount. -#}
    with

    spend_ranked as (
        select
            spend.*,
            {{ dbt.concat([
                "coalesce(spend.spend_date_text, '')",
                "'|'",
                "coalesce(spend.lead_source_text, '')",
                "'|'",
                "coalesce(spend.campaign_id, '')",
            ]) }} as raw_key,
            row_number() over (
                partition by
                    coalesce(
                        {{ dbt.safe_cast('spend.spend_date', dbt.type_string()) }},
                        spend.spend_date_text
                    ),
                    spend.lead_source,
                    spend.campaign_key
                order by
                    case when spend.amount >= 0 then 0 else 1 end,
                    spend.amount desc nulls last,
                    {{ lead_scoring.text_order('spend.amount_text') }} asc nulls last,
                    {{ lead_scoring.text_order('spend.campaign_id') }} asc nulls last
            ) as copy_rank
        from {{ spend }} as spend
    ),

    spend_classified as (
        select
            *,
            case
                when spend_date_text is null or lead_source is null
                    then 'missing_key'
                when copy_rank > 1 then 'duplicate'
                when spend_date is null then 'unparseable_timestamp'
                when spend_date > cast({{ lead_scoring.as_of_timestamp() }} as date)
                    then 'future_dated'
                when amount is null or amount < 0 then 'invalid_amount'
            end as rejection_reason
        from spend_ranked
    )

    select
        'marketing_spend' as source_table,
        {{ lead_scoring.rejected_row_id(
            'marketing_spend',
            ['spend_date_text', 'lead_source_text', 'campaign_id'],
            'copy_rank',
        ) }} as rejected_row_id,
        raw_key,
        rejection_reason,
        case rejection_reason
            when 'missing_key' then 'spend_date or lead_source is blank'
            when 'duplicate'
                then 'same day, source and campaign; largest amount kept'
            when 'unparseable_timestamp' then {{ dbt.concat([
                "'spend_date '", 'spend_date_text', "' is not a date'",
            ]) }}
            when 'future_dated' then {{ dbt.concat([
                "'spend_date '",
                'spend_date_text',
                "' is after as_of " ~ lead_scoring.as_of_text() ~ "'",
            ]) }}
            when 'invalid_amount' then {{ dbt.concat([
                "'amount '",
                "coalesce(amount_text, '(blank)')",
                "' is not a non-negative number'",
            ]) }}
        end as rejection_detail,
        spend_date,
        lead_source,
        campaign_id,
        amount
    from spend_classified
{% endmacro %}


{% macro erased_lead_ids(leads, erased_leads) %}
    {#- The ids of the erased leads, with their lead_key_hash: each distinct
        raw lead id hashed (pii_hash) and matched with the erased leads'
        hashes (stg_crm__erased_leads). For the calling query only: no
        relation keeps them. -#}
    select
        raw_lead_ids.lead_id,
        erased_leads.lead_key_hash
    from (
        select distinct lead_id
        from {{ leads }}
        where lead_id is not null
    ) as raw_lead_ids
    inner join {{ erased_leads }} as erased_leads
        on {{ lead_scoring.pii_hash('raw_lead_ids.lead_id') }}
        = erased_leads.lead_key_hash
{%- endmacro %}
