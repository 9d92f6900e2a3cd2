"""Run the lead_scoring dbt project from Dagster (dagster-dbt).

Every dbt model and seed is a Dagster asset (raw tables are upstream source
assets, dbt data tests are asset checks). The jobs are the named selectors
of selectors.yml, so Dagster and `dbt build --selector` build the same
things:

| job | selector | schedule (UTC) |
|---|---|---|
| scoring_refresh | scoring_refresh | hourly, on the hour |
| reports | reports | none (run after scoring, or by hand) |
| daily_marts | daily_marts | daily at 02:30 |

Install and start it (the `dagster` extra):

    pip install -e ".[dagster]"
    dagster dev -f orchestration/dagster/definitions.py

Environment: the dbt settings of profiles.yml (LEAD_SCORING_DUCKDB_PATH,
LEAD_SCORING_TARGET, ...), plus
- LEAD_SCORING_DAGSTER_TARGET_PATH: where the manifest Dagster reads is
  written (default target/dagster, beside the project); each run writes its
  own dbt artifacts under DBT_TARGET_PATH (default target/).
- LEAD_SCORING_DAGSTER_PARSE: 1 (default) parses the project when the
  definitions load, so the assets follow the code; set it to 0 in a
  deployment that ships a parsed manifest (`dbt parse --target-path
  target/dagster` at build time).

DuckDB lets one process write a file at a time: runs are tagged
`lead_scoring/warehouse` and orchestration/dagster/dagster.yaml limits that
tag to one run at a time, so an hourly refresh waits for a daily build.
"""

# No `from __future__ import annotations`: Dagster reads the config
# annotation of the asset function at definition time.
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    Config,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
)
from dagster_dbt import (
    DbtCliResource,
    DbtProject,
    build_dbt_asset_selection,
    dbt_assets,
)

from lead_scoring.seeds import check_seeds

PROJECT_DIR = Path(__file__).resolve().parents[2]

# One run at a time may write the DuckDB warehouse (see dagster.yaml).
WAREHOUSE_TAG = {"lead_scoring/warehouse": "duckdb"}

# Selector of selectors.yml -> (job description, cron schedule or None).
JOBS: dict[str, tuple[str, str | None]] = {
    "scoring_refresh": (
        "Re-stage the raw data and re-score every lead (rules, scores, MQL "
        "events, ledger, dim_leads) with their tests.",
        "0 * * * *",
    ),
    "reports": (
        "The reporting marts and lifecycle transitions, with what they read.",
        None,
    ),
    "daily_marts": (
        "The whole project: every model and seed with its tests.",
        "30 2 * * *",
    ),
}


def dbt_project() -> DbtProject:
    """The dbt project, with a manifest Dagster can read (parsed if asked)."""
    target_path = Path(
        os.environ.get("LEAD_SCORING_DAGSTER_TARGET_PATH", "target/dagster")
    )
    project = DbtProject(
        project_dir=PROJECT_DIR,
        profiles_dir=PROJECT_DIR,
        target_path=target_path,
    )
    if (
        os.environ.get("LEAD_SCORING_DAGSTER_PARSE", "1") == "1"
        or not project.manifest_path.exists()
    ):
        # What DbtProject.preparer does, with the dbt found by dbt_executable().
        DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=project.target_path
        ).wait()
    return project


def dbt_executable() -> str:
    """dbt from PATH, else the one installed beside this Python."""
    return shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))


class DbtRunConfig(Config):
    """Run configuration of the dbt assets.

    as_of: the instant the project is evaluated at (`YYYY-MM-DD HH:MM:SS`,
    UTC); empty means the time the run starts, as dbt's own default.
    """

    as_of: str = ""


def dagster_manifest(project: DbtProject) -> dict[str, Any]:
    """The parsed manifest, as dagster-dbt reads it.

    dagster-dbt resolves selectors on plain dicts of the manifest's nodes,
    where `depends_on_nodes` (a property of dbt's own node classes) is
    missing; the buildable test selection of selectors.yml reads it. Each
    node gets it as a key.
    """
    manifest = json.loads(project.manifest_path.read_text())
    for node in manifest["nodes"].values():
        node.setdefault(
            "depends_on_nodes", node.get("depends_on", {}).get("nodes", [])
        )
    return manifest


PROJECT = dbt_project()


@dbt_assets(manifest=dagster_manifest(PROJECT), project=PROJECT)
def lead_scoring_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig
) -> Iterator[Any]:
    """`dbt build` of the selected models and seeds, with their data tests."""
    # dbt would pad a short seed row with nulls on PostgreSQL and Spark:
    # every seed file is read first, and a malformed row stops the run here.
    check_seeds(PROJECT_DIR)
    # Unit tests check the code on fixed inputs: CI runs them, a schedule
    # need not (as the selectors leave them out).
    args = ["build", "--exclude-resource-type", "unit_test"]
    if config.as_of:
        args += ["--vars", json.dumps({"as_of": config.as_of})]
    # dagster-dbt passes the job's models to dbt with --select; dbt then
    # adds the tests on them. "buildable", as selectors.yml does: a test
    # runs when all it reads is built by the job or upstream of it; one
    # that also reads a model the job does not build waits for one that does.
    with environment_default("DBT_INDIRECT_SELECTION", "buildable"):
        invocation = dbt.cli(args, context=context)
    yield from invocation.stream()


@contextmanager
def environment_default(name: str, value: str) -> Iterator[None]:
    """Set an environment variable unless the user did, for the block only."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


def selector_job(selector: str, description: str):
    """An asset job that builds exactly what the dbt selector selects."""
    return define_asset_job(
        name=selector,
        description=f"{description} (dbt selector `{selector}`)",
        selection=build_dbt_asset_selection(
            [lead_scoring_dbt_assets], dbt_selector=selector
        ),
        tags=WAREHOUSE_TAG,
    )


JOBS_BY_SELECTOR = {
    selector: selector_job(selector, description)
    for selector, (description, _) in JOBS.items()
}

defs = Definitions(
    assets=[lead_scoring_dbt_assets],
    jobs=list(JOBS_BY_SELECTOR.values()),
    schedules=[
        # Stopped until someone turns them on (UI, or `dagster schedule
        # start`), so a `dagster dev` on a laptop does not start building.
        ScheduleDefinition(
            name=f"{selector}_schedule",
            job=JOBS_BY_SELECTOR[selector],
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=DefaultScheduleStatus.STOPPED,
        )
        for selector, (_, cron) in JOBS.items()
        if cron is not None
    ],
    resources={
        "dbt": DbtCliResource(project_dir=PROJECT, dbt_executable=dbt_executable()),
    },
)
