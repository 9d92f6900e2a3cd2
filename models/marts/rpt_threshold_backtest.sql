-- What if the MQL threshold were different? For each candidate threshold in
-- var backtest_thresholds and each month: how many leads would have become
-- an MQL for the first time that month (same rules, same minimum fit and
-- fast-track), how many of them really reached SQL and became customers,
-- next to var sales_capacity_mqls_per_month, so a team can see "too many
-- or too few" before it changes the rule. Only each lead's first
-- qualification is replayed (resets depend on sales' reaction to an MQL
-- that would have come at another time).

{%- set thresholds = var('backtest_thresholds') %}

with

scores as (
    select * from {{ ref('int_activity_scores_evaluated') }}
    where start_index = 0
),

flags as (
    select * from {{ ref('int_lead_funnel_flags') }}
),

thresholds as (
    {% for threshold in thresholds %}
        select cast({{ threshold }} as {{ lead_scoring.type_double() }}) as mql_score_threshold
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

fitting_moments as (
    select
        lead_id,
        occurred_at,
        {{ lead_scoring.round_to('lead_score', 6) }} as lead_score,
        activity_type in {{ lead_scoring.fast_track_types_sql() }}
            as is_fast_track
    from scores
    where
        {{ lead_scoring.round_to('fit_score', 6) }}
        >= {{ var('mql_min_fit_score') }}
),

first_qualifications as (
    select
        fitting_moments.lead_id,
        thresholds.mql_score_threshold,
        min(fitting_moments.occurred_at) as mql_at
    from fitting_moments
    inner join thresholds
        on
            fitting_moments.lead_score >= thresholds.mql_score_threshold
            or fitting_moments.is_fast_track
    group by fitting_moments.lead_id, thresholds.mql_score_threshold
),

qualified_months as (
    select
        lead_id,
        mql_score_threshold,
        cast(
            {{ dbt.date_trunc('month', 'mql_at') }} as date
        ) as mql_month
    from first_qualifications
),

monthly as (
    select
        qualified_months.mql_score_threshold,
        qualified_months.mql_month,
        count(*) as mqls,
        count(case when flags.is_sql then 1 end) as sqls,
        count(case when flags.is_customer then 1 end) as customers
    from qualified_months
    inner join flags
        on qualified_months.lead_id = flags.lead_id
    group by qualified_months.mql_score_threshold, qualified_months.mql_month
),

final as (
    select
        mql_score_threshold,
        mql_month,
        mqls,
        sqls,
        customers,
        {{ lead_scoring.safe_ratio('sqls', 'mqls') }} as sql_rate,
        {{ lead_scoring.safe_ratio('customers', 'mqls') }} as customer_rate,
        {{ var('sales_capacity_mqls_per_month') }} as sales_capacity,
        cast(mqls as {{ lead_scoring.type_double() }}) / {{ var('sales_capacity_mqls_per_month') }}
            as capacity_utilisation,
        mql_score_threshold = {{ var('mql_score_threshold') }}
            as is_current_threshold
    from monthly
)

select * from final
