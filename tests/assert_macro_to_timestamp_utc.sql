-- Macro to_timestamp_utc over known inputs: ISO 8601 text (date only, space
-- or T separator, fractions, Z or +hh:mm offsets) to a UTC timestamp;
-- text without an offset is UTC; unparseable text is null. Returns every
-- case whose output differs from the expected one.

with

cases as (
    select cases.* from (
        values
        ('2026-03-01 10:00:00', '2026-03-01 10:00:00'),
        ('2026-03-01T10:00:00', '2026-03-01 10:00:00'),
        ('2026-03-01T10:00:00Z', '2026-03-01 10:00:00'),
        ('2026-03-01 12:30:00+02:30', '2026-03-01 10:00:00'),
        ('2026-03-01T05:00:00-05:00', '2026-03-01 10:00:00'),
        ('2026-03-01 10:00:00.250', '2026-03-01 10:00:00.250'),
        (' 2026-03-01 ', '2026-03-01 00:00:00'),
        ('2026-02-30 10:00:00', null),
        ('yesterday', null),
        ('', null),
        (null, null)
    ) as cases (raw_timestamp, expected_text)
),

cast_timestamps as (
    select
        raw_timestamp,
        cast(expected_text as {{ dbt.type_timestamp() }}) as expected_at,
        {{ lead_scoring.to_timestamp_utc('raw_timestamp') }} as actual_at
    from cases
)

select * from cast_timestamps
where actual_at is distinct from expected_at
