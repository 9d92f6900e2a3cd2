"""The handlers of the `lead-scoring` subcommands (`_run_*`, one per command
of lead_scoring.cli, which defines their arguments and runs them) and the
progress lines they print to standard error.
"""

from __future__ import annotations

import argparse
import sys


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
        project_dir=args.project_dir,
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
