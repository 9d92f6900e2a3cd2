-- One row per live lead and non-blank scoring attribute: the staged value as
-- compared by rules (trimmed, lower-cased text; numbers as finite doubles).
-- Booleans compare as the text 'true' / 'false'.

{%- set text_fields = [
    'job_title', 'seniority', 'industry', 'country_code', 'email_domain',
    'lead_source', 'purchase_timeframe',
] %}
{%- set numeric_fields = ['employee_count', 'annual_revenue'] %}

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

unpivoted as (
    {% for field in text_fields %}
        select
            lead_id,
            '{{ field }}' as field,
            false as is_numeric_field,
            lower(trim({{ field }})) as text_value,
            {{ lead_scoring.to_number(field) }} as number_value
        from leads
        where trim({{ field }}) != ''
        union all
    {% endfor %}
    {% for field in numeric_fields %}
        select
            lead_id,
            '{{ field }}' as field,
            true as is_numeric_field,
            null as text_value,
            {{ field }} as number_value
        from leads
        where {{ field }} is not null
        union all
    {% endfor %}
    select
        lead_id,
        'is_decision_maker' as field,
        false as is_numeric_field,
        case when is_decision_maker then 'true' else 'false' end
            as text_value,
        null as number_value
    from leads
    where is_decision_maker is not null
),

final as (
    select
        lead_id,
        field,
        is_numeric_field,
        cast(text_value as {{ dbt.type_string() }}) as text_value,
        cast(number_value as {{ lead_scoring.type_double() }}) as number_value
    from unpivoted
)

select * from final
