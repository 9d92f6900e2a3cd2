-- One row per raw row that staging did not use, from all six sources, with
-- the reason. Together with the staged rows it accounts for every raw row.
-- Rows of erased leads appear only as a one-way hash.

{%- set base_models = [
    'base_crm__leads',
    'base_marketing__activities',
    'base_crm__sales_activities',
    'base_crm__lead_status_changes',
    'base_crm__opportunities',
    'base_marketing__spend',
] %}

with

unioned as (
    {% for base_model in base_models %}
        select
            rejected_row_id,
            source_table,
            raw_key,
            {{ 'null' if base_model == 'base_marketing__spend' else 'lead_id' }},
            rejection_reason,
            rejection_detail
        from {{ ref(base_model) }}
        where rejection_reason is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        rejected_row_id,
        source_table,
        raw_key,
        rejection_reason,
        rejection_detail,
        cast(lead_id as {{ dbt.type_string() }}) as lead_id
    from unioned
)

select * from final
