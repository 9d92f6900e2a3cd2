{#-
    Incremental builds by lead. The activity-level models (staged activities,
    rule matches, scores at every activity, MQL candidates) hold one lead's
    rows as a function of that lead's inputs alone. An incremental build
    recomputes every row of the leads whose inputs may have changed since the
    model was last built (the lead scope) and keeps the other rows:

      1. leads of raw activities, leads and status changes loaded since then
         (load marker var raw_loaded_at_column greater than the newest marker
         the last build saw, minus var incremental_lookback_hours);
      2. leads holding another copy of a newly loaded activity_id (which copy
         is kept is decided across leads);
      3. leads with an activity or status change between the last build's
         as_of and this one (it became valid, or future-dated again).

    A change to a seed or var the scores depend on (scope_fingerprint), a
    missing load marker, or an empty table recomputes every lead instead.
    Spark (Parquet tables, no delete) rebuilds these models as tables.

    Each row carries the state of the build that wrote it (_scope_built_at,
    _scope_loaded_through, _scope_as_of, _scope_fingerprint). The scope is
    written to a temporary table by the model's pre-hook, which also deletes
    the scoped leads' rows; the model then inserts their new rows, in the same
    transaction. The temporary table is dropped by the post-hook and never
    outlives the session.
-#}

{% macro lead_incremental_materialization() %}
    {{- return('table' if target.type == 'spark' else 'incremental') -}}
{% endmacro %}


{% macro relation_of_node(name) %}
    {#- The relation of a model or seed of this project, found in the graph
        rather than by ref(): for code that runs only in incremental builds,
        where a ref() would not be seen while dbt parses. The caller must
        already depend on the node (directly or not). -#}
    {%- for node in graph.nodes.values()
        if node.resource_type in ['model', 'seed'] and node.name == name
        and node.package_name == 'lead_scoring' -%}
        {{- return(api.Relation.create(
            database=node.database, schema=node.schema, identifier=node.alias
        )) -}}
    {%- endfor -%}
    {{- exceptions.raise_compiler_error('no model or seed named ' ~ name) -}}
{% endmacro %}


{% macro scope_fingerprint(seeds) %}
    {#- A digest of what the model computes from besides the raw rows: the
        given seeds (their current contents) and the scoring vars. Seeds are
        looked up in the graph, not by ref(): the model's own refs already
        order it after them. -#}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for name in [
        'mql_score_threshold', 'mql_min_fit_score', 'fast_track_activity_types',
        'pii_hash_salt', 'raw_schema', 'backtest_thresholds',
    ] -%}
        {%- do parts.append(name ~ '=' ~ tojson(var(name))) -%}
    {%- endfor -%}
    {%- for seed in seeds -%}
        {%- set relation = load_relation(lead_scoring.relation_of_node(seed)) -%}
        {%- if relation is not none -%}
            {%- set rows = run_query('select * from ' ~ relation) -%}
            {%- set lines = [] -%}
            {%- for row in rows.rows -%}
                {%- do lines.append(row.values() | join('\x1f')) -%}
            {%- endfor -%}
            {%- do parts.append(seed ~ ':' ~ (lines | sort | join('\x1e'))) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(local_md5(parts | join('\n'))) -}}
{% endmacro %}


