-- One row per live lead: the winning (latest) version of each lead that was
-- not erased, created by var as_of, with the attributes scoring rules
-- compare against. The other raw lead rows are in fct_rejected_rows, with
-- the reason (macro lead_outcomes).

with

outcomes as (
    {{ lead_scoring.lead_outcomes(ref('base_crm__leads')) }}
),

lead_versions as (
    select * from outcomes
    where rejection_reason is null
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

seniority_patterns as (
    select * from {{ ref('job_title_seniority_patterns') }}
),

size_bands as (
    select * from {{ ref('company_size_bands') }}
),

titles as (
    select
        lead_id,
        {{ dbt.concat([
            "' '",
            lead_scoring.regexp_replace_all(
                'lower(job_title)', '[^a-z0-9]+', ' '
            ),
            "' '",
        ]) }} as padded_title
    from lead_versions
    where job_title is not null
),

title_matches as (
    select
        titles.lead_id,
        seniority_patterns.seniority,
        row_number() over (
            partition by titles.lead_id
            order by
                seniority_patterns.match_priority asc,
                {{ lead_scoring.text_order('seniority_patterns.title_pattern') }} asc
        ) as match_rank
    from titles
    inner join seniority_patterns
        on titles.padded_title like {{ dbt.concat([
            "'% '", 'seniority_patterns.title_pattern', "' %'",
        ]) }}
),

seniorities as (
    select
        titles.lead_id,
        coalesce(title_matches.seniority, 'individual_contributor')
            as seniority
    from titles
    left join title_matches
        on
            titles.lead_id = title_matches.lead_id
            and title_matches.match_rank = 1
),

final as (
    select
        ----------  ids
        lead_versions.lead_id,
        lead_versions.campaign_id,
        lead_versions.owner_id,

        ----------  person (PII: restricted to staging)
        lead_versions.email,
        case
            when lead_versions.email like '%_@_%'
                then {{ dbt.split_part('lead_versions.email', "'@'", 2) }}
        end as email_domain,
        lead_versions.first_name,
        lead_versions.last_name,

        ----------  firmographics
        lead_versions.job_title,
        seniorities.seniority,
        lead_versions.company_name,
        lead_versions.company_domain,
        lead_versions.employee_count,
        size_bands.company_size_band,
        lead_versions.industry,
        lead_versions.country_text,
        country_codes.country_code,
        lead_versions.annual_revenue,

        ----------  marketing and intent
        lead_versions.lead_source,
        lead_versions.is_decision_maker,
        lead_versions.purchase_timeframe,
        lead_versions.has_opted_out_of_email,

        ----------  timestamps
        lead_versions.created_at,
        lead_versions.updated_at
    from lead_versions
    left join seniorities
        on lead_versions.lead_id = seniorities.lead_id
    left join country_codes
        on lead_versions.country_text = country_codes.country_alias
    left join size_bands
        on
            lead_versions.employee_count >= size_bands.min_employees
            and (
                size_bands.max_employees is null
                or lead_versions.employee_count < size_bands.max_employees + 1
            )
)

select * from final
