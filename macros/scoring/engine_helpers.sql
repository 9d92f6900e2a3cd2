{% macro epoch_seconds(expression) %}
    {#- Seconds since 1970-01-01 as a double (fractional seconds kept). -#}
    {{- return(adapter.dispatch('epoch_seconds', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__epoch_seconds(expression) -%}
    epoch({{ expression }})
{%- endmacro %}

{% macro postgres__epoch_seconds(expression) -%}
    {#- extract(epoch) of a timestamp without time zone reads it as UTC and
        is exact (numeric); one rounding to double, as DuckDB does. -#}
    cast(extract(epoch from {{ expression }}) as double precision)
{%- endmacro %}

{% macro spark__epoch_seconds(expression) -%}
    (cast(unix_micros({{ expression }}) as {{ lead_scoring.type_double() }}) / 1.0E6)
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

{% macro postgres__split_to_rows(expression, delimiter) -%}
    unnest(string_to_array({{ expression }}, '{{ delimiter }}'))
{%- endmacro %}

{% macro spark__split_to_rows(expression, delimiter) -%}
    {#- split() takes a regular expression: the delimiter goes in a class. -#}
    explode(split({{ expression }}, '[{{ delimiter }}]', -1))
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

{#- DuckDB rounds a double as round_half_away(x * 10^d) / 10^d in double
    arithmetic. PostgreSQL has no round(double, int) (and rounds halves to
    even), Spark rounds through decimals: both spell DuckDB's arithmetic out,
    so a score on the edge of a threshold rounds the same way everywhere. -#}
{% macro postgres__round_to(expression, digits) -%}
    (
        sign({{ expression }})
        * floor(abs({{ expression }}) * cast(1e{{ digits }} as double precision) + 0.5)
        / cast(1e{{ digits }} as double precision)
    )
{%- endmacro %}

{% macro spark__round_to(expression, digits) -%}
    (
        signum({{ expression }})
        * floor(abs({{ expression }}) * 1.0E{{ digits }} + 0.5)
        / 1.0E{{ digits }}
    )
{%- endmacro %}


{% macro clip_points(expression, max_points) %}
    {#- `expression` clipped to [-max_points, +max_points]; a null cap
        means no clipping (the literal 'null' gives the expression itself:
        PostgreSQL cannot negate an untyped null). -#}
    {%- if max_points | string | trim | lower == 'null' -%}
        {{ expression }}
    {%- else -%}
    case
        when {{ max_points }} is null then {{ expression }}
        when {{ expression }} > {{ max_points }} then {{ max_points }}
        when {{ expression }} < -{{ max_points }} then -{{ max_points }}
        else {{ expression }}
    end
    {%- endif -%}
{%- endmacro %}


{% macro decay_factor(seconds_elapsed, half_life_days) %}
    {#- 0.5 ^ (days elapsed / half-life); 1 when there is no half-life. Past
        1000 half-lives the factor is 0: below 2^-1000 it cannot move a
        score by 1e-6, and PostgreSQL raises an error where a power
        underflows instead of returning 0. -#}
    case
        when {{ half_life_days }} is null then 1.0
        when ({{ seconds_elapsed }}) > 1000 * 86400.0 * {{ half_life_days }}
            then 0.0
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

{% macro spark__median(expression) -%}
    {#- percentile() interpolates between the middle values, as
        percentile_cont does. -#}
    percentile({{ expression }}, 0.5)
{%- endmacro %}


{% macro safe_ratio(numerator, denominator) %}
    {#- numerator / denominator as a double; null (not an error) when the
        denominator is 0 or null. -#}
    cast({{ numerator }} as {{ lead_scoring.type_double() }})
    / nullif({{ denominator }}, 0)
{%- endmacro %}


{% macro sum_exactly(expression) %}
    {#- sum(expression) as a double that does not depend on the order the
        rows are added in: each term is rounded to 15 decimals and the
        terms are added as decimals, exactly. Floating-point sums differ in
        their last bits with the order of addition, which parallel
        aggregation does not fix; this makes two builds of the same inputs
        agree bit for bit. Terms must stay below 1e23 in absolute value. -#}
    cast(
        sum(cast({{ expression }} as decimal(38, 15)))
        as {{ lead_scoring.type_double() }}
    )
{%- endmacro %}


{% macro average_exactly(expression) %}
    {#- avg(expression) with an order-independent sum (sum_exactly); null
        when no row has a value. -#}
    (
        {{ lead_scoring.sum_exactly(expression) }}
        / nullif(count({{ expression }}), 0)
    )
{%- endmacro %}


{% macro sum_by_category(points_expression, suffix) %}
    {#- Three aggregate columns, fit_<suffix>, engagement_<suffix> and
        negative_<suffix>: the sum of points_expression over the rows of
        each rule category (0 when none), added exactly (sum_exactly). -#}
    {%- for category in ['fit', 'engagement', 'negative'] %}
        {{ lead_scoring.sum_exactly(
            "case when category = '" ~ category ~ "' then "
            ~ points_expression ~ " else 0 end"
        ) }} as {{ category }}_{{ suffix }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{% macro sum_in_order(expression) %}
    {#- sum(expression) of any doubles (money: no bound on the magnitude)
        added one by one in ascending order of the values, so the result
        does not depend on the order rows arrive in; null when no row has a
        value. Slower than sum_exactly on large groups: for amounts summed
        by month and source. -#}
    {{- return(adapter.dispatch('sum_in_order', 'lead_scoring')(expression)) -}}
{% endmacro %}

{% macro default__sum_in_order(expression) -%}
    sum({{ expression }} order by {{ expression }})
{%- endmacro %}

{% macro spark__sum_in_order(expression) -%}
    case
        when count({{ expression }}) > 0 then aggregate(
            array_sort(collect_list(cast({{ expression }} as double))),
            cast(0 as double),
            (total, value) -> total + value
        )
    end
{%- endmacro %}
