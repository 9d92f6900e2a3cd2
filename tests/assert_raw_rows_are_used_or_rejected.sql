-- Nothing is lost silently: for every raw table, the raw row count equals
-- the rows staging used plus the rows fct_rejected_rows records. Returns the
-- tables where that does not hold.
-- Used rows come from the staging views; raw counts come straight from the
-- sources, so a row dropped anywhere in between shows up here.

{% set tables = [
    ('crm', 'leads', 'stg_crm__leads'),
    ('marketing', 'activities', 'int_activities_valid'),
    ('crm', 'sales_activities', 'stg_crm__sales_activities'),
    ('crm', 'lead_status_changes', 'stg_crm__lead_status_changes'),
    ('crm', 'opportunities', 'stg_crm__opportunities'),
    ('marketing', 'marketing_spend', 'stg_marketing__spend'),
] %}

with

rejected as (
    select
        source_table,
        count(*) as rejected_rows
    from {{ ref('fct_rejected_rows') }}
    group by source_table
),

accounts as (
    {% for source_name, table_name, staged_model in tables %}
        select
            '{{ table_name }}' as source_table,
            (select count(*) from {{ source(source_name, table_name) }})
                as raw_rows,
            (select count(*) from {{ ref(staged_model) }}) as used_rows
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    accounts.source_table,
    accounts.raw_rows,
    accounts.used_rows,
    coalesce(rejected.rejected_rows, 0) as rejected_rows
from accounts
left join rejected
    on accounts.source_table = rejected.source_table
where
    accounts.raw_rows
    != accounts.used_rows + coalesce(rejected.rejected_rows, 0)