{% macro scope_marker_tables() %}
    {#- The raw tables whose new rows put their leads in scope. -#}
    {{- return([
        source('marketing', 'activities'),
        source('crm', 'leads'),
        source('crm', 'lead_status_changes'),
    ]) -}}
{% endmacro %}


{% macro scope_marker(relation_alias='') %}
    {#- The load marker of a raw row as a timestamp. -#}
    {%- set column = (relation_alias ~ '.' if relation_alias else '')
        ~ var('raw_loaded_at_column') -%}
    {{- return(lead_scoring.loaded_at_timestamp(column)) -}}
{% endmacro %}


{% macro lead_scope_state(seeds=none) %}
    {#- What this build of the current incremental model does: a dict with
        scoped (recompute the lead scope only, or every lead), why not, and
        the state to store on the rows it writes. -#}
    {%- set state = {
        'scoped': false,
        'reason': 'first build',
        'built_at': run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f'),
        'as_of': lead_scoring.as_of_text(),
        'fingerprint': lead_scoring.scope_fingerprint(
            ['scoring_rules', 'url_page_patterns', 'activity_types']
            if seeds is none else seeds
        ),
        'loaded_through': none,
    } -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{- return(state) -}}
    {%- endif -%}
    {%- set marker = var('raw_loaded_at_column') -%}
    {%- set highs = [] -%}
    {%- if marker -%}
        {%- for table in lead_scoring.scope_marker_tables() -%}
            {%- set built = lead_scoring.load_built_relation(table) -%}
            {%- set names = [] if built is none else (
                adapter.get_columns_in_relation(built)
                | map(attribute='name') | map('lower') | list
            ) -%}
            {%- if marker | lower in names -%}
                {%- do highs.append(
                    'select max(' ~ lead_scoring.scope_marker() ~ ') as marker from '
                    ~ table
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if highs | length == lead_scoring.scope_marker_tables() | length -%}
        {%- set newest = run_query(
            'select cast(max(marker) as ' ~ dbt.type_string() ~ ') from ('
            ~ highs | join(' union all ') ~ ') as markers'
        ).columns[0].values()[0] -%}
        {%- do state.update({'loaded_through': newest}) -%}
    {%- endif -%}
    {%- if not is_incremental() -%}
        {{- return(state) -}}
    {%- endif -%}
    {%- if state.loaded_through is none -%}
        {%- do state.update({'reason':
            'the raw tables have no load marker ' ~ (marker or '(var raw_loaded_at_column is unset)')
        }) -%}
        {{- return(state) -}}
    {%- endif -%}
    {%- set previous = run_query(
        'select cast(_scope_loaded_through as ' ~ dbt.type_string() ~ '), _scope_as_of, '
        ~ '_scope_fingerprint from ' ~ this
        ~ ' order by _scope_built_at desc limit 1'
    ) -%}
    {%- if previous.rows | length == 0 -%}
        {%- do state.update({'reason': 'the table is empty'}) -%}
    {%- elif previous.rows[0][2] != state.fingerprint -%}
        {%- do state.update({'reason':
            'the scoring seeds or scoring vars changed since the last build'
        }) -%}
    {%- elif previous.rows[0][0] is none -%}
        {%- do state.update({'reason': 'the last build saw no load marker'}) -%}
    {%- else -%}
        {%- do state.update({
            'scoped': true,
            'reason': none,
            'previous_loaded_through': previous.rows[0][0],
            'previous_as_of': previous.rows[0][1],
        }) -%}
    {%- endif -%}
    {{- return(state) -}}
{% endmacro %}


{% macro scope_state_columns(state) %}
    {#- The build state stored on every row an incremental model writes. -#}
    cast('{{ state.built_at }}' as {{ dbt.type_timestamp() }}) as _scope_built_at,
    {% if state.loaded_through is none -%}
        cast(null as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('{{ state.loaded_through }}' as {{ dbt.type_timestamp() }})
    {%- endif %} as _scope_loaded_through,
    cast('{{ state.as_of }}' as {{ dbt.type_string() }}) as _scope_as_of,
    cast('{{ state.fingerprint }}' as {{ dbt.type_string() }}) as _scope_fingerprint
{%- endmacro %}


{% macro lead_scope_table() %}
    {{- return(this.identifier ~ '__lead_scope') -}}
{% endmacro %}


{% macro lead_scope_leads_sql(state, copies_relation, copies_from_raw=false, status_changes=true) %}
    {#- The leads to recompute (one column lead_id, blank lead_id as '').
        copies_relation holds activity_id and lead_id per activity copy:
        the raw table (cleaned here) for the base model, else the base model.
        -#}
    {%- set since = "cast('" ~ state.previous_loaded_through ~ "' as "
        ~ dbt.type_timestamp() ~ ")" -%}
    {%- set lookback = var('incremental_lookback_hours') | float -%}
    {%- set since = dbt.dateadd('second', (-lookback * 3600) | int, since) -%}
    {%- set as_of_bounds = [state.previous_as_of, state.as_of] | sort -%}
    {%- set activities = source('marketing', 'activities') -%}
    {%- set lead_key = "coalesce(" ~ lead_scoring.clean_text('lead_id') ~ ", '')" -%}
    {%- if copies_from_raw -%}
        {%- set copy_id = lead_scoring.clean_text('activity_id') -%}
        {%- set copy_lead = lead_key -%}
    {%- else -%}
        {%- set copy_id = 'activity_id' -%}
        {%- set copy_lead = "coalesce(lead_id, '')" -%}
    {%- endif -%}
    select {{ lead_key }} as lead_id
    from {{ activities }}
    where {{ lead_scoring.scope_marker() }} > {{ since }}
    union
    select {{ lead_key }} as lead_id
    from {{ source('crm', 'leads') }}
    where {{ lead_scoring.scope_marker() }} > {{ since }}
    {%- if status_changes %}
    union
    select {{ lead_key }} as lead_id
    from {{ source('crm', 'lead_status_changes') }}
    where {{ lead_scoring.scope_marker() }} > {{ since }}
    {%- endif %}
    union
    select {{ copy_lead }} as lead_id
    from {{ copies_relation }}
    where {{ copy_id }} in (
        select {{ lead_scoring.clean_text('activity_id') }}
        from {{ activities }}
        where {{ lead_scoring.scope_marker() }} > {{ since }}
    )
    {%- if as_of_bounds[0] != as_of_bounds[1] %}
    union
    select coalesce(lead_id, '') as lead_id
    from {{ this if copies_from_raw else lead_scoring.relation_of_node('base_marketing__activities') }}
    where
        occurred_at > cast('{{ as_of_bounds[0] }}' as {{ dbt.type_timestamp() }})
        and occurred_at <= cast('{{ as_of_bounds[1] }}' as {{ dbt.type_timestamp() }})
    {%- if status_changes %}
    union
    select coalesce(lead_id, '') as lead_id
    from {{ lead_scoring.relation_of_node('base_crm__lead_status_changes') }}
    where
        changed_at > cast('{{ as_of_bounds[0] }}' as {{ dbt.type_timestamp() }})
        and changed_at <= cast('{{ as_of_bounds[1] }}' as {{ dbt.type_timestamp() }})
    {%- endif %}
    {%- endif %}
{% endmacro %}


{% macro lead_scope_prepare(
    copies_relation=none, copies_from_raw=false, erased_key=false, status_changes=true,
    seeds=none
) %}
    {#- Pre-hook of an incremental model: write the lead scope to a
        temporary table and delete the rows it covers (every row when the
        build is not scoped). erased_key: the model also holds erased rows,
        found by erased_lead_key_hash. -#}
    {%- if not is_incremental() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set state = lead_scoring.lead_scope_state(seeds) -%}
    {%- if not state.scoped -%}
        {{- log('lead scope of ' ~ this.identifier ~ ': every lead (' ~ state.reason ~ ')', info=true) -}}
        delete from {{ this }}
    {%- else -%}
        {%- set scope = lead_scoring.lead_scope_table() -%}
        drop table if exists {{ scope }};
        create temporary table {{ scope }} as
        select distinct lead_id from (
            {{ lead_scoring.lead_scope_leads_sql(
                state,
                copies_relation
                or lead_scoring.relation_of_node('base_marketing__activities'),
                copies_from_raw,
                status_changes,
            ) }}
        ) as scoped;
        delete from {{ this }}
        where
        {%- if erased_key %}
            -- An erased lead's rows have no lead_id, only the hash of it.
            case
                when erased_lead_key_hash is null
                    then coalesce(lead_id, '') in (select lead_id from {{ scope }})
                else erased_lead_key_hash in (
                    select {{ lead_scoring.pii_hash('lead_id') }} from {{ scope }}
                )
            end
        {%- else %}
            coalesce(lead_id, '') in (select lead_id from {{ scope }})
        {%- endif %}
    {%- endif -%}
{% endmacro %}


{% macro lead_scope_cleanup() %}
    {#- Post-hook: drop the temporary scope table. -#}
    {%- if is_incremental() -%}
        drop table if exists {{ lead_scoring.lead_scope_table() }}
    {%- endif -%}
{% endmacro %}


{% macro in_lead_scope(state, lead_expression) %}
    {#- A condition: the lead is in this build's scope (always true when
        every lead is recomputed). -#}
    {%- if state.scoped -%}
        coalesce({{ lead_expression }}, '') in (
            select lead_id from {{ lead_scoring.lead_scope_table() }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{% endmacro %}


{% macro where_in_lead_scope_or_copies(state, lead_expression, key_expression, relation) %}
    {#- A where clause keeping the rows of the scoped leads and every row
        sharing a key with them; nothing when every lead is recomputed. -#}
    {%- if state.scoped -%}
        where
            {{ lead_scoring.in_lead_scope(state, lead_expression) }}
            or {{ key_expression }} in (
                select {{ key_expression }}
                from {{ relation }}
                where {{ lead_scoring.in_lead_scope(state, lead_expression) }}
            )
    {%- endif -%}
{% endmacro %}


{% macro get_where_subquery(relation) -%}
    {#- dbt's where config for data tests, with one addition: the where
        value latest_build_rows (set on the tests of the incremental models
        and of the views over them, the firings and the score ledger, which
        carry _scope_built_at too) tests the rows the latest build wrote,
        i.e. every row
        after a full build and the recomputed leads' rows after an
        incremental one; the rows of the other leads were tested when they
        were written and have not changed since. Var
        test_every_incremental_row: true tests every row instead. -#}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'latest_build_rows' -%}
        {%- if var('test_every_incremental_row', false) -%}
            {%- do return(relation) -%}
        {%- endif -%}
        {%- set where -%}
            _scope_built_at = (select max(_scope_built_at) from {{ relation }})
        {%- endset -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

