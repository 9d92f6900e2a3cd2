{% macro scoring_fields() %}
    {#- The fields a scoring rule may name: the staged lead attributes it can
        compare against, and activity_type for activity rules. -#}
    {{- return([
        'job_title', 'seniority', 'employee_count', 'industry',
        'country_code', 'email_domain', 'lead_source', 'is_decision_maker',
        'purchase_timeframe', 'annual_revenue', 'activity_type',
    ]) -}}
{% endmacro %}
