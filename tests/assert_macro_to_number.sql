-- Macro to_number over known inputs: text to a finite double; junk,
-- blanks, NaN, infinities and forms only some engines read give null
-- (never an error). Returns every
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
        ('1e400', null),
        ('1e-400', 0.0),
        ('+.5', 0.5),
        ('5.', 5.0),
        ('1_000', null),
        ('+-1', null),
        ('0x10', null),
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
