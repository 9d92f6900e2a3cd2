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


{% macro decay_chunk_half_lives() %}
    {#- How many of its slot group's longest half-lives one chunk of time
        spans (int_scoring_slot_groups): a decayed weight is formed relative
        to the start of its chunk, 2^(t / h) with t under this many longest
        half-lives, and a chunk's total is carried into the next one only
        (older ones weigh less than 2^-this). -#}
    {{- return(64) -}}
{% endmacro %}


{% macro decay_class_ratio() %}
    {#- How far apart (as a factor) the half-lives of one slot group may be
        (int_scoring_components). With decay_chunk_half_lives() the largest
        weight is 2^(chunk half-lives x ratio) = 2^960: a double holds up to
        2^1024, so the two numbers move together. -#}
    {%- set ratio = 15 -%}
    {%- if lead_scoring.decay_chunk_half_lives() * ratio >= 1000 -%}
        {{- exceptions.raise_compiler_error(
            'decay_chunk_half_lives() x decay_class_ratio() must stay below'
            ~ ' 1000, or decayed weights overflow a double'
        ) -}}
    {%- endif -%}
    {{- return(ratio) -}}
{% endmacro %}
