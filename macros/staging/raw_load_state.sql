{% macro raw_load_state(table_name, relation) %}
    {#- One row for a raw table: its name, the rows it holds and the newest
        load marker among them (var raw_loaded_at_column), as
        stg_crm__raw_loads and stg_marketing__raw_loads list them. -#}
    select
        cast('{{ table_name }}' as {{ dbt.type_string() }}) as source_table,
        cast(count(*) as {{ dbt.type_bigint() }}) as raw_rows,
        max({{ lead_scoring.marker_of(relation) }}) as newest_loaded_at
    from {{ relation }}
{% endmacro %}
