{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    unique_key='lead_id',
    scope='changed_leads',
) }}

-- One row per lead and rule that fired for it: the state its current
-- score is read from in O(leads), whatever as_of. The counted firings
-- (after the lead's latest effective reset) are summed with each one's
-- points decayed to the latest of them, reference_at:
--     points_at_reference = sum_j p_j * 0.5 ^ (days(reference_at - t_j) / h)
-- Every factor is at most 1, so the sum cannot overflow; the points at any
-- later t are points_at_reference * 0.5 ^ (days(t - reference_at) / h)
-- (int_lead_scores_as_of). Attribute rules keep their points undecayed.
-- Also how many of the lead's MQL events the rule contributed to (it fired
-- in the event's epoch before the MQL moment; attribute rules always), for
-- rpt_rule_effectiveness. Sums are exact (sum_exactly), so they do not
-- depend on the order the firings are added in. Incremental by lead
-- (macros/incremental/lead_incremental.sql).
--
-- The firings are those of int_rule_firings_weighted (macro rule_firings),
-- formed here from the recomputed leads' matches only. The activity matches
-- are filtered by the recomputed live leads (a lead-level table) in an
-- incremental build: filtered by the changed-lead query directly, DuckDB
-- built its join's hash table on the matches (75 million at 100 million
-- activities) in every build.
{%- set mode = lead_scoring.incremental_mode() %}
{#- Set here, not in the incremental branch below, so that dbt sees
    the dependencies whatever the mode. #}
{%- set live_leads = ref('stg_crm__leads') %}
{%- set is_recomputed = lead_scoring.in_changed_leads(mode, 'lead_id') %}

with

{%- if mode.incremental %}

recomputed_leads as (
    select lead_id from {{ live_leads }}
    where {{ is_recomputed }}
),

{%- endif %}

attribute_matches as (
    select * from {{ ref('int_lead_attribute_rules_matched') }}
    where {{ lead_scoring.in_changed_leads(mode, 'lead_id') }}
),

activity_matches as (
    select * from {{ ref('int_activity_rules_matched') }}
    {%- if mode.incremental %}
    where lead_id in (select recomputed_leads.lead_id from recomputed_leads)
    {%- endif %}
),

epochs as (
    select * from {{ ref('int_lead_qualification_epochs') }}
    where {{ lead_scoring.in_changed_leads(mode, 'lead_id') }}
),

firings as (
    {{ lead_scoring.rule_firings(
        'attribute_matches', 'activity_matches', 'epochs'
    ) }}
),

mql_events as (
    select * from {{ ref('int_mql_event_windows') }}
    where {{ lead_scoring.in_changed_leads(mode, 'lead_id') }}
),

contributions as (
    select
        firings.lead_id,
        firings.rule_id,
        count(distinct mql_events.mql_event_id) as mql_events_contributed
    from mql_events
    inner join epochs
        on
            mql_events.lead_id = epochs.lead_id
            and mql_events.epoch_index = epochs.epoch_index
    inner join firings
        on
            mql_events.lead_id = firings.lead_id
            and (
                firings.activity_id is null
                or (
                    mql_events.mql_at >= firings.occurred_at
                    and (
                        epochs.epoch_started_at is null
                        or epochs.epoch_started_at <= firings.occurred_at
                    )
                )
            )
    group by firings.lead_id, firings.rule_id
),

rule_references as (
    -- Each rule's latest counted firing. (Grouped and joined back rather
    -- than a window over every firing: a window partitioned by lead and
    -- rule holds all the firings' columns and spilled at 100M activities.)
    select
        lead_id,
        rule_id,
        max(case when is_counted_at_as_of then occurred_at end) as reference_at
    from firings
    group by lead_id, rule_id
),

referenced as (
    select
        firings.*,
        rule_references.reference_at
    from firings
    inner join rule_references
        on
            firings.lead_id = rule_references.lead_id
            and firings.rule_id = rule_references.rule_id
),

aggregated as (
    select
        lead_id,
        rule_id,
        category,
        max(max_points) as max_points,
        max(decay_half_life_days) as decay_half_life_days,
        count(*) as firings,
        count(case when is_counted_at_as_of then 1 end) as counted_firings,
        max(reference_at) as reference_at,
        {{ lead_scoring.sum_exactly(
            'case when is_counted_at_as_of then points * '
            ~ lead_scoring.decay_factor(
                lead_scoring.epoch_seconds('reference_at')
                ~ ' - ' ~ lead_scoring.epoch_seconds('occurred_at'),
                'decay_half_life_days',
            ) ~ ' else 0 end'
        ) }} as points_at_reference
    from referenced
    group by lead_id, rule_id, category
),

final as (
    select
        aggregated.*,
        coalesce(contributions.mql_events_contributed, 0)
            as mql_events_contributed,
        {{ lead_scoring.build_state_columns(mode) }}
    from aggregated
    left join contributions
        on
            aggregated.lead_id = contributions.lead_id
            and aggregated.rule_id = contributions.rule_id
)

select * from final
