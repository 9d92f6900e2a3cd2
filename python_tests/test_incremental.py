"""Incremental builds give exactly the marts of a full rebuild.

One warehouse is built once and then incrementally after each of several
loads appended to its raw tables (each with its own load marker, as
`lead-scoring load --mode append` writes it) and as_of moves; after every
step a second warehouse loads the same raw rows and builds from nothing.
Every mart and every incremental model must hold the same rows in both.

The batches hold what makes incremental builds go wrong: activities loaded
days after they occurred, re-delivered activity_ids (an earlier copy that
now wins, an identical copy, a copy under another lead), blank keys, an
activity of a lead that arrives only in the next load, a lead erased after
its activities were scored, a lead whose attributes change, resets and a
disqualification, activities that become valid only when as_of moves on,
and as_of moving back. An edited rule file (and every other seed, a var and a
macro) is in test_definition_changes.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import (
    COMPARED_ROWS, MARTS, Warehouse, contents, incremental_models, same_value,
)
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import load

pytestmark = pytest.mark.slow

T0 = datetime(2026, 6, 30, 23, 59, 59)


def _text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _append(warehouse: Warehouse, loaded_at: datetime, statements: list[str]) -> None:
    """Insert rows into the raw tables with one load marker, as a load would."""
    marker = f"timestamp '{_text(loaded_at)}'"
    for statement in statements:
        warehouse.query(statement.replace("{marker}", marker))


def _assert_same_as_full_build(
    incremental: Warehouse, root: Path, step: str, as_of: datetime
) -> None:
    """Rebuild the same raw rows from nothing and compare every relation."""
    export = root / f"raw-{step}"
    export.mkdir()
    for table in ("leads", "activities", "sales_activities", "lead_status_changes",
                  "opportunities", "marketing_spend"):
        incremental.query(
            f"copy raw.{table} to '{export / (table + '.parquet')}' (format parquet)"
        )
    full = Warehouse(root / f"full-{step}", incremental.project_dir)
    full.root.mkdir()
    load(export, duckdb_path=str(full.path))
    # The full build needs no data tests: the incremental ones ran them.
    result = full.dbt("build", "--resource-type", "model", "--resource-type", "seed",
             vars={"as_of": _text(as_of)})
    compared = 0
    for relation in [*MARTS, *incremental_models(result)]:
        where = COMPARED_ROWS.get(relation, "true")
        built = contents(incremental, relation, where)
        rebuilt = contents(full, relation, where)
        assert len(built) == len(rebuilt), (
            f"{step}: {relation} has {len(built)} rows incrementally, "
            f"{len(rebuilt)} from a full build"
        )
        for left, right in zip(built, rebuilt):
            assert len(left) == len(right) and all(
                same_value(a, b) for a, b in zip(left, right)
            ), f"{step}: {relation} differs:\n  incremental {left}\n  full        {right}"
        compared += len(built)
    assert compared > 10_000


def _scoped(incremental: Warehouse) -> int:
    """Leads the last incremental build recomputed in the rule states."""
    return incremental.query(
        "select count(distinct lead_id) from analytics.int_lead_rule_states "
        "where _recomputed_at = (select max(_recomputed_at) "
        "from analytics.int_lead_rule_states)"
    )[0][0]


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Path]:
    root = Path(tmp_path_factory.mktemp("incremental"))
    warehouse = Warehouse(root / "incremental")
    warehouse.root.mkdir()
    generate(
        warehouse.raw_dir, leads=400, seed=3, dirty_rate=0.05, fmt="csv",
        as_of=_text(T0), activities_per_lead=25,
    )
    load(warehouse.raw_dir, duckdb_path=str(warehouse.path), loaded_at=_text(T0))
    warehouse.dbt("build", vars={"as_of": _text(T0)})
    return warehouse, root


def test_incremental_builds_equal_full_builds_over_appended_loads(incremental) -> None:
    warehouse, root = incremental
    leads = warehouse.query(
        "select count(*) from analytics.dim_leads"
    )[0][0]
    mql_leads = [row[0] for row in warehouse.query(
        "select distinct lead_id from analytics.fct_mql_events order by lead_id limit 6"
    )]
    assert len(mql_leads) == 6
    some_leads = [row[0] for row in warehouse.query(
        "select lead_id from analytics.dim_leads order by lead_id limit 5"
    )]

    # 1. One day later: new and late activities, re-delivered ids, blank keys,
    #    an activity of a lead not loaded yet, future-dated rows, resets.
    day1 = T0 + timedelta(days=1)
    picked = "hash(activity_id) % 50 = 0"
    _append(warehouse, day1, [
        f"""insert into raw.activities by name
            select activity_id || '-n1' as activity_id, lead_id, activity_type, url,
                asset, campaign_id,
                strftime(timestamp '{_text(T0)}' + to_seconds(hash(activity_id) % 86000),
                    '%Y-%m-%d %H:%M:%S') as occurred_at,
                {{marker}} as _loaded_at
            from raw.activities where {picked}""",
        f"""insert into raw.activities by name
            select activity_id || '-l1' as activity_id, lead_id, activity_type, url,
                asset, campaign_id,
                strftime(timestamp '{_text(T0)}' - interval 3 day, '%Y-%m-%d %H:%M:%S')
                    as occurred_at,
                {{marker}} as _loaded_at
            from raw.activities where hash(activity_id) % 50 = 1""",
        # An earlier copy of existing ids (it wins now) and identical copies.
        """insert into raw.activities by name
            select activity_id, lead_id, activity_type, url, asset, campaign_id,
                strftime(try_cast(occurred_at as timestamp) - interval 1 hour,
                    '%Y-%m-%d %H:%M:%S') as occurred_at,
                {marker} as _loaded_at
            from raw.activities
            where hash(activity_id) % 60 = 2 and try_cast(occurred_at as timestamp) is not null
                and _loaded_at < {marker}""",
        """insert into raw.activities by name
            select * replace ({marker} as _loaded_at)
            from raw.activities where hash(activity_id) % 60 = 3 and _loaded_at < {marker}""",
        # The same ids again under another lead, an hour earlier: that lead's copy wins.
        f"""insert into raw.activities by name
            select activity_id, '{some_leads[0]}' as lead_id, 'Demo Request' as activity_type,
                url, asset, campaign_id,
                strftime(try_cast(occurred_at as timestamp) - interval 1 hour,
                    '%Y-%m-%d %H:%M:%S') as occurred_at,
                {{marker}} as _loaded_at
            from raw.activities
            where hash(activity_id) % 97 = 4 and lead_id <> '{some_leads[0]}'
                and try_cast(occurred_at as timestamp) is not null and _loaded_at < {{marker}}""",
        f"""insert into raw.activities by name
            select * from (values
                (null, '{some_leads[1]}', 'email_click', null, null, null,
                    '{_text(T0 + timedelta(hours=3))}', {{marker}}),
                ('', '{some_leads[2]}', 'page_view', '/pricing', null, null,
                    '{_text(T0 + timedelta(hours=4))}', {{marker}}),
                ('orphan-1', 'L-LATE-1', 'demo_request', null, null, null,
                    '{_text(T0 + timedelta(hours=5))}', {{marker}}),
                ('orphan-2', 'L-LATE-1', 'pricing_page_view', '/pricing', null, null,
                    '{_text(T0 + timedelta(hours=6))}', {{marker}}),
                ('future-1', '{some_leads[3]}', 'demo_request', null, null, null,
                    '{_text(T0 + timedelta(days=2, hours=1))}', {{marker}}),
                ('future-2', '{mql_leads[5]}', 'webinar_attendance', null, null, null,
                    '{_text(T0 + timedelta(days=2, hours=2))}', {{marker}})
            ) as rows(activity_id, lead_id, activity_type, url, asset, campaign_id,
                occurred_at, _loaded_at)""",
        f"""insert into raw.lead_status_changes by name
            select * from (values
                ('sc-n1', '{mql_leads[0]}', 'sales_rejected', 'not now',
                    '{_text(T0 + timedelta(hours=1))}', {{marker}}),
                ('sc-n2', '{mql_leads[1]}', 'recycled', 'no budget',
                    '{_text(T0 - timedelta(days=2))}', {{marker}}),
                ('sc-n3', '{mql_leads[2]}', 'disqualified', 'competitor',
                    '{_text(T0 - timedelta(days=1))}', {{marker}}),
                ('sc-n4', '{mql_leads[3]}', 'sales_accepted', null,
                    '{_text(T0 + timedelta(days=2, hours=3))}', {{marker}})
            ) as rows(status_change_id, lead_id, status, reason, changed_at, _loaded_at)""",
    ])
    warehouse.dbt("build", vars={"as_of": _text(day1)})
    scoped = _scoped(warehouse)
    assert 0 < scoped < leads, f"the first incremental build recomputed {scoped} leads"
    _assert_same_as_full_build(warehouse, root, "day1", day1)

    # 2. The late lead arrives (its activities become valid), a lead is
    #    erased, another changes its job title.
    day2 = T0 + timedelta(days=2)
    _append(warehouse, day2, [
        f"""insert into raw.leads by name
            select * replace (
                'L-LATE-1' as lead_id, 'late.lead@example.com' as email,
                'VP Marketing' as job_title,
                '{_text(T0)}' as created_at, '{_text(T0)}' as updated_at,
                'false' as is_deleted, {{marker}} as _loaded_at)
            from raw.leads where trim(lead_id) = '{some_leads[4]}'
            order by updated_at desc limit 1""",
        f"""insert into raw.leads by name
            select * replace (
                '{_text(day2)}' as updated_at, 'true' as is_deleted,
                {{marker}} as _loaded_at)
            from raw.leads where trim(lead_id) = '{mql_leads[4]}'
            order by updated_at desc limit 1""",
        f"""insert into raw.leads by name
            select * replace (
                'Chief Executive Officer' as job_title, '{_text(day2)}' as updated_at,
                {{marker}} as _loaded_at)
            from raw.leads where trim(lead_id) = '{some_leads[3]}'
            order by updated_at desc limit 1""",
        f"""insert into raw.activities by name
            select activity_id || '-n2' as activity_id, lead_id, activity_type, url,
                asset, campaign_id,
                strftime(timestamp '{_text(day1)}' + to_seconds(hash(activity_id) % 86000),
                    '%Y-%m-%d %H:%M:%S') as occurred_at,
                {{marker}} as _loaded_at
            from raw.activities where hash(activity_id) % 70 = 5 and _loaded_at < {{marker}}""",
    ])
    warehouse.dbt("build", vars={"as_of": _text(day2)})
    assert warehouse.query(
        "select count(*) from analytics.dim_leads where lead_id = 'L-LATE-1'"
    ) == [(1,)]
    assert warehouse.query(
        f"select count(*) from analytics.dim_leads where lead_id = '{mql_leads[4]}'"
    ) == [(0,)]
    _assert_same_as_full_build(warehouse, root, "day2", day2)

    # 3. Nothing loaded; as_of moves on a day (the rows dated after day2
    #    become valid), then back to day1 (they are future-dated again).
    day3 = T0 + timedelta(days=3)
    warehouse.dbt("build", vars={"as_of": _text(day3)})
    _assert_same_as_full_build(warehouse, root, "day3", day3)
    warehouse.dbt("build", vars={"as_of": _text(day1)})
    _assert_same_as_full_build(warehouse, root, "back-to-day1", day1)

    # 4. The erasure of step 2 is taken back (a later CRM row without
    #    is_deleted): the lead's activities, stored masked, cannot be
    #    unmasked, so stg_marketing__activities is rebuilt from the raw rows
    #    (config rebuild_check, macro withdrawn_erasures), and the models
    #    after it with it.
    day4 = T0 + timedelta(days=4)
    masked_before = warehouse.query(
        "select count(*) from analytics.stg_marketing__activities where is_erased"
    )[0][0]
    assert masked_before > 0
    _append(warehouse, day4, [
        f"""insert into raw.leads by name
            select * replace (
                '{_text(day4)}' as updated_at, 'false' as is_deleted,
                {{marker}} as _loaded_at)
            from raw.leads where trim(lead_id) = '{mql_leads[4]}'
            order by updated_at desc limit 1""",
    ])
    warehouse.dbt("build", vars={"as_of": _text(day4)})
    assert warehouse.query(
        f"select count(*) from analytics.dim_leads where lead_id = '{mql_leads[4]}'"
    ) == [(1,)]
    assert any(
        "stg_marketing__activities rebuilt: the erasure of 1 lead(s)" in line
        for line in warehouse.log_lines()
    )
    [(restored, masked_after, rewritten, kept)] = warehouse.query(
        f"""select count(*) filter (where lead_id = '{mql_leads[4]}'),
                count(*) filter (where is_erased),
                count(*) filter (where _recomputed_at = latest),
                count(*) filter (where _recomputed_at < latest)
            from analytics.stg_marketing__activities,
                (select max(_recomputed_at) as latest
                 from analytics.stg_marketing__activities)"""
    )
    assert restored > 0 and masked_after < masked_before
    assert rewritten > 0 and kept == 0, "every row is rewritten: a rebuild"
    _assert_same_as_full_build(warehouse, root, "erasure-taken-back", day4)
