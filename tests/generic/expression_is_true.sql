{% test expression_is_true(model, expression, column_name=none) %}
    {#- Fails with the rows where `expression` is false. A null result
        passes (write "x is not null and ..." to be strict about nulls).
        Attached to a column or to a model alike; the expression names the
        columns it checks. -#}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
