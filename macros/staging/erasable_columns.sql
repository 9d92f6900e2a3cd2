{% macro erasable_columns(columns) %}
    {#- A select list that passes each column through, or null on the rows of
        an erased lead (rejection_reason = 'erased'), so that no readable
        trace of an erased person leaves the staging base models. -#}
    {%- for column in columns %}
        case
            when rejection_reason = 'erased' then null else {{ column }}
        end as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{% endmacro %}


{% macro masked_rows_of_restored_leads() %}
    {#- The rebuild_when check of base_marketing__activities: its masked
        rows whose lead is no longer erased (a later CRM row took the
        erasure back). Masked rows cannot be unmasked from what is kept, so
        the model is rebuilt from the raw rows. -#}
    {{- return(
        'select 1 from ' ~ this ~ ' where erased_lead_key_hash not in ('
        ~ 'select lead_key_hash from ' ~ ref('base_crm__leads')
        ~ " where rejection_reason = 'erased')"
    ) -}}
{% endmacro %}
