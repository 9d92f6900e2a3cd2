{% macro reachable_starts(starts, first_jumps, rounds) %}
    {#-
        CTE definitions ending in `reached` (lead_id, start_index): every
        start of `starts` reachable from the lead's start 0 by following
        `first_jumps` (lead_id, start_index, target_index: the next start
        after that start's MQL moment). Written as CTEs to follow `with ...,`
        and be followed by further CTEs.
    -#}
    {{- return(adapter.dispatch('reachable_starts', 'lead_scoring')(
        starts, first_jumps, rounds
    )) -}}
{% endmacro %}

{% macro default__reachable_starts(starts, first_jumps, rounds) %}
    {#- Pointer doubling: jump_<m> follows 2^m links, so after `rounds`
        rounds of small joins every start within 2^rounds links is known.
        Each round reads the previous one twice, which DuckDB and PostgreSQL
        compute once. -#}
{%- if first_jumps != 'jump_0' %}
jump_0 as (
    select * from {{ first_jumps }}
),
{%- endif %}
reached_0 as (
    select
        lead_id,
        start_index
    from {{ starts }}
    where start_index = 0
),

{%- for round in range(rounds) %}

    reached_{{ round + 1 }} as (
        select
            lead_id,
            start_index
        from reached_{{ round }}
        union
        select
            jump_{{ round }}.lead_id,
            jump_{{ round }}.target_index as start_index
        from reached_{{ round }}
        inner join jump_{{ round }}
            on
                reached_{{ round }}.lead_id = jump_{{ round }}.lead_id
                and reached_{{ round }}.start_index = jump_{{ round }}.start_index
    ),

    {%- if not loop.last %}

        jump_{{ round + 1 }} as (
            select
                first_jump.lead_id,
                first_jump.start_index,
                second_jump.target_index
            from jump_{{ round }} as first_jump
            inner join jump_{{ round }} as second_jump
                on
                    first_jump.lead_id = second_jump.lead_id
                    and first_jump.target_index = second_jump.start_index
        ),
    {%- endif %}
{%- endfor %}

reached as (
    select
        lead_id,
        start_index
    from reached_{{ rounds }}
),
{% endmacro %}

{% macro spark__reachable_starts(starts, first_jumps, rounds) %}
    {#- Spark inlines every CTE where it is used, so the doubling rounds
        (each reading the previous one twice) grow the plan exponentially.
        Instead each lead's jumps become a map, walked from start 0 with
        aggregate() over as many steps as the lead has jumps. -#}
jump_maps as (
    select
        lead_id,
        map_from_entries(collect_list(struct(start_index, target_index)))
            as next_start
    from {{ first_jumps }}
    group by lead_id
),

walks as (
    select
        beginnings.lead_id,
        aggregate(
            sequence(
                1,
                case
                    when jump_maps.next_start is null then 1
                    else size(jump_maps.next_start) + 1
                end
            ),
            array(0),
            (path, step) -> case
                when jump_maps.next_start[element_at(path, -1)] is null then path
                else concat(
                    path, array(jump_maps.next_start[element_at(path, -1)])
                )
            end
        ) as path
    from {{ starts }} as beginnings
    left join jump_maps
        on beginnings.lead_id = jump_maps.lead_id
    where beginnings.start_index = 0
),

reached as (
    select
        lead_id,
        explode(path) as start_index
    from walks
),
{% endmacro %}
