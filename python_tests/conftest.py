"""Shared helpers: build the dbt project into a throwaway DuckDB warehouse."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from lead_scoring.contract import RAW_TABLES
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import load

PROJECT_DIR = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules marked slow (`pytestmark = pytest.mark.slow`: whole
    builds on an engine, or many of them) run first, each in its order.

    `make test` runs the modules in parallel, one worker per module at a
    time (pytest-xdist, `--dist loadfile`): started first, the longest ones
    overlap the many short ones instead of running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """With LEAD_SCORING_SKIPPED_LIST set, append the id of each skipped test
    to that file, one per line (.ci/run runs them again with every extra).

    Written by the controlling process only: pytest-xdist's workers report
    to it, and a worker's own call would write the same id again."""
    path = os.environ.get("LEAD_SCORING_SKIPPED_LIST")
    if not path or not report.skipped or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(report.nodeid + "\n")


class _Parses:
    """dbt's saved parse (partial_parse.msgpack) per project folder and vars,
    shared by the warehouses a test process builds.

    A new warehouse has a new target folder, where dbt finds no saved parse
    and parses the whole project again; other vars make it parse again too
    (a whole parse took 3.5 s on average in a run of the suite, a partial
    one 0.5 s; sharing the parses took 112 whole parses down to 78 and the
    suite's pytest time from 746 to 657 s on a 2-core machine).

    Before each command, the target folder gets the parse last saved for
    the same project folder, vars and dbt target; after it, the one dbt
    saved is kept. dbt checks a saved parse itself (its vars, profile and
    the checksum of every file) and parses again whatever changed, so a
    parse made for another warehouse is used only where it is valid: the
    warehouses' profiles are identical because dbt runs with the DuckDB path
    relative to the warehouse's folder (Warehouse.dbt_raw)."""

    FILE = "partial_parse.msgpack"

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory | None = None

    def key(self, project_dir: Path, vars: dict[str, Any] | None,
            args: tuple[str, ...]) -> str:
        chosen = [arg for i, arg in enumerate(args)
                  if arg in ("--target", "--profile")
                  or (i and args[i - 1] in ("--target", "--profile"))]
        text = json.dumps([str(project_dir), vars or {}, chosen], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _saved(self, key: str) -> Path:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="dbt-parses-")
        return Path(self._folder.name) / f"{key}.msgpack"

    def restore(self, key: str, target: Path) -> None:
        saved = self._saved(key)
        if saved.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(saved, target / self.FILE)

    def keep(self, key: str, target: Path) -> None:
        made = target / self.FILE
        if made.exists():
            shutil.copyfile(made, self._saved(key))


_PARSES = _Parses()


class _DuckDBEnvironment:
    """Which warehouse folder dbt-duckdb's environment was opened in.

    dbt-duckdb keeps its DuckDB environment (the open database) across
    commands in a process while the profile's values are the same. With the
    path relative to each warehouse's folder they are the same for every
    warehouse, so the environment is dropped when dbt next runs for another
    folder, and kept for the next command in the same one."""

    def __init__(self) -> None:
        self.folder: Path | None = None

    def open_in(self, folder: Path) -> None:
        if folder != self.folder:
            from dbt.adapters.duckdb.connections import DuckDBConnectionManager

            DuckDBConnectionManager.close_all_connections()
            self.folder = folder


_DUCKDB_ENVIRONMENT = _DuckDBEnvironment()


