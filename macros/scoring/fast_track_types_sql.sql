{% macro fast_track_types_sql() %}
    {#- var fast_track_activity_types as a SQL list of lower-case string
        literals, e.g. ('demo_request', 'contact_request'). Accepts a YAML
        list or a comma-separated string; an empty list gives ('') which
        matches no normalised type. -#}
    {%- set configured = var('fast_track_activity_types') -%}
    {%- if configured is string -%}
        {%- set configured = configured.split(',') -%}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for activity_type in configured or [] -%}
        {%- set cleaned = activity_type | string | trim | lower -%}
        {%- if cleaned -%}
            {%- do literals.append("'" ~ cleaned | replace("'", "''") ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return('(' ~ (literals | join(', ') if literals else "''") ~ ')') -}}
{% endmacro %}
