{% macro score_slot_count() %}
    {#- How many score components one evaluation row carries side by side
        (the slot columns of int_scoring_slot_groups,
        int_activity_type_points and int_activity_group_scores). A rule
        file with more components, or with half-lives too far apart to share
        a slot group, is laid out in several slot groups, one evaluation row
        each. A fixed number, so that the compiled SQL is the same for
        every rule file. -#}
    {{- return(16) -}}
{% endmacro %}


{% macro score_slots() %}
    {#- The slot numbers 1 .. score_slot_count(), for loops that write one
        column per slot. -#}
    {{- return(range(1, lead_scoring.score_slot_count() + 1) | list) -}}
{% endmacro %}
