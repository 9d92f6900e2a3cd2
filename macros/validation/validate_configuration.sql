{% macro validate_configuration() %}
    {#- on-run-start: stop the run before any model is built when a var has
        an unusable value or a raw table the selected models read is
        missing. Each problem is one line saying what and where. -#}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set problems = lead_scoring.var_problems() + lead_scoring.missing_source_problems() -%}
    {%- if problems -%}
        {{- exceptions.raise_compiler_error(
            'lead_scoring cannot run:\n  - ' ~ (problems | join('\n  - '))
        ) -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{% macro is_number(value) %}
    {#- True for an int or float var value (not a bool, not NaN or inf). -#}
    {{- return(
        value is number and value is not sameas true
        and value is not sameas false
        and value - value == 0
    ) -}}
{% endmacro %}


{% macro var_problems() %}
    {#- One message per var with an unusable value (dbt_project.yml or
        --vars). -#}
    {%- set problems = [] -%}
    {%- set threshold = var('mql_score_threshold') -%}
    {%- if not lead_scoring.is_number(threshold) or threshold < 0 -%}
        {%- do problems.append(
            "var mql_score_threshold = " ~ threshold
            ~ " must be a number >= 0 (the lead_score an MQL needs)"
        ) -%}
    {%- endif -%}
    {%- if not lead_scoring.is_number(var('mql_min_fit_score')) -%}
        {%- do problems.append(
            "var mql_min_fit_score = " ~ var('mql_min_fit_score')
            ~ " must be a number"
        ) -%}
    {%- endif -%}
    {%- set fast_track = var('fast_track_activity_types') -%}
    {%- if fast_track is string -%}
        {%- set fast_track = fast_track.split(',') -%}
    {%- endif -%}
    {%- if fast_track is not iterable or fast_track is mapping -%}
        {%- do problems.append(
            "var fast_track_activity_types = " ~ fast_track
            ~ " must be a list of activity types"
        ) -%}
    {%- endif -%}
    {%- set edges = var('lead_grade_fit_edges') -%}
    {%- if edges is string or edges is not iterable or edges | length != 3 -%}
        {%- do problems.append(
            "var lead_grade_fit_edges = " ~ edges
            ~ " must be three numbers, highest first (A, B, C edges)"
        ) -%}
    {%- else -%}
        {%- set ns = namespace(all_numbers=true) -%}
        {%- for edge in edges -%}
            {%- if not lead_scoring.is_number(edge) -%}
                {%- set ns.all_numbers = false -%}
                {%- do problems.append(
                    "var lead_grade_fit_edges has '" ~ edge ~ "', not a number"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if ns.all_numbers and not (edges[0] >= edges[1] >= edges[2]) -%}
            {%- do problems.append(
                "var lead_grade_fit_edges = " ~ edges
                ~ " must be in decreasing order (A, B, C edges)"
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- for name in [
        'speed_to_lead_sla_minutes', 'score_band_width',
        'sales_capacity_mqls_per_month',
    ] -%}
        {%- if not lead_scoring.is_number(var(name)) or var(name) <= 0 -%}
            {%- do problems.append(
                "var " ~ name ~ " = " ~ var(name) ~ " must be a number > 0"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set thresholds = var('backtest_thresholds') -%}
    {%- if thresholds is string or thresholds is not iterable -%}
        {%- do problems.append(
            "var backtest_thresholds = " ~ thresholds ~ " must be a list of numbers"
        ) -%}
    {%- else -%}
        {%- for candidate in thresholds
            if not lead_scoring.is_number(candidate) -%}
            {%- do problems.append(
                "var backtest_thresholds has '" ~ candidate ~ "', not a number"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do lead_scoring.as_of_text() -%}
    {{- return(problems) -}}
{% endmacro %}


{% macro missing_source_problems() %}
    {#- One message per raw table that a selected model reads but the
        warehouse does not have. -#}
    {%- set needed = {} -%}
    {%- for node in graph.nodes.values()
        if node.unique_id in selected_resources -%}
        {%- for parent in node.depends_on.nodes
            if parent.startswith('source.') -%}
            {%- do needed.update({parent: true}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set problems = [] -%}
    {%- for source_id in needed | sort -%}
        {%- set source_node = graph.sources[source_id] -%}
        {%- set relation = adapter.get_relation(
            database=source_node.database,
            schema=source_node.schema,
            identifier=source_node.identifier,
        ) -%}
        {%- if relation is none -%}
            {%- do problems.append(
                "raw table " ~ source_node.schema ~ "." ~ source_node.identifier
                ~ " does not exist in the target warehouse: load the raw data "
                ~ "first (lead-scoring load --from DIR), or set var raw_schema "
                ~ "to the schema that holds it"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(problems) -}}
{% endmacro %}


{% macro unknown_fast_track_problems(known_types) %}
    {#- One message per type var fast_track_activity_types names that is not
        in known_types (the activity_type column of the activity_types seed,
        read by int_scoring_rules_validated before any scoring). -#}
    {%- set problems = [] -%}
    {%- for activity_type in lead_scoring.fast_track_types() -%}
        {%- if activity_type not in known_types -%}
            {%- do problems.append(
                "var fast_track_activity_types names '" ~ activity_type
                ~ "', which is not an activity type of seeds/activity_types.csv"
                ~ " (known: " ~ known_types | join(', ') ~ ")"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(problems) -}}
{% endmacro %}
