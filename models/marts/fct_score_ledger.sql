{{ config(materialized='view') }}

-- One row per rule firing: which rule gave (or took) how many points to which
-- lead, for which activity. Every score in dim_leads can be recomputed from
-- it: per lead and rule, sum decayed_points_at_as_of over the rows that
-- count, clip to +-max_points, and add up by category (tested).
--
-- A view over the published activities (fct_activities), the rules each
-- activity type matches, the leads' attribute matches and qualification
-- epochs (macro rule_firings, as int_rule_firings_weighted): no firing is
-- written, neither by the build nor by the publication, which publishes
-- this view over copies of the same four relations.

with

activities as (
    select * from {{ ref('fct_activities') }}
),

type_rules as (
    select * from {{ ref('int_activity_type_rules') }}
),

attribute_matches as (
    select * from {{ ref('int_lead_attribute_rules_matched') }}
),

epochs as (
    select * from {{ ref('int_lead_qualification_epochs') }}
),

activity_matches as (
    select
        activities.activity_id,
        activities.lead_id,
        activities.occurred_at,
        type_rules.rule_id,
        type_rules.category,
        type_rules.points,
        type_rules.max_points,
        type_rules.decay_half_life_days
    from activities
    inner join type_rules
        on activities.activity_type = type_rules.activity_type
),

firings as (
    {{ lead_scoring.rule_firings(
        'attribute_matches', 'activity_matches', 'epochs'
    ) }}
),

final as (
    select
        {{ lead_scoring.key_hash(
            ['lead_id', 'rule_id', 'activity_id']
        ) }} as ledger_entry_id,
        lead_id,
        rule_id,
        category,
        activity_id,
        occurred_at,
        points,
        max_points,
        decay_half_life_days,
        is_counted_at_as_of,
        decayed_points_at_as_of
    from firings
)

select * from final
