{{ config(
    materialized=lead_scoring.lead_incremental_materialization(),
    unique_key='copy_group_key',
    rebuild_check='withdrawn_erasures',
) }}

-- Columns and unions written by Jinja loops and branches, whose layout the
-- indentation rule (LT02) cannot judge:
-- sqlfluff:exclude_rules:LT02

-- Every raw marketing activity row (grain: raw row), with what can be said
-- of it whatever as_of is:
--   * its copy group (copy_group_key: the rows sharing its activity_id; rows
--     with a blank activity_id are grouped by lead) and copy_rank among the
--     group's rows: 1 wins, the earliest occurred_at (unparseable last),
--     ties broken by the other columns, so the outcome never depends on the
--     order rows were loaded in;
--   * page views re-typed by URL (stg_marketing__page_urls, from the seed
--     url_page_patterns) and whether the type is a known one
--     (activity_types);
--   * the rows of an erased lead (stg_crm__erased_leads) masked: no
--     readable trace, only one-way hashes (pii_hash) of the row's content
--     and of its lead_id, and the row's number among identical copies.
--     They take no part in the ranking.
-- Whether a row is used at as_of (its lead live then, occurred by then) is
-- decided by int_activities_valid and fct_rejected_rows.
--
-- Incremental (macros/incremental/lead_incremental.sql): a build reads only
-- the raw rows loaded since the previous one (base_marketing__activities
-- types them) and re-ranks the copy groups they join, plus the groups of
-- leads erased since; the other rows are kept. When the erasure of a lead
-- whose rows are stored masked was taken back, the model is rebuilt
-- instead (config rebuild_check, macro withdrawn_erasures): masked rows
-- cannot be unmasked, so every raw row is read again.
{%- set mode = lead_scoring.incremental_mode() %}
{%- set content_order = [
    'occurred_at asc nulls last',
    lead_scoring.text_order('lead_id') ~ ' asc nulls last',
    lead_scoring.text_order('source_activity_type') ~ ' asc nulls last',
    lead_scoring.text_order('url') ~ ' asc nulls last',
    lead_scoring.text_order('asset') ~ ' asc nulls last',
    lead_scoring.text_order('campaign_id') ~ ' asc nulls last',
    lead_scoring.text_order('occurred_at_text') ~ ' asc nulls last',
    'loaded_at asc nulls last',
] %}
{#- The columns the table keeps for every raw row, masked or not. #}
{%- set stored_columns = [
    'copy_group_key', 'loaded_at', 'copy_rank', 'is_erased',
    'erased_lead_key_hash', 'erased_content_hash', 'erased_copy_number',
    'is_known_type', 'activity_id', 'lead_id', 'activity_type',
    'source_activity_type', 'url', 'asset', 'campaign_id', 'occurred_at',
    'occurred_at_text',
] %}

with

activity_rows as (
    select * from {{ ref('base_marketing__activities') }}
),

page_types as (
    select * from {{ ref('stg_marketing__page_urls') }}
),

known_types as (
    select * from {{ ref('activity_types') }}
),

erased_lead_ids as (
    -- The ids of the erased leads (in this query only), so that their
    -- activities are found by lead_id, no activity hashed.
    {{ lead_scoring.erased_lead_ids(
        ref('base_crm__leads'), ref('stg_crm__erased_leads')
    ) }}
),

fresh as (
    -- The raw rows this build reads: those loaded since the previous build
    -- (every row when it is rebuilt). The condition is on the raw row
    -- alone, so DuckDB applies it while scanning the raw table. (One
    -- reference to activity_rows: DuckDB materialises a CTE read twice,
    -- which would type every raw row.)
    select *
    from activity_rows
    where {{ lead_scoring.new_raw_rows_condition(mode, 'loaded_at') }}
),

fresh_grouped as (
    select
        fresh.*,
        case
            when fresh.source_activity_type = 'page_view'
                then coalesce(page_types.page_type, fresh.source_activity_type)
            else fresh.source_activity_type
        end as activity_type,
        case
            when fresh.activity_id is not null
                then {{ lead_scoring.group_hash('fresh.activity_id') }}
            else {{ lead_scoring.group_hash(
                lead_scoring.pii_hash('fresh.lead_id')
            ) }}
        end as copy_group_key
    from fresh
    left join page_types
        on fresh.url = page_types.url
),

{%- if mode.incremental %}

-- The stored rows ({{ this }}) are read where they are needed, not through
-- a CTE: DuckDB materialises a CTE read several times, here every stored
-- row.
affected_groups as (
    select copy_group_key from fresh_grouped
    union
    -- the groups of leads stored unmasked that have asked to be erased since
    select copy_group_key from {{ this }}
    where
        not is_erased
        and lead_id in (select erased_lead_ids.lead_id from erased_lead_ids)
),

carried as (
    -- The stored rows of the affected groups that are not read again.
    select * from {{ this }}
    where
        copy_group_key in (select affected_groups.copy_group_key from affected_groups)
        and not {{ lead_scoring.new_raw_rows_condition(mode, 'loaded_at') }}
),

candidates as (
    -- Rows to decide: the fresh ones and the carried unmasked ones.
    select
        activity_id, lead_id, source_activity_type, activity_type, url, asset,
        campaign_id, occurred_at, occurred_at_text, loaded_at, copy_group_key
    from fresh_grouped
    union all
    select
        activity_id, lead_id, source_activity_type, activity_type, url, asset,
        campaign_id, occurred_at, occurred_at_text, loaded_at, copy_group_key
    from carried
    where not is_erased
),

kept_masked as (
    select * from carried
    where is_erased
),

masked_copies as (
    -- How many masked rows of each content are kept: new identical copies
    -- are numbered after them.
    select
        erased_content_hash,
        max(erased_copy_number) as copies
    from kept_masked
    group by erased_content_hash
),

{%- else %}

candidates as (
    select * from fresh_grouped
),

{%- endif %}

flagged as (
    select
        candidates.*,
        erased_lead_ids.lead_key_hash as erased_lead_key_hash,
        erased_lead_ids.lead_id is not null as is_erased
    from candidates
    left join erased_lead_ids
        on candidates.lead_id = erased_lead_ids.lead_id
),

{%- set numbered_columns = [
    'copy_group_key', 'loaded_at', 'is_erased', 'erased_lead_key_hash',
    'activity_id', 'lead_id', 'activity_type', 'source_activity_type', 'url',
    'asset', 'campaign_id', 'occurred_at', 'occurred_at_text',
    'copy_rank', 'erased_content_hash', 'erased_copy_number',
] %}

shared_groups as (
    -- The copy groups holding more than one kept row. Most activities
    -- arrive once, so only these few rows need ranking.
    select copy_group_key
    from flagged
    where not is_erased
    group by copy_group_key
    having count(*) > 1
),

ranked as (
    -- A kept row's rank among its copies: 1 for a row alone in its group,
    -- else by content_order. (Erased rows are numbered apart: in one
    -- window with the others they would form one partition of every kept
    -- row, which one thread must sort.)
    select
        *,
        1 as copy_rank,
        cast(null as {{ dbt.type_string() }}) as erased_content_hash,
        cast(null as integer) as erased_copy_number
    from flagged
    where
        not is_erased
        and copy_group_key not in (
            select shared_groups.copy_group_key from shared_groups
        )
    union all
    select
        *,
        cast(row_number() over (
            partition by
                activity_id,
                case when activity_id is null then lead_id end
            order by {{ content_order | join(', ') }}
        ) as integer) as copy_rank,
        cast(null as {{ dbt.type_string() }}) as erased_content_hash,
        cast(null as integer) as erased_copy_number
    from flagged
    where
        not is_erased
        and copy_group_key in (
            select shared_groups.copy_group_key from shared_groups
        )
),

hashed_erased as (
    select
        *,
        {{ lead_scoring.pii_hash(
            lead_scoring.encode_key([
                'activity_id', 'lead_id', 'source_activity_type', 'url',
                'asset', 'campaign_id', 'occurred_at_text',
            ])
        ) }} as erased_content_hash
    from flagged
    where is_erased
),

numbered_erased as (
    -- An erased row's number among the masked rows of identical content,
    -- in load order (rows that also share the load marker are identical in
    -- every column kept, so their order does not matter).
    select
        hashed_erased.*,
        cast(null as integer) as copy_rank,
        cast(
            {%- if mode.incremental %}
            coalesce(masked_copies.copies, 0) +
            {%- endif %}
            row_number() over (
                partition by hashed_erased.erased_content_hash
                order by
                    hashed_erased.copy_group_key asc,
                    hashed_erased.loaded_at asc nulls last
            ) as integer
        ) as erased_copy_number
    from hashed_erased
    {%- if mode.incremental %}
    left join masked_copies
        on hashed_erased.erased_content_hash = masked_copies.erased_content_hash
    {%- endif %}
),

numbered as (
    select {{ numbered_columns | join(', ') }} from ranked
    union all
    select {{ numbered_columns | join(', ') }} from numbered_erased
),

masked as (
    select
        numbered.copy_group_key,
        numbered.loaded_at,
        numbered.copy_rank,
        numbered.is_erased,
        numbered.erased_lead_key_hash,
        numbered.erased_content_hash,
        numbered.erased_copy_number,
        known_types.activity_type is not null as is_known_type
        {%- for column in [
            'activity_id', 'lead_id', 'activity_type', 'source_activity_type',
            'url', 'asset', 'campaign_id', 'occurred_at', 'occurred_at_text',
        ] %},
        case
            when numbered.is_erased then null else numbered.{{ column }}
        end as {{ column }}
        {%- endfor %}
    from numbered
    left join known_types
        on numbered.activity_type = known_types.activity_type
),

decided as (
    select * from masked
    {%- if mode.incremental %}
    union all
    select {{ stored_columns | join(', ') }}
    from kept_masked
    {%- endif %}
),

final as (
    select
        {{ stored_columns | join(', ') }},
        {{ lead_scoring.build_state_columns(mode) }}
    from decided
)

select * from final
