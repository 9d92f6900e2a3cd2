-- The active scoring rules, once all of them and the fast-track types are
-- valid. A malformed active rule, or a type in var fast_track_activity_types
-- that seeds/activity_types.csv does not hold, stops the run here, before any
-- scoring, with one message naming each problem.

{%- set seeded_types = lead_scoring.load_built_relation(ref('activity_types')) %}
{%- if seeded_types is not none %}
    {%- set known_types = run_query(
        'select activity_type from ' ~ seeded_types ~ ' order by activity_type'
    ).columns[0].values() | list %}
    {%- set type_problems = lead_scoring.unknown_fast_track_problems(known_types) %}
    {%- if type_problems %}
        {{- exceptions.raise_compiler_error(
            'lead_scoring cannot score:\n  - ' ~ (type_problems | join('\n  - '))
        ) }}
    {%- endif %}
{%- endif %}

{%- set checked = lead_scoring.load_built_relation(
    ref('int_scoring_rules_checked')
) %}
{%- if checked is not none %}
    {%- set problems = run_query(
        'select rule_id, problem from ' ~ checked
        ~ ' where problem is not null order by rule_id'
    ) %}
    {%- if problems.rows | length > 0 %}
        {%- set lines = [] %}
        {%- for row in problems.rows %}
            {%- do lines.append(
                '  rule ' ~ (row[0] or '(blank rule_id)') ~ ': ' ~ row[1]
            ) %}
        {%- endfor %}
        {{- exceptions.raise_compiler_error(
            'seeds/scoring_rules.csv has ' ~ (lines | length)
            ~ ' invalid active rule(s); fix them or set is_active to '
            ~ 'false, then run dbt seed:\n' ~ (lines | join('\n'))
        ) }}
    {%- endif %}
{%- endif %}

with

checked as (
    select * from {{ ref('int_scoring_rules_checked') }}
),

final as (
    select
        rule_id,
        category,
        field,
        operator,
        rule_value,
        points,
        max_points,
        decay_half_life_days,
        range_low,
        range_high,
        field = 'activity_type' as is_activity_rule
    from checked
    where is_active and problem is null
)

select * from final
