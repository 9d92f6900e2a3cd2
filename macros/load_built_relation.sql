{% macro load_built_relation(relation) %}
    {#- The relation as it exists in the warehouse, or none: while dbt only
        parses, when it has not been built yet, or inside a unit test (where
        ref() names a fixture, not a table). Models that read their inputs'
        contents at run time go through this. -#}
    {%- if not execute or relation.schema is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(load_relation(relation)) -}}
{% endmacro %}
