-- Macros clean_text and clean_category over known inputs: trimmed, blank
-- is null, inner wording kept; categories also lower-cased. Returns every
-- case whose output differs from the expected one.

with

cases as (
    select cases.* from (
        values
        ('  Hello World  ', 'Hello World', 'hello world'),
        ('PAID Search', 'PAID Search', 'paid search'),
        (' Software ', 'Software', 'software'),
        ('a', 'a', 'a'),
        ('', null, null),
        ('     ', null, null),
        (null, null, null)
    ) as cases (raw_text, expected_text, expected_category)
),

cleaned as (
    select
        raw_text,
        expected_text,
        expected_category,
        {{ lead_scoring.clean_text('raw_text') }} as actual_text,
        {{ lead_scoring.clean_category('raw_text') }} as actual_category
    from cases
)

select * from cleaned
where
    actual_text is distinct from expected_text
    or actual_category is distinct from expected_category
