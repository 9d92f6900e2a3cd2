"""`lead-scoring bench`: time the pipeline at a given scale on DuckDB.

Each run, in a fresh folder: generate the raw data, load it, a full
build, two floor queries, one day of activity appended, and the build after
it. The builds are the scheduled daily job's, `dbt build --selector
daily_marts`: every model, seed and data test (the unit tests, which check
the code on fixed inputs, are CI's and not scheduled; selectors.yml).
Every step but the floors runs as a child process, so its wall time and
peak memory (the child's maximum resident set) are its own. The figures
are the median of `runs` runs.

The raw data is loaded with the load marker of as_of (`load --loaded-at`).
The appended day is what one day of a marketing database looks like: the
leads active that day (ACTIVE_PERCENT of them, picked by a hash of lead_id)
get a fifteenth of their history again as new activities dated the day
after as_of, and half as many late rows dated three days before it: a tenth
of the active leads' history, about 0.3% of the activities in all, loaded with the marker of
the next day. The next build runs with as_of one day later, so it
recomputes the active leads (see macros/incremental/lead_incremental.sql).

Each build's slowest nodes (dbt's run_results.json) are kept in the JSON, so
a figure can be traced to the model or test that made it, and the time of
its last node, `publication`, is reported apart: the cost of publishing the
marts to readers (lead_scoring.warehouse.publish).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from lead_scoring.errors import LeadScoringError

Progress = Callable[[str], None]
BASE_AS_OF = "2026-06-30 23:59:59"
ACTIVE_PERCENT = 3
# What the scheduled daily build selects (selectors.yml).
DAILY_JOB = ("--selector", "daily_marts")
STEPS = (
    "generate", "load", "full_build", "floor", "window_floor", "append",
    "incremental_build",
)


class BenchError(LeadScoringError):
    """A benchmark step failed; the message names the step and its output."""


@dataclass
class StepTime:
    """Wall seconds and peak memory (MiB; 0 when measured in-process) of a step."""

    seconds: float
    peak_mib: float = 0.0


@dataclass
class BenchRun:
    """One run's steps and row counts."""

    steps: dict[str, StepTime] = field(default_factory=dict)
    activities: int = 0
    appended: int = 0
    # The slowest nodes (name, seconds) of each dbt build.
    slowest: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # Seconds of each build's publication node (publishing the marts).
    published: dict[str, float] = field(default_factory=dict)


@dataclass
class BenchResult:
    """All runs and their medians."""

    leads: int
    activities_per_lead: float
    threads: int
    runs: list[BenchRun]
    memory_limit: str = "6GB"
    dbt_threads: int = 1

    def median(self, step: str) -> float:
        return statistics.median(run.steps[step].seconds for run in self.runs)

    def peak_mib(self, step: str) -> float:
        return max(run.steps[step].peak_mib for run in self.runs)

    @property
    def activities(self) -> int:
        return self.runs[0].activities

    @property
    def appended(self) -> int:
        return self.runs[0].appended


def _child(
    command: list[str], env: dict[str, str], step: str, log: Path
) -> StepTime:
    """Run a child process; its wall time and peak resident memory."""
    start = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise BenchError(
            f"{step} failed (exit {process.returncode}):\n{tail}",
            f"the whole output is in {log}",
        )
    return StepTime(seconds, usage.ru_maxrss / 1024.0)


def _shift(as_of: str, days: int) -> str:
    """as_of moved by whole days."""
    moved = datetime.strptime(as_of, "%Y-%m-%d %H:%M:%S") + timedelta(days=days)
    return moved.strftime("%Y-%m-%d %H:%M:%S")


