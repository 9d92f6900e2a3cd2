-- Macro clean_label over known inputs: lower-cased, each run of characters
-- other than a-z and 0-9 one underscore, no leading or trailing
-- underscore, blank is null. Returns every case whose output differs.

with

cases as (
    select cases.* from (
        values
        ('Demo - Request ', 'demo_request'),
        ('PAGE VIEW', 'page_view'),
        ('__email__open__', 'email_open'),
        ('Webinar/Attendance', 'webinar_attendance'),
        ('trial_signup', 'trial_signup'),
        ('Form  Submission 2', 'form_submission_2'),
        ('---', null),
        ('', null),
        (null, null)
    ) as cases (raw_label, expected_label)
),

cleaned as (
    select
        raw_label,
        expected_label,
        {{ lead_scoring.clean_label('raw_label') }} as actual_label
    from cases
)

select * from cleaned
where actual_label is distinct from expected_label
