-- Every raw marketing spend row, typed, with its outcome: used (one row per
-- spend_date x lead_source x campaign_id) or the reason it was rejected.

with

source as (
    select * from {{ source('marketing', 'marketing_spend') }}
),

typed as (
    select
        {{ lead_scoring.clean_text('spend_date') }} as spend_date_text,
        cast({{ lead_scoring.to_timestamp_utc('spend_date') }} as date)
            as spend_date,
        {{ lead_scoring.clean_category('lead_source') }} as lead_source,
        {{ lead_scoring.clean_text('lead_source') }} as lead_source_text,
        lower({{ lead_scoring.clean_text('campaign_id') }}) as campaign_key,
        {{ lead_scoring.clean_text('campaign_id') }} as campaign_id,
        {{ lead_scoring.clean_text('amount') }} as amount_text,
        {{ lead_scoring.to_number('amount') }} as amount
    from source
),

ranked as (
    select
        *,
        {{ dbt.concat([
            "coalesce(spend_date_text, '')",
            "'|'",
            "coalesce(lead_source_text, '')",
            "'|'",
            "coalesce(campaign_id, '')",
        ]) }} as raw_key,
        row_number() over (
            partition by
                coalesce(
                    {{ dbt.safe_cast('spend_date', dbt.type_string()) }},
                    spend_date_text
                ),
                lead_source,
                campaign_key
            order by
                case when amount >= 0 then 0 else 1 end,
                amount desc nulls last,
                {{ lead_scoring.text_order('amount_text') }} asc nulls last,
                {{ lead_scoring.text_order('campaign_id') }} asc nulls last
        ) as copy_rank
    from typed
),

classified as (
    select
        *,
        case
            when spend_date_text is null or lead_source is null
                then 'missing_key'
            when copy_rank > 1 then 'duplicate'
            when spend_date is null then 'unparseable_timestamp'
            when spend_date > cast({{ lead_scoring.as_of_timestamp() }} as date)
                then 'future_dated'
            when amount is null or amount < 0 then 'invalid_amount'
        end as rejection_reason
    from ranked
),

final as (
    select
        'marketing_spend' as source_table,
        {{ lead_scoring.rejected_row_id(
            'marketing_spend',
            ['spend_date_text', 'lead_source_text', 'campaign_id'],
            'copy_rank',
        ) }} as rejected_row_id,
        raw_key,
        rejection_reason,
        case rejection_reason
            when 'missing_key' then 'spend_date or lead_source is blank'
            when 'duplicate'
                then 'same day, source and campaign; largest amount kept'
            when 'unparseable_timestamp' then {{ dbt.concat([
                "'spend_date '", 'spend_date_text', "' is not a date'",
            ]) }}
            when 'future_dated' then {{ dbt.concat([
                "'spend_date '",
                'spend_date_text',
                "' is after as_of " ~ lead_scoring.as_of_text() ~ "'",
            ]) }}
            when 'invalid_amount' then {{ dbt.concat([
                "'amount '",
                "coalesce(amount_text, '(blank)')",
                "' is not a non-negative number'",
            ]) }}
        end as rejection_detail,
        spend_date,
        lead_source,
        campaign_id,
        amount
    from classified
)

select * from final
