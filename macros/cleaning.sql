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
    {#- Spark replaces every match without a flag, and its string literals
        treat a backslash as an escape: double it to keep \\s and the like. -#}
    regexp_replace(
        {{ expression }},
        '{{ pattern | replace('\\', '\\\\') }}',
        '{{ replacement }}'
    )
{%- endmacro %}


{% macro to_number(expression) %}
    {{- return(adapter.dispatch('to_number', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__to_number(expression) -%}
    {#- Only the forms every engine reads (number_pattern): DuckDB's try_cast
        alone would also take '1_000', '+-1' or a trailing tab. -#}
    {%- set text = lead_scoring.clean_text(expression) -%}
    {%- set parsed -%}
        try_cast({{ text }} as {{ lead_scoring.type_double() }})
    {%- endset -%}
    case
        when
            regexp_matches({{ text }}, '{{ lead_scoring.number_pattern() }}')
            and isfinite({{ parsed }})
            then {{ parsed }}
    end
{%- endmacro %}

{% macro number_pattern() -%}
    {#- The text forms PostgreSQL and Spark read as numbers: DuckDB's
        try_cast forms for a finite decimal (sign, digits, point, exponent).
        Written without backslashes, so every engine reads the literal alike. -#}
    ^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,4})?$
{%- endmacro %}

{% macro postgres__to_number(expression) -%}
    {#- No try_cast: the text is matched first, then read as numeric (exact,
        any exponent up to 4 digits) and kept when a double can hold it;
        below 1e-307 it is 0, as DuckDB rounds it. -#}
    {%- set text = lead_scoring.clean_text(expression) -%}
    case
        when {{ text }} ~ '{{ lead_scoring.number_pattern() }}' then
            case
                when abs(cast({{ text }} as numeric)) >= 1.7976931348623157e308
                    then null
                when abs(cast({{ text }} as numeric)) < 1e-307 then 0.0
                else cast(cast({{ text }} as numeric) as double precision)
            end
    end
{%- endmacro %}

{% macro spark__to_number(expression) -%}
    {%- set text = lead_scoring.clean_text(expression) -%}
    case
        when {{ text }} rlike '{{ lead_scoring.number_pattern() }}'
            and abs(cast({{ text }} as {{ lead_scoring.type_double() }})) <= 1.7976931348623157E308
            then cast({{ text }} as {{ lead_scoring.type_double() }})
    end
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


{% macro timestamp_pattern() -%}
    {#- The text forms PostgreSQL and Spark read as timestamps: ISO dates with
        an optional time ('T' or one blank), fraction up to microseconds and a
        UTC offset (Z, +hh, +hhmm, +hh:mm). DuckDB reads these the same way. -#}
    ^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?)?(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?$
{%- endmacro %}

{% macro postgres__to_timestamp_utc(expression) -%}
    {#- No try_cast: the text must have the ISO form and name a real day
        (PostgreSQL raises an error on 2025-02-30; this gives null). -#}
    {%- set text = lead_scoring.clean_text(expression) -%}
    {%- set year = "cast(substring(" ~ text ~ " from '^([0-9]{4})') as integer)" -%}
    {%- set month = "cast(substring(" ~ text ~ " from '^[0-9]{4}-([0-9]{1,2})') as integer)" -%}
    {%- set day = "cast(substring(" ~ text ~ " from '^[0-9]{4}-[0-9]{1,2}-([0-9]{1,2})') as integer)" -%}
    case
        when {{ text }} ~ '{{ lead_scoring.timestamp_pattern() }}' then
            case
                when {{ year }} >= 1 and {{ month }} between 1 and 12 then
                    case
                        when {{ day }} between 1 and extract(day from
                            make_date({{ year }}, {{ month }}, 1)
                            + interval '1 month' - interval '1 day'
                        )
                            then cast({{ text }} as timestamptz) at time zone 'UTC'
                    end
            end
    end
{%- endmacro %}

{% macro spark__to_timestamp_utc(expression) -%}
    {#- The session time zone is UTC (profiles.yml), so a text without an
        offset is read as UTC; Spark gives null for a day that does not
        exist. -#}
    {%- set text = lead_scoring.clean_text(expression) -%}
    case
        when {{ text }} rlike '{{ lead_scoring.timestamp_pattern() }}'
            then cast({{ text }} as timestamp)
    end
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

{#- The same SHA-256 hex digest on every engine, so an erased lead's hash
    does not depend on where the project runs. -#}
{% macro postgres__pii_hash(expression) -%}
    encode(sha256(convert_to({{ dbt.concat([
        "'" ~ var('pii_hash_salt') ~ "'", expression
    ]) }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro spark__pii_hash(expression) -%}
    sha2({{ dbt.concat(["'" ~ var('pii_hash_salt') ~ "'", expression]) }}, 256)
{%- endmacro %}