class Warehouse:
    """A DuckDB file, raw tables loaded into it, and dbt runs against it."""

    def __init__(self, root: Path, project_dir: Path = PROJECT_DIR) -> None:
        self.root = root
        self.project_dir = project_dir
        self.path = root / "warehouse.duckdb"
        self.raw_dir = root / "raw"
        # Whether builds write dbt's JSON artifacts (manifest.json,
        # run_results.json) into the target folder; see dbt_raw.
        self.write_artifacts = False

    def with_seed(self, seed_name: str, csv_text: str) -> "Warehouse":
        """Use a private copy of the project whose seed `seed_name` is replaced.

        Lets a test build with its own scoring rules (or other seeds) without
        touching the project's files.
        """
        copy = self.root / "project"
        if not copy.exists():
            copy_project(copy, self.project_dir)
        (copy / "seeds" / f"{seed_name}.csv").write_text(csv_text)
        self.project_dir = copy
        return self

    def write_raw(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Write CSV files for the six raw tables (missing ones empty: header
        only, loaded with allow_empty) and load them."""
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        for table, columns in RAW_TABLES.items():
            with open(self.raw_dir / f"{table}.csv", "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                for row in tables.get(table, []):
                    writer.writerow({column: row.get(column, "") for column in columns})
        load(self.raw_dir, duckdb_path=str(self.path), allow_empty=True)

    def dbt(self, *args: str, vars: dict[str, Any] | None = None) -> dbtRunnerResult:
        """Run a dbt command against this warehouse; fail the test if it fails."""
        result = self.dbt_raw(*args, vars=vars)
        assert result.success, (
            f"dbt {' '.join(args)} failed: {failure_summary(result)}"
        )
        return result

    def dbt_raw(self, *args: str, vars: dict[str, Any] | None = None) -> dbtRunnerResult:
        """Run a dbt command and return its result, successful or not.

        A `build` leaves out the dbt unit tests unless its arguments name
        resource types: they test the SQL, not the data, and run once in
        test_unit_tests.py instead of in every build of the suites. A
        `build` or `run` writes no JSON artifacts unless write_artifacts is
        set: dbt writes manifest.json twice per command (0.7 of the 6.8
        seconds a small build takes), and the suites read the results
        dbtRunner returns; commands such as `parse` and `docs` write theirs.

        dbt runs in the warehouse's folder with the DuckDB path relative to
        it, so that every warehouse has the same profile and a parse made
        for one serves the next (see _PARSES)."""
        scoped = [] if args[:1] != ("build",) or any(
            arg.endswith("resource-type") for arg in args
        ) else ["--exclude-resource-type", "unit_test"]
        if args[:1] in (("build",), ("run",)) and not self.write_artifacts:
            scoped.append("--no-write-json")
        target = self.root / "target"
        cli_args = [
            *args,
            *scoped,
            "--project-dir", str(self.project_dir),
            "--profiles-dir", str(self.project_dir),
            "--target-path", str(target),
            "--log-path", str(self.root / "logs"),
        ]
        if vars:
            cli_args += ["--vars", json.dumps(vars)]
        parse = _PARSES.key(self.project_dir, vars, args)
        _PARSES.restore(parse, target)
        previous_cwd = os.getcwd()
        self.root.mkdir(parents=True, exist_ok=True)
        os.chdir(self.root)
        os.environ["LEAD_SCORING_DUCKDB_PATH"] = self.path.name
        _DUCKDB_ENVIRONMENT.open_in(self.root)
        try:
            return dbtRunner().invoke(cli_args)
        finally:
            os.chdir(previous_cwd)
            os.environ["LEAD_SCORING_DUCKDB_PATH"] = str(self.path)
            _PARSES.keep(parse, target)

    def log_lines(self) -> list[str]:
        """The lines of the last dbt command's log. dbt rotates its log at 10
        MB (dbt.log.1 is the newest earlier part): a command's lines may begin
        in a rotated part."""
        parts = sorted(
            (self.root / "logs").glob("dbt.log*"),
            key=lambda part: -int(part.suffix[1:]) if part.suffix[1:].isdigit() else 0,
        )
        lines = [
            line for part in parts
            for line in part.read_text(errors="replace").splitlines()
        ]
        starts = [i for i, line in enumerate(lines) if "Running with dbt=" in line]
        return lines[starts[-1]:] if starts else lines

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Rows of a query against the built warehouse.

        Opened with dbt-duckdb's configuration: the adapter keeps its own
        connection to the file open in this process, and DuckDB refuses a
        second one to the same file with a different configuration.
        """
        with duckdb.connect(str(self.path)) as connection:
            return connection.execute(sql, params or []).fetchall()


# The model holding the rows used of each raw table (activities: those valid
# at as_of); the others are in fct_rejected_rows, with the reason.
STAGED = {
    "leads": "analytics_restricted.stg_crm__leads",
    "activities": "analytics.int_activities_valid",
    "sales_activities": "analytics.stg_crm__sales_activities",
    "lead_status_changes": "analytics.stg_crm__lead_status_changes",
    "opportunities": "analytics.stg_crm__opportunities",
    "marketing_spend": "analytics.stg_marketing__spend",
}

MARTS = [
    "dim_leads", "fct_activities", "fct_mql_events", "fct_lifecycle_transitions",
    "fct_score_ledger", "fct_rejected_rows", "rpt_funnel_conversion",
    "rpt_score_calibration", "rpt_threshold_backtest", "rpt_sales_feedback",
    "rpt_rule_effectiveness",
]


def contents(warehouse: Warehouse, relation: str, where: str = "true") -> list[tuple]:
    """All rows of a relation, sorted, so two builds can be compared.

    The incremental build state (columns starting with an underscore: when
    and with what a build wrote the row) is left out: it differs between
    builds by design.
    """
    names = [row[0] for row in warehouse.query(
        "select column_name from information_schema.columns "
        "where table_schema = 'analytics' and table_name = ? "
        "order by ordinal_position",
        [relation],
    )]
    kept = ", ".join(f'"{name}"' for name in names if not name.startswith("_"))
    rows = warehouse.query(f"select {kept or '*'} from analytics.{relation} where {where}")
    return sorted(rows, key=lambda row: tuple(
        (value is None, str(value)) for value in row
    ))


# Rows compared between an incremental and a full build, per incremental
# model: all, except the change log of lead-level inputs, which keeps a row
# (digest null) for each lead that is no longer live, so that the scoring
# models see when it stopped being one.
COMPARED_ROWS = {"int_lead_input_changes": "inputs_digest is not null"}


def incremental_models(result: dbtRunnerResult) -> list[str]:
    """The lead_incremental models a dbt build ran, from its results (so a
    new one is compared as soon as it exists)."""
    found = sorted(
        node_result.node.name for node_result in result.result.results
        if node_result.node.resource_type == "model"
        and node_result.node.config.materialized == "lead_incremental"
    )
    assert found, "the build ran no lead_incremental model"
    return found


def same_value(left: object, right: object) -> bool:
    """Equal, floats to 1e-12 relative (sums may add in another order)."""
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12)
    return left == right


