-- The scoring helpers over known inputs: clip_points (a null cap clips
-- nothing), decay_factor (halves every half-life, 1 without one),
-- safe_ratio (null on a zero or null denominator) and round_to (to 6
-- decimals). Returns every case whose output differs from the expected one
-- (1e-12 tolerance).

with

cases as (
    select cases.* from (
        values
        ('clip above the cap', 15.0, 10.0, 10.0),
        ('clip below minus the cap', -15.0, 10.0, -10.0),
        ('inside the cap', 5.0, 10.0, 5.0),
        ('no cap', 15.0, null, 15.0),
        ('cap of zero', 3.0, 0.0, 0.0)
    ) as cases (case_name, points, max_points, expected_points)
),

decays as (
    select decays.* from (
        values
        ('no time elapsed', 0.0, 7.0, 1.0),
        ('one half-life', 604800.0, 7.0, 0.5),
        ('two half-lives', 1209600.0, 7.0, 0.25),
        ('half a day of a one-day half-life', 43200.0, 1.0, 0.7071067811865476),
        ('no half-life', 86400.0, null, 1.0)
    ) as decays (case_name, seconds_elapsed, half_life_days, expected_factor)
),

ratios as (
    select ratios.* from (
        values
        ('a quarter', 1, 4, 0.25),
        ('zero denominator', 1, 0, null),
        ('null denominator', 1, null, null)
    ) as ratios (case_name, numerator, denominator, expected_ratio)
),

roundings as (
    select roundings.* from (
        values
        ('float noise', 20.0000000001, 20.0),
        ('rounds up', 0.1234567, 0.123457),
        ('negative', -3.1415926535, -3.141593)
    ) as roundings (case_name, raw_value, expected_value)
),

failures as (
    select
        case_name,
        {{ lead_scoring.clip_points('points', 'max_points') }} as actual,
        expected_points as expected
    from cases

    union all

    select
        case_name,
        {{ lead_scoring.decay_factor('seconds_elapsed', 'half_life_days') }},
        expected_factor
    from decays

    union all

    select
        case_name,
        {{ lead_scoring.safe_ratio('numerator', 'denominator') }},
        expected_ratio
    from ratios

    union all

    select
        case_name,
        {{ lead_scoring.round_to('raw_value', 6) }},
        expected_value
    from roundings
)

select * from failures
where
    (actual is null) != (expected is null)
    or abs(actual - expected) > 1e-12