def floor_sql(as_of: str, raw_schema: str = "raw", schema: str = "analytics") -> str:
    """One scan of the raw activities: decayed points per lead, summed."""
    return f"""
        select count(*) as leads, sum(points) as points from (
            select activities.lead_id, sum(
                cast(rules.points as double) * pow(
                    0.5,
                    (epoch(timestamp '{as_of}')
                        - epoch(try_cast(activities.occurred_at as timestamp)))
                    / 86400.0
                    / coalesce(try_cast(rules.decay_half_life_days as double),
                        'infinity'::double)
                )
            ) as points
            from "{raw_schema}".activities as activities
            inner join "{schema}".scoring_rules as rules
                on rules.field = 'activity_type'
                and rules.value = lower(trim(activities.activity_type))
            group by activities.lead_id
        )
    """


def window_floor_sql(as_of: str, raw_schema: str = "raw", schema: str = "analytics") -> str:
    """One sorted window pass: a running decayed sum per lead, in time order.

    Every raw activity is matched to the rules of its type; its points are
    weighted 2^(days since the anchor / half-life) (one half-life for all,
    30 days, anchored at as_of so no weight overflows) and summed per lead
    over the activities up to it. The sum is read back once, so nothing but
    the window pass is timed beyond the scan and the join."""
    return f"""
        select count(*) as activities, sum(running) as points from (
            select sum(cast(rules.points as double) * pow(
                2.0,
                (epoch(try_cast(activities.occurred_at as timestamp))
                    - epoch(timestamp '{as_of}')) / (86400.0 * 30)
            )) over (
                partition by activities.lead_id
                order by try_cast(activities.occurred_at as timestamp)
                rows between unbounded preceding and current row
            ) as running
            from "{raw_schema}".activities as activities
            inner join "{schema}".scoring_rules as rules
                on rules.field = 'activity_type'
                and rules.value = lower(trim(activities.activity_type))
        )
    """


def append_day_sql(as_of: str, raw_schema: str = "raw") -> str:
    """One day: the active leads' new activities and late rows (see above)."""
    active = (
        f"hash(lead_id) % 100 < {ACTIVE_PERCENT} and activity_id is not null "
        "and hash(activity_id) % 30"
    )
    spread = "to_seconds(cast(hash(activity_id) % 86400 as bigint))"
    marker = f"timestamp '{as_of}' + interval 1 day"
    return f"""
        insert into "{raw_schema}".activities by name
        select activity_id || '-d' as activity_id, lead_id, activity_type, url,
            asset, campaign_id,
            strftime(timestamp '{as_of}' + {spread}, '%Y-%m-%d %H:%M:%S') as occurred_at,
            {marker} as _loaded_at
        from "{raw_schema}".activities where {active} < 2
        union all
        select activity_id || '-l' as activity_id, lead_id, activity_type, url,
            asset, campaign_id,
            strftime(timestamp '{as_of}' - interval 3 day + {spread}, '%Y-%m-%d %H:%M:%S')
                as occurred_at,
            {marker} as _loaded_at
        from "{raw_schema}".activities where {active} = 2
    """


def _node_times(target: Path) -> list[tuple[str, float]]:
    """(node name, seconds) of the last dbt command run with this target
    path, slowest first."""
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, KeyError, ValueError):
        return []
    timed = sorted(
        ((item["unique_id"], float(item["execution_time"])) for item in results),
        key=lambda pair: -pair[1],
    )
    return [(name.split(".", 2)[-1], round(seconds, 2)) for name, seconds in timed]


def _record_build(run: BenchRun, build: str, target: Path, count: int = 8) -> None:
    """A build's slowest nodes and the time of its publication node."""
    times = _node_times(target)
    run.slowest[build] = times[:count]
    run.published[build] = next(
        (seconds for name, seconds in times if name == "publication"), 0.0
    )


