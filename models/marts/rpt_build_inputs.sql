-- One row per raw table as the latest build read it: its rows and newest
-- load marker, with the as_of the build scored at. `lead-scoring summary`
-- and the report compare it with the raw tables to warn when rows were
-- loaded after the build. _built_at and _invocation_id say which build
-- wrote it (they differ between builds by design; every other column is
-- the same for the same inputs).

with

crm as (
    select * from {{ ref('stg_crm__raw_loads') }}
),

marketing as (
    select * from {{ ref('stg_marketing__raw_loads') }}
),

raw_loads as (
    select * from crm
    union all
    select * from marketing
),

final as (
    select
        source_table,
        raw_rows,
        newest_loaded_at,
        {{ lead_scoring.as_of_timestamp() }} as scores_as_of,
        cast(
            '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'
            as {{ dbt.type_timestamp() }}
        ) as _built_at,
        cast('{{ invocation_id }}' as {{ dbt.type_string() }})
            as _invocation_id
    from raw_loads
)

select * from final
