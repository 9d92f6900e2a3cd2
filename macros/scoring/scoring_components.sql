{% macro scoring_components() %}
    {#-
        The activity rules grouped into score components, read from
        int_scoring_rules_validated when the model runs. A capped rule is a
        component of its own (its cap applies to its own sum); uncapped rules
        of one category and one half-life share a component (decayed sums are
        linear, so they may be added before decaying). Each component is a
        dict: key, category, half_life_days (none = no decay), max_points
        (none = no cap), rule_ids. While dbt only parses, the list is empty.
    -#}
    {%- set relation = lead_scoring.load_built_relation(
        ref('int_scoring_rules_validated')
    ) -%}
    {%- if relation is none -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set rules = run_query(
        'select rule_id, category, max_points, decay_half_life_days from '
        ~ relation ~ ' where is_activity_rule order by '
        ~ lead_scoring.text_order('rule_id')
    ) -%}
    {%- set components = [] -%}
    {%- set groups = {} -%}
    {%- for rule in rules.rows -%}
        {%- set half_life = (rule[3] | float) if rule[3] is not none else none -%}
        {%- if rule[2] is not none -%}
            {%- do components.append({
                'category': rule[1],
                'half_life_days': half_life,
                'max_points': rule[2] | float,
                'rule_ids': [rule[0]],
            }) -%}
        {%- else -%}
            {%- set group_key = rule[1] ~ '|' ~ half_life -%}
            {%- if group_key not in groups -%}
                {%- do groups.update({group_key: {
                    'category': rule[1],
                    'half_life_days': half_life,
                    'max_points': none,
                    'rule_ids': [],
                }}) -%}
                {%- do components.append(groups[group_key]) -%}
            {%- endif -%}
            {%- do groups[group_key]['rule_ids'].append(rule[0]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for component in components -%}
        {%- do component.update({'key': 'component_' ~ loop.index}) -%}
    {%- endfor -%}
    {{- return(components) -}}
{% endmacro %}
