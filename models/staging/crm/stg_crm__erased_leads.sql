-- One row per erased lead (grain: lead): the one-way hash of its lead_id
-- (macro pii_hash), nothing readable. A lead is erased when its winning
-- version asks for erasure (macro lead_outcomes), whatever var as_of is.
--
-- stg_marketing__activities and stg_marketing__page_urls find the erased
-- leads' activities by it; stg_marketing__activities also rebuilds itself
-- when a lead whose activities it stores masked is no longer here (its
-- erasure was taken back: masked rows cannot be unmasked, so its raw rows
-- are read again).

with

outcomes as (
    {{ lead_scoring.lead_outcomes(ref('base_crm__leads')) }}
),

final as (
    select distinct lead_key_hash
    from outcomes
    where rejection_reason = 'erased'
)

select * from final