def _one_run(
    index: int,
    work: Path,
    project: Path,
    leads: int,
    activities_per_lead: float,
    threads: int,
    memory_limit: str,
    dbt_threads: int,
    progress: Progress,
) -> BenchRun:
    """Generate, load, build, floor, append, build again."""
    import duckdb

    folder = work / f"run{index}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database = folder / "warehouse.duckdb"
    env = dict(
        os.environ,
        LEAD_SCORING_DUCKDB_PATH=str(database),
        LEAD_SCORING_THREADS=str(dbt_threads),
        LEAD_SCORING_DUCKDB_MEMORY_LIMIT=memory_limit,
        LEAD_SCORING_DUCKDB_PRESERVE_ORDER="false",
        DBT_PROFILES_DIR=str(project),
    )
    python = sys.executable
    dbt = str(Path(sys.executable).parent / "dbt")
    dbt_common = [
        "--project-dir", str(project), "--target-path", str(folder / "target"),
        "--log-path", str(folder / "logs"),
    ]
    run = BenchRun()
    steps: list[tuple[str, list[str]]] = [
        ("generate", [
            python, "-m", "lead_scoring", "generate", "--out", str(folder / "raw"),
            "--leads", str(leads), "--seed", "42", "--dirty-rate", "0.05",
            "--activities-per-lead", str(activities_per_lead), "--as-of", BASE_AS_OF,
        ]),
        ("load", [
            python, "-m", "lead_scoring", "load", "--from", str(folder / "raw"),
            "--loaded-at", BASE_AS_OF,
        ]),
        ("full_build", [
            dbt, "build", *DAILY_JOB, *dbt_common,
            "--vars", json.dumps({"as_of": BASE_AS_OF}),
        ]),
    ]
    for step, command in steps:
        progress(f"bench: run {index}: {step} ...")
        run.steps[step] = _child(command, env, step, folder / f"{step}.log")
        progress(f"bench: run {index}: {step} {run.steps[step].seconds:.1f} s")
    _record_build(run, "full_build", folder / "target")

    with duckdb.connect(str(database)) as connection:
        connection.execute(f"set threads = {threads}")
        connection.execute(f"set memory_limit = '{memory_limit}'")
        run.activities = connection.execute(
            "select count(*) from raw.activities"
        ).fetchone()[0]
        start = time.perf_counter()
        connection.execute(floor_sql(BASE_AS_OF)).fetchall()
        run.steps["floor"] = StepTime(time.perf_counter() - start)
        progress(f"bench: run {index}: floor {run.steps['floor'].seconds:.1f} s")
        start = time.perf_counter()
        connection.execute(window_floor_sql(BASE_AS_OF)).fetchall()
        run.steps["window_floor"] = StepTime(time.perf_counter() - start)
        progress(
            f"bench: run {index}: window floor "
            f"{run.steps['window_floor'].seconds:.1f} s"
        )
        start = time.perf_counter()
        connection.execute(append_day_sql(BASE_AS_OF))
        run.steps["append"] = StepTime(time.perf_counter() - start)
        run.appended = (
            connection.execute("select count(*) from raw.activities").fetchone()[0]
            - run.activities
        )
    progress(f"bench: run {index}: appended {run.appended:,} activities")
    command = [
        dbt, "build", *DAILY_JOB, *dbt_common,
        "--vars", json.dumps({"as_of": _shift(BASE_AS_OF, 1)}),
    ]
    progress(f"bench: run {index}: incremental_build ...")
    run.steps["incremental_build"] = _child(
        command, env, "incremental_build", folder / "incremental_build.log"
    )
    _record_build(run, "incremental_build", folder / "target")
    progress(
        f"bench: run {index}: incremental_build "
        f"{run.steps['incremental_build'].seconds:.1f} s"
    )
    return run


