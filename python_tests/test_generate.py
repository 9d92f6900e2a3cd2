"""Tests of the synthetic raw data generator (lead_scoring.synthetic.generate).

The central check re-derives the rejection reason of every raw row from the
written files with an independent, row-by-row implementation of the staging
rules, and compares it with `_expected_rejections.csv` and the manifest.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lead_scoring.synthetic import vocab
from lead_scoring.cli import main
from lead_scoring.contract import RAW_TABLES, REJECTION_REASONS
from lead_scoring.errors import GenerateError
from lead_scoring.synthetic.generate import MAX_LEADS, generate

AS_OF = "2026-06-30 23:59:59"
AS_OF_DT = datetime(2026, 6, 30, 23, 59, 59)
SMALL = {"leads": 1500, "activities_per_lead": 15, "dirty_rate": 0.1, "seed": 7}
TS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z")
TRUTHY = {"true", "t", "1", "yes", "y"}
EVENT_TABLES = {
    "activities": "occurred_at",
    "sales_activities": "occurred_at",
    "lead_status_changes": "changed_at",
    "opportunities": "created_at",
}


# ------------------------------------------------------------------ helpers


def read_rows(folder: Path, table: str) -> list[dict]:
    """Rows of a generated Parquet table as dicts."""
    return pq.read_table(folder / f"{table}.parquet").to_pylist()


def read_expected(folder: Path) -> Counter:
    """(table, raw_key, reason) lines of _expected_rejections.csv as a multiset."""
    with open(folder / "_expected_rejections.csv", newline="") as handle:
        return Counter(
            (row["table_name"], row["raw_key"], row["rejection_reason"])
            for row in csv.DictReader(handle)
        )


def blank(value: str | None) -> bool:
    """Null, empty or whitespace only."""
    return value is None or value.strip() == ""


def parse_ts(value: str | None) -> datetime | None:
    """UTC (naive) of a timestamp in one of the three written formats."""
    if blank(value):
        return None
    for pattern in TS_FORMATS:
        try:
            moment = datetime.strptime(value.strip(), pattern)
        except ValueError:
            continue
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return moment
    return None


def rank_key(moment: datetime | None, latest_first: bool) -> tuple:
    """Sort key putting unparseable timestamps last."""
    if moment is None:
        return (1, 0.0)
    seconds = moment.replace(tzinfo=timezone.utc).timestamp()
    return (0, -seconds if latest_first else seconds)


def winners(rows: list[dict], key: str, ts_column: str, latest_first: bool) -> set:
    """Indexes of the winning row of each non-blank key; fails on a real tie."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if not blank(row[key]):
            groups[row[key]].append(index)
    chosen = set()
    for members in groups.values():
        ranked = sorted(
            members,
            key=lambda i: rank_key(parse_ts(rows[i][ts_column]), latest_first),
        )
        if len(ranked) > 1:
            first, second = ranked[0], ranked[1]
            same_rank = rank_key(
                parse_ts(rows[first][ts_column]), latest_first
            ) == rank_key(parse_ts(rows[second][ts_column]), latest_first)
            assert not same_rank or rows[first] == rows[second], "tied winner"
        chosen.add(ranked[0])
    return chosen


def classify_leads(rows: list[dict]) -> tuple[list, set, set]:
    """Reasons of lead rows, erased lead ids, live lead ids."""
    winning = winners(rows, "lead_id", "updated_at", latest_first=True)
    erased = {
        rows[i]["lead_id"]
        for i in winning
        if (rows[i]["is_deleted"] or "").strip().lower() in TRUTHY
    }
    live = {rows[i]["lead_id"] for i in winning} - erased
    reasons = []
    for index, row in enumerate(rows):
        if not blank(row["lead_id"]) and row["lead_id"] in erased:
            reasons.append(("erased", row["lead_id"]))
        elif blank(row["lead_id"]):
            reasons.append(("missing_key", ""))
        elif index not in winning:
            reasons.append(("duplicate", row["lead_id"]))
    return reasons, erased, live


