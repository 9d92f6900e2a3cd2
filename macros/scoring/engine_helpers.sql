{% macro epoch_seconds(expression) %}
    {#- Seconds since 1970-01-01 as a double (fractional seconds kept). -#}
    {{- return(adapter.dispatch('epoch_seconds', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__epoch_seconds(expression) -%}
    epoch({{ expression }})
{%- endmacro %}


{% macro split_to_rows(expression, delimiter) %}
    {#- A set-returning expression: one row per piece of `expression` split
        on the literal `delimiter` (use in a select list). -#}
    {{- return(adapter.dispatch('split_to_rows', 'lead_scoring')(
        expression, delimiter
    )) -}}
{% endmacro %}

{% macro default__split_to_rows(expression, delimiter) -%}
    unnest(string_split({{ expression }}, '{{ delimiter }}'))
{%- endmacro %}


{% macro round_to(expression, digits) %}
    {#- round() of a double to `digits` decimals. -#}
    {{- return(adapter.dispatch('round_to', 'lead_scoring')(
        expression, digits
    )) -}}
{% endmacro %}

{% macro default__round_to(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}


{% macro clip_points(expression, max_points) %}
    {#- `expression` clipped to [-max_points, +max_points]; a null cap
        means no clipping. -#}
    case
        when {{ max_points }} is null then {{ expression }}
        when {{ expression }} > {{ max_points }} then {{ max_points }}
        when {{ expression }} < -{{ max_points }} then -{{ max_points }}
        else {{ expression }}
    end
{%- endmacro %}


{% macro decay_factor(seconds_elapsed, half_life_days) %}
    {#- 0.5 ^ (days elapsed / half-life); 1 when there is no half-life. -#}
    case
        when {{ half_life_days }} is null then 1.0
        else power(
            0.5,
            ({{ seconds_elapsed }}) / (86400.0 * {{ half_life_days }})
        )
    end
{%- endmacro %}


{% macro median(expression) %}
    {#- Median of a numeric expression (an aggregate; nulls ignored). -#}
    {{- return(adapter.dispatch('median', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}


{% macro safe_ratio(numerator, denominator) %}
    {#- numerator / denominator as a double; null (not an error) when the
        denominator is 0 or null. -#}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}


{% macro sum_by_category(points_expression, suffix) %}
    {#- Three aggregate columns, fit_<suffix>, engagement_<suffix> and
        negative_<suffix>: the sum of points_expression over the rows of
        each rule category (0 when none). -#}
    {%- for category in ['fit', 'engagement', 'negative'] %}
        sum(
            case when category = '{{ category }}' then {{ points_expression }}
            else 0 end
        ) as {{ category }}_{{ suffix }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
