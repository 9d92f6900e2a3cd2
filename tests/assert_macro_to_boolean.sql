-- Macro to_boolean over known inputs: true, t, 1, yes, y are true and
-- false, f, 0, no, n false, in any case and with blanks around; anything
-- else is null. Returns every case whose output differs.

with

cases as (
    select cases.* from (
        values
        ('true', true),
        ('TRUE', true),
        (' Yes ', true),
        ('y', true),
        ('1', true),
        ('t', true),
        ('false', false),
        ('No', false),
        ('0', false),
        ('F', false),
        ('n', false),
        ('maybe', null),
        ('2', null),
        ('', null),
        (null, null)
    ) as cases (raw_flag, expected_flag)
),

cast_flags as (
    select
        raw_flag,
        expected_flag,
        {{ lead_scoring.to_boolean('raw_flag') }} as actual_flag
    from cases
)

select * from cast_flags
where actual_flag is distinct from expected_flag
