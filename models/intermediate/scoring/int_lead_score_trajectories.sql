{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    unique_key='lead_id',
    scope='changed_leads',
) }}

-- The threshold list is written by a Jinja loop and the rounding by a
-- macro, whose layout the indentation rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- One row per live lead, qualification start and score threshold it reaches:
-- the first activity, in (occurred_at, activity_id) order, at which the lead
-- would qualify with that threshold, counting its activity points from that
-- start: round(fit_score, 6) >= var mql_min_fit_score and either
-- round(lead_score, 6) >= the threshold (path threshold) or the activity's
-- type is in var fast_track_activity_types (path fast_track). Thresholds:
-- var mql_score_threshold from every start (the MQL candidates
-- int_lead_qualification_epochs walks), and the backtest's candidates (var
-- backtest_thresholds) from the first start only (rpt_threshold_backtest).
--
-- The slot groups' scores at every activity come from
-- int_activity_group_scores (the one sorted pass over the activities).
-- Here activities in the same second take the values of the last of them
-- (same-second activities count together), slot groups are added up and
-- attribute points added; then each threshold's first qualifying activity
-- is found among the activities that raise the best score reached so far.
--
-- Incremental by lead (macros/incremental/lead_incremental.sql), like
-- int_activity_group_scores.

{%- set thresholds = var('backtest_thresholds') %}
{%- set mode = lead_scoring.incremental_mode() %}

with

leads as (
    select * from {{ ref('int_lead_attribute_scores') }}
    where
        can_reach_min_fit
        and {{ lead_scoring.in_changed_leads(mode, 'lead_id') }}
),

group_scores as (
    -- In an incremental build, filtered by the leads above (a lead-level
    -- table; only leads that can reach the minimum fit have group scores):
    -- filtered by the changed-lead query directly, DuckDB built its join's
    -- hash table on the group scores.
    select * from {{ ref('int_activity_group_scores') }}
    {%- if mode.incremental %}
    where lead_id in (select leads.lead_id from leads)
    {%- endif %}
),

slot_groups as (
    select * from {{ ref('int_scoring_slot_groups') }}
),

listed_thresholds as (
    select
        cast(
            {{ var('mql_score_threshold') }} as {{ lead_scoring.type_double() }}
        ) as mql_score_threshold,
        1 as applies_after_resets
    {%- for threshold in thresholds %}
    union all
    select
        cast({{ threshold }} as {{ lead_scoring.type_double() }})
            as mql_score_threshold,
        0 as applies_after_resets
    {%- endfor %}
),

score_thresholds as (
    select
        mql_score_threshold,
        max(applies_after_resets) = 1 as applies_after_resets
    from listed_thresholds
    group by mql_score_threshold
),

lowest_thresholds as (
    select
        min(mql_score_threshold) as lowest_threshold,
        min(
            case when applies_after_resets then mql_score_threshold end
        ) as lowest_threshold_after_resets
    from score_thresholds
),

group_count as (
    select count(*) as slot_group_count from slot_groups
),

seconds_with_several as (
    -- The values at the last activity of a second that holds several.
    select
        lead_id,
        start_index,
        slot_group,
        occurred_at,
        fit_value,
        total_value
    from group_scores
    where is_last_in_second and has_earlier_in_second
),

complete as (
    select
        lead_id,
        start_index,
        slot_group,
        activity_id,
        occurred_at,
        is_fast_track,
        fit_value,
        total_value
    from group_scores
    where is_last_in_second
    union all
    select
        group_scores.lead_id,
        group_scores.start_index,
        group_scores.slot_group,
        group_scores.activity_id,
        group_scores.occurred_at,
        group_scores.is_fast_track,
        seconds_with_several.fit_value,
        seconds_with_several.total_value
    from group_scores
    inner join seconds_with_several
        on
            group_scores.lead_id = seconds_with_several.lead_id
            and group_scores.start_index = seconds_with_several.start_index
            and group_scores.slot_group = seconds_with_several.slot_group
            and group_scores.occurred_at = seconds_with_several.occurred_at
    where not group_scores.is_last_in_second
),

activity_values as (
    -- One slot group (the usual case): its values. Several: their sum,
    -- added exactly so the order of the groups does not matter.
    select
        complete.lead_id,
        complete.start_index,
        complete.activity_id,
        complete.occurred_at,
        complete.is_fast_track,
        complete.fit_value,
        complete.total_value
    from complete
    cross join group_count
    where group_count.slot_group_count = 1
    union all
    select
        complete.lead_id,
        complete.start_index,
        complete.activity_id,
        complete.occurred_at,
        complete.is_fast_track,
        {{ lead_scoring.sum_exactly('complete.fit_value') }} as fit_value,
        {{ lead_scoring.sum_exactly('complete.total_value') }} as total_value
    from complete
    cross join group_count
    where group_count.slot_group_count > 1
    group by
        complete.lead_id,
        complete.start_index,
        complete.activity_id,
        complete.occurred_at,
        complete.is_fast_track
),

scored as (
    select
        activity_values.lead_id,
        activity_values.start_index,
        activity_values.activity_id,
        activity_values.occurred_at,
        activity_values.is_fast_track,
        leads.fit_points + activity_values.fit_value as fit_score,
        leads.fit_points + leads.engagement_points + leads.negative_points
        + activity_values.total_value as lead_score
    from activity_values
    inner join leads
        on activity_values.lead_id = leads.lead_id
),

qualifying as (
    -- Activities that qualify with the lowest threshold that applies to
    -- their start, and how high a threshold they reach (a fast-track
    -- activity reaches any).
    select
        scored.*,
        case
            when scored.is_fast_track then 1.0e300
            else {{ lead_scoring.round_to('scored.lead_score', 6) }}
        end as reach
    from scored
    cross join lowest_thresholds
    where
        {{ lead_scoring.round_to('scored.fit_score', 6) }}
        >= {{ var('mql_min_fit_score') }}
        and (
            scored.is_fast_track
            or {{ lead_scoring.round_to('scored.lead_score', 6) }}
            >= case
                when scored.start_index = 0
                    then lowest_thresholds.lowest_threshold
                else lowest_thresholds.lowest_threshold_after_resets
            end
        )
),

records as (
    select
        *,
        max(reach) over (
            partition by lead_id, start_index
            order by occurred_at, activity_id
            rows between unbounded preceding and 1 preceding
        ) as previous_reach
    from qualifying
),

final as (
    select
        records.lead_id,
        cast(records.start_index as integer) as start_index,
        score_thresholds.mql_score_threshold,
        records.activity_id as trigger_activity_id,
        records.occurred_at as qualified_at,
        case
            when {{ lead_scoring.round_to('records.lead_score', 6) }}
                >= score_thresholds.mql_score_threshold
                then 'threshold'
            else 'fast_track'
        end as qualification_path,
        cast(records.lead_score as {{ lead_scoring.type_double() }})
            as lead_score_at_qualification,
        cast(records.fit_score as {{ lead_scoring.type_double() }})
            as fit_score_at_qualification,
        {{ lead_scoring.build_state_columns(mode) }}
    from records
    inner join score_thresholds
        on
            records.reach >= score_thresholds.mql_score_threshold
            and (
                records.previous_reach is null
                or records.previous_reach < score_thresholds.mql_score_threshold
            )
            and (
                records.start_index = 0
                or score_thresholds.applies_after_resets
            )
)

select * from final
