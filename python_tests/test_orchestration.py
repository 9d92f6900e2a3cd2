"""Orchestration: the Dagster example (orchestration/dagster/definitions.py).

Its Definitions load; every dbt model and seed is an asset; the jobs are
the selectors of selectors.yml and select exactly what `dbt ls --selector`
lists; the schedules have the documented crons; and the scoring_refresh
job, run in process against a small generated warehouse, builds the
scoring marts (and only them) with every dbt test passing as an asset check.

Needs the `dagster` extra: skipped without it, failed without it when
LEAD_SCORING_REQUIRE_ALL=1.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from conftest import PROJECT_DIR, Warehouse, require_module
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import load

DEFINITIONS = PROJECT_DIR / "orchestration" / "dagster" / "definitions.py"
HOW_TO_ENABLE = "install it with `pip install -e .[dagster]` (.ci/run does)"
AS_OF = "2026-06-30 23:59:59"


def load_definitions() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lead_scoring_dagster", DEFINITIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def orchestration(tmp_path_factory: pytest.TempPathFactory):
    """The definitions module, loaded against a small generated warehouse,
    with the generator's manifest."""
    require_module("dagster_dbt", HOW_TO_ENABLE)
    root = Path(tmp_path_factory.mktemp("dagster"))
    manifest = generate(
        root / "raw", leads=300, seed=11, dirty_rate=0.05, fmt="csv",
        as_of=AS_OF, activities_per_lead=10,
    )
    warehouse = Warehouse(root)
    load(root / "raw", duckdb_path=str(warehouse.path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEAD_SCORING_DUCKDB_PATH", str(warehouse.path))
        patch.setenv("LEAD_SCORING_DAGSTER_TARGET_PATH", str(root / "manifest"))
        patch.setenv("DBT_TARGET_PATH", str(root / "runs"))
        yield load_definitions(), warehouse, manifest


def dbt_names(root: Path, *args: str) -> set[str]:
    """Names of the models and seeds `dbt ls ARGS` lists (parsing only)
    that build a relation: ephemeral models (the base models) are inlined
    into their readers, and dagster-dbt makes no asset of them.

    Leaves LEAD_SCORING_DUCKDB_PATH as it was: the Dagster run reads it.
    """
    previous = os.environ.get("LEAD_SCORING_DUCKDB_PATH")
    try:
        result = Warehouse(root).dbt(
            "ls", "--quiet", "--output", "json", "--output-keys", "name",
            "--output-keys", "config",
            "--resource-type", "model", "--resource-type", "seed", *args,
        )
    finally:
        if previous is not None:
            os.environ["LEAD_SCORING_DUCKDB_PATH"] = previous
    nodes = [json.loads(line) for line in result.result]
    return {
        node["name"] for node in nodes
        if node["config"]["materialized"] != "ephemeral"
    }


def names(keys) -> set[str]:
    """Model names of asset keys (a custom schema prefixes the key)."""
    return {key.path[-1] for key in keys}


def test_definitions_have_an_asset_per_model_and_seed(orchestration, tmp_path) -> None:
    module, _, _ = orchestration
    assets = module.lead_scoring_dbt_assets
    everything = dbt_names(tmp_path)
    assert "dim_leads" in everything and "scoring_rules" in everything
    assert names(assets.keys) == everything
    # The raw tables are the upstream (source) assets.
    defs = module.defs
    sources = {key.to_user_string() for key in defs.resolve_all_asset_keys()} - {
        key.to_user_string() for key in assets.keys
    }
    assert sources == {
        "crm/leads", "crm/sales_activities", "crm/lead_status_changes",
        "crm/opportunities", "marketing/activities", "marketing/marketing_spend",
    }
    # dbt data tests are asset checks.
    checks = {check.name for check in assets.check_keys}
    assert "unique_dim_leads_lead_id" in checks
    assert "not_null_fct_mql_events_mql_event_id" in checks


@pytest.mark.parametrize("selector", ["scoring_refresh", "reports", "daily_marts"])
def test_each_job_builds_what_its_selector_selects(orchestration, tmp_path, selector) -> None:
    module, _, _ = orchestration
    job = module.defs.resolve_job_def(selector)
    assert names(job.asset_layer.executable_asset_keys) == dbt_names(
        tmp_path, "--selector", selector
    )
    assert job.tags["lead_scoring/warehouse"] == "duckdb"


def test_schedules(orchestration) -> None:
    module, _, _ = orchestration
    schedules = {
        schedule.name: (schedule.job_name, schedule.cron_schedule,
                        schedule.execution_timezone)
        for schedule in module.defs.schedules
    }
    assert schedules == {
        "scoring_refresh_schedule": ("scoring_refresh", "0 * * * *", "UTC"),
        "daily_marts_schedule": ("daily_marts", "30 2 * * *", "UTC"),
    }


def test_scoring_refresh_job_materialises_the_scoring_marts(orchestration) -> None:
    import dagster

    module, warehouse, manifest = orchestration
    job = module.defs.resolve_job_def("scoring_refresh")
    result = job.execute_in_process(
        run_config=dagster.RunConfig(
            ops={"lead_scoring_dbt_assets": module.DbtRunConfig(as_of=AS_OF)}
        ),
        instance=dagster.DagsterInstance.ephemeral(),
    )
    assert result.success
    materialised = names(
        event.asset_key for event in result.get_asset_materialization_events()
    )
    assert materialised == names(job.asset_layer.executable_asset_keys)
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 30
    assert [check.check_name for check in checks if not check.passed] == []

    # dbt ran every test of the job, singular ones across the scoring marts
    # included, and none touching a model the job does not build.
    (run_results,) = (warehouse.root / "runs").glob("*/run_results.json")
    results = json.loads(run_results.read_text())["results"]
    assert {result["status"] for result in results} == {"success", "pass"}
    tests = {result["unique_id"].split(".")[2] for result in results
             if result["unique_id"].startswith("test.")}
    assert {"assert_raw_rows_are_used_or_rejected", "assert_scores_equal_ledger",
            "unique_dim_leads_lead_id"} <= tests
    assert "assert_current_stage_is_last_transition" not in tests
    # The unit tests are CI's: a scheduled job runs none.
    assert not [result["unique_id"] for result in results
                if result["unique_id"].startswith("unit_test.")]

    # Rows in the scoring marts; the reports were not built.
    dim_leads, mql_events, ledger = warehouse.query(
        "select (select count(*) from analytics.dim_leads),"
        " (select count(*) from analytics.fct_mql_events),"
        " (select count(*) from analytics.fct_score_ledger)"
    )[0]
    assert dim_leads > 250 and mql_events > 10 and ledger > 1000
    built = {row[0] for row in warehouse.query(
        "select table_name from information_schema.tables "
        "where table_schema = 'analytics'"
    )}
    assert "rpt_funnel_conversion" not in built
    # The run used the as_of of its config: exactly the planted dirt is
    # rejected, future-dated rows (after as_of) included.
    rejected = {
        (table, reason): count
        for table, reason, count in warehouse.query(
            "select source_table, rejection_reason, count(*) "
            "from analytics.fct_rejected_rows group by all"
        )
    }
    expected = {
        (table, reason): count
        for table, reasons in manifest["expected_rejections"].items()
        for reason, count in reasons.items()
    }
    assert rejected == expected
    assert any(reason == "future_dated" for _, reason in expected)


def test_a_malformed_seed_row_stops_the_job_before_dbt_runs(
    orchestration, tmp_path, monkeypatch
) -> None:
    """dbt on PostgreSQL or Spark would load a short seed row padded with
    nulls; the job reads every seed file first and fails naming the row."""
    import dagster

    module, warehouse, _ = orchestration
    shutil.copy(PROJECT_DIR / "dbt_project.yml", tmp_path / "dbt_project.yml")
    shutil.copytree(PROJECT_DIR / "seeds", tmp_path / "seeds")
    rules = tmp_path / "seeds" / "scoring_rules.csv"
    rules.write_text(rules.read_text() + "e_half_written_rule,engagement\n")
    monkeypatch.setattr(module, "PROJECT_DIR", tmp_path)
    built = (
        "select table_name from information_schema.tables"
        " where table_schema like 'analytics%' order by 1"
    )
    before = warehouse.query(built)
    result = module.defs.resolve_job_def("scoring_refresh").execute_in_process(
        run_config=dagster.RunConfig(
            ops={"lead_scoring_dbt_assets": module.DbtRunConfig(as_of=AS_OF)}
        ),
        instance=dagster.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [
        event for event in result.all_events if event.is_step_failure
    ]
    message = failure.step_failure_data.error.to_string()  # with its cause
    lines = len(rules.read_text().splitlines())
    assert f"seeds/scoring_rules.csv line {lines}: 2 values where the header" in message
    assert warehouse.query(built) == before  # dbt never ran


def test_instance_config_runs_one_warehouse_job_at_a_time(orchestration, tmp_path) -> None:
    """dagster.yaml, as DAGSTER_HOME, queues the jobs' tagged runs one at a time."""
    import shutil

    import dagster

    shutil.copy(DEFINITIONS.with_name("dagster.yaml"), tmp_path / "dagster.yaml")
    instance = dagster.DagsterInstance.from_config(str(tmp_path))
    limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert limits == [{"key": "lead_scoring/warehouse", "limit": 1}]
    module, _, _ = orchestration
    assert module.WAREHOUSE_TAG == {"lead_scoring/warehouse": "duckdb"}


def test_dagster_cli_loads_the_code_location(orchestration, tmp_path) -> None:
    """What `dagster dev -f` loads: `dagster definitions validate` passes,
    with dagster.yaml as the instance config."""
    import os
    import shutil
    import subprocess
    import sys

    shutil.copy(DEFINITIONS.with_name("dagster.yaml"), tmp_path / "dagster.yaml")
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate",
         "-f", str(DEFINITIONS)],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path),
             "LEAD_SCORING_DAGSTER_TARGET_PATH": str(tmp_path / "manifest")},
        capture_output=True, text=True, timeout=300,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "All code locations passed validation" in output
    assert (tmp_path / "manifest" / "manifest.json").is_file()
