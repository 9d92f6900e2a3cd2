-- The AUC of lead_score against reaching SQL, rank-based with ties counted
-- as half: (sum of the positives' average ranks - P(P+1)/2) / (P * N), with
-- P leads that reached SQL and N that did not. Null when either is 0.
-- 1 means every SQL scored above every other lead, 0.5 no better than chance.

with

ranks as (
    select * from {{ ref('int_lead_score_ranks') }}
),

totals as (
    select
        count(case when is_sql then 1 end) as positives,
        sum(case when is_sql then 0 else 1 end) as negatives,
        sum(case when is_sql then average_rank else 0 end)
            as positive_rank_sum
    from ranks
),

final as (
    select
        positives,
        negatives,
        cast(
            (positive_rank_sum - positives * (positives + 1) / 2.0)
            / nullif(cast(positives as {{ lead_scoring.type_double() }}) * negatives, 0)
            as {{ lead_scoring.type_double() }}
        ) as auc
    from totals
)

select * from final