def classify_events(table, rows, erased, live) -> list:
    """Reasons of event rows by the staging rules."""
    key, ts_column = RAW_TABLES[table][0], EVENT_TABLES[table]
    winning = winners(rows, key, ts_column, latest_first=False)
    reasons = []
    for index, row in enumerate(rows):
        lead, moment = row["lead_id"], parse_ts(row[ts_column])
        raw_key = "" if blank(row[key]) else row[key]
        status = (row.get("status") or "").strip().lower()
        if not blank(lead) and lead in erased:
            reasons.append(("erased", raw_key))
        elif blank(row[key]):
            reasons.append(("missing_key", ""))
        elif index not in winning:
            reasons.append(("duplicate", raw_key))
        elif blank(lead) or lead not in live:
            reasons.append(("orphan_lead", raw_key))
        elif moment is None:
            reasons.append(("unparseable_timestamp", raw_key))
        elif moment > AS_OF_DT:
            reasons.append(("future_dated", raw_key))
        elif table == "lead_status_changes" and status not in vocab.STATUSES:
            reasons.append(("unknown_status", raw_key))
    return reasons


def bad_amount(text: str | None) -> bool:
    """Blank, not a finite number, or negative."""
    if blank(text):
        return True
    try:
        value = float(text)
    except ValueError:
        return True
    return not math.isfinite(value) or value < 0


def classify_spend(rows: list[dict]) -> list:
    """Reasons of marketing_spend rows by the staging rules (file order)."""
    seen: set[tuple] = set()
    reasons = []
    for row in rows:
        day, source = row["spend_date"], row["lead_source"]
        campaign = row["campaign_id"] or ""
        raw_key = f"{day or ''}|{source or ''}|{campaign}"
        if blank(day) or blank(source):
            reasons.append(("missing_key", ""))
            continue
        key = (day.strip(), source.strip().lower(), campaign.strip().lower())
        first = key not in seen
        seen.add(key)
        try:
            parsed = datetime.strptime(day.strip(), "%Y-%m-%d").date()
        except ValueError:
            parsed = None
        if not first:
            reasons.append(("duplicate", raw_key))
        elif parsed is None:
            reasons.append(("unparseable_timestamp", raw_key))
        elif parsed > AS_OF_DT.date():
            reasons.append(("future_dated", raw_key))
        elif bad_amount(row["amount"]):
            reasons.append(("invalid_amount", raw_key))
    return reasons


def reference_rejections(folder: Path) -> Counter:
    """Every rejected raw row re-derived from the files."""
    lead_reasons, erased, live = classify_leads(read_rows(folder, "leads"))
    found = Counter(("leads", key, reason) for reason, key in lead_reasons)
    for table in EVENT_TABLES:
        rows = read_rows(folder, table)
        for reason, key in classify_events(table, rows, erased, live):
            found[(table, key, reason)] += 1
    for reason, key in classify_spend(read_rows(folder, "marketing_spend")):
        found[("marketing_spend", key, reason)] += 1
    return found


