"""Fuzzed raw input: garbage in every column never fails the build.

A dbt build costs seconds, so each example puts thousands of garbage rows
across the six raw tables into one build. Hypothesis draws the shape of an
example (a seed, the dirt mix, the value pools); a seeded random generator
expands it into rows: wrong types, empty strings, nulls, huge and negative
numbers, unicode and SQL metacharacters, timestamps in several formats and
time zones, duplicate keys and orphans.

Properties: the build succeeds (only configuration may fail it), raw = used
+ rejected per source, every rejected row has a reason and a detail, every
mart key is unique and not null (the build's own tests).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import STAGED, Warehouse
from lead_scoring.contract import RAW_TABLES

pytestmark = pytest.mark.slow

TEXT_JUNK = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
SQL_JUNK = st.sampled_from([
    "'; drop table raw.leads; --", "\" or 1=1 --", "%", "_", "\\", "|", "||",
    "${x}", "{{ var('x') }}", "NULL", "null", "None", " ", "\t", "\n",
])
NUMBER_JUNK = st.one_of(
    st.integers(min_value=-10**20, max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1,200", "~500", "n/a", "$5M", "1e400", "-0", "0x1F", "NaN"]),
)
TIMESTAMP_JUNK = st.one_of(
    st.datetimes().map(str),
    st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S+05:30")),
    st.datetimes().map(lambda moment: moment.strftime("%d/%m/%Y %H:%M")),
    st.sampled_from(["2025-02-30 10:00:00", "not a date", "", "0000-00-00",
                     "2025-13-01", "9999-12-31 23:59:59", "1970-01-01"]),
)


@st.composite
def example_shape(draw: st.DrawFn) -> dict:
    """What one fuzz build looks like: seed, sizes and junk pools."""
    return {
        "seed": draw(st.integers(min_value=0, max_value=2**32 - 1)),
        "leads": draw(st.integers(min_value=150, max_value=400)),
        "activities_per_lead": draw(st.integers(min_value=2, max_value=8)),
        "junk_rate": draw(st.floats(min_value=0.05, max_value=0.6)),
        "text": draw(st.lists(st.one_of(TEXT_JUNK, SQL_JUNK), min_size=5, max_size=20)),
        "numbers": draw(st.lists(NUMBER_JUNK, min_size=5, max_size=20)),
        "timestamps": draw(st.lists(TIMESTAMP_JUNK, min_size=5, max_size=20)),
    }


def garbage_tables(shape: dict) -> dict[str, list[dict]]:
    """Expand a shape into rows for all six raw tables."""
    rng = random.Random(shape["seed"])
    junk = shape["junk_rate"]

    def pick(pool: list[str], good: str) -> str | None:
        roll = rng.random()
        if roll < junk * 0.2:
            return None
        if roll < junk:
            return rng.choice(pool)
        return good

    def moment() -> str:
        return (f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00")

    lead_ids = [f"L{index}" for index in range(shape["leads"])]
    known = lead_ids + ["ghost", "", None]
    tables: dict[str, list[dict]] = {table: [] for table in RAW_TABLES}
    for lead_id in lead_ids:
        for _ in range(rng.choice([1, 1, 1, 2])):  # some duplicated leads
            tables["leads"].append({
                column: pick(
                    shape["numbers"] if column in {"employee_count", "annual_revenue"}
                    else shape["timestamps"] if column.endswith("_at")
                    else shape["text"],
                    {"lead_id": lead_id, "email": f"{lead_id}@x.io",
                     "country": rng.choice(["US", "de", "France", "??"]),
                     "employee_count": str(rng.randint(1, 9000)),
                     "created_at": moment(), "updated_at": moment(),
                     "is_deleted": rng.choice(["false"] * 9 + ["true"]),
                     "job_title": rng.choice(["CEO", "VP Sales", "Student", "Dev"]),
                     }.get(column, "x"),
                )
                for column in RAW_TABLES["leads"]
            })
    event_tables = {
        "activities": ("activity_id", "occurred_at", "activity_type",
                       ["Email Open", "demo_request", "page_view", "??"]),
        "sales_activities": ("sales_activity_id", "occurred_at", "activity_type",
                             ["call", "email"]),
        "lead_status_changes": ("status_change_id", "changed_at", "status",
                                ["sales_accepted", "Recycled", "disqualified",
                                 "sales_rejected", "on hold"]),
        "opportunities": ("opportunity_id", "created_at", "stage", ["open", "won"]),
    }
    for table, (key, timestamp, kind, kinds) in event_tables.items():
        count = shape["leads"] * (shape["activities_per_lead"] if table ==
                                  "activities" else 1)
        for index in range(count):
            key_value = f"{key[:2]}{rng.randint(0, count)}"  # collisions on purpose
            good = {key: key_value, "lead_id": rng.choice(known),
                    timestamp: moment(), kind: rng.choice(kinds),
                    "url": rng.choice(["https://a.io/pricing", "/careers", ""]),
                    "amount": str(rng.randint(-100, 10**6)),
                    "is_closed": rng.choice(["true", "false", "yes", "0"]),
                    "is_won": rng.choice(["true", "false"]),
                    "closed_at": moment()}
            tables[table].append({
                column: pick(
                    shape["timestamps"] if column.endswith("_at")
                    else shape["numbers"] if column == "amount"
                    else shape["text"],
                    good.get(column, "x"),
                )
                for column in RAW_TABLES[table]
            })
    for _ in range(shape["leads"]):
        tables["marketing_spend"].append({
            "spend_date": pick(shape["timestamps"], f"2025-{rng.randint(1, 12):02d}-01"),
            "lead_source": pick(shape["text"], rng.choice(["webinar", "Paid Search"])),
            "campaign_id": pick(shape["text"], rng.choice(["C1", "", "c1"])),
            "amount": pick(shape["numbers"], str(rng.uniform(0, 500))),
        })
    return tables


@settings(
    max_examples=5,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(shape=example_shape())
def test_garbage_never_breaks_the_build(shape: dict, tmp_path_factory) -> None:
    warehouse = Warehouse(Path(tmp_path_factory.mktemp("fuzz")))
    tables = garbage_tables(shape)
    warehouse.write_raw(tables)
    total = sum(len(rows) for rows in tables.values())
    assert total > 1000
    print(f"fuzz example seed={shape['seed']}: {total} raw rows "
          f"({', '.join(f'{t} {len(r)}' for t, r in tables.items())})")
    # The build runs every data test too: unique and not-null mart keys,
    # raw = used + rejected, scores = ledger, rates within [0, 1]...
    warehouse.dbt("build", vars={"as_of": "2025-12-31 23:59:59"})
    for table, staged_model in STAGED.items():
        [(raw,)] = warehouse.query(f"select count(*) from raw.{table}")
        assert raw == len(tables[table])
        [(used,)] = warehouse.query(f"select count(*) from {staged_model}")
        [(rejected, unexplained)] = warehouse.query(
            "select count(*), count(*) filter (where rejection_detail is null) "
            "from analytics.fct_rejected_rows where source_table = ?",
            [table],
        )
        if table == "activities":
            # The activities' staging table keeps every raw row, whatever
            # as_of (the valid ones are int_activities_valid).
            [(stored,)] = warehouse.query(
                "select count(*) from analytics.stg_marketing__activities"
            )
            assert stored == raw, table
        assert raw == used + rejected, table
        assert unexplained == 0, table
