"""Nothing leaked, same answer every time, no secret in the repository."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import (
    GENERATED_AS_OF, MARTS, PROJECT_DIR, Warehouse,
)
from lead_scoring.warehouse.load import load

def test_same_inputs_give_the_same_marts(generated, tmp_path: Path) -> None:
    """Rebuild from the same raw data loaded in reverse row order, at another
    time: every mart is identical, bit for bit (`except all` both ways over
    every column, floats included)."""
    first, _ = generated
    reversed_raw = tmp_path / "raw"
    reversed_raw.mkdir()
    for path in (first.root / "raw").glob("*.csv"):
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
        with open(reversed_raw / path.name, "w", newline="") as handle:
            csv.writer(handle).writerows([rows[0], *reversed(rows[1:])])
    second = Warehouse(tmp_path)
    load(reversed_raw, duckdb_path=str(second.path))
    second.dbt("build", vars={"as_of": GENERATED_AS_OF})
    compared = 0
    for mart in MARTS:
        export = tmp_path / f"{mart}.parquet"
        second.query(f"copy analytics.{mart} to '{export}' (format parquet)")
        [(rows,)] = first.query(f"select count(*) from analytics.{mart}")
        assert rows, f"{mart} is empty: the comparison would prove nothing"
        for query in (
            f"select * from analytics.{mart} except all "
            f"select * from read_parquet('{export}')",
            f"select * from read_parquet('{export}') except all "
            f"select * from analytics.{mart}",
        ):
            [(extra,)] = first.query(f"select count(*) from ({query})")
            assert extra == 0, f"{mart}: {extra} rows differ ({query})"
        compared += rows
    assert compared > 10_000


def test_erased_leads_leave_no_trace(generated) -> None:
    """No relation the project builds shows an erased lead's id, e-mail or name."""
    warehouse, manifest = generated
    erased_ids = [
        row["raw_key"]
        for row in csv.DictReader(
            open(warehouse.root / "raw" / "_expected_rejections.csv", newline="")
        )
        if row["table_name"] == "leads" and row["rejection_reason"] == "erased"
        and row["raw_key"]
    ]
    assert len(set(erased_ids)) >= 5
    tokens = set(erased_ids)
    for email, first_name, last_name in warehouse.query(
        "select email, first_name, last_name from raw.leads "
        f"where trim(lead_id) in ({', '.join('?' * len(erased_ids))})",
        erased_ids,
    ):
        tokens |= {
            value.strip().lower() for value in (email, first_name, last_name)
            if value and len(value.strip()) > 3
        }
    # Names are common words; keep the ones no live lead shares.
    live_names = {
        value.strip().lower()
        for row in warehouse.query(
            "select first_name, last_name from raw.leads where lead_id not in "
            f"({', '.join('?' * len(erased_ids))}) or lead_id is null",
            erased_ids,
        )
        for value in row if value
    }
    tokens -= live_names
    relations = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema like 'analytics%'"
    )
    assert len(relations) > 30
    assert ("analytics_restricted", "stg_crm__leads") in relations
    for schema, name in relations:
        columns = [
            column for (column,) in warehouse.query(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?", [schema, name],
            )
        ]
        text = " || '|' || ".join(
            f"coalesce(lower(cast(\"{column}\" as varchar)), '')" for column in columns
        )
        hits = warehouse.query(
            f"select token, count(*) from \"{schema}\".\"{name}\", "
            "(select unnest(?::varchar[]) as token) "
            f"where position(token in {text}) > 0 group by token",
            [sorted(tokens)],
        )
        assert hits == [], f"{name} shows erased data: {hits}"


SECRET_PATTERNS = {
    "AWS access key": r"AKIA[0-9A-Z]{16}",
    "private key": "-----BEGIN " + r"(RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----",
    "GitHub token": r"gh[pousr]_[A-Za-z0-9]{36}",
    "Slack token": r"xox[baprs]-[A-Za-z0-9-]{10,}",
    "password literal": r"(?i)\b(password|passwd|secret|token)\s*[:=]\s*['\"]?"
    r"(?!\{\{|env_var|\$|<|os\.environ)[^\s'\"{}]{6,}",
    "URL with credentials": r"[a-z]+://[^/\s:@]+:[^/\s:@]+@",
}


def test_no_secret_in_tracked_files() -> None:
    if not (PROJECT_DIR / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout: nothing tracked to scan")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True,
        check=True,
    ).stdout.split()
    assert "profiles.yml" in tracked
    findings = []
    for name in tracked:
        path = PROJECT_DIR / name
        if path.suffix in {".parquet", ".duckdb"} or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        for label, pattern in SECRET_PATTERNS.items():
            for match in re.finditer(pattern, text):
                findings.append(f"{name}: {label}: {match.group(0)[:40]}")
    assert findings == []


def test_secret_patterns_catch_secrets() -> None:
    """The scan above would see a real one."""
    samples = [
        "aws_key = AKIA" + "ABCDEFGHIJKLMNOP",
        "pass" + "word: hunter2hunter2",
        "postgres://admin:" + "s3cret@db.example.com/prod",
    ]
    for sample in samples:
        assert any(re.search(pattern, sample) for pattern in SECRET_PATTERNS.values())
    assert not re.search(
        SECRET_PATTERNS["password literal"],
        "password: \"{{ env_var('LEAD_SCORING_PG_PASSWORD') }}\"",
    )
