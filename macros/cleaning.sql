{#- Safe, engine-portable casting of raw text. One bad value gives null, never
    a failed build. Each macro builds one SQL expression. -#}

{% macro clean_text(expression) %}
    {{- return(adapter.dispatch('clean_text', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__clean_text(expression) -%}
    nullif(trim(cast({{ expression }} as {{ dbt.type_string() }})), '')
{%- endmacro %}


{% macro clean_label(expression) %}
    {{- return(adapter.dispatch('clean_label', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__clean_label(expression) -%}
    nullif(
        trim(
            '_' from {{ lead_scoring.regexp_replace_all(
                'lower(' ~ lead_scoring.clean_text(expression) ~ ')',
                '[^a-z0-9]+',
                '_',
            ) }}
        ),
        ''
    )
{%- endmacro %}


{% macro clean_category(expression) -%}
    {#- Categorical text (industry, lead source...): trimmed and lower-cased,
        wording otherwise kept, so that rule values match case-insensitively
        and BI groups do not split on case. -#}
    lower({{ lead_scoring.clean_text(expression) }})
{%- endmacro %}


{% macro regexp_replace_all(expression, pattern, replacement) %}
    {{- return(adapter.dispatch('regexp_replace_all', 'lead_scoring')(
        expression, pattern, replacement
    )) -}}
{% endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}


{% macro to_number(expression) %}
    {{- return(adapter.dispatch('to_number', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__to_number(expression) -%}
    {%- set parsed -%}
        try_cast({{ lead_scoring.clean_text(expression) }} as double)
    {%- endset -%}
    case when isfinite({{ parsed }}) then {{ parsed }} end
{%- endmacro %}


{% macro to_timestamp_utc(expression) %}
    {{- return(adapter.dispatch('to_timestamp_utc', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__to_timestamp_utc(expression) -%}
    cast(
        timezone(
            'UTC',
            try_cast({{ lead_scoring.clean_text(expression) }} as timestamptz)
        ) as timestamp
    )
{%- endmacro %}


{% macro to_boolean(expression) %}
    {{- return(adapter.dispatch('to_boolean', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__to_boolean(expression) -%}
    case
        when lower({{ lead_scoring.clean_text(expression) }})
            in ('true', 't', '1', 'yes', 'y') then true
        when lower({{ lead_scoring.clean_text(expression) }})
            in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}


{% macro pii_hash(expression) %}
    {{- return(adapter.dispatch('pii_hash', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__pii_hash(expression) -%}
    {{ dbt.hash(dbt.concat(["'" ~ var('pii_hash_salt') ~ "'", expression])) }}
{%- endmacro %}

{% macro duckdb__pii_hash(expression) -%}
    sha256({{ dbt.concat(["'" ~ var('pii_hash_salt') ~ "'", expression]) }})
{%- endmacro %}
