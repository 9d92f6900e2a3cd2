{% macro fast_track_types() %}
    {#- var fast_track_activity_types as a list of trimmed, lower-case type
        names. Accepts a YAML list or a comma-separated string; blank
        entries are dropped. -#}
    {%- set configured = var('fast_track_activity_types') -%}
    {%- if configured is string -%}
        {%- set configured = configured.split(',') -%}
    {%- endif -%}
    {%- set cleaned_types = [] -%}
    {%- for activity_type in configured or [] -%}
        {%- set cleaned = activity_type | string | trim | lower -%}
        {%- if cleaned -%}
            {%- do cleaned_types.append(cleaned) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(cleaned_types) -}}
{% endmacro %}


{% macro fast_track_types_sql() %}
    {#- fast_track_types() as a SQL list of string literals, e.g.
        ('demo_request', 'contact_request'); an empty list gives ('') which
        matches no normalised type. -#}
    {%- set literals = [] -%}
    {%- for activity_type in lead_scoring.fast_track_types() -%}
        {%- do literals.append("'" ~ activity_type | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {{- return('(' ~ (literals | join(', ') if literals else "''") ~ ')') -}}
{% endmacro %}
