{{ config(materialized='table') }}

-- The qualification history of each lead, walked in time order: one row per
-- epoch, i.e. per moment its activity points really counted from. Epoch 0
-- starts at the beginning; a lead that became an MQL starts a new epoch at
-- the first sales_rejected or recycled change after its MQL moment (a reset:
-- it was an MQL or SQL then), unless a disqualification came first. Each
-- epoch carries the MQL event it led to, if any.
--
-- Which starts are reached depends on the MQL moments before them, so the
-- walk follows "next start" links (macro reachable_starts). By default it
-- does so by pointer doubling: after round m every start within 2^m links
-- of the beginning is known, so ceil(log2(starts per lead)) rounds of small
-- joins suffice (never fewer than 5: cheap, and safe when the count cannot
-- be read). On Spark, which would copy each round into the next, each
-- lead's links are walked as a map instead.

{#- Pointer doubling rounds: at least 5 (32 starts per lead), more when
    the data has more. #}
{%- set rounds = 5 %}
{%- set starts_relation = lead_scoring.load_built_relation(
    ref('int_lead_qualification_starts')
) %}
{%- if starts_relation is not none %}
    {%- set longest = run_query(
        'select coalesce(max(start_index), 0) + 1 from ' ~ starts_relation
    ).columns[0].values()[0] | int %}
    {%- set ns = namespace(rounds=5) %}
    {%- for _ in range(40) if 2 ** ns.rounds < longest %}
        {%- set ns.rounds = ns.rounds + 1 %}
    {%- endfor %}
    {%- set rounds = ns.rounds %}
{%- endif %}

with

starts as (
    select * from {{ ref('int_lead_qualification_starts') }}
),

candidates as (
    select * from {{ ref('int_mql_candidates') }}
),

following_starts as (
    select
        candidates.lead_id,
        candidates.start_index,
        min(starts.start_index) as next_start_index
    from candidates
    inner join starts
        on
            candidates.lead_id = starts.lead_id
            and starts.start_index > 0
            and candidates.qualified_at < starts.start_at
    group by candidates.lead_id, candidates.start_index
),

jump_0 as (
    -- A reset counts only if it comes before the first disqualification
    -- (status changes apply in (changed_at, status_change_id) order).
    select
        following_starts.lead_id,
        following_starts.start_index,
        following_starts.next_start_index as target_index
    from following_starts
    inner join starts
        on
            following_starts.lead_id = starts.lead_id
            and following_starts.next_start_index = starts.start_index
    where
        starts.disqualified_at is null
        or starts.start_at < starts.disqualified_at
        or (
            starts.start_at = starts.disqualified_at
            and {{ lead_scoring.text_order('starts.start_change_id') }}
            < {{ lead_scoring.text_order('starts.disqualified_change_id') }}
        )
),

{{ lead_scoring.reachable_starts('starts', 'jump_0', rounds) }}

final as (
    select
        reached.lead_id,
        reached.start_index as epoch_index,
        starts.start_at as epoch_started_at,
        starts.start_change_id as reset_status_change_id,
        candidates.trigger_activity_id,
        candidates.qualified_at as mql_at,
        candidates.qualification_path,
        candidates.lead_score_at_mql,
        candidates.fit_score_at_mql
    from reached
    inner join starts
        on
            reached.lead_id = starts.lead_id
            and reached.start_index = starts.start_index
    left join candidates
        on
            reached.lead_id = candidates.lead_id
            and reached.start_index = candidates.start_index
)

select * from final
