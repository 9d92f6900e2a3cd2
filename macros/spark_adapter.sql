{#- Overrides of dbt-spark behaviour that breaks this project on open-source
    Spark (the session method used locally and in CI). dbt looks for
    spark__ implementations in the root project first. -#}

{% macro spark__apply_grants(relation, grant_config, should_revoke=True) %}
    {#- With no grantee configured (vars bi_grantees / restricted_grantees
        empty, the default) there is nothing to grant: skip dbt's
        `show grants`, which open-source Spark does not have. With grantees
        (a cluster with SQL authorisation) dbt's own grant handling runs. -#}
    {%- set ns = namespace(grantees=0) -%}
    {%- for names in (grant_config or {}).values() -%}
        {%- set ns.grantees = ns.grantees + (names | length) -%}
    {%- endfor -%}
    {%- if ns.grantees > 0 -%}
        {{ default__apply_grants(relation, grant_config, should_revoke) }}
    {%- endif -%}
{% endmacro %}


{% macro spark__load_csv_rows(model, agate_table) %}
    {#- Seed rows as SQL literals. dbt-spark passes them as bindings, which
        the session method pastes into the SQL unquoted (a seed value with an
        apostrophe breaks the insert, and an empty cell becomes the text
        'None'). Spark string literals escape with a backslash. -#}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}
                        cast(null as {{ type }})
                    {%- else -%}
                        cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                    {%- endif -%}
                    {{- ',' if not loop.last -}}
                {%- endfor -%}
                ){{ ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(statements[0] if statements else "") -}}
{% endmacro %}
