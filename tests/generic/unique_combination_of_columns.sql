{% test unique_combination_of_columns(
    model, combination_of_columns, latest_build_only=false
) %}
    {#- Fails with the combinations that occur more than once (nulls
        count as a value, so a null key never slips through).
        latest_build_only: only the rows the latest build of an incremental
        model wrote (the newest _recomputed_at; every row after a rebuild),
        for models that rewrite every row sharing a key together. -#}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    {%- if latest_build_only %}
    where _recomputed_at = (
        select max(latest._recomputed_at) from {{ model }} as latest
    )
    {%- endif %}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
