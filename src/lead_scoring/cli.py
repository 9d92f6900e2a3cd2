"""The `lead-scoring` command: generate, load, summarise, explain, preview,
check seeds, calibrate, bench, report.

Results go to standard output, progress lines to standard error. Expected
failures print `error: <message>` and a hint, and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lead_scoring import __version__
from lead_scoring.contract import RAW_TABLES
from lead_scoring.warehouse.engines import default_target
from lead_scoring.errors import LeadScoringError

EXIT_ERROR = 2


def _progress(message: str) -> None:
    """Print a progress line to standard error."""
    print(message, file=sys.stderr, flush=True)


def _run_generate(args: argparse.Namespace) -> int:
    """`generate`: write a synthetic raw data set."""
    from lead_scoring.synthetic.generate import generate

    manifest = generate(
        args.out,
        leads=args.leads,
        seed=args.seed,
        dirty_rate=args.dirty_rate,
        fmt=args.format,
        as_of=args.as_of,
        activities_per_lead=args.activities_per_lead,
        progress=_progress,
    )
    print(f"wrote {len(manifest['rows'])} raw tables to {args.out}")
    for table, rows in manifest["rows"].items():
        rejected = sum(manifest["expected_rejections"][table].values())
        print(f"  {table:<22} {rows:>12,} rows {rejected:>10,} expected rejections")
    return 0


def _run_load(args: argparse.Namespace) -> int:
    """`load`: load a folder of raw files into the raw schema."""
    import json
    import tempfile

    from lead_scoring.warehouse.load import describe_target

    source_dir = args.source_dir
    with tempfile.TemporaryDirectory(prefix="lead-scoring-map-") as mapped:
        if args.mapping == "olist":
            from lead_scoring.warehouse.olist import OLIST_VARS, olist_to_raw

            _progress(f"mapping the Olist data set in {source_dir} onto the contract")
            olist_to_raw(source_dir, mapped)
            source_dir = mapped
            _progress(f"build it with: dbt build --vars '{json.dumps(OLIST_VARS)}'")
        rows = _load_rows(args, source_dir)
    where = describe_target(args.target, args.duckdb_path)
    verb = "appended to" if args.mode == "append" else "loaded into"
    print(f"{verb} {args.raw_schema} in {where}")
    for table, count in rows.items():
        print(f"  {table:<22} {count:>12,} rows")
    return 0


def _load_rows(args: argparse.Namespace, source_dir: str) -> dict[str, int]:
    """Run the loader with the command's options."""
    from lead_scoring.warehouse.load import load

    return load(
        source_dir,
        target=args.target,
        raw_schema=args.raw_schema,
        mode=args.mode,
        duckdb_path=args.duckdb_path,
        progress=_progress,
        loaded_at=args.loaded_at,
        # The Olist mapping leaves the tables Olist does not publish empty.
        allow_empty=args.allow_empty or args.mapping == "olist",
    )


def _run_summary(args: argparse.Namespace) -> int:
    """`summary`: print the warehouse report."""
    from lead_scoring.warehouse.summary import summary

    print(summary(
        args.duckdb_path, schema=args.schema, raw_schema=args.raw_schema,
        target=args.target,
    ))
    return 0


def _run_explain(args: argparse.Namespace) -> int:
    """`explain`: why a lead has its score, from the marts."""
    from lead_scoring.analysis.explain import explain, render_text

    explanation = explain(
        args.lead_id, target=args.target, duckdb_path=args.duckdb_path,
        schema=args.schema, as_of=args.as_of,
    )
    if args.format == "json":
        print(explanation.to_json())
    else:
        print(render_text(explanation), end="")
    return 0


