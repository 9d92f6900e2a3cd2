-- One row per live lead: who it is (no PII beyond the e-mail domain), its
-- scores as of var as_of, grade, lifecycle stage and first MQL moment.

{%- set grade_edges = var('lead_grade_fit_edges') %}

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

scores as (
    select * from {{ ref('int_lead_scores_as_of') }}
),

stages as (
    select * from {{ ref('int_lead_stages_current') }}
),

final as (
    select
        leads.lead_id,
        leads.email_domain,
        leads.seniority,
        leads.company_size_band,
        leads.industry,
        leads.country_code,
        leads.lead_source,
        leads.created_at,
        scores.fit_score,
        scores.engagement_score,
        scores.negative_score,
        scores.lead_score,
        case
            when
                {{ lead_scoring.round_to('scores.fit_score', 6) }}
                >= {{ grade_edges[0] }} then 'A'
            when
                {{ lead_scoring.round_to('scores.fit_score', 6) }}
                >= {{ grade_edges[1] }} then 'B'
            when
                {{ lead_scoring.round_to('scores.fit_score', 6) }}
                >= {{ grade_edges[2] }} then 'C'
            else 'D'
        end as lead_grade,
        stages.lifecycle_stage,
        stages.first_mql_at,
        leads.owner_id,
        {{ lead_scoring.as_of_timestamp() }} as scores_as_of
    from leads
    inner join scores
        on leads.lead_id = scores.lead_id
    inner join stages
        on leads.lead_id = stages.lead_id
)

select * from final