def bench(
    leads: int,
    activities_per_lead: float = 100.0,
    runs: int = 3,
    threads: int = 2,
    memory_limit: str = "6GB",
    dbt_threads: int = 1,
    work_dir: str | os.PathLike[str] = "warehouse/bench",
    project_dir: str | os.PathLike[str] = ".",
    keep: bool = False,
    progress: Progress = lambda message: None,
) -> BenchResult:
    """Run the benchmark `runs` times; each run's folder is removed unless `keep`.

    threads is DuckDB's: the builds use DuckDB's default, one thread per
    core (2 on the reference machine), the floor query `threads`.
    memory_limit is DuckDB's (LEAD_SCORING_DUCKDB_MEMORY_LIMIT): what it may
    hold before spilling to disk, below the 8 GiB the figures aim at; rows
    are written without keeping insertion order (less memory).
    dbt_threads: how many nodes dbt runs at once (1: one query at a time
    holds the memory, each using every DuckDB thread).
    """
    if leads < 1 or runs < 1 or threads < 1 or activities_per_lead <= 0:
        raise BenchError(
            "--leads, --runs, --threads and --activities-per-lead must be positive",
            "e.g. lead-scoring bench --leads 100000 --runs 3",
        )
    project = Path(project_dir).resolve()
    if not (project / "dbt_project.yml").is_file():
        raise BenchError(
            f"{project} is not the dbt project (no dbt_project.yml)",
            "run bench from the repository root or pass --project-dir",
        )
    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    done = []
    for index in range(1, runs + 1):
        done.append(
            _one_run(
                index, work, project, leads, activities_per_lead, threads,
                memory_limit, dbt_threads, progress,
            )
        )
        if not keep:
            shutil.rmtree(work / f"run{index}", ignore_errors=True)
    result = BenchResult(
        leads, activities_per_lead, threads, done, memory_limit, dbt_threads
    )
    (work / f"bench-{leads}.json").write_text(
        json.dumps(
            {
                "leads": leads,
                "activities_per_lead": activities_per_lead,
                "threads": threads,
                "memory_limit": memory_limit,
                "dbt_threads": dbt_threads,
                "runs": [
                    {
                        "activities": run.activities,
                        "appended": run.appended,
                        "steps": {name: asdict(step) for name, step in run.steps.items()},
                        "slowest_nodes": run.slowest,
                        "publication_seconds": run.published,
                    }
                    for run in done
                ],
            },
            indent=2,
        )
    )
    return result


def render(result: BenchResult) -> str:
    """The figures as a Markdown table plus the ratios."""
    runs = len(result.runs)
    lines = [
        f"DuckDB, {result.threads} threads, memory_limit {result.memory_limit}, "
        f"dbt threads {result.dbt_threads}; "
        f"{result.leads:,} leads, "
        f"{result.activities:,} raw activities; median of {runs} run"
        f"{'s' if runs > 1 else ''}",
        "",
        "| step | median s | peak MiB | activities / s |",
        "|---|---|---|---|",
    ]
    for step in STEPS:
        seconds = result.median(step)
        peak = result.peak_mib(step)
        rows = result.appended if step == "append" else result.activities
        rate = f"{rows / seconds:,.0f}" if seconds > 0 else "n/a"
        lines.append(
            f"| {step} | {seconds:,.1f} | {peak:,.0f} | {rate} |"
            if peak
            else f"| {step} | {seconds:,.2f} | (in process) | {rate} |"
        )
    full, floor = result.median("full_build"), result.median("floor")
    window_floor = result.median("window_floor")
    incremental = result.median("incremental_build")
    lines += [
        "",
        f"- build / window floor: {full / window_floor:,.1f}x "
        f"(window floor {window_floor:.2f} s)",
        f"- build / scan floor: {full / floor:,.1f}x (scan floor {floor:.2f} s)",
        f"- incremental / full: {incremental / full:.1%} after appending "
        f"{result.appended:,} activities ({result.appended / result.activities:.2%})",
        f"- peak memory of any step: {max(result.peak_mib(s) for s in STEPS):,.0f} MiB",
    ]
    for build in ("full_build", "incremental_build"):
        seconds = statistics.median(run.published.get(build, 0.0) for run in result.runs)
        lines.append(
            f"- publishing the marts (node publication) in the "
            f"{build.replace('_', ' ')}: {seconds:.2f} s "
            f"({seconds / result.median(build):.1%} of it)"
        )
    for build in ("full_build", "incremental_build"):
        nodes = result.runs[-1].slowest.get(build) or []
        if nodes:
            named = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in nodes[:5])
            lines.append(f"- slowest nodes of the {build.replace('_', ' ')}: {named}")
    return "\n".join(lines)
