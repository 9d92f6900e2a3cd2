{% macro report_qualification_summary(results) %}
    {#- on-run-end: when fct_mql_events was built in this run, print how many
        leads qualified and how, so a build says what it produced. -#}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set built = [] -%}
    {%- for result in results
        if result.node.name == 'fct_mql_events'
        and result.node.resource_type == 'model'
        and result.status == 'success' -%}
        {%- do built.append(result.node) -%}
    {%- endfor -%}
    {%- if built -%}
        {%- set events = adapter.get_relation(
            database=built[0].database,
            schema=built[0].schema,
            identifier=built[0].alias,
        ) -%}
        {%- set summary = run_query(
            'select qualification_path, count(*), count(distinct lead_id) from '
            ~ events ~ ' group by qualification_path order by 1'
        ) -%}
        {%- set parts = [] -%}
        {%- set ns = namespace(events=0) -%}
        {%- for row in summary.rows -%}
            {%- do parts.append(row[0] ~ ' ' ~ row[1]) -%}
            {%- set ns.events = ns.events + row[1] -%}
        {%- endfor -%}
        {%- set leads = run_query(
            'select count(distinct lead_id) from ' ~ events
        ).columns[0].values()[0] -%}
        {{- log(
            'lead_scoring: ' ~ ns.events ~ ' MQL events for ' ~ leads
            ~ ' leads as of ' ~ lead_scoring.as_of_text() ~ ' (by path: '
            ~ (parts | join(', ') if parts else 'none') ~ ')',
            info=true,
        ) -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}
