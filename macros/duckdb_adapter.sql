{#- Overrides of dbt-duckdb behaviour. dbt looks for duckdb__
    implementations in the root project first. -#}

{% macro duckdb__load_csv_rows(model, agate_table) %}
    {#- dbt-duckdb's fast seed load (one COPY of the file), with the rows
        that do not parse reported by file and line. dbt-duckdb's own COPY
        lets DuckDB sniff the dialect, and a row with a missing or extra
        field then fails with a page of sniffer hints and no line number.
        Here the dialect is stated (comma or the seed's delimiter, double
        quotes), unparseable rows are kept aside by DuckDB (store_rejects)
        and the load fails naming the first of them. -#}
    {%- if not config.get('fast', true) -%}
        {{- return(default__load_csv_rows(model, agate_table)) -}}
    {%- endif -%}
    {%- set table_columns = adapter.get_columns_in_relation(this)
        | map(attribute='name') | map('lower') | list -%}
    {%- set file_columns = agate_table.column_names | map('lower') | list -%}
    {%- if table_columns != file_columns -%}
        {%- do exceptions.raise_compiler_error(
            model.original_file_path ~ ' has the columns ('
            ~ (file_columns | join(', ')) ~ ') but the existing table '
            ~ this ~ ' has (' ~ (table_columns | join(', '))
            ~ '): the file\'s columns changed since the seed was loaded. '
            ~ 'Load it anew: dbt seed --full-refresh --select ' ~ model.name
            ~ ' (or dbt build --full-refresh).'
        ) -%}
    {%- endif -%}
    {%- set rejects = 'seed_rejects_' ~ model.name -%}
    {%- set scans = 'seed_reject_scans_' ~ model.name -%}
    {%- do run_query(
        'drop table if exists ' ~ rejects ~ '; drop table if exists ' ~ scans
    ) -%}
    {%- set sql -%}
        copy {{ this.render() }} from '{{ adapter.get_seed_file_path(model) }}' (
            format csv, header true,
            delimiter '{{ config.get('delimiter', ',') }}',
            quote '"', escape '"',
            store_rejects true,
            rejects_table '{{ rejects }}', rejects_scan '{{ scans }}'
        )
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- set found = run_query(
        'select line, error_type, error_message, csv_line from ' ~ rejects
        ~ ' order by line'
    ) -%}
    {%- if found.rows | length > 0 -%}
        {%- set lines = [] -%}
        {%- for row in found.rows[:5] -%}
            {%- do lines.append(
                '  ' ~ model.original_file_path ~ ' line ' ~ row[0] ~ ': '
                ~ (row[1] | lower) ~ ' (' ~ row[2] ~ '): ' ~ row[3]
            ) -%}
        {%- endfor -%}
        {%- do exceptions.raise_compiler_error(
            (found.rows | length) ~ ' row(s) of ' ~ model.original_file_path
            ~ ' cannot be read; the seed is not loaded. First:\n'
            ~ (lines | join('\n'))
            ~ '\nEvery row needs one value per header column ('
            ~ (agate_table.column_names | join(', '))
            ~ '); quote a value holding the delimiter with double quotes.'
        ) -%}
    {%- endif -%}
    {{- return(sql) -}}
{% endmacro %}
