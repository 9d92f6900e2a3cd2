{% test unique_combination_of_columns(model, combination_of_columns) %}
    {#- Fails with the combinations that occur more than once (nulls
        count as a value, so a null key never slips through). -#}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
