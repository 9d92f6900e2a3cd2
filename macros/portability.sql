{#- Engine differences that are not about cleaning raw text or scoring
    arithmetic. Each macro dispatches to default__ (DuckDB SQL) or an engine
    variant (postgres__, spark__); models never spell engine-specific SQL
    themselves. See docs/engines.md for why each one exists. -#}

{% macro type_double() %}
    {#- An 8-byte floating point type. dbt.type_float() is a 4-byte float on
        DuckDB, and PostgreSQL has no type named double. -#}
    {{- return(adapter.dispatch('type_double', 'lead_scoring')()) -}}
{% endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}


{% macro text_order(expression) %}
    {#- A text expression to sort or compare by, in byte order (the order the
        contract's "activity_id compared as text" means, and DuckDB's and
        Spark's only order). PostgreSQL would otherwise use the database's
        collation, where 'a' < 'B'. -#}
    {{- return(adapter.dispatch('text_order', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__text_order(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__text_order(expression) -%}
    ({{ expression }}) collate "C"
{%- endmacro %}


{% macro add_minutes(minutes, timestamp) %}
    {#- timestamp + minutes (a number known when the SQL is compiled).
        dbt-spark's dateadd drops fractional seconds and fails on null. -#}
    {{- return(adapter.dispatch('add_minutes', 'lead_scoring')(
        minutes, timestamp
    )) -}}
{% endmacro %}

{% macro default__add_minutes(minutes, timestamp) -%}
    {{ dbt.dateadd('minute', minutes, timestamp) }}
{%- endmacro %}

{% macro spark__add_minutes(minutes, timestamp) -%}
    ({{ timestamp }} + make_dt_interval(0, 0, {{ minutes }}, 0))
{%- endmacro %}


{% macro loaded_at_timestamp(expression) %}
    {#- A raw text column as a timestamp for source freshness (loaded_at_field):
        the safe cast staging uses, so one bad value cannot fail the check. -#}
    {{- return(adapter.dispatch('loaded_at_timestamp', 'lead_scoring')(
        expression
    )) -}}
{% endmacro %}

{% macro default__loaded_at_timestamp(expression) -%}
    try_cast({{ expression }} as timestamp)
{%- endmacro %}

{% macro postgres__loaded_at_timestamp(expression) -%}
    {{ lead_scoring.to_timestamp_utc(expression) }}
{%- endmacro %}

{% macro spark__loaded_at_timestamp(expression) -%}
    {{ lead_scoring.to_timestamp_utc(expression) }}
{%- endmacro %}


{% macro collect_freshness(source, loaded_at_field, filter) %}
    {#- Source freshness for this project's raw tables, whose timestamps are
        text: loaded_at_field names the raw column, read with the engine's
        safe cast (loaded_at_timestamp), and rows dated after now (rejected
        by staging) are left out, so future-dated junk cannot make a stale
        feed look fresh. A configured filter still applies on top. -#}
    {%- set loaded_at = lead_scoring.loaded_at_timestamp(loaded_at_field) -%}
    {%- set not_future = loaded_at ~ ' <= ' ~ dbt.current_timestamp() -%}
    {{- return(adapter.dispatch('collect_freshness', 'dbt')(
        source,
        loaded_at,
        '(' ~ filter ~ ') and ' ~ not_future if filter else not_future,
    )) -}}
{% endmacro %}


{% macro sorted_text_list(expression) %}
    {#- An aggregate: the non-null values of a text expression, sorted and
        joined with '|' (one string per group, the same whatever the order
        of the rows). -#}
    {{- return(adapter.dispatch('sorted_text_list', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__sorted_text_list(expression) -%}
    string_agg({{ expression }}, '|' order by {{ lead_scoring.text_order(expression) }})
{%- endmacro %}

{% macro spark__sorted_text_list(expression) -%}
    array_join(array_sort(collect_list({{ expression }})), '|')
{%- endmacro %}


{% macro group_hash(expression) %}
    {#- A 63-bit hash of a text expression (null hashes like ''), to group
        rows by cheaply. Not unique: two values may share a hash, so it
        only narrows down which rows to look at, never decides alone. -#}
    {{- return(adapter.dispatch('group_hash', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__group_hash(expression) -%}
    cast(hash(coalesce({{ expression }}, '')) >> 1 as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro postgres__group_hash(expression) -%}
    hashtextextended(coalesce({{ expression }}, ''), 0)
{%- endmacro %}

{% macro spark__group_hash(expression) -%}
    xxhash64(coalesce({{ expression }}, ''))
{%- endmacro %}
