-- Does the score predict conversion? Live leads by band of lead_score (as of
-- as_of, bands var score_band_width wide): how many became MQLs, SQLs and
-- customers, the band's conversion rate to SQL, its lift over the overall
-- rate, and, on every row, the overall AUC of lead_score against reaching
-- SQL.

{%- set width = var('score_band_width') %}

with

ranks as (
    select * from {{ ref('int_lead_score_ranks') }}
),

flags as (
    select * from {{ ref('int_lead_funnel_flags') }}
),

auc as (
    select * from {{ ref('int_score_auc') }}
),

banded as (
    select
        ranks.lead_id,
        flags.is_mql,
        flags.is_sql,
        flags.is_customer,
        floor(ranks.lead_score / {{ width }}) * {{ width }} as band_min
    from ranks
    inner join flags
        on ranks.lead_id = flags.lead_id
),

bands as (
    select
        band_min,
        count(*) as leads,
        count(case when is_mql then 1 end) as mqls,
        count(case when is_sql then 1 end) as sqls,
        count(case when is_customer then 1 end) as customers
    from banded
    group by band_min
),

overall as (
    select {{ lead_scoring.safe_ratio('sum(sqls)', 'sum(leads)') }} as sql_rate
    from bands
),

final as (
    select
        {{ dbt.concat([
            "'['",
            dbt.safe_cast('cast(bands.band_min as bigint)', dbt.type_string()),
            "', '",
            dbt.safe_cast(
                'cast(bands.band_min + ' ~ width ~ ' as bigint)',
                dbt.type_string()
            ),
            "')'",
        ]) }} as score_band,
        cast(bands.band_min as {{ lead_scoring.type_double() }}) as band_min,
        cast(bands.band_min + {{ width }} as {{ lead_scoring.type_double() }}) as band_max,
        bands.leads,
        bands.mqls,
        bands.sqls,
        bands.customers,
        {{ lead_scoring.safe_ratio('bands.sqls', 'bands.leads') }}
            as conversion_rate,
        {{ lead_scoring.safe_ratio(
            lead_scoring.safe_ratio('bands.sqls', 'bands.leads'),
            'overall.sql_rate'
        ) }} as lift,
        {{ lead_scoring.safe_ratio('bands.customers', 'bands.leads') }}
            as customer_rate,
        auc.auc
    from bands
    cross join overall
    cross join auc
)

select * from final
