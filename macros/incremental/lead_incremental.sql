{#-
    Incremental builds, in one place.

    The models that would otherwise read every activity in every build are
    materialized `lead_incremental` (the materialization at the end of this
    file). A build of one of them is either

      * a rebuild: when it does not exist yet, on --full-refresh, when its
        definition fingerprint differs from the previous build's, when an
        incremental model it reads was rebuilt since, when a raw table it
        reads has no load marker or was replaced, or when the macro its
        config rebuild_check names gives a reason (stg_marketing__activities:
        withdrawn_erasures). The model's SQL is written to a new table
        swapped in at the end; or
      * an incremental build: the model's SQL computes only the keys whose
        inputs may have changed; their old rows are deleted and the new ones
        inserted, in one transaction. Models keyed by lead (config
        scope: changed_leads) delete every lead of the scope, so a lead that
        no longer has rows loses its old ones; the others delete the keys
        their new rows carry.

    Definitions are found from the dbt graph (definition_fingerprint): the
    model's own SQL file and the checksum of every model, seed and source it
    depends on, directly or not; the source of every macro of the project;
    the value of every var that SQL or those macros read (as_of aside: its
    moves are data). Any change to one of them rebuilds the model.

    Data: the raw rows a model reads itself are found by their load marker
    (var raw_loaded_at_column: rows loaded after the newest marker the
    previous build saw, less var incremental_lookback_hours). Downstream,
    the leads to recompute (changed_leads) are those whose activities
    (stg_marketing__activities) or lead-level inputs (int_lead_input_changes,
    which records a digest of each lead's attributes' rule points and status
    changes, and when it last changed) were rewritten since the previous
    build, and those with an activity dated between the previous build's
    as_of and this one's.

    Every row carries the state of the build that wrote it: _recomputed_at
    (run_started_at), _as_of, _loaded_through (the newest load marker of the
    raw tables the model reads) and _definition_fingerprint; the latest row
    tells the next build where the previous one stopped.
-#}

{% macro lead_incremental_materialization() %}
    {#- lead_incremental, except table on Spark: its Parquet tables cannot
        delete rows, so these models are rebuilt there every time. -#}
    {{- return('table' if target.type == 'spark' else 'lead_incremental') -}}
{% endmacro %}


{% macro upstream_unique_ids(unique_id) %}
    {#- The unique_id of every model, seed and source the node depends on,
        directly or not (from the dbt graph), sorted. -#}
    {%- set seen = [] -%}
    {%- set queue = [unique_id] -%}
    {%- for _ in range(100000) if queue -%}
        {%- set node = graph.nodes.get(queue.pop(0)) -%}
        {%- if node -%}
            {%- for parent in node.depends_on.nodes if parent not in seen -%}
                {%- do seen.append(parent) -%}
                {%- do queue.append(parent) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(seen | sort) -}}
{% endmacro %}


{% macro definition_fingerprint() %}
    {#- A digest of everything the current model computes from besides its
        data (see the top of this file). Empty while dbt only parses. -#}
    {%- if not execute or model.unique_id not in graph.nodes -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set own = graph.nodes[model.unique_id] -%}
    {%- set parts = [
        'dbt ' ~ dbt_version,
        'adapter ' ~ target.type,
        model.unique_id ~ ' ' ~ own.checksum.checksum,
    ] -%}
    {%- set codes = [own.raw_code] -%}
    {%- for unique_id in lead_scoring.upstream_unique_ids(model.unique_id) -%}
        {%- if unique_id in graph.nodes -%}
            {%- set node = graph.nodes[unique_id] -%}
            {%- do parts.append(unique_id ~ ' ' ~ node.checksum.checksum) -%}
            {%- do codes.append(node.raw_code or '') -%}
        {%- elif unique_id in graph.sources -%}
            {%- set source_node = graph.sources[unique_id] -%}
            {%- do parts.append(
                unique_id ~ ' ' ~ source_node.database ~ '.'
                ~ source_node.schema ~ '.' ~ source_node.identifier
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, macro_generator in lead_scoring.items() | sort -%}
        {%- do parts.append('macro ' ~ name ~ ' ' ~ local_md5(
            macro_generator.macro.macro_sql
        )) -%}
        {%- do codes.append(macro_generator.macro.macro_sql) -%}
    {%- endfor -%}
    {%- set var_names = [] -%}
    {%- for code in codes -%}
        {%- for name in modules.re.findall(
            "var\\(\\s*['\"]([A-Za-z0-9_]+)['\"]", code
        ) if name not in var_names and name != 'as_of' -%}
            {%- do var_names.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for name in var_names | sort -%}
        {%- do parts.append('var ' ~ name ~ '=' ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {{- return(local_md5(parts | join('\n'))) -}}
{% endmacro %}


{% macro node_relation(node) %}
    {{- return(api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias,
    )) -}}
{% endmacro %}


{% macro upstream_incremental_models() %}
    {#- The lead_incremental models the current model depends on, directly
        or not: name and relation. -#}
    {%- set found = [] -%}
    {%- for unique_id in lead_scoring.upstream_unique_ids(model.unique_id)
        if unique_id in graph.nodes
        and graph.nodes[unique_id].config.materialized == 'lead_incremental' -%}
        {%- set node = graph.nodes[unique_id] -%}
        {%- do found.append({
            'name': node.name,
            'relation': lead_scoring.node_relation(node),
        }) -%}
    {%- endfor -%}
    {{- return(found) -}}
{% endmacro %}


{% macro direct_sources() %}
    {#- The raw tables whose rows the current model reads by load marker:
        source() in its own SQL, or in an ephemeral base model it reads that
        passes the marker on (marker_of: base_marketing__activities' loaded_at).
        Their load markers tell which rows are new. -#}
    {%- set found = [] -%}
    {%- if model.unique_id not in graph.nodes -%}
        {{- return(found) -}}
    {%- endif -%}
    {%- set parents = [] -%}
    {%- for unique_id in graph.nodes[model.unique_id].depends_on.nodes -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if not node -%}
            {%- do parents.append(unique_id) -%}
        {%- elif node.config.materialized == 'ephemeral'
            and 'marker_of(' in node.raw_code -%}
            {%- do parents.extend(node.depends_on.nodes) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for unique_id in parents | unique if unique_id in graph.sources -%}
        {%- set source_node = graph.sources[unique_id] -%}
        {%- do found.append({
            'name': source_node.source_name ~ '.' ~ source_node.name,
            'relation': api.Relation.create(
                database=source_node.database,
                schema=source_node.schema,
                identifier=source_node.identifier,
            ),
        }) -%}
    {%- endfor -%}
    {{- return(found) -}}
{% endmacro %}


{% macro marker_expression() %}
    {#- The load marker of a raw row, as a timestamp. -#}
    {{- return(lead_scoring.loaded_at_timestamp(var('raw_loaded_at_column'))) -}}
{% endmacro %}


{% macro marker_of(relation) %}
    {#- The load marker of a row of the raw table `relation` as a timestamp
        (marker_expression), or a typed null when var raw_loaded_at_column
        is unset or the table has no such column: such a table is read whole
        every build (incremental_mode says why). -#}
    {%- set column = var('raw_loaded_at_column') -%}
    {%- if column and execute and relation.schema is not none -%}
        {%- set columns = adapter.get_columns_in_relation(relation)
            | map(attribute='name') | map('lower') | list -%}
        {%- set column = column if (column | lower) in columns else none -%}
    {%- endif -%}
    {%- if column -%}
        {{- return(lead_scoring.marker_expression()) -}}
    {%- endif -%}
    {{- return('cast(null as ' ~ dbt.type_timestamp() ~ ')') -}}
{% endmacro %}


{% macro timestamp_literal(text) %}
    {{- return("cast('" ~ text ~ "' as " ~ dbt.type_timestamp() ~ ")") -}}
{% endmacro %}


{% macro incremental_mode() %}
    {#- How the current model is built this time: a dict with incremental
        (true: only the changed keys; false: rebuild), reason (why it is
        rebuilt), fingerprint, as_of, and previous (the latest build's
        built_at, as_of and loaded_through). The model's SQL and the
        materialization both ask, and get the same answer. -#}
    {%- set mode = {
        'incremental': false,
        'reason': 'the model does not exist yet',
        'fingerprint': lead_scoring.definition_fingerprint(),
        'as_of': lead_scoring.as_of_text(),
        'previous': none,
    } -%}
    {%- if not execute or model.resource_type != 'model'
        or model.config.materialized != 'lead_incremental' -%}
        {%- do mode.update({'reason': 'not an incremental build'}) -%}
        {{- return(mode) -}}
    {%- endif -%}
    {%- if should_full_refresh() -%}
        {%- do mode.update({'reason': '--full-refresh'}) -%}
        {{- return(mode) -}}
    {%- endif -%}
    {%- if load_relation(this) is none -%}
        {{- return(mode) -}}
    {%- endif -%}
    {%- set latest = run_query(
        'select _definition_fingerprint, cast(_recomputed_at as '
        ~ dbt.type_string() ~ '), _as_of, cast(_loaded_through as '
        ~ dbt.type_string() ~ ') from ' ~ this
        ~ ' order by _recomputed_at desc limit 1'
    ) -%}
    {%- if latest.rows | length == 0 -%}
        {%- do mode.update({'reason': 'the table is empty'}) -%}
        {{- return(mode) -}}
    {%- endif -%}
    {%- set row = latest.rows[0] -%}
    {%- set previous = {
        'built_at': row[1], 'as_of': row[2], 'loaded_through': row[3],
    } -%}
    {%- if row[0] != mode.fingerprint -%}
        {%- do mode.update({
            'reason': 'its definition or an upstream one changed'
        }) -%}
        {{- return(mode) -}}
    {%- endif -%}
    {%- for upstream in lead_scoring.upstream_incremental_models() -%}
        {%- set kept = run_query(
            'select count(*) from ' ~ upstream.relation
            ~ ' where _recomputed_at <= '
            ~ lead_scoring.timestamp_literal(previous.built_at)
        ).columns[0].values()[0] -%}
        {%- if kept == 0 -%}
            {%- do mode.update({
                'reason': upstream.name ~ ' was rebuilt since the previous build'
            }) -%}
            {{- return(mode) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- set marker_column = var('raw_loaded_at_column') -%}
    {%- for raw in lead_scoring.direct_sources() -%}
        {%- set columns = adapter.get_columns_in_relation(raw.relation)
            | map(attribute='name') | map('lower') | list -%}
        {%- if not marker_column or (marker_column | lower) not in columns
            or previous.loaded_through is none -%}
            {%- do mode.update({
                'reason': 'raw table ' ~ raw.name ~ ' has no load marker '
                ~ (marker_column or '(var raw_loaded_at_column is unset)')
            }) -%}
            {{- return(mode) -}}
        {%- endif -%}
        {%- set kept = run_query(
            'select count(*) from ' ~ raw.relation ~ ' where not '
            ~ lead_scoring.new_raw_rows_condition({
                'incremental': true, 'previous': previous,
            })
        ).columns[0].values()[0] -%}
        {%- if kept == 0 -%}
            {%- do mode.update({
                'reason': 'raw table ' ~ raw.name
                ~ ' holds no row the previous build saw (it was replaced)'
            }) -%}
            {{- return(mode) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- set check = config.get('rebuild_check') -%}
    {%- if check -%}
        {%- set reason = lead_scoring[check]() -%}
        {%- if reason -%}
            {%- do mode.update({'reason': reason}) -%}
            {{- return(mode) -}}
        {%- endif -%}
    {%- endif -%}
    {%- do mode.update({
        'incremental': true, 'reason': none, 'previous': previous,
    }) -%}
    {{- return(mode) -}}
{% endmacro %}


{% macro withdrawn_erasures() %}
    {#- The rebuild_check of stg_marketing__activities: why it must be
        rebuilt, or none. It stores an erased lead's rows masked; when the
        erasure is taken back (a later CRM row), the lead is no longer in
        stg_crm__erased_leads and its rows must be read again from the raw
        table, which only a rebuild does (masked rows cannot be unmasked, and
        an incremental build reads only the rows loaded since). -#}
    {%- set withdrawn = run_query(
        'select count(distinct stored.erased_lead_key_hash) from ' ~ this
        ~ ' as stored where stored.is_erased and not exists (select 1 from '
        ~ ref('stg_crm__erased_leads') ~ ' as erased where '
        ~ 'erased.lead_key_hash = stored.erased_lead_key_hash)'
    ).columns[0].values()[0] -%}
    {%- if withdrawn > 0 -%}
        {{- return('the erasure of ' ~ withdrawn ~ ' lead(s) it stores masked was taken back') -}}
    {%- endif -%}
    {{- return(none) -}}
{% endmacro %}


{% macro new_raw_rows_condition(mode, marker=none) %}
    {#- A condition on a raw row of a table the model reads (or a row
        holding its load marker in the column `marker`): true when it was
        loaded after the previous build (less the lookback), or always when
        the model is rebuilt. A row without a marker counts as old. -#}
    {%- if not mode.incremental -%}
        {{- return('1 = 1') -}}
    {%- endif -%}
    {%- set since = dbt.dateadd(
        'second',
        (-(var('incremental_lookback_hours') | float) * 3600) | int,
        lead_scoring.timestamp_literal(mode.previous.loaded_through),
    ) -%}
    {{- return(
        'coalesce(' ~ (marker or lead_scoring.marker_expression()) ~ ' > '
        ~ since ~ ', false)'
    ) -}}
{% endmacro %}


{% macro build_state_columns(mode) %}
    {#- The state stored on every row the current build writes (see the top
        of this file). -#}
    {%- set markers = [] -%}
    {%- if execute and var('raw_loaded_at_column') -%}
        {%- for raw in lead_scoring.direct_sources() -%}
            {%- do markers.append(
                'select max(' ~ lead_scoring.marker_of(raw.relation)
                ~ ') as marker from ' ~ raw.relation
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    cast('{{ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') }}' as {{ dbt.type_timestamp() }})
        as _recomputed_at,
    cast('{{ mode.as_of }}' as {{ dbt.type_string() }}) as _as_of,
    {% if markers -%}
        (
            select max(marker) from ({{ markers | join(' union all ') }})
                as markers
        )
    {%- else -%}
        {{ lead_scoring.timestamp_literal(mode.as_of) }}
    {%- endif %} as _loaded_through,
    cast('{{ mode.fingerprint }}' as {{ dbt.type_string() }})
        as _definition_fingerprint
{%- endmacro %}


{% macro changed_leads(mode) %}
    {#- A query of one column, lead_id: the leads a build of a model keyed by
        lead recomputes: those whose activities (stg_marketing__activities)
        or lead-level inputs (int_lead_input_changes) were rewritten since
        the previous build, and those with an activity dated between the
        previous build's as_of and this one's. None when the model is
        rebuilt (it then reads every lead). -#}
    {%- if model.resource_type == 'unit_test' -%}
        {#- A unit test gives its model's inputs as fixtures, these aside. -#}
        {{- return(
            'select cast(null as ' ~ dbt.type_string() ~ ') as lead_id where 1 = 0'
        ) -}}
    {%- endif -%}
    {%- set activities = ref('stg_marketing__activities') -%}
    {%- set inputs = ref('int_lead_input_changes') -%}
    {%- if not mode.incremental -%}
        {{- return(
            'select cast(null as ' ~ dbt.type_string() ~ ') as lead_id where 1 = 0'
        ) -}}
    {%- endif -%}
    {%- set since = lead_scoring.timestamp_literal(mode.previous.built_at) -%}
    {%- set bounds = [mode.previous.as_of, mode.as_of] | sort -%}
    {%- set activity_conditions = ['_recomputed_at > ' ~ since] -%}
    {%- if bounds[0] != bounds[1] -%}
        {%- do activity_conditions.append(
            '(occurred_at > ' ~ lead_scoring.timestamp_literal(bounds[0])
            ~ ' and occurred_at <= ' ~ lead_scoring.timestamp_literal(bounds[1]) ~ ')'
        ) -%}
    {%- endif -%}
    {{- return(
        'select lead_id from ' ~ activities ~ ' where lead_id is not null and ('
        ~ (activity_conditions | join(' or ')) ~ ') union select lead_id from '
        ~ inputs ~ ' where _recomputed_at > ' ~ since
    ) -}}
{% endmacro %}


{% macro in_changed_leads(mode, lead_expression) %}
    {#- A condition: the lead is one this build recomputes (always true when
        the model is rebuilt). The query is changed_leads(mode). -#}
    {%- set query = lead_scoring.changed_leads(mode) -%}
    {%- if not mode.incremental -%}
        {{- return('1 = 1') -}}
    {%- endif -%}
    {{- return(lead_expression ~ ' in (' ~ query ~ ')') -}}
{% endmacro %}


{% materialization lead_incremental, default %}
    {#- See the top of this file. -#}
    {%- set mode = lead_scoring.incremental_mode() -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set to_drop = [] -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if mode.incremental -%}
        {%- set temp_relation = make_temp_relation(target_relation) -%}
        {%- do run_query(get_create_table_as_sql(True, temp_relation, sql)) -%}
        {%- set columns = adapter.get_columns_in_relation(existing_relation)
            | map(attribute='name') | map('lower') | list -%}
        {%- set column_list = columns | join(', ') -%}
        {%- call statement('main') -%}
            delete from {{ target_relation }}
            where {{ unique_key }} in (
                {%- if config.get('scope') == 'changed_leads' %}
                {{ lead_scoring.changed_leads(mode) }}
                {%- else %}
                select {{ unique_key }} from {{ temp_relation }}
                {%- endif %}
            );
            insert into {{ target_relation }} ({{ column_list }})
            select {{ column_list }} from {{ temp_relation }}
        {%- endcall -%}
    {%- else -%}
        {{ log(this.identifier ~ ' rebuilt: ' ~ mode.reason, info=true) }}
        {%- if existing_relation is none -%}
            {%- call statement('main') -%}
                {{ get_create_table_as_sql(False, target_relation, sql) }}
            {%- endcall -%}
        {%- else -%}
            {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
            {%- set backup_relation = make_backup_relation(
                target_relation, existing_relation.type
            ) -%}
            {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
            {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
            {%- call statement('main') -%}
                {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
            {%- endcall -%}
            {%- do adapter.rename_relation(existing_relation, backup_relation) -%}
            {%- do adapter.rename_relation(intermediate_relation, target_relation) -%}
            {%- do to_drop.append(backup_relation) -%}
        {%- endif -%}
    {%- endif -%}

    {%- do apply_grants(target_relation, grant_config, should_revoke=true) -%}
    {%- do persist_docs(target_relation, model) -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}
    {%- for relation in to_drop -%}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