def per_reason(lines: Counter) -> dict:
    """{table: {reason: count}} of a multiset of rejection lines."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (table, _, reason), count in lines.items():
        counts[table][reason] += count
    return {table: dict(reasons) for table, reasons in counts.items()}


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, dict]:
    """A small, rather dirty data set shared by the read-only tests."""
    folder = tmp_path_factory.mktemp("generated")
    return folder, generate(folder, as_of=AS_OF, **SMALL)


# -------------------------------------------------------------------- tests


def test_files_and_columns_follow_the_contract(dataset):
    folder, manifest = dataset
    for table, columns in RAW_TABLES.items():
        schema = pq.read_schema(folder / f"{table}.parquet")
        assert tuple(schema.names) == columns
        assert all(field.type == pa.string() for field in schema)
        rows = pq.read_metadata(folder / f"{table}.parquet").num_rows
        assert manifest["rows"][table] == rows > 0
    assert json.loads((folder / "_manifest.json").read_text()) == manifest
    assert manifest["as_of"] == AS_OF
    assert manifest["leads"] == SMALL["leads"]
    assert manifest["format"] == "parquet"


def test_expected_rejections_match_the_staging_rules(dataset):
    folder, manifest = dataset
    expected = read_expected(folder)
    assert reference_rejections(folder) == expected
    assert per_reason(expected) == {
        table: reasons
        for table, reasons in manifest["expected_rejections"].items()
        if reasons
    }


def test_every_table_and_reason_is_exercised(dataset):
    _, manifest = dataset
    rejections = manifest["expected_rejections"]
    assert set(rejections["activities"]) == set(REJECTION_REASONS[:6])
    assert set(rejections["leads"]) == {"erased", "missing_key", "duplicate"}
    assert set(rejections["marketing_spend"]) == {
        "missing_key",
        "duplicate",
        "unparseable_timestamp",
        "future_dated",
        "invalid_amount",
    }
    assert "unknown_status" in rejections["lead_status_changes"]
    for table, rows in manifest["rows"].items():
        rejected = sum(rejections[table].values())
        assert manifest["expected_used_rows"][table] == rows - rejected


def test_injected_dirt_is_real_in_the_raw_files(dataset):
    folder, _ = dataset
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.execute(
        f"create table expected as select * from "
        f"read_csv('{folder}/_expected_rejections.csv', all_varchar = true)"
    )
    for table in RAW_TABLES:
        connection.execute(
            f"create view {table} as select * from '{folder}/{table}.parquet'"
        )
    parsed = """coalesce(
        try_strptime(trim({0}), '%Y-%m-%d %H:%M:%S'),
        try_strptime(trim({0}), '%Y-%m-%dT%H:%M:%SZ'),
        try_strptime(trim({0}), '%Y-%m-%dT%H:%M:%S%z')::timestamp
    )"""
    # every expected duplicate activity key occurs at least twice in the file
    assert connection.execute(
        """select count(*) from expected e
        where table_name = 'activities' and rejection_reason = 'duplicate'
          and (select count(*) from activities a where a.activity_id = e.raw_key) < 2
        """
    ).fetchone() == (0,)
    # every orphan activity points at no lead at all (or is blank)
    orphans = connection.execute(
        """select a.lead_id from activities a
        join expected e on e.table_name = 'activities'
         and e.raw_key = a.activity_id and e.rejection_reason = 'orphan_lead'"""
    ).fetchall()
    lead_ids = {
        row[0] for row in connection.execute("select lead_id from leads").fetchall()
    }
    assert orphans and not {lead for (lead,) in orphans} & (lead_ids - {None, "", "  "})
    # future-dated timestamps are after as_of; unparseable ones do not parse
    for table, column in EVENT_TABLES.items():
        key = RAW_TABLES[table][0]
        rows = connection.execute(
            f"""select e.rejection_reason, {parsed.format('t.' + column)} as moment
            from {table} t join expected e on e.table_name = '{table}'
             and e.raw_key = t.{key}
            where e.rejection_reason in ('future_dated', 'unparseable_timestamp')"""
        ).fetchall()
        assert rows
        for reason, moment in rows:
            if reason == "future_dated":
                assert moment > AS_OF_DT
            else:
                assert moment is None


def test_timestamps_parse_the_same_in_duckdb(dataset):
    folder, _ = dataset
    styles = set()
    for table, column in EVENT_TABLES.items():
        values = [row[column] for row in read_rows(folder, table)]
        connection = duckdb.connect()
        connection.execute("set TimeZone = 'UTC'")  # offsets convert to UTC
        parsed = connection.execute(
            """select coalesce(
                try_strptime(trim(v), '%Y-%m-%d %H:%M:%S'),
                try_strptime(trim(v), '%Y-%m-%dT%H:%M:%SZ'),
                try_strptime(trim(v), '%Y-%m-%dT%H:%M:%S%z')::timestamp
            ) from unnest(?) as t(v)""",
            [values],
        ).fetchall()
        for value, (moment,) in zip(values, parsed):
            assert moment == parse_ts(value), value
            if moment is not None:
                styles.add(value[10] + value[19:])
    assert {" ", "TZ", "T+02:00", "T-05:00", "T+05:30"} <= styles


def test_erased_leads_are_deleted_on_their_latest_row(dataset):
    folder, _ = dataset
    rows = read_rows(folder, "leads")
    _, erased, live = classify_leads(rows)
    expected = read_expected(folder)
    erased_lead_keys = {
        key for table, key, reason in expected if (table, reason) == ("leads", "erased")
    }
    assert erased and erased_lead_keys == erased
    # some leads have an older deleted row but a live latest row
    flagged = {
        row["lead_id"]
        for row in rows
        if (row["is_deleted"] or "").strip().lower() in TRUTHY
    }
    assert flagged - erased and flagged - erased <= live
    # every activity of an erased lead is expected as erased, nothing else is
    activities = read_rows(folder, "activities")
    of_erased = [row for row in activities if row["lead_id"] in erased]
    erased_activities = sum(
        count
        for (table, _, reason), count in expected.items()
        if (table, reason) == ("activities", "erased")
    )
    assert of_erased and erased_activities == len(of_erased)


def test_expected_nulls_are_junk_on_live_winning_rows(dataset):
    folder, manifest = dataset
    rows = read_rows(folder, "leads")
    _, _, live = classify_leads(rows)
    winning = winners(rows, "lead_id", "updated_at", latest_first=True)
    by_id = {rows[i]["lead_id"]: rows[i] for i in winning}
    with open(folder / "_expected_nulls.csv", newline="") as handle:
        nulls = list(csv.DictReader(handle))
    assert nulls
    for line in nulls:
        assert line["table_name"] == "leads" and line["raw_key"] in live
        value = by_id[line["raw_key"]][line["column_name"]]
        assert value in vocab.JUNK_NUMBERS
    counts = Counter(line["column_name"] for line in nulls)
    assert manifest["expected_nulls"] == {"leads": dict(counts)}
    # every other winning row carries clean integers
    junk = {(line["raw_key"], line["column_name"]) for line in nulls}
    for lead_id in live:
        for column in ("employee_count", "annual_revenue"):
            if (lead_id, column) not in junk:
                assert by_id[lead_id][column].isdigit()


def test_same_arguments_give_identical_data(tmp_path):
    arguments = {"leads": 300, "activities_per_lead": 8, "seed": 3}
    first = generate(tmp_path / "a", **arguments)
    second = generate(tmp_path / "b", **arguments)
    assert first == second
    for table in RAW_TABLES:
        left = pq.read_table(tmp_path / "a" / f"{table}.parquet")
        right = pq.read_table(tmp_path / "b" / f"{table}.parquet")
        assert left.equals(right), table
    for name in ("_expected_rejections.csv", "_expected_nulls.csv"):
        left, right = tmp_path / "a" / name, tmp_path / "b" / name
        assert left.read_bytes() == right.read_bytes()


def test_another_seed_gives_other_data(tmp_path):
    generate(tmp_path / "a", leads=300, activities_per_lead=8, seed=1)
    generate(tmp_path / "b", leads=300, activities_per_lead=8, seed=2)
    for table in ("leads", "activities"):
        left = pq.read_table(tmp_path / "a" / f"{table}.parquet")
        right = pq.read_table(tmp_path / "b" / f"{table}.parquet")
        assert not left.equals(right)


def test_zero_dirty_rate_gives_a_clean_data_set(tmp_path):
    manifest = generate(tmp_path, leads=800, activities_per_lead=10, dirty_rate=0)
    assert all(not reasons for reasons in manifest["expected_rejections"].values())
    assert manifest["expected_nulls"] == {}
    assert read_expected(tmp_path) == Counter()
    assert reference_rejections(tmp_path) == Counter()
    assert manifest["expected_used_rows"] == manifest["rows"]


def test_csv_output_has_the_same_rows_as_parquet(tmp_path):
    arguments = {"leads": 200, "activities_per_lead": 6, "seed": 11}
    parquet_manifest = generate(tmp_path / "p", **arguments)
    csv_manifest = generate(tmp_path / "c", fmt="csv", **arguments)
    assert csv_manifest["rows"] == parquet_manifest["rows"]
    assert csv_manifest["format"] == "csv"
    connection = duckdb.connect()
    for table, columns in RAW_TABLES.items():
        from_csv = connection.execute(
            f"select * from read_csv('{tmp_path}/c/{table}.csv', all_varchar = true, "
            "header = true, allow_quoted_nulls = false)"
        ).fetchall()
        header = (tmp_path / "c" / f"{table}.csv").read_text().splitlines()[0]
        assert header == ",".join(f'"{column}"' for column in columns)
        from_parquet = pq.read_table(tmp_path / "p" / f"{table}.parquet")
        assert from_csv == [tuple(row.values()) for row in from_parquet.to_pylist()]


def test_shape_of_the_data(dataset):
    folder, _ = dataset
    leads = read_rows(folder, "leads")
    emails = [row["email"].lower() for row in leads if row["email"]]
    personal = {name for name, _ in vocab.PERSONAL_DOMAINS}
    share = sum(email.split("@")[1] in personal for email in emails) / len(emails)
    assert 0.08 < share < 0.16
    ids = [row["lead_id"] for row in leads if not blank(row["lead_id"])]
    assert all(lead_id.startswith("L") and len(lead_id) == 8 for lead_id in ids)
    assert {row["lead_source"].lower() for row in leads if row["lead_source"]} <= {
        name for name, _, _ in vocab.LEAD_SOURCES
    }
    for row in leads:
        created, updated = parse_ts(row["created_at"]), parse_ts(row["updated_at"])
        assert created is not None and created <= AS_OF_DT
        assert updated is None or created <= updated <= AS_OF_DT
    types = Counter(
        row["activity_type"].strip().lower().replace(" ", "_")
        for row in read_rows(folder, "activities")
    )
    assert set(types) == set(vocab.ACTIVITY_TYPES)
    assert types.most_common(2)[0][0] in {"page_view", "email_open"}


def test_conversion_depends_on_seniority_and_demos_not_email_opens(tmp_path):
    generate(tmp_path, leads=6000, activities_per_lead=20, dirty_rate=0, seed=5)
    connection = duckdb.connect()
    connection.execute(
        f"""create table per_lead as
        with activities as (
            select lead_id, lower(replace(trim(activity_type), ' ', '_')) as kind
            from '{tmp_path}/activities.parquet'
        ),
        accepted as (
            select distinct lead_id from '{tmp_path}/lead_status_changes.parquet'
            where lower(trim(status)) = 'sales_accepted'
        ),
        touched as (select distinct lead_id from '{tmp_path}/sales_activities.parquet')
        select
            l.lead_id,
            l.job_title in ('CEO', 'VP Sales', 'VP Marketing', 'CTO',
                'Director of IT', 'Director of Marketing', 'Head of Marketing')
                as senior,
            count(*) filter (where a.kind = 'demo_request') > 0 as has_demo,
            count(*) filter (where a.kind = 'email_open') as opens,
            l.lead_id in (select lead_id from accepted) as accepted
        from '{tmp_path}/leads.parquet' l
        join touched t on t.lead_id = l.lead_id
        left join activities a on a.lead_id = l.lead_id
        group by all"""
    )

    def rate(condition: str) -> float:
        return connection.execute(
            f"select avg(accepted::int) from per_lead where {condition}"
        ).fetchone()[0]

    assert rate("senior") > rate("not senior") + 0.1
    assert rate("has_demo") > rate("not has_demo") + 0.1
    opens_accepted, opens_other = connection.execute(
        "select avg(opens) filter (where accepted), "
        "avg(opens) filter (where not accepted) from per_lead"
    ).fetchone()
    assert 0.85 < opens_accepted / opens_other < 1.15


@pytest.mark.parametrize(
    "arguments",
    [
        {"leads": 0},
        {"dirty_rate": 0.9},
        {"fmt": "json"},
        {"as_of": "yesterday"},
        {"seed": -1},
    ],
)
def test_invalid_arguments_are_refused(tmp_path, arguments):
    with pytest.raises(GenerateError):
        generate(tmp_path, **arguments)


def test_as_of_moves_the_data(tmp_path):
    manifest = generate(
        tmp_path, leads=100, activities_per_lead=5, as_of="2025-01-15T12:00:00Z"
    )
    assert manifest["as_of"] == "2025-01-15 12:00:00"
    spend = read_rows(tmp_path, "marketing_spend")
    days = {row["spend_date"] for row in spend if row["spend_date"]}
    assert "2025-01-15" in days and "2025-01-16" not in days
    assert date(2024, 1, 16).isoformat() in days
    assert date(2024, 1, 15).isoformat() not in days


@pytest.mark.parametrize("seed", [0, 1])
def test_staging_rules_hold_at_the_highest_dirty_rate(tmp_path, seed):
    manifest = generate(
        tmp_path, leads=600, activities_per_lead=10, dirty_rate=0.5, seed=seed
    )
    expected = read_expected(tmp_path)
    assert reference_rejections(tmp_path) == expected
    assert per_reason(expected) == manifest["expected_rejections"]
    rejected = sum(expected.values())
    assert rejected > 0.4 * sum(manifest["rows"].values())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--leads", "0"], f"error: leads must be 1..{MAX_LEADS:,}, not 0"),
        (["--dirty-rate", "0.9"], "error: dirty_rate must be 0..0.5, not 0.9"),
        (["--seed", "-3"], "error: seed must be a non-negative integer, not -3"),
        (["--as-of", "yesterday"], "error: as_of 'yesterday' is not a timestamp"),
    ],
)
def test_cli_generate_errors_say_what_to_do(tmp_path, capsys, arguments, message):
    assert main(["generate", "--out", str(tmp_path / "out"), *arguments]) == 2
    error = capsys.readouterr().err.splitlines()
    assert error[0] == message
    assert error[1].startswith("hint: ")
    assert not (tmp_path / "out").exists()


def test_cli_generate_reports_progress(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["generate", "--out", str(out), "--leads", "30", "--seed", "3",
                 "--activities-per-lead", "2", "--format", "csv"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (
        f"generating 30 leads (seed 3, csv, dirty rate 0.05, as of "
        f"2026-06-30 23:59:59) into {out}"
    )
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        f"wrote {table}.csv" for table in RAW_TABLES
    ]
    assert lines[-1].startswith("wrote _manifest.json (")
