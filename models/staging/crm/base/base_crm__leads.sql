-- Every raw lead row, typed, with its outcome: the winning version of a live
-- lead (rejection_reason null) or why it was not used. A lead created after
-- var as_of is not a lead yet (future_dated; its activities and other events
-- are orphans). Rows of an erased lead are masked here already, so no
-- relation built on top can leak them, and no rejected row keeps an e-mail
-- or a name.

with

source as (
    select * from {{ source('crm', 'leads') }}
),

typed as (
    select
        ----------  ids
        {{ lead_scoring.clean_text('lead_id') }} as lead_id,
        {{ lead_scoring.clean_text('campaign_id') }} as campaign_id,
        {{ lead_scoring.clean_text('owner_id') }} as owner_id,

        ----------  person (PII)
        lower({{ lead_scoring.clean_text('email') }}) as email,
        {{ lead_scoring.clean_text('first_name') }} as first_name,
        {{ lead_scoring.clean_text('last_name') }} as last_name,

        ----------  firmographics
        {{ lead_scoring.clean_text('job_title') }} as job_title,
        {{ lead_scoring.clean_text('company_name') }} as company_name,
        lower({{ lead_scoring.clean_text('company_domain') }}) as company_domain,
        {{ lead_scoring.to_number('employee_count') }} as employee_count,
        {{ lead_scoring.clean_category('industry') }} as industry,
        {{ lead_scoring.regexp_replace_all(
            lead_scoring.clean_category('country'), '\\s+', ' '
        ) }} as country_text,
        {{ lead_scoring.to_number('annual_revenue') }} as annual_revenue,

        ----------  marketing and intent
        {{ lead_scoring.clean_category('lead_source') }} as lead_source,
        {{ lead_scoring.to_boolean('is_decision_maker') }} as is_decision_maker,
        {{ lead_scoring.clean_category('purchase_timeframe') }}
            as purchase_timeframe,
        {{ lead_scoring.to_boolean('email_opt_out') }} as has_opted_out_of_email,

        ----------  timestamps and flags
        {{ lead_scoring.to_timestamp_utc('created_at') }} as created_at,
        {{ lead_scoring.to_timestamp_utc('updated_at') }} as updated_at,
        coalesce({{ lead_scoring.to_boolean('is_deleted') }}, false)
            as is_deleted
    from source
),

ranked as (
    select
        *,
        row_number() over lead_versions as version_rank,
        first_value(is_deleted) over lead_versions as is_erased
    from typed
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

classified as (
    select
        *,
        case
            when lead_id is null then 'missing_key'
            when is_erased then 'erased'
            when version_rank > 1 then 'duplicate'
            when created_at > {{ lead_scoring.as_of_timestamp() }}
                then 'future_dated'
        end as rejection_reason
    from ranked
),

final as (
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
    from classified
)

select * from final
