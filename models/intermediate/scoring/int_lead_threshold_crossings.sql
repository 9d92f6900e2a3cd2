{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ lead_scoring.lead_scope_prepare() }}",
    post_hook="{{ lead_scoring.lead_scope_cleanup() }}",
) }}

-- For each lead and candidate threshold (var backtest_thresholds), the
-- first moment of its first qualification history (start 0) at which it
-- would have qualified with that threshold: a fitting lead (round(fit,6) >=
-- var mql_min_fit_score) whose round(lead_score, 6) reaches the threshold,
-- or a fitting fast-track activity. What rpt_threshold_backtest counts by
-- month. Incremental by lead (macros/incremental/lead_scope.sql).
{%- set state = lead_scoring.lead_scope_state() %}
{%- set thresholds = var('backtest_thresholds') %}

with

scores as (
    select * from {{ ref('int_activity_scores_evaluated') }}
    where
        start_index = 0
        and {{ lead_scoring.in_lead_scope(state, 'lead_id') }}
),

thresholds as (
    {% for threshold in thresholds %}
        select cast({{ threshold }} as {{ lead_scoring.type_double() }}) as mql_score_threshold
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

fitting_moments as (
    select
        lead_id,
        occurred_at,
        {{ lead_scoring.round_to('lead_score', 6) }} as lead_score,
        activity_type in {{ lead_scoring.fast_track_types_sql() }}
            as is_fast_track
    from scores
    where
        {{ lead_scoring.round_to('fit_score', 6) }}
        >= {{ var('mql_min_fit_score') }}
),

final as (
    select
        fitting_moments.lead_id,
        thresholds.mql_score_threshold,
        min(fitting_moments.occurred_at) as mql_at,
        {{ lead_scoring.scope_state_columns(state) }}
    from fitting_moments
    inner join thresholds
        on
            fitting_moments.lead_score >= thresholds.mql_score_threshold
            or fitting_moments.is_fast_track
    group by fitting_moments.lead_id, thresholds.mql_score_threshold
)

select * from final
