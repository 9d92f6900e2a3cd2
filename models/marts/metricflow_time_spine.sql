-- One row per calendar day: the time spine the semantic layer (MetricFlow)
-- joins metrics to for time-based aggregation. Registered as a time spine in
-- _marts__models.yml (time_spine: standard_granularity_column). The range
-- covers any plausible CRM history; widen it here if yours is older.

with

days as (
    {{ dbt.date_spine(
        datepart='day',
        start_date="cast('2000-01-01' as date)",
        end_date="cast('2041-01-01' as date)",
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