def _run_preview(args: argparse.Namespace) -> int:
    """`preview`: what a proposed rule file changes, built beside the live marts."""
    import json

    from lead_scoring.analysis.preview import preview

    try:
        variables = json.loads(args.vars) if args.vars else {}
    except ValueError as exc:
        from lead_scoring.errors import LeadScoringError

        raise LeadScoringError(
            f"--vars is not JSON: {exc}", hint='e.g. --vars \'{"mql_score_threshold": 60}\''
        ) from None
    result = preview(
        args.rules, target=args.target, duckdb_path=args.duckdb_path,
        schema=args.schema, raw_schema=args.raw_schema,
        project_dir=args.project_dir, variables=variables, keep=args.keep,
        progress=_progress,
    )
    text = result.markdown()
    print(text, end="")
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(text)
        _progress(f"preview: wrote {args.out}")
    return 0


def _run_check_seeds(args: argparse.Namespace) -> int:
    """`check-seeds`: every row of every seed file as dbt will read it."""
    from lead_scoring.seeds import check_seeds

    count = check_seeds(args.project_dir)
    print(f"check-seeds: {count} seed files, every row has one value per column")
    return 0


def _run_report(args: argparse.Namespace) -> int:
    """`report`: write the HTML picture of the funnel."""
    from lead_scoring.analysis.report import write_report

    path = write_report(
        args.out,
        duckdb_path=args.duckdb_path,
        schema=args.schema,
        target=args.target,
        progress=_progress,
    )
    print(f"wrote {path}: open it in a browser (no server or internet needed)")
    return 0


def _run_calibrate(args: argparse.Namespace) -> int:
    """`calibrate`: propose new points from outcomes; never touches the live seed."""
    from pathlib import Path

    from lead_scoring.analysis import calibrate
    from lead_scoring.warehouse.readers import open_reader

    project = Path(args.project_dir)
    rules_path = Path(args.rules) if args.rules else project / "seeds" / "scoring_rules.csv"
    rules = calibrate.read_rules(rules_path)
    calibrate.check_out_dir(args.out, rules_path)
    settings = calibrate.settings_from_project(
        project,
        outcome=args.outcome,
        window_days=args.window_days,
        l2=args.l2,
        min_conversions=args.min_conversions,
        min_rule_leads=args.min_rule_leads,
        test_share=args.test_share,
        mql_score_threshold=args.threshold,
        mql_min_fit_score=args.min_fit,
        sales_capacity_mqls_per_month=args.capacity,
    )
    with open_reader(args.target, args.duckdb_path) as reader:
        _progress(f"calibrate: reading {reader.description} (schema {args.schema})")
        query = calibrate.warehouse_query(reader)
        result = calibrate.calibrate(query, args.schema, rules, settings, _progress)
    seed_path, report_path = calibrate.write_outputs(result, args.out, rules_path)
    for line in calibrate.summary_lines(result):
        print(line)
    print(f"proposed rules: {seed_path}")
    print(f"report:         {report_path}")
    print(f"review with:    diff -u {rules_path} {seed_path}")
    return 0


def _run_bench(args: argparse.Namespace) -> int:
    """`bench`: time generate, load, builds and the floor query."""
    from lead_scoring.bench import bench, render

    result = bench(
        args.leads,
        activities_per_lead=args.activities_per_lead,
        runs=args.runs,
        threads=args.threads,
        memory_limit=args.memory_limit,
        dbt_threads=args.dbt_threads,
        work_dir=args.work_dir,
        project_dir=args.project_dir,
        keep=args.keep,
        progress=_progress,
    )
    print(render(result))
    return 0


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


def _add_warehouse(parser: argparse.ArgumentParser) -> None:
    """--target, --duckdb-path and --schema of the commands that read a
    built warehouse."""
    parser.add_argument(
        "--target",
        default=default_target(),
        help="warehouse to read: duckdb or postgres (default $LEAD_SCORING_TARGET "
        "or duckdb; connection from the same variables as profiles.yml)",
    )
    parser.add_argument("--duckdb-path", help="DuckDB file (as for load)")
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
    _add_warehouse(parser)
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
        "score calibration curve and speed to lead. It opens in a browser with "
        "no server and no internet.",
    )
    parser.add_argument("--out", required=True, help="HTML file to write")
    _add_warehouse(parser)
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
        default=30,
        help="rules firing for fewer training leads keep their points (default 30)",
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
