{{ config(materialized='table') }}

-- Columns and unions written by Jinja loops and branches, whose layout the
-- indentation rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- The qualification history of each lead, walked in time order: one row per
-- epoch, i.e. per moment its activity points really counted from. Epoch 0
-- starts at the beginning; a lead that became an MQL starts a new epoch at
-- the first sales_rejected or recycled change after its MQL moment (a reset:
-- it was an MQL or SQL then), unless a disqualification came first. Each
-- epoch carries the MQL event it led to, if any.
--
-- Which starts are reached depends on the MQL moments before them, so the
-- walk follows "next start" links (macro reachable_starts), only for the
-- leads that have any. By default it does so by pointer doubling: after
-- round m every start within 2^m links of the beginning is known; 20
-- rounds reach a million resets of one lead. On Spark, which would copy
-- each round into the next, each lead's links are walked as a map instead.

with

starts as (
    select * from {{ ref('int_lead_qualification_starts') }}
),

candidates as (
    -- The first qualification from each start, with the MQL threshold.
    select * from {{ ref('int_lead_score_trajectories') }}
    where mql_score_threshold = {{ var('mql_score_threshold') }}
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

walked_starts as (
    select * from starts
    where lead_id in (select jump_0.lead_id from jump_0)
),

{{ lead_scoring.reachable_starts('walked_starts', 'jump_0', 20) }}

reached_starts as (
    select
        lead_id,
        start_index
    from reached
    union all
    select
        lead_id,
        start_index
    from starts
    where
        start_index = 0
        and lead_id not in (select jump_0.lead_id from jump_0)
),

final as (
    select
        reached.lead_id,
        reached.start_index as epoch_index,
        starts.start_at as epoch_started_at,
        starts.start_change_id as reset_status_change_id,
        candidates.trigger_activity_id,
        candidates.qualified_at as mql_at,
        candidates.qualification_path,
        candidates.lead_score_at_qualification as lead_score_at_mql,
        candidates.fit_score_at_qualification as fit_score_at_mql
    from reached_starts as reached
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
