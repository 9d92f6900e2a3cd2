{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    unique_key='lead_id',
    scope='changed_leads',
) }}

-- The slot columns are written by Jinja loops, whose layout the indentation
-- rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- One row per activity of a live lead that can reach the minimum fit,
-- qualification start it comes at or after (and before the first
-- disqualification) and slot group: the group's share of the fit and lead
-- scores at the activity, counting activity points from that start, in
-- (occurred_at, activity_id) order. int_lead_score_trajectories adds the
-- groups and the attribute points up and finds the MQL moments.
--
-- How the scores at every activity are computed, in one sorted pass:
--   * every activity carries its points in slot columns
--     (int_activity_type_points), once per start and slot group;
--   * a decayed slot weighs its points p as p * 2^((t - c) / h), with c the
--     start of the chunk of time the activity falls in (chunks of 64 times
--     the group's longest half-life, int_scoring_slot_groups), so weights
--     stay below 2^960 whatever the half-lives and the length of history;
--   * running sums of the weights per lead, start, group and chunk, in
--     (occurred_at, activity_id) order (a fixed order: the same sum every
--     build), times 2^(-(t - c) / h), give each slot's decayed sum at the
--     activity; what earlier chunks carry over is added (the previous
--     chunk's total; older chunks lie more than 64 half-lives back and weigh
--     less than 2^-64, except in slots without decay, which carry every
--     earlier chunk);
--   * each slot is clipped to its cap and the slots are added up.
-- Activities in the same second count together: is_last_in_second and
-- has_earlier_in_second tell int_lead_score_trajectories which row of a
-- second holds the second's values.
--
-- Incremental by lead (macros/incremental/lead_incremental.sql): a build
-- recomputes the leads whose activities or lead-level inputs changed, or
-- that have an activity between the previous as_of and this one.

{%- set slots = lead_scoring.score_slots() %}
{%- set mode = lead_scoring.incremental_mode() %}

with

leads as (
    select * from {{ ref('int_lead_attribute_scores') }}
    where
        can_reach_min_fit
        and {{ lead_scoring.in_changed_leads(mode, 'lead_id') }}
),

starts as (
    select * from {{ ref('int_lead_qualification_starts') }}
),

activities as (
    select * from {{ ref('int_activities_valid') }}
),

slot_groups as (
    select * from {{ ref('int_scoring_slot_groups') }}
),

type_points as (
    select * from {{ ref('int_activity_type_points') }}
),

evaluated as (
    select
        starts.lead_id,
        starts.start_index,
        slot_groups.slot_group,
        activities.activity_id,
        activities.occurred_at,
        activities.activity_type in {{ lead_scoring.fast_track_types_sql() }}
            as is_fast_track,
        {{ lead_scoring.epoch_seconds('activities.occurred_at') }}
            as occurred_epoch,
        slot_groups.chunk_seconds,
        case
            when slot_groups.chunk_seconds is null then 0
            else cast(floor(
                {{ lead_scoring.epoch_seconds('activities.occurred_at') }}
                / slot_groups.chunk_seconds
            ) as {{ dbt.type_bigint() }})
        end as chunk_index
        {%- for slot in slots %},
        coalesce(type_points.slot_{{ slot }}_points, 0)
            as slot_{{ slot }}_points,
        slot_groups.slot_{{ slot }}_half_life_seconds
        {%- endfor %}
    from starts
    inner join leads
        on starts.lead_id = leads.lead_id
    inner join activities
        on
            starts.lead_id = activities.lead_id
            and (
                starts.start_at is null
                or starts.start_at <= activities.occurred_at
            )
            and (
                starts.disqualified_at is null
                or starts.disqualified_at > activities.occurred_at
            )
    cross join slot_groups
    left join type_points
        on
            activities.activity_type = type_points.activity_type
            and slot_groups.slot_group = type_points.slot_group
),

weighted as (
    select
        lead_id,
        start_index,
        slot_group,
        activity_id,
        occurred_at,
        is_fast_track,
        occurred_epoch,
        chunk_seconds,
        chunk_index
        {%- for slot in slots %},
        case
            when slot_{{ slot }}_half_life_seconds is null
                then cast(
                    slot_{{ slot }}_points as {{ lead_scoring.type_double() }}
                )
            else slot_{{ slot }}_points * power(
                2.0,
                (occurred_epoch - chunk_index * chunk_seconds)
                / slot_{{ slot }}_half_life_seconds
            )
        end as slot_{{ slot }}_weight
        {%- endfor %}
    from evaluated
),

accumulated as (
    select
        lead_id,
        start_index,
        slot_group,
        activity_id,
        occurred_at,
        is_fast_track,
        occurred_epoch,
        chunk_seconds,
        chunk_index,
        lag(occurred_at) over chunk_order as previous_occurred_at,
        lead(occurred_at) over chunk_order as next_occurred_at
        {%- for slot in slots %},
        sum(slot_{{ slot }}_weight) over chunk_rows as slot_{{ slot }}_sum
        {%- endfor %}
    from weighted
    window
        chunk_order as (
            partition by lead_id, start_index, slot_group, chunk_index
            order by occurred_at, activity_id
        ),
        chunk_rows as (
            partition by lead_id, start_index, slot_group, chunk_index
            order by occurred_at, activity_id
            rows between unbounded preceding and current row
        )
),

chunk_ends as (
    -- The last activity of each chunk holds the chunk's sums.
    select
        lead_id,
        start_index,
        slot_group,
        chunk_index,
        chunk_seconds,
        lag(chunk_index) over chunk_sequence as previous_chunk_index,
        lead(chunk_index) over chunk_sequence as next_chunk_index
        {%- for slot in slots %},
        slot_{{ slot }}_sum
        {%- endfor %}
    from accumulated
    where next_occurred_at is null
    window chunk_sequence as (
        partition by lead_id, start_index, slot_group
        order by chunk_index
    )
),

carried_chunks as (
    -- Only leads whose activities span several chunks carry anything.
    select
        chunk_ends.lead_id,
        chunk_ends.start_index,
        chunk_ends.slot_group,
        chunk_ends.next_chunk_index as chunk_index
        {%- for slot in slots %},
        case
            when slot_groups.slot_{{ slot }}_half_life_seconds is null
                then sum(chunk_ends.slot_{{ slot }}_sum) over chunks_so_far
            else chunk_ends.slot_{{ slot }}_sum * {{ lead_scoring.decay_factor(
                '(chunk_ends.next_chunk_index - chunk_ends.chunk_index)'
                ~ ' * chunk_ends.chunk_seconds',
                'slot_groups.slot_' ~ slot ~ '_half_life_seconds / 86400.0',
            ) }}
        end as slot_{{ slot }}_carry
        {%- endfor %}
    from chunk_ends
    inner join slot_groups
        on chunk_ends.slot_group = slot_groups.slot_group
    where
        chunk_ends.previous_chunk_index is not null
        or chunk_ends.next_chunk_index is not null
    window chunks_so_far as (
        partition by
            chunk_ends.lead_id, chunk_ends.start_index, chunk_ends.slot_group
        order by chunk_ends.chunk_index
        rows between unbounded preceding and current row
    )
),

carries as (
    select * from carried_chunks
    where chunk_index is not null
),

decayed as (
    -- Each slot's decayed sum at the activity.
    select
        accumulated.lead_id,
        accumulated.start_index,
        accumulated.slot_group,
        accumulated.activity_id,
        accumulated.occurred_at,
        accumulated.is_fast_track,
        accumulated.next_occurred_at is null
        or accumulated.next_occurred_at != accumulated.occurred_at
            as is_last_in_second,
        coalesce(
            accumulated.previous_occurred_at = accumulated.occurred_at, false
        ) as has_earlier_in_second
        {%- for slot in slots %},
        case
            when slot_groups.slot_{{ slot }}_half_life_seconds is null
                then accumulated.slot_{{ slot }}_sum
                + coalesce(carries.slot_{{ slot }}_carry, 0)
            else (
                accumulated.slot_{{ slot }}_sum
                + coalesce(carries.slot_{{ slot }}_carry, 0)
            ) * power(
                2.0,
                (
                    accumulated.chunk_index * accumulated.chunk_seconds
                    - accumulated.occurred_epoch
                ) / slot_groups.slot_{{ slot }}_half_life_seconds
            )
        end as slot_{{ slot }}_value
        {%- endfor %}
    from accumulated
    inner join slot_groups
        on accumulated.slot_group = slot_groups.slot_group
    left join carries
        on
            accumulated.lead_id = carries.lead_id
            and accumulated.start_index = carries.start_index
            and accumulated.slot_group = carries.slot_group
            and accumulated.chunk_index = carries.chunk_index
),

valued as (
    -- Each slot clipped to its cap, and whether it counts in fit_score.
    select
        decayed.lead_id,
        decayed.start_index,
        decayed.slot_group,
        decayed.activity_id,
        decayed.occurred_at,
        decayed.is_fast_track,
        decayed.is_last_in_second,
        decayed.has_earlier_in_second
        {%- for slot in slots %},
        {{ lead_scoring.clip_points(
            'decayed.slot_' ~ slot ~ '_value',
            'slot_groups.slot_' ~ slot ~ '_max_points',
        ) }} as slot_{{ slot }}_points,
        case
            when slot_groups.slot_{{ slot }}_category = 'fit' then 1.0 else 0.0
        end as slot_{{ slot }}_fit_share
        {%- endfor %}
    from decayed
    inner join slot_groups
        on decayed.slot_group = slot_groups.slot_group
),

group_scores as (
    select
        lead_id,
        start_index,
        slot_group,
        activity_id,
        occurred_at,
        is_fast_track,
        is_last_in_second,
        has_earlier_in_second,
        {%- for slot in slots %}
        slot_{{ slot }}_points * slot_{{ slot }}_fit_share
        {{- ' + ' if not loop.last }}
        {%- endfor %} as fit_value,
        {%- for slot in slots %}
        slot_{{ slot }}_points{{ ' + ' if not loop.last }}
        {%- endfor %} as total_value
    from valued
),

final as (
    select
        *,
        {{ lead_scoring.build_state_columns(mode) }}
    from group_scores
)

select * from final
