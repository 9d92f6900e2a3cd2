"""The `lead-scoring` command: generate, load, summarise, explain, preview,
check seeds, calibrate, bench, report.

Results go to standard output, progress lines to standard error. Expected
failures print `error: <message>` and a hint, and exit with status 2.

This module defines the arguments of every command (`_add_*`, build_parser)
and runs it (main); the handlers (`_run_*`) are in lead_scoring.cli_commands.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lead_scoring import __version__
from lead_scoring.cli_commands import (
    _run_bench,
    _run_calibrate,
    _run_check_seeds,
    _run_explain,
    _run_generate,
    _run_load,
    _run_preview,
    _run_report,
    _run_summary,
)
from lead_scoring.contract import RAW_TABLES
from lead_scoring.warehouse.engines import default_target
from lead_scoring.errors import LeadScoringError

EXIT_ERROR = 2


def _add_generate(commands) -> None:
    """Arguments of `generate`."""
    parser = commands.add_parser(
        "generate",
        help="write a deterministic synthetic raw data set",
        description="Write the six raw tables plus _manifest.json, "
        "_expected_rejections.csv and _expected_nulls.csv into a folder.",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--leads", type=int, default=1000, help="number of leads")
    parser.add_argument("--seed", type=int, default=42, help="random seed (>= 0)")
    parser.add_argument(
        "--dirty-rate",
        type=float,
        default=0.05,
        help="share of dirty rows per table, 0..0.5 (default 0.05)",
    )
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument(
        "--as-of",
        default="2026-06-30 23:59:59",
        help="UTC timestamp the data ends at (default 2026-06-30 23:59:59)",
    )
    parser.add_argument(
        "--activities-per-lead",
        type=float,
        default=100,
        help="mean marketing activities per lead (default 100)",
    )
    parser.set_defaults(handler=_run_generate)


def _add_load(commands) -> None:
    """Arguments of `load`."""
    parser = commands.add_parser(
        "load",
        help="load a folder of raw files into the raw schema",
        description="Load "
        + ", ".join(RAW_TABLES)
        + " from <table>.parquet, <table>.csv or a folder <table>/ of parts.",
    )
    parser.add_argument("--from", dest="source_dir", required=True, help="folder")
    parser.add_argument(
        "--target",
        default=default_target(),
        help="warehouse: duckdb, postgres or spark (default $LEAD_SCORING_TARGET "
        "or duckdb; connection from the same variables as profiles.yml)",
    )
    parser.add_argument("--mode", choices=("replace", "append"), default="replace")
    parser.add_argument("--raw-schema", default="raw", help="schema (default raw)")
    parser.add_argument(
        "--duckdb-path",
        help="DuckDB file (default $LEAD_SCORING_DUCKDB_PATH or "
        "warehouse/lead_scoring.duckdb)",
    )
    parser.add_argument(
        "--loaded-at",
        help="load marker written to every row as column _loaded_at "
        "('YYYY-MM-DD HH:MM:SS', UTC; default: now). Incremental builds "
        "process the rows loaded since their last build by it; a time "
        "after now is refused",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="replace a table with a file that has a header but no rows "
        "(refused by default: it would empty the table)",
    )
    parser.add_argument(
        "--mapping",
        choices=("contract", "olist"),
        default="contract",
        help="contract: files already in the source contract (default); "
        "olist: the public Olist marketing-funnel CSVs, mapped onto it "
        "(see lead_scoring/warehouse/olist.py)",
    )
    parser.set_defaults(handler=_run_load)


def _add_warehouse(parser: argparse.ArgumentParser, published: bool = True) -> None:
    """--target, --duckdb-path and --schema of the commands that read a
    built warehouse (on DuckDB its published copy, unless published=False)."""
    parser.add_argument(
        "--target",
        default=default_target(),
        help="warehouse to read: duckdb or postgres (default $LEAD_SCORING_TARGET "
        "or duckdb; connection from the same variables as profiles.yml)",
    )
    parser.add_argument(
        "--duckdb-path",
        help="DuckDB build file (as for load); what is read is the copy the "
        "last successful build published beside it "
        "($LEAD_SCORING_PUBLISHED_PATH, else <name>_published.duckdb)"
        if published else "DuckDB build file (as for load), read itself",
    )
    parser.add_argument("--schema", default="analytics", help="modelled schema")


def _add_summary(commands) -> None:
    """Arguments of `summary`."""
    parser = commands.add_parser(
        "summary", help="row counts and rejections of a built DuckDB warehouse"
    )
    _add_warehouse(parser)
    parser.add_argument("--raw-schema", default="raw", help="raw schema")
    parser.set_defaults(handler=_run_summary)


def _add_explain(commands) -> None:
    """Arguments of `explain`."""
    parser = commands.add_parser(
        "explain",
        help="why a lead has its score: rules, firings, totals, MQL events",
        description="Read the marts of a built warehouse and print the lead's "
        "attributes, every rule that fired for it with its capped, decayed "
        "points at as_of and the firings behind them, the category totals and "
        "lead score (as dim_leads has them), and its MQL events.",
    )
    parser.add_argument("lead_id", help="the lead (dim_leads.lead_id)")
    parser.add_argument(
        "--as-of",
        help="explain at this time instead of the build's as_of (not earlier: "
        "the firings decay further, nothing after the build is known)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    _add_warehouse(parser)
    parser.set_defaults(handler=_run_explain)


def _add_preview(commands) -> None:
    """Arguments of `preview`."""
    parser = commands.add_parser(
        "preview",
        help="build a proposed rule file beside the live marts and show what "
        "changes (the live warehouse is only read)",
        description="Build the proposed rule file into a scratch warehouse from "
        "the live raw rows at the live marts' as_of, and print what would "
        "change: MQL events per month, leads changing lifecycle stage or grade, "
        "score AUC and lift, and the rules whose points change for the most "
        "leads. --out writes the same Markdown for a pull request.",
    )
    parser.add_argument("--rules", required=True, help="the proposed scoring_rules.csv")
    parser.add_argument("--out", help="also write the Markdown to this file")
    _add_warehouse(parser, published=False)
    parser.add_argument("--raw-schema", default="raw", help="raw schema")
    parser.add_argument(
        "--project-dir", default=".", help="dbt project (default .)"
    )
    parser.add_argument(
        "--vars", help="dbt vars the live build used besides as_of, as JSON"
    )
    parser.add_argument(
        "--keep", action="store_true",
        help="PostgreSQL: keep the <schema>_preview schemas for a closer look",
    )
    parser.set_defaults(handler=_run_preview)


def _add_check_seeds(commands) -> None:
    """Arguments of `check-seeds`."""
    parser = commands.add_parser(
        "check-seeds",
        help="name every malformed row of the seed files by file and line",
        description="Read every seed file as dbt will and fail (exit 2) on rows "
        "with more or fewer values than the header, and on blank lines: dbt "
        "itself stops on the first only with an agate row number, and on "
        "PostgreSQL and Spark loads the others padded with nulls. Run it "
        "before dbt build after editing a seed.",
    )
    parser.add_argument(
        "--project-dir", default=".", help="dbt project (default .)"
    )
    parser.set_defaults(handler=_run_check_seeds)


def _add_report(commands) -> None:
    """Arguments of `report`."""
    parser = commands.add_parser(
        "report",
        help="write a self-contained HTML report of the funnel from the marts",
        description="Read the marts of a built warehouse and write one HTML "
        "file with the funnel by stage, MQLs and conversion by cohort month and "
        "lead source, the score distribution of converted and other leads, the "
        "score calibration curve and speed to lead, and what calibrating the "
        "scoring rules against outcomes says to do. It opens in a browser with "
        "no server and no internet.",
    )
    parser.add_argument("--out", required=True, help="HTML file to write")
    _add_warehouse(parser)
    parser.add_argument(
        "--project-dir", default=".",
        help="dbt project whose seed and vars the rules are calibrated with "
        "(default .)",
    )
    parser.set_defaults(handler=_run_report)


def _add_calibrate(commands) -> None:
    """Arguments of `calibrate`."""
    parser = commands.add_parser(
        "calibrate",
        help="propose new rule points from conversion outcomes (writes a copy, "
        "never the live seed)",
        description="Fit a regularised logistic model of conversion on the rule "
        "firings of a built warehouse, check it on held-out leads and write a "
        "proposed scoring_rules.csv and a report into --out.",
    )
    _add_warehouse(parser)
    parser.add_argument(
        "--project-dir", default=".", help="dbt project (vars and seeds/) (default .)"
    )
    parser.add_argument(
        "--rules",
        help="the seed the warehouse was built with "
        "(default <project-dir>/seeds/scoring_rules.csv)",
    )
    parser.add_argument(
        "--out", default="calibration", help="output folder (default calibration)"
    )
    parser.add_argument(
        "--outcome",
        choices=("sql", "customer"),
        default="sql",
        help="what counts as converted (default sql: SQL, opportunity or customer)",
    )
    parser.add_argument(
        "--window-days",
        type=float,
        default=90.0,
        help="a lead converts if it does so within this many days of creation "
        "(default 90)",
    )
    parser.add_argument(
        "--l2",
        type=float,
        help="L2 penalty (default: chosen by validation on the training leads)",
    )
    parser.add_argument(
        "--min-conversions",
        type=int,
        default=100,
        help="refuse below this many converted training leads (default 100)",
    )
    parser.add_argument(
        "--min-rule-leads",
        type=int,
        default=None,
        help="rules firing for fewer leads are not fitted but rescaled, and new "
        "rules need as many leads (default: var calibrate_min_rule_leads, 30)",
    )
    parser.add_argument(
        "--test-share",
        type=float,
        default=0.3,
        help="share of leads held out (default 0.3)",
    )
    parser.add_argument(
        "--threshold", type=float, help="MQL threshold (default: var in dbt_project.yml)"
    )
    parser.add_argument(
        "--min-fit", type=float, help="minimum fit (default: var in dbt_project.yml)"
    )
    parser.add_argument(
        "--capacity",
        type=float,
        help="MQLs a month sales can work (default: var sales_capacity_mqls_per_month)",
    )
    parser.set_defaults(handler=_run_calibrate)


def _add_bench(commands) -> None:
    """Arguments of `bench`."""
    parser = commands.add_parser(
        "bench",
        help="time generate, load, a full and an incremental dbt build, and the "
        "floor query on DuckDB",
        description="Each run generates the data in a fresh folder, loads it, "
        "builds, runs the floor query, appends one day of activity and builds "
        "again; prints the median of the runs and writes bench-<leads>.json "
        "into --work-dir.",
    )
    parser.add_argument("--leads", type=int, required=True, help="number of leads")
    parser.add_argument(
        "--activities-per-lead", type=float, default=100.0,
        help="mean activities per lead (default 100)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument(
        "--threads", type=int, default=2,
        help="DuckDB threads of the floor query (default 2; the builds use "
        "DuckDB's default, one per core)",
    )
    parser.add_argument(
        "--dbt-threads", type=int, default=1,
        help="nodes dbt runs at once (default 1: one query at a time holds the "
        "memory)",
    )
    parser.add_argument(
        "--memory-limit",
        default="6GB",
        help="DuckDB memory_limit for every step (default 6GB; beyond it DuckDB "
        "spills to disk)",
    )
    parser.add_argument(
        "--work-dir", default="warehouse/bench", help="scratch folder (default warehouse/bench)"
    )
    parser.add_argument("--project-dir", default=".", help="dbt project (default .)")
    parser.add_argument(
        "--keep", action="store_true", help="keep each run's data and warehouse"
    )
    parser.set_defaults(handler=_run_bench)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `lead-scoring` command."""
    parser = argparse.ArgumentParser(
        prog="lead-scoring",
        description="Generate, load and summarise raw data of the lead_scoring "
        "warehouse; calibrate its rules against outcomes; benchmark it; draw its "
        "funnel report.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_generate(commands)
    _add_load(commands)
    _add_summary(commands)
    _add_explain(commands)
    _add_preview(commands)
    _add_check_seeds(commands)
    _add_calibrate(commands)
    _add_bench(commands)
    _add_report(commands)
    return parser


def _fail(message: str, hint: str | None) -> int:
    """Print an expected error and what to do next; return the exit status."""
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    import duckdb

    try:
        return args.handler(args)
    except LeadScoringError as exc:
        return _fail(str(exc), exc.hint)
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return _fail(
            f"the DuckDB warehouse failed: {first_line or type(exc).__name__}",
            "another program may hold the file (dbt, a notebook): close it and "
            "run again; if the file is damaged, rebuild it with `lead-scoring "
            "load` and `dbt build`",
        )
    except BrokenPipeError:
        # the reader of our output went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        return _fail(str(exc), "check the path, its permissions and free disk space")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
