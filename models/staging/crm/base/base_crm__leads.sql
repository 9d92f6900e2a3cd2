-- Every raw lead row, typed and renamed; nothing else (ephemeral: no
-- relation keeps a raw lead row as loaded, so an erased lead's e-mail and
-- name are in none). Which version of a lead wins, and what an erasure
-- masks, is decided by the macro lead_outcomes, for stg_crm__leads, the
-- other tables' outcomes and fct_rejected_rows.

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
)

select * from typed
