-- One row per live lead and attribute rule that matches it. An attribute
-- rule counts once per lead, clipped to +-max_points.
-- Text fields: equals / in compare the whole text, contains looks for each
-- piece inside it. Numeric fields (employee_count, annual_revenue): equals /
-- in compare numbers, contains never matches. between / gte / lt match
-- finite numbers only.

with

attributes as (
    select * from {{ ref('int_lead_attributes_unpivoted') }}
),

rules as (
    select * from {{ ref('int_scoring_rules_validated') }}
    where not is_activity_rule
),

rule_values as (
    select * from {{ ref('int_scoring_rule_values') }}
    where field != 'activity_type'
),

text_equality_matches as (
    select
        attributes.lead_id,
        rule_values.rule_id
    from attributes
    inner join rule_values
        on
            attributes.field = rule_values.field
            and attributes.text_value = rule_values.value_piece
    where
        rule_values.operator in ('equals', 'in')
        and not attributes.is_numeric_field
),

number_equality_matches as (
    select
        attributes.lead_id,
        rule_values.rule_id
    from attributes
    inner join rule_values
        on
            attributes.field = rule_values.field
            and attributes.number_value = rule_values.value_number
    where
        rule_values.operator in ('equals', 'in')
        and attributes.is_numeric_field
),

contains_matches as (
    select
        attributes.lead_id,
        rule_values.rule_id
    from attributes
    inner join rule_values
        on attributes.field = rule_values.field
    where
        rule_values.operator = 'contains'
        and {{ dbt.position(
            'rule_values.value_piece', 'attributes.text_value'
        ) }} > 0
),

numeric_matches as (
    select
        attributes.lead_id,
        rules.rule_id
    from attributes
    inner join rules
        on attributes.field = rules.field
    where
        attributes.number_value is not null
        and (
            (
                rules.operator = 'between'
                and attributes.number_value >= rules.range_low
                and attributes.number_value <= rules.range_high
            )
            or (
                rules.operator = 'gte'
                and attributes.number_value
                >= {{ lead_scoring.to_number('rules.rule_value') }}
            )
            or (
                rules.operator = 'lt'
                and attributes.number_value
                < {{ lead_scoring.to_number('rules.rule_value') }}
            )
        )
),

matched as (
    select * from text_equality_matches
    union
    select * from number_equality_matches
    union
    select * from contains_matches
    union
    select * from numeric_matches
),

final as (
    select
        matched.lead_id,
        matched.rule_id,
        rules.category,
        rules.points,
        rules.max_points,
        cast(
            {{ lead_scoring.clip_points('rules.points', 'rules.max_points') }}
            as {{ lead_scoring.type_double() }}
        ) as points_awarded
    from matched
    inner join rules
        on matched.rule_id = rules.rule_id
)

select * from final
