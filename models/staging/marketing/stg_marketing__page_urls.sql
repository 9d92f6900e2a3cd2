-- One row per distinct URL of a raw activity that a pattern of the seed
-- url_page_patterns matches (grain: URL), with the page type a page view of
-- that URL is re-typed to: the first pattern the URL contains (ignoring
-- case), by match_priority, then pattern. A URL no pattern matches is not
-- here (its page views stay page_view), nor one that only erased leads'
-- activities carry (no readable trace of them is kept).
--
-- A table of its own, which stg_marketing__activities joins its rows to,
-- so that query reads the raw activities once: DuckDB holds whole a
-- relation one query reads twice (at 100 million activities that cost the
-- query a quarter of its time). Rebuilt in every build from every raw row,
-- so a URL is here whatever load brought it.

with

activity_rows as (
    select * from {{ ref('base_marketing__activities') }}
),

url_patterns as (
    select * from {{ ref('url_page_patterns') }}
),

erased_lead_ids as (
    {{ lead_scoring.erased_lead_ids(
        ref('base_crm__leads'), ref('stg_crm__erased_leads')
    ) }}
),

urls as (
    select distinct activity_rows.url
    from activity_rows
    left join erased_lead_ids
        on activity_rows.lead_id = erased_lead_ids.lead_id
    where
        activity_rows.url is not null
        and erased_lead_ids.lead_id is null
),

matches as (
    select
        urls.url,
        url_patterns.page_type,
        row_number() over (
            partition by urls.url
            order by
                url_patterns.match_priority asc,
                {{ lead_scoring.text_order('url_patterns.url_pattern') }} asc
        ) as match_rank
    from urls
    inner join url_patterns
        on lower(urls.url) like {{ dbt.concat([
            "'%'", 'lower(url_patterns.url_pattern)', "'%'",
        ]) }}
),

final as (
    select
        url,
        page_type
    from matches
    where match_rank = 1
)

select * from final
