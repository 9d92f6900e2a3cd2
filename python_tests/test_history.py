"""History replays: a build at a past as_of gives what a build on that day gave.

One generated data set (with dirt) is built twice at the same past as_of T:
once on every raw row (rows dated after T included: they must count as not
having happened yet), once on the rows a loader would have delivered by T:
leads created by then, activities, sales touches and status changes dated by
then, opportunities opened by then (and, when closed after T, still open:
not closed, not won, no close date), spend dated by then; rows without a
readable date are kept in both. Every mart must be the same in both builds;
the rejected rows of the first build are those of the second plus rows of
the raw rows the second never saw.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import MARTS, Warehouse, contents, same_value
from lead_scoring.contract import RAW_TABLES
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import load

GENERATED_AS_OF = "2026-06-30 23:59:59"
PAST = datetime(2026, 3, 31, 12, 0, 0)
PAST_TEXT = PAST.strftime("%Y-%m-%d %H:%M:%S")
LOADED_AT = "2026-07-01 00:00:00"
DATED_BY = {
    "activities": "occurred_at",
    "sales_activities": "occurred_at",
    "lead_status_changes": "changed_at",
    "opportunities": "created_at",
    "marketing_spend": "spend_date",
}


def moment(text: str | None) -> datetime | None:
    """A raw timestamp as the staging models read the generator's forms, or
    None when it is not one (such rows are rejected either way)."""
    if not text or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def read(folder: Path, table: str) -> list[dict[str, str]]:
    with open(folder / f"{table}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def write(folder: Path, table: str, rows: list[dict[str, str]]) -> None:
    with open(folder / f"{table}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=RAW_TABLES[table])
        writer.writeheader()
        writer.writerows(rows)


def as_delivered_by(source: Path, target: Path) -> dict[str, set[str]]:
    """Copy the raw CSVs, keeping what had happened by PAST. Returns the keys
    of the rows left out, by table."""
    target.mkdir()
    dropped: dict[str, set[str]] = {table: set() for table in RAW_TABLES}
    leads = read(source, "leads")
    latest: dict[str, dict[str, str]] = {}
    for row in leads:
        lead_id = (row["lead_id"] or "").strip()
        updated = moment(row["updated_at"]) or datetime.min
        if lead_id and (lead_id not in latest
                        or updated > (moment(latest[lead_id]["updated_at"]) or datetime.min)):
            latest[lead_id] = row
    not_yet = {
        lead_id for lead_id, row in latest.items()
        if (moment(row["created_at"]) or datetime.min) > PAST
    }
    kept = [row for row in leads if (row["lead_id"] or "").strip() not in not_yet]
    dropped["leads"] = not_yet
    write(target, "leads", kept)
    for table, column in DATED_BY.items():
        rows = []
        for row in read(source, table):
            when = moment(row[column])
            if when is not None and when > PAST:
                dropped[table].add((row.get(RAW_TABLES[table][0]) or "").strip())
                continue
            if table == "opportunities":
                closed = moment(row["closed_at"])
                if closed is not None and closed > PAST:
                    row = {**row, "is_closed": "false", "is_won": "false",
                           "closed_at": ""}
            rows.append(row)
        write(target, table, rows)
    return dropped


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Warehouse, dict]:
    root = Path(tmp_path_factory.mktemp("history"))
    today = Warehouse(root / "today")
    today.root.mkdir()
    generate(
        today.raw_dir, leads=300, seed=21, dirty_rate=0.05, fmt="csv",
        as_of=GENERATED_AS_OF, activities_per_lead=20,
    )
    load(today.raw_dir, duckdb_path=str(today.path), loaded_at=LOADED_AT)
    today.dbt("build", vars={"as_of": PAST_TEXT})
    then = Warehouse(root / "then")
    then.root.mkdir()
    dropped = as_delivered_by(today.raw_dir, then.raw_dir)
    load(then.raw_dir, duckdb_path=str(then.path), loaded_at=LOADED_AT)
    then.dbt("build", vars={"as_of": PAST_TEXT})
    return today, then, dropped


def test_the_replay_has_rows_dated_after_as_of(replayed) -> None:
    """The comparison would prove nothing if nothing happened after PAST."""
    _, _, dropped = replayed
    assert len(dropped["leads"]) > 20
    assert len(dropped["activities"]) > 500
    assert dropped["lead_status_changes"] and dropped["opportunities"]


def test_a_past_as_of_gives_that_day_s_marts(replayed) -> None:
    today, then, _ = replayed
    compared = 0
    for mart in MARTS:
        if mart == "fct_rejected_rows":
            continue
        left, right = contents(today, mart), contents(then, mart)
        assert len(left) == len(right), (
            f"{mart}: {len(left)} rows at a past as_of, {len(right)} from that day's rows"
        )
        for left_row, right_row in zip(left, right):
            assert all(map(same_value, left_row, right_row)), (
                f"{mart} differs:\n  past as_of  {left_row}\n  that day's  {right_row}"
            )
        compared += len(left)
    assert compared > 3_000


def test_rejections_differ_only_by_rows_not_delivered_yet(replayed) -> None:
    today, then, dropped = replayed
    columns = "source_table, raw_key, rejection_reason, rejection_detail, lead_id"
    now = today.query(f"select {columns} from analytics.fct_rejected_rows")
    back = then.query(f"select {columns} from analytics.fct_rejected_rows")
    remaining = list(now)
    for row in back:
        assert row in remaining, f"rejected that day but not at a past as_of: {row}"
        remaining.remove(row)
    for source_table, raw_key, reason, _, lead_id in remaining:
        if source_table == "marketing_spend" and raw_key:
            # Its key is day|lead source|campaign: a day after PAST had not
            # been reported yet.
            day = moment(raw_key.split("|")[0])
            if day is not None and day > PAST:
                continue
        assert (
            reason == "future_dated"
            or raw_key is None
            or raw_key in dropped[source_table]
            or (source_table != "leads" and lead_id in dropped["leads"])
        ), f"{source_table} row {raw_key} ({reason}) rejected only at a past as_of"
