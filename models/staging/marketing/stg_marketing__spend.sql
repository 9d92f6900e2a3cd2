-- One row per usable spend row: day x lead source x campaign (blank campaign
-- means spend at the level of the lead source). The other raw rows are in
-- fct_rejected_rows, with the reason (macro spend_outcomes).

with

outcomes as (
    {{ lead_scoring.spend_outcomes(ref('base_marketing__spend')) }}
),

spend as (
    select * from outcomes
    where rejection_reason is null
),

final as (
    select
        {{ lead_scoring.key_hash(
            ['spend_date', 'lead_source', 'campaign_id']
        ) }} as spend_id,
        spend_date,
        lead_source,
        campaign_id,
        amount
    from spend
)

select * from final
