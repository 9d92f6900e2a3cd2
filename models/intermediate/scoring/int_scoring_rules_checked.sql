-- Every row of the scoring_rules seed, parsed, with the first problem found
-- in it (null when the rule is valid). Inactive rules are parsed but not
-- checked, so a broken rule can be switched off to unblock a build.
-- The seed's column `value` is fixed by the contract, keyword or not:
-- sqlfluff:exclude_rules:RF04

with

rules as (
    select * from {{ ref('scoring_rules') }}
),

parsed as (
    select
        {{ lead_scoring.clean_text('rule_id') }} as rule_id,
        lower({{ lead_scoring.clean_text('category') }}) as category,
        lower({{ lead_scoring.clean_text('field') }}) as field,
        lower({{ lead_scoring.clean_text('operator') }}) as operator,
        {{ lead_scoring.clean_text('value') }} as rule_value,
        {{ lead_scoring.clean_text('points') }} as points_text,
        {{ lead_scoring.to_number('points') }} as points,
        {{ lead_scoring.clean_text('max_points') }} as max_points_text,
        {{ lead_scoring.to_number('max_points') }} as max_points,
        {{ lead_scoring.clean_text('decay_half_life_days') }}
            as half_life_text,
        {{ lead_scoring.to_number('decay_half_life_days') }}
            as decay_half_life_days,
        {{ lead_scoring.clean_text('is_active') }} as is_active_text,
        {{ lead_scoring.to_boolean('is_active') }} as is_active,
        {{ lead_scoring.to_number(
            dbt.split_part(lead_scoring.clean_text('value'), "'|'", 1)
        ) }} as range_low,
        {{ lead_scoring.to_number(
            dbt.split_part(lead_scoring.clean_text('value'), "'|'", 2)
        ) }} as range_high,
        {{ dbt.length(lead_scoring.clean_text('value')) }}
        - {{ dbt.length(dbt.replace(
            lead_scoring.clean_text('value'), "'|'", "''"
        )) }} as separator_count,
        count(*) over (
            partition by {{ lead_scoring.clean_text('rule_id') }}
        ) as rule_id_count
    from rules
),

checked as (
    select
        *,
        case
            when is_active is null then {{ dbt.concat([
                "'is_active '",
                "coalesce(is_active_text, '(blank)')",
                "' is not true or false'",
            ]) }}
            when not is_active then null
            when rule_id is null then 'rule_id is blank'
            when rule_id_count > 1 then 'rule_id is used by more than one rule'
            when
                category is null
                or category not in ('fit', 'engagement', 'negative')
                then {{ dbt.concat([
                    "'category '",
                    "coalesce(category, '(blank)')",
                    "' is not fit, engagement or negative'",
                ]) }}
            when field is null or field not in (
                {%- for field in lead_scoring.scoring_fields() %}
                    '{{ field }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ) then {{ dbt.concat([
                "'unknown field '",
                "coalesce(field, '(blank)')",
            ]) }}
            when operator is null or operator not in (
                'equals', 'in', 'contains', 'between', 'gte', 'lt'
            ) then {{ dbt.concat([
                "'unknown operator '",
                "coalesce(operator, '(blank)')",
                "' (use equals, in, contains, between, gte or lt)'",
            ]) }}
            when rule_value is null then 'value is blank'
            when
                points is null
                or points != floor(points)
                or abs(points) > 1e9
                then {{ dbt.concat([
                    "'points '",
                    "coalesce(points_text, '(blank)')",
                    "' is not an integer between -10^9 and 10^9'",
                ]) }}
            when
                max_points_text is not null
                and (max_points is null or max_points < 0)
                then {{ dbt.concat([
                    "'max_points '",
                    'max_points_text',
                    "' is not a number >= 0'",
                ]) }}
            when
                half_life_text is not null
                and (
                    decay_half_life_days is null
                    or decay_half_life_days <= 0
                )
                then {{ dbt.concat([
                    "'decay_half_life_days '",
                    'half_life_text',
                    "' is not a number > 0'",
                ]) }}
            when half_life_text is not null and field != 'activity_type'
                then 'decay_half_life_days is only for activity_type rules'
            when
                operator = 'between'
                and (
                    separator_count != 1
                    or range_low is null
                    or range_high is null
                    or range_low > range_high
                )
                then {{ dbt.concat([
                    "'between value '",
                    'rule_value',
                    "' is not lo|hi with numbers lo <= hi'",
                ]) }}
            when
                operator in ('gte', 'lt')
                and {{ lead_scoring.to_number('rule_value') }} is null
                then {{ dbt.concat([
                    "'value '",
                    'rule_value',
                    "' is not a number, as ' ",
                    'operator',
                    "' needs'",
                ]) }}
        end as problem
    from parsed
),

final as (
    select
        rule_id,
        category,
        field,
        operator,
        rule_value,
        max_points,
        decay_half_life_days,
        range_low,
        range_high,
        is_active,
        problem,
        -- Cast only where it fits: a bad value of an inactive rule, or of
        -- an active one reported in problem, must not fail the cast.
        case
            when points = floor(points) and abs(points) <= 1e9
                then cast(points as integer)
        end as points
    from checked
)

select * from final
