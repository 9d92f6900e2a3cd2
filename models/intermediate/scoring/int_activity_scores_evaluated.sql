{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ lead_scoring.lead_scope_prepare() }}",
    post_hook="{{ lead_scoring.lead_scope_cleanup() }}",
) }}

-- The select lists below are generated from the rule file; linted without a
-- built warehouse they render empty, so these layout rules cannot judge them.
-- sqlfluff:exclude_rules:LT05,LT02,LT09,ST11

-- Scores at every activity, for every moment points may count from: one row
-- per (lead, start, activity at or after the start and before any
-- disqualification). The scores at an activity count every activity of the
-- lead from the start up to its time (same-second activities together).
--
-- Each component's decayed sum  sum_j p_j * 0.5^((t - t_j) / h)  is computed
-- in one pass with window sums, without a self-join and without overflow:
-- time is cut into chunks of W = 64 half-lives; each point is weighted
-- relative to the start of its own chunk (a factor below 2^64), and the
-- window over [t - W, t] holds at most two chunks, told apart by parity.
-- Points older than W weigh less than 2^-64 of their value and are left
-- out. Components and their half-lives come from the rules (see the
-- scoring_components macro), so this model's columns follow the rule file.
-- Incremental by lead (macros/incremental/lead_scope.sql).

-- depends_on: {{ ref('int_scoring_rules_validated') }}
{%- set components = lead_scoring.scoring_components() %}
{%- set state = lead_scoring.lead_scope_state() %}

with

activities as (
    select * from {{ ref('stg_marketing__activities') }}
    where {{ lead_scoring.in_lead_scope(state, 'lead_id') }}
),

starts as (
    select * from {{ ref('int_lead_qualification_starts') }}
    where {{ lead_scoring.in_lead_scope(state, 'lead_id') }}
),

rule_matches as (
    select * from {{ ref('int_activity_rules_matched') }}
    where {{ lead_scoring.in_lead_scope(state, 'lead_id') }}
),

attribute_matches as (
    select * from {{ ref('int_lead_attribute_rules_matched') }}
),

attribute_scores as (
    select
        lead_id,
        {{ lead_scoring.sum_by_category('points_awarded', 'points') }}
    from attribute_matches
    group by lead_id
),

component_points as (
    select
        activity_id,
        {%- for component in components %}
            sum(
                case
                    when rule_id in (
                        '{{ component.rule_ids | join("', '") }}'
                    ) then points
                    else 0
                end
            ) as {{ component.key }}_points,
        {%- endfor %}
        count(*) as rules_matched
    from rule_matches
    group by activity_id
),

evaluated as (
    select
        starts.lead_id,
        starts.start_index,
        activities.activity_id,
        activities.occurred_at,
        activities.activity_type,
        {%- for component in components %}
            coalesce(component_points.{{ component.key }}_points, 0)
                as {{ component.key }}_points,
        {%- endfor %}
        {{ lead_scoring.epoch_seconds('activities.occurred_at') }}
            as occurred_epoch
    from starts
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
    left join component_points
        on activities.activity_id = component_points.activity_id
),

weighted as (
    select
        *
        {%- for component in components if component.half_life_days is not none %}
            {%- set half_life = component.half_life_days * 86400.0 %}
            {%- set chunk = 64 * half_life %}
            ,
            floor(occurred_epoch / {{ chunk }}) as {{ component.key }}_chunk,
            {{ component.key }}_points * power(
                2.0,
                (occurred_epoch - floor(occurred_epoch / {{ chunk }}) * {{ chunk }})
                / {{ half_life }}
            ) as {{ component.key }}_weighted
        {%- endfor %}
    from evaluated
),

windowed as (
    select
        *
        {%- for component in components %}
            ,
            {%- if component.half_life_days is none %}
                sum({{ component.key }}_points) over (
                    partition by lead_id, start_index
                    order by occurred_epoch
                    range between unbounded preceding and current row
                ) as {{ component.key }}_sum
            {%- else %}
                {%- set chunk = 64 * component.half_life_days * 86400.0 %}
                {%- for parity in [0, 1] %}
                    sum(
                        case
                            when mod(cast({{ component.key }}_chunk as bigint), 2)
                                = {{ parity }}
                                then {{ component.key }}_weighted
                            else 0
                        end
                    ) over (
                        partition by lead_id, start_index
                        order by occurred_epoch
                        range between {{ chunk }} preceding and current row
                    ) as {{ component.key }}_parity_{{ parity }}
                    {{- ',' if loop.first }}
                {%- endfor %}
            {%- endif %}
        {%- endfor %}
    from weighted
),

component_values as (
    select
        lead_id,
        start_index,
        activity_id,
        occurred_at,
        activity_type
        {%- for component in components %}
            {%- set key = component.key %}
            ,
            {%- if component.half_life_days is none %}
                {%- set decayed = key ~ '_sum' %}
            {%- else %}
                {%- set half_life = component.half_life_days * 86400.0 %}
                {%- set chunk = 64 * half_life %}
                {%- set decayed %}
                    (
                        case
                            when mod(cast({{ key }}_chunk as bigint), 2) = 0
                                then {{ key }}_parity_0
                            else {{ key }}_parity_1
                        end
                        * power(
                            2.0,
                            ({{ key }}_chunk * {{ chunk }} - occurred_epoch)
                            / {{ half_life }}
                        )
                        + case
                            when mod(cast({{ key }}_chunk as bigint), 2) = 0
                                then {{ key }}_parity_1
                            else {{ key }}_parity_0
                        end
                        * power(
                            2.0,
                            (({{ key }}_chunk - 1) * {{ chunk }} - occurred_epoch)
                            / {{ half_life }}
                        )
                    )
                {%- endset %}
            {%- endif %}
            {{ lead_scoring.clip_points(
                decayed,
                component.max_points if component.max_points is not none
                else 'null'
            ) }} as {{ key }}_value
        {%- endfor %}
    from windowed
),

scored as (
    select
        component_values.lead_id,
        component_values.start_index,
        component_values.activity_id,
        component_values.occurred_at,
        component_values.activity_type,
        {%- for category in ['fit', 'engagement', 'negative'] %}
            coalesce(attribute_scores.{{ category }}_points, 0)
            {%- for component in components if component.category == category %}
                + component_values.{{ component.key }}_value
            {%- endfor %} as {{ category }}_score
            {{- ',' if not loop.last }}
        {%- endfor %}
    from component_values
    left join attribute_scores
        on component_values.lead_id = attribute_scores.lead_id
),

final as (
    select
        lead_id,
        start_index,
        activity_id,
        occurred_at,
        activity_type,
        cast(fit_score as {{ lead_scoring.type_double() }}) as fit_score,
        cast(engagement_score as {{ lead_scoring.type_double() }}) as engagement_score,
        cast(negative_score as {{ lead_scoring.type_double() }}) as negative_score,
        cast(fit_score + engagement_score + negative_score as {{ lead_scoring.type_double() }})
            as lead_score,
        {{ lead_scoring.scope_state_columns(state) }}
    from scored
)

select * from final
