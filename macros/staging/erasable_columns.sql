{% macro erasable_columns(columns) %}
    {#- A select list that passes each column through, or null on the rows of
        an erased lead (rejection_reason = 'erased'), so that no readable
        trace of an erased person leaves staging. -#}
    {%- for column in columns %}
        case
            when rejection_reason = 'erased' then null else {{ column }}
        end as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{% endmacro %}
