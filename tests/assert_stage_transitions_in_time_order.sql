-- Stage timestamps are in order per lead: each transition happens at or
-- after the one before it. Returns the transitions that go back in time.

with

transitions as (
    select * from {{ ref('fct_lifecycle_transitions') }}
),

with_previous as (
    select
        lead_id,
        transition_sequence,
        transitioned_at,
        lag(transitioned_at) over (
            partition by lead_id order by transition_sequence
        ) as previous_transitioned_at
    from transitions
)

select *
from with_previous
where transitioned_at < previous_transitioned_at
