-- Macro to_number over known inputs: text to a finite double; junk,
-- blanks, NaN and infinities give null (never an error). Returns every
-- case whose output differs from the expected one.

with

cases as (
    select cases.* from (
        values
        ('12', 12.0),
        (' 3.5 ', 3.5),
        ('-4', -4.0),
        ('1e3', 1000.0),
        ('0', 0.0),
        ('abc', null),
        ('12 employees', null),
        ('', null),
        ('NaN', null),
        ('inf', null),
        ('-Infinity', null),
        (null, null)
    ) as cases (raw_number, expected_number)
),

cast_numbers as (
    select
        raw_number,
        expected_number,
        {{ lead_scoring.to_number('raw_number') }} as actual_number
    from cases
)

select * from cast_numbers
where actual_number is distinct from expected_number
