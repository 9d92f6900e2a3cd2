{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ lead_scoring.lead_scope_prepare() }}",
    post_hook="{{ lead_scoring.lead_scope_cleanup() }}",
) }}

-- For every moment points may count from (see int_lead_qualification_starts),
-- the first activity at which the lead would qualify if it was in nurture
-- then: round(lead_score, 6) >= var mql_score_threshold and round(fit_score,
-- 6) >= var mql_min_fit_score (path threshold), or else an activity whose
-- type is in var fast_track_activity_types with the minimum fit (path
-- fast_track). Activities are taken in (occurred_at, activity_id) order.
-- Incremental by lead (macros/incremental/lead_scope.sql).
{%- set state = lead_scoring.lead_scope_state() %}

with

scores as (
    select * from {{ ref('int_activity_scores_evaluated') }}
    where {{ lead_scoring.in_lead_scope(state, 'lead_id') }}
),

flagged as (
    select
        *,
        case
            when
                {{ lead_scoring.round_to('lead_score', 6) }}
                >= {{ var('mql_score_threshold') }}
                and {{ lead_scoring.round_to('fit_score', 6) }}
                >= {{ var('mql_min_fit_score') }}
                then 'threshold'
            when
                activity_type in {{ lead_scoring.fast_track_types_sql() }}
                and {{ lead_scoring.round_to('fit_score', 6) }}
                >= {{ var('mql_min_fit_score') }}
                then 'fast_track'
        end as qualification_path
    from scores
),

ranked as (
    select
        *,
        row_number() over (
            partition by lead_id, start_index
            order by occurred_at asc, {{ lead_scoring.text_order('activity_id') }} asc
        ) as qualifying_rank
    from flagged
    where qualification_path is not null
),

final as (
    select
        lead_id,
        start_index,
        activity_id as trigger_activity_id,
        occurred_at as qualified_at,
        qualification_path,
        lead_score as lead_score_at_mql,
        fit_score as fit_score_at_mql,
        {{ lead_scoring.scope_state_columns(state) }}
    from ranked
    where qualifying_rank = 1
)

select * from final
