-- Each live lead's lead_score (rounded to 6 decimals, so float noise makes
-- no false ties) with its average rank among all leads (ties share the mean
-- of their ranks) and whether it reached SQL: the input of the
-- rank-based (Mann-Whitney) AUC.

with

leads as (
    select * from {{ ref('int_lead_scores_as_of') }}
),

flags as (
    select * from {{ ref('int_lead_funnel_flags') }}
),

scored as (
    select
        leads.lead_id,
        {{ lead_scoring.round_to('leads.lead_score', 6) }} as lead_score,
        flags.is_sql
    from leads
    inner join flags
        on leads.lead_id = flags.lead_id
),

final as (
    select
        lead_id,
        lead_score,
        is_sql,
        cast(
            rank() over (order by lead_score)
            + (count(*) over (partition by lead_score) - 1) / 2.0
            as {{ lead_scoring.type_double() }}
        ) as average_rank
    from scored
)

select * from final
