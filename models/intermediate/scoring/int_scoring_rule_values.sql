-- One row per value a text rule compares with: the whole value for equals,
-- each non-empty |-separated piece for in and contains. Pieces are trimmed
-- and lower-cased, as the comparison ignores case and surrounding blanks.

with

rules as (
    select * from {{ ref('int_scoring_rules_validated') }}
    where operator in ('equals', 'in', 'contains')
),

whole_values as (
    select
        rule_id,
        field,
        operator,
        rule_value as value_piece
    from rules
    where operator = 'equals'
),

split_values as (
    select
        rule_id,
        field,
        operator,
        {{ lead_scoring.split_to_rows('rule_value', '|') }} as value_piece
    from rules
    where operator in ('in', 'contains')
),

unioned as (
    select * from whole_values
    union all
    select * from split_values
),

final as (
    select distinct
        rule_id,
        field,
        operator,
        lower(trim(value_piece)) as value_piece,
        {{ lead_scoring.to_number('value_piece') }} as value_number
    from unioned
    where trim(value_piece) != ''
)

select * from final
