"""`lead-scoring bench` end to end at a tiny scale: every step runs, the
appended day is about 0.3% of the activities, the build after it really is
incremental (it recomputes the active leads only), and the figures are
printed and written. Timings themselves are not asserted."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from conftest import PROJECT_DIR
from lead_scoring.bench import STEPS, bench, render


def test_bench_runs_every_step_and_builds_incrementally(tmp_path: Path) -> None:
    result = bench(
        leads=600, activities_per_lead=30, runs=1, threads=2, memory_limit="2GB",
        work_dir=tmp_path, project_dir=PROJECT_DIR, keep=True,
    )
    run = result.runs[0]
    assert set(run.steps) == set(STEPS)
    assert all(step.seconds > 0 for step in run.steps.values())
    assert run.steps["full_build"].peak_mib > 100
    assert 10_000 < run.activities < 30_000
    assert 0.001 < run.appended / run.activities < 0.006

    with duckdb.connect(str(tmp_path / "run1" / "warehouse.duckdb"), read_only=True) as db:
        builds = db.execute(
            "select _recomputed_at, count(distinct lead_id) from "
            "analytics.int_lead_rule_states group by 1 order by 1"
        ).fetchall()
        leads_with_activity = db.execute(
            "select count(distinct lead_id) from analytics.int_activities_valid"
        ).fetchone()[0]
        appended_leads = db.execute(
            "select count(distinct trim(lead_id)) from raw.activities "
            "where _loaded_at > timestamp '2026-06-30 23:59:59'"
        ).fetchone()[0]
    # Two builds wrote rows: the full one, then the incremental one, which
    # recomputed at least the leads that got activities and far from all.
    assert len(builds) == 2
    recomputed = builds[1][1]
    assert appended_leads <= recomputed < leads_with_activity / 2

    text = render(result)
    assert "build / window floor" in text and "incremental / full" in text
    assert "slowest nodes of the incremental build" in text
    written = json.loads((tmp_path / "bench-600.json").read_text())
    assert written["runs"][0]["appended"] == run.appended
    assert written["runs"][0]["slowest_nodes"]["incremental_build"]
    # Both builds published the marts, and the figure says what it cost.
    assert all(seconds > 0 for seconds in run.published.values())
    assert set(run.published) == {"full_build", "incremental_build"}
    assert "publishing the marts (node publication) in the full build" in text
    assert (tmp_path / "run1" / "warehouse_published.duckdb").is_file()