def failure_summary(result: dbtRunnerResult) -> str:
    """The exception, or each failed node with its message."""
    if result.exception is not None:
        return str(result.exception)
    lines = []
    for node_result in getattr(result.result, "results", None) or []:
        if str(node_result.status).lower() in {"error", "fail", "runtimeerror"}:
            lines.append(f"{node_result.node.unique_id}: {node_result.message}")
    return "\n".join(lines) or "no failed node reported"


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    previous = os.environ.get("LEAD_SCORING_DUCKDB_PATH")
    yield Warehouse(tmp_path)
    if previous is None:
        os.environ.pop("LEAD_SCORING_DUCKDB_PATH", None)
    else:
        os.environ["LEAD_SCORING_DUCKDB_PATH"] = previous


GENERATED_AS_OF = "2026-06-30 23:59:59"


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, dict]:
    """One build of a generated data set with 5% dirt, shared by the suites.

    Returns the warehouse and the generator's manifest.
    """
    root = Path(tmp_path_factory.mktemp("generated"))
    warehouse = Warehouse(root)
    manifest = generate(
        root / "raw", leads=1500, seed=7, dirty_rate=0.05, fmt="csv",
        as_of=GENERATED_AS_OF, activities_per_lead=20,
    )
    load(root / "raw", duckdb_path=str(warehouse.path))
    warehouse.dbt("build", vars={"as_of": GENERATED_AS_OF})
    return warehouse, manifest


def require_module(module: str, how_to_enable: str) -> Any:
    """Import an optional dependency, or skip the test saying how to enable it.

    With LEAD_SCORING_REQUIRE_ALL=1 (as in CI) a missing dependency fails
    the test instead: CI installs every extra.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{module} is not installed; {how_to_enable} to run this test"
        if os.environ.get("LEAD_SCORING_REQUIRE_ALL") == "1":
            pytest.fail(message + " (LEAD_SCORING_REQUIRE_ALL=1 makes it mandatory)")
        pytest.skip(message)


def copy_project(destination: Path, project_dir: Path = PROJECT_DIR) -> Path:
    """A private copy of the dbt project (no venv, builds, tests or package)."""
    shutil.copytree(
        project_dir,
        destination,
        ignore=shutil.ignore_patterns(
            ".venv*", ".git", "target", "logs", "warehouse", "python_tests",
            "src", "*.duckdb",
        ),
    )
    return destination
