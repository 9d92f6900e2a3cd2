{% macro encode_key(expressions) %}
    {#- The text expressions joined into one unambiguous string: each is
        written as <length>:<text> (null as empty), so values that contain
        the separator cannot make two different keys collide. -#}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- if not loop.first -%}
            {%- do parts.append("'#'") -%}
        {%- endif -%}
        {%- set text = "coalesce(" ~ dbt.safe_cast(
            expression, dbt.type_string()
        ) ~ ", '')" -%}
        {%- do parts.extend([
            dbt.safe_cast(dbt.length(text), dbt.type_string()), "':'", text,
        ]) -%}
    {%- endfor -%}
    {{- return(dbt.concat(parts)) -}}
{% endmacro %}


{% macro key_hash(expressions) %}
    {#- A surrogate key: the hash of encode_key(expressions). -#}
    {{- return(dbt.hash(lead_scoring.encode_key(expressions))) -}}
{% endmacro %}


{% macro rejected_row_id(source_table, key_columns, rank_column) %}
    {#- The identifier of a rejected raw row: a hash of its table, its key
        parts and its copy number among rows sharing the key; a salted
        one-way hash (pii_hash) for the rows of an erased lead; null for a
        used row. -#}
    {%- set encoded = lead_scoring.encode_key(
        ["'" ~ source_table ~ "'"] + key_columns + [rank_column]
    ) -%}
    case
        when rejection_reason = 'erased'
            then {{ lead_scoring.pii_hash(encoded) }}
        when rejection_reason is not null then {{ dbt.hash(encoded) }}
    end
{%- endmacro %}
