-- Does each rule earn its points? For every active rule: the leads it fired
-- for, their conversion to SQL and to customer against the leads it did not
-- fire for, the lift, the log-odds ratio of reaching SQL with a 95%
-- confidence interval (Haldane-Anscombe: 0.5 added to each cell, so a
-- rule that always or never converts still gets a finite estimate), the
-- share of MQL events it contributed points to, and flags for rules that
-- never fire or fire for almost everyone (the log-odds ratio is undefined
-- for a rule that fired for every lead or for none).

with

rules as (
    select * from {{ ref('int_scoring_rules_validated') }}
),

rule_states as (
    select * from {{ ref('int_lead_rule_states') }}
),

leads as (
    select * from {{ ref('int_lead_funnel_flags') }}
),

mql_events as (
    select * from {{ ref('int_mql_event_windows') }}
),

fired_leads as (
    select
        rule_id,
        lead_id
    from rule_states
),

overall as (
    select
        count(*) as leads,
        count(case when is_sql then 1 end) as sqls,
        count(case when is_customer then 1 end) as customers
    from leads
),

rule_counts as (
    select
        rules.rule_id,
        count(leads.lead_id) as leads_fired,
        count(case when leads.is_sql then 1 end) as sqls_fired,
        count(case when leads.is_customer then 1 end) as customers_fired
    from rules
    left join fired_leads
        on rules.rule_id = fired_leads.rule_id
    left join leads
        on fired_leads.lead_id = leads.lead_id
    group by rules.rule_id
),

contributions as (
    -- Per lead, the MQL events a rule fired before (in their epoch); each
    -- event belongs to one lead, so the sum counts distinct events.
    select
        rule_id,
        cast(sum(mql_events_contributed) as {{ dbt.type_bigint() }})
            as mql_events_contributed
    from rule_states
    group by rule_id
),

total_mql_events as (
    select count(*) as mql_events from mql_events
),

cells as (
    select
        rule_counts.*,
        overall.leads,
        overall.sqls,
        overall.customers,
        overall.leads - rule_counts.leads_fired as leads_not_fired,
        overall.sqls - rule_counts.sqls_fired as sqls_not_fired,
        overall.customers - rule_counts.customers_fired
            as customers_not_fired
    from rule_counts
    cross join overall
),

haldane_cells as (
    -- The four cells of the rule's 2x2 table (fired or not x reached SQL or
    -- not), each plus 0.5, as doubles: exact for any count, and every engine
    -- then divides and takes logarithms alike (Spark's decimals would round).
    select
        rule_id,
        leads_fired,
        leads_not_fired,
        cast(sqls_fired as {{ lead_scoring.type_double() }}) + 0.5
            as fired_sql,
        cast(leads_fired - sqls_fired as {{ lead_scoring.type_double() }})
        + 0.5 as fired_no_sql,
        cast(sqls_not_fired as {{ lead_scoring.type_double() }}) + 0.5
            as not_fired_sql,
        cast(
            leads_not_fired - sqls_not_fired as {{ lead_scoring.type_double() }}
        ) + 0.5 as not_fired_no_sql
    from cells
),

log_odds as (
    -- Undefined when the rule fired for every lead or for none.
    select
        rule_id,
        case when leads_fired > 0 and leads_not_fired > 0 then ln(
            fired_sql * not_fired_no_sql / (fired_no_sql * not_fired_sql)
        ) end as log_odds_ratio,
        case when leads_fired > 0 and leads_not_fired > 0 then sqrt(
            1.0 / fired_sql
            + 1.0 / fired_no_sql
            + 1.0 / not_fired_sql
            + 1.0 / not_fired_no_sql
        ) end as log_odds_standard_error
    from haldane_cells
),

final as (
    select
        rules.rule_id,
        rules.category,
        rules.field,
        rules.operator,
        rules.rule_value,
        rules.points,
        cells.leads_fired,
        cells.sqls_fired,
        cells.customers_fired,
        log_odds.log_odds_ratio,
        {{ lead_scoring.safe_ratio('cells.leads_fired', 'cells.leads') }}
            as share_of_leads_fired,
        {{ lead_scoring.safe_ratio('cells.sqls_fired', 'cells.leads_fired') }}
            as sql_rate_fired,
        {{ lead_scoring.safe_ratio(
            'cells.sqls_not_fired', 'cells.leads_not_fired'
        ) }} as sql_rate_not_fired,
        {{ lead_scoring.safe_ratio(
            'cells.customers_fired', 'cells.leads_fired'
        ) }} as customer_rate_fired,
        {{ lead_scoring.safe_ratio(
            'cells.customers_not_fired', 'cells.leads_not_fired'
        ) }} as customer_rate_not_fired,
        {{ lead_scoring.safe_ratio(
            lead_scoring.safe_ratio('cells.sqls_fired', 'cells.leads_fired'),
            lead_scoring.safe_ratio('cells.sqls', 'cells.leads'),
        ) }} as sql_lift,
        log_odds.log_odds_ratio
        - 1.959964 * log_odds.log_odds_standard_error
            as log_odds_ratio_ci_low,
        log_odds.log_odds_ratio
        + 1.959964 * log_odds.log_odds_standard_error
            as log_odds_ratio_ci_high,
        coalesce(contributions.mql_events_contributed, 0)
            as mql_events_contributed,
        {{ lead_scoring.safe_ratio(
            'coalesce(contributions.mql_events_contributed, 0)',
            'total_mql_events.mql_events',
        ) }} as share_of_mql_events_contributed,
        cells.leads_fired = 0 as never_fires,
        coalesce(
            {{ lead_scoring.safe_ratio('cells.leads_fired', 'cells.leads') }}
            >= {{ var('rule_fires_for_almost_all_share') }},
            false
        ) as fires_for_almost_all
    from rules
    inner join cells
        on rules.rule_id = cells.rule_id
    inner join log_odds
        on rules.rule_id = log_odds.rule_id
    left join contributions
        on rules.rule_id = contributions.rule_id
    cross join total_mql_events
)

select * from final
