{% macro classify_lead_event_rows(
    rows,
    leads,
    source_table,
    key_column,
    timestamp_column,
    columns,
    extra_checks=[],
    number_columns=[]
) %}
    {#-
        Every raw row of a lead-level event table (sales activities, status
        changes, opportunities) with its outcome: used (rejection_reason
        null) or rejected with the first reason that applies, in this order:
          erased, missing_key, duplicate, orphan_lead,
          unparseable_timestamp, future_dated, then extra_checks in order.
        The staging model of the table keeps the used rows and
        fct_rejected_rows the others, both through the table's outcome
        macro (macros/staging/source_outcomes.sql), so the two cannot
        disagree. (Activities keep the same reasons, decided in
        stg_marketing__activities and fct_rejected_rows because their base
        model is as_of-independent.)
        Among rows sharing a key the copy with the earliest timestamp wins
        (unparseable last); rows with a blank key are numbered within their
        lead, so that a row's outcome and identifier depend only on the rows
        of its own key or lead. Rows of an erased lead keep no readable
        trace: every column is nulled and only a one-way hash identifies the
        row.

        rows: the typed raw rows (the table's base model, or a subquery over
            it), with the key, lead_id, `<timestamp_column>` (timestamp) and
            `<timestamp_column>_text` (the raw text, for the rejection
            detail).
        leads: the typed raw lead rows (base_crm__leads), whose outcomes
            (macro lead_outcomes) say which leads are live or erased.
        columns: the typed columns to pass through (masked when erased);
            they also break ties between copies, so the outcome never
            depends on the order rows were loaded in.
        extra_checks: list of {'reason': ..., 'condition': ..., 'detail': ...}
            SQL for further reasons, checked after future_dated.
        number_columns: the numeric ones among columns. Ties are broken in
            byte order of text (text_order); timestamps (*_at), flags (is_*)
            and these compare by value.
    -#}
    {%- set timestamp_text = timestamp_column ~ '_text' -%}
    {%- set typed_relation = 'typed_rows' %}
    with

    typed_rows as (
        select * from {{ rows }} as raw_rows
    ),

    lead_versions as (
        select
            lead_rows.lead_id,
            lead_rows.lead_key_hash,
            lead_rows.rejection_reason
        from ({{ lead_scoring.lead_outcomes(leads) }}) as lead_rows
    ),

    live_leads as (
        select lead_id
        from lead_versions
        where rejection_reason is null
    ),

    erased_leads as (
        select distinct lead_key_hash
        from lead_versions
        where rejection_reason = 'erased'
    ),

    event_rows_ranked as (
        select
            {{ typed_relation }}.*,
            live_leads.lead_id is not null as is_live_lead,
            case
                when live_leads.lead_id is null
                    and {{ typed_relation }}.lead_id is not null
                    then {{ lead_scoring.pii_hash(typed_relation ~ '.lead_id') }}
            end as unmatched_lead_key_hash,
            row_number() over (
                partition by
                    {{ typed_relation }}.{{ key_column }},
                    case
                        when {{ typed_relation }}.{{ key_column }} is null
                            then {{ typed_relation }}.lead_id
                    end
                order by
                    {{ typed_relation }}.{{ timestamp_column }} asc nulls last
                    {%- for column in columns %},
                    {%- set qualified = typed_relation ~ '.' ~ column %}
                    {%- if column.endswith('_at') or column.startswith('is_')
                        or column in number_columns %}
                    {{ qualified }} asc nulls last
                    {%- else %}
                    {{ lead_scoring.text_order(qualified) }} asc nulls last
                    {%- endif %}
                    {%- endfor %}
            ) as copy_rank
        from {{ typed_relation }}
        left join live_leads
            on {{ typed_relation }}.lead_id = live_leads.lead_id
    ),

    event_rows_classified as (
        select
            event_rows_ranked.*,
            {{ lead_scoring.lead_event_rejection_reason(
                is_erased='erased_leads.lead_key_hash is not null',
                key_column='event_rows_ranked.' ~ key_column,
                copy_rank='event_rows_ranked.copy_rank',
                is_live_lead='event_rows_ranked.is_live_lead',
                timestamp_column='event_rows_ranked.' ~ timestamp_column,
                extra_checks=extra_checks,
            ) }}
            as rejection_reason
        from event_rows_ranked
        left join erased_leads
            on event_rows_ranked.unmatched_lead_key_hash = erased_leads.lead_key_hash
    )

    select
        '{{ source_table }}' as source_table,
        case
            when {{ key_column }} is null then {{ lead_scoring.rejected_row_id(
                source_table, [key_column, 'lead_id'], 'copy_rank'
            ) }}
            else {{ lead_scoring.rejected_row_id(
                source_table, [key_column], 'copy_rank'
            ) }}
        end as rejected_row_id,
        case
            when rejection_reason = 'erased' then null else {{ key_column }}
        end as raw_key,
        rejection_reason,
        {{ lead_scoring.lead_event_rejection_detail(
            key_column=key_column,
            timestamp_column=timestamp_column,
            timestamp_text=timestamp_text,
            extra_checks=extra_checks,
        ) }}
        as rejection_detail,
        {{ lead_scoring.erasable_columns(columns) }}
    from event_rows_classified
{% endmacro %}


{% macro lead_event_rejection_reason(
    is_erased, key_column, copy_rank, is_live_lead, timestamp_column,
    extra_checks=[]
) %}
    {#- The reason a raw row of a lead-level event table is not used, the
        first that applies in this order (null when it is used): erased,
        missing_key, duplicate, orphan_lead, unparseable_timestamp,
        future_dated (after var as_of), then extra_checks in order. -#}
    case
        when {{ is_erased }} then 'erased'
        when {{ key_column }} is null then 'missing_key'
        when {{ copy_rank }} > 1 then 'duplicate'
        when not {{ is_live_lead }} then 'orphan_lead'
        when {{ timestamp_column }} is null then 'unparseable_timestamp'
        when {{ timestamp_column }} > {{ lead_scoring.as_of_timestamp() }}
            then 'future_dated'
        {%- for check in extra_checks %}
        when {{ check.condition }} then '{{ check.reason }}'
        {%- endfor %}
    end
{%- endmacro %}


{% macro lead_event_rejection_detail(
    key_column, timestamp_column, timestamp_text, extra_checks=[]
) %}
    {#- A sentence saying why a row was rejected, from its rejection_reason
        (see lead_event_rejection_reason) and its columns. -#}
    case rejection_reason
        when 'erased' then 'the lead asked to be erased'
        when 'missing_key' then '{{ key_column }} is blank'
        when 'duplicate' then {{ dbt.concat([
            "'re-delivered copy of " ~ key_column ~ " '",
            key_column,
            "'; the copy with the earliest " ~ timestamp_column
                ~ " is kept'",
        ]) }}
        when 'orphan_lead' then {{ dbt.concat([
            "'lead_id '",
            "coalesce(lead_id, '(blank)')",
            "' is not a live lead'",
        ]) }}
        when 'unparseable_timestamp' then {{ dbt.concat([
            "'" ~ timestamp_column ~ " '",
            "coalesce(" ~ timestamp_text ~ ", '(blank)')",
            "' is not a timestamp'",
        ]) }}
        when 'future_dated' then {{ dbt.concat([
            "'" ~ timestamp_column ~ " '",
            dbt.safe_cast(timestamp_column, dbt.type_string()),
            "' is after as_of'",
        ]) }}
        {%- for check in extra_checks %}
        when '{{ check.reason }}' then {{ check.detail }}
        {%- endfor %}
    end
{%- endmacro %}
