-- Columns and unions written by Jinja loops and branches, whose layout the
-- indentation rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- What if the MQL threshold were different? For each candidate threshold in
-- var backtest_thresholds and each month: how many leads would have become
-- an MQL for the first time that month (same rules, same minimum fit and
-- fast-track), how many of them really reached SQL and became customers,
-- next to var sales_capacity_mqls_per_month, so a team can see "too many
-- or too few" before it changes the rule. Only each lead's first
-- qualification is replayed (resets depend on sales' reaction to an MQL
-- that would have come at another time).

with

first_qualifications as (
    -- Each lead's first qualification (from its first start) with each
    -- candidate threshold.
    select * from {{ ref('int_lead_score_trajectories') }}
    where
        start_index = 0
        and mql_score_threshold in (
            {%- for threshold in var('backtest_thresholds') %}
            {{ threshold }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
),

flags as (
    select * from {{ ref('int_lead_funnel_flags') }}
),

qualified_months as (
    select
        lead_id,
        mql_score_threshold,
        cast(
            {{ dbt.date_trunc('month', 'qualified_at') }} as date
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
        cast(mqls as {{ lead_scoring.type_double() }})
        / {{ var('sales_capacity_mqls_per_month') }}
            as capacity_utilisation,
        mql_score_threshold = {{ var('mql_score_threshold') }}
            as is_current_threshold
    from monthly
)

select * from final
