{% macro as_of_timestamp() %}
    {#- The instant the project is evaluated at, as a SQL timestamp literal.
        var('as_of') is "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or
        "YYYY-MM-DD HH:MM:SS" (UTC; a "T" separator is accepted); null means
        the time the run started. A malformed value stops the run before any
        model is built. -#}
    {{- return(
        'cast(\'' ~ lead_scoring.as_of_text() ~ '\' as '
        ~ dbt.type_timestamp() ~ ')'
    ) -}}
{% endmacro %}


{% macro as_of_text() %}
    {#- var('as_of') validated and normalised to 'YYYY-MM-DD HH:MM:SS'. -#}
    {%- set raw_value = var('as_of') -%}
    {%- if raw_value is none or raw_value | string | trim == '' -%}
        {{- return(run_started_at.strftime('%Y-%m-%d %H:%M:%S')) -}}
    {%- endif -%}
    {%- set text = raw_value | string | trim | replace('T', ' ') -%}
    {%- set match = modules.re.fullmatch(
        '(\\d{4})-(\\d{2})-(\\d{2})(?: (\\d{2}):(\\d{2})(?::(\\d{2}))?)?',
        text
    ) -%}
    {%- set problem = 'not in the form YYYY-MM-DD[ HH:MM[:SS]]' -%}
    {%- if match -%}
        {%- set parts = [] -%}
        {%- for group in match.groups() -%}
            {%- do parts.append((group or '0') | int) -%}
        {%- endfor -%}
        {%- set year, month, day = parts[0], parts[1], parts[2] -%}
        {%- set hour, minute, second = parts[3], parts[4], parts[5] -%}
        {%- if month >= 1 and month <= 12 and year >= 1 -%}
            {%- set first_of_month = modules.datetime.date(year, month, 1) -%}
            {%- set next_month = (
                first_of_month + modules.datetime.timedelta(days=32)
            ).replace(day=1) -%}
            {%- set last_day = (next_month - first_of_month).days -%}
            {%- if day >= 1 and day <= last_day and hour < 24
                and minute < 60 and second < 60 -%}
                {{- return(modules.datetime.datetime(
                    year, month, day, hour, minute, second
                ).strftime('%Y-%m-%d %H:%M:%S')) -}}
            {%- endif -%}
        {%- endif -%}
        {%- set problem = 'not a valid date and time' -%}
    {%- endif -%}
    {{- exceptions.raise_compiler_error(
        "var as_of = '" ~ raw_value ~ "' is " ~ problem ~ ". Use "
        ~ "'YYYY-MM-DD HH:MM:SS' (UTC) or 'YYYY-MM-DD', or leave it unset to "
        ~ "evaluate at the time the run starts."
    ) -}}
{% endmacro %}
