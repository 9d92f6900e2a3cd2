-- The activity_types seed and the contract's list (macro
-- contract_activity_types, used to check var fast_track_activity_types)
-- hold the same types. Returns the types found in only one of them.

with

seeded as (
    select activity_type from {{ ref('activity_types') }}
),

contract as (
    {% for activity_type in lead_scoring.contract_activity_types() %}
        select '{{ activity_type }}' as activity_type
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

only_seeded as (
    select activity_type from seeded
    except
    select activity_type from contract
),

only_in_contract as (
    select activity_type from contract
    except
    select activity_type from seeded
)

select activity_type from only_seeded
union all
select activity_type from only_in_contract
