"""What a rule change would do, before it is committed: `lead-scoring preview`.

The proposed rule file is built into a scratch warehouse from the live
warehouse's raw rows, at the live marts' as_of, and the two sets of marts are
compared: MQL events per month, leads whose lifecycle stage or grade would
change (counts by move, and a sample), the score AUC and the lift of the top
score band (rpt_score_calibration), and the rules whose points change for
the most leads (int_lead_rule_states). The live warehouse is only read.

- DuckDB: the raw tables are copied into a new DuckDB file in a temporary
  folder (the live file is attached read-only), and the project is built
  there with `dbt build` in a child process.
- PostgreSQL: the project is built into the schemas `<schema>_preview` (and
  `<schema>_preview_restricted`) of the same database, from the same raw
  schema, and those schemas are dropped afterwards (--keep keeps them).

Every figure is read from the two builds' marts, so the preview shows what
a build with the proposed file gives.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lead_scoring.warehouse import engines
from lead_scoring.contract import RAW_TABLES
from lead_scoring.seeds import check_seeds
from lead_scoring.errors import LeadScoringError
from lead_scoring.warehouse.load import quote_identifier, resolve_duckdb_path
from lead_scoring.warehouse.readers import Reader, open_reader

Progress = Callable[[str], None]
RULE_FILE = Path("seeds") / "scoring_rules.csv"
SAMPLE = 10


class PreviewError(LeadScoringError):
    """A preview that cannot be built or compared; the live warehouse is untouched."""


@dataclass
class Preview:
    """Live against proposed, as read from the two builds' marts."""

    live: str
    as_of: str
    rules_file: str
    mqls_by_month: dict[str, tuple[int, int]]
    stage_moves: Counter
    grade_moves: Counter
    changed_leads_sample: list[tuple[str, str, str, float, float]]
    leads: int
    auc: tuple[float | None, float | None]
    top_band_lift: tuple[float | None, float | None]
    rules_by_leads_changed: list[tuple[str, int]] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [
            f"# Preview of {self.rules_file}",
            "",
            f"Against the live marts of {self.live}, both at as_of {self.as_of}.",
            "",
            "## MQL events per month",
            "",
            "| month | live | proposed | change |",
            "|---|---:|---:|---:|",
        ]
        for month, (before, after) in sorted(self.mqls_by_month.items()):
            lines.append(f"| {month} | {before:,} | {after:,} | {after - before:+,} |")
        total_before = sum(before for before, _ in self.mqls_by_month.values())
        total_after = sum(after for _, after in self.mqls_by_month.values())
        lines.append(
            f"| total | {total_before:,} | {total_after:,} | "
            f"{total_after - total_before:+,} |"
        )
        for title, moves in (("Lifecycle stage", self.stage_moves),
                             ("Grade", self.grade_moves)):
            changed = sum(moves.values())
            lines += ["", f"## {title}: {changed:,} of {self.leads:,} leads change", ""]
            if moves:
                lines += ["| live | proposed | leads |", "|---|---|---:|"]
                for (before, after), count in moves.most_common():
                    lines.append(f"| {before} | {after} | {count:,} |")
        if self.changed_leads_sample:
            lines += [
                "", "Sample of leads that change stage or grade:", "",
                "| lead | stage | grade | lead score live | proposed |",
                "|---|---|---|---:|---:|",
            ]
            for lead_id, stage, grade, before, after in self.changed_leads_sample:
                lines.append(
                    f"| {lead_id} | {stage} | {grade} | {before:.2f} | {after:.2f} |"
                )
        lines += [
            "", "## Ranking", "",
            "| measure | live | proposed |", "|---|---:|---:|",
            f"| score AUC (SQL) | {_fmt(self.auc[0])} | {_fmt(self.auc[1])} |",
            f"| lift of the top score band | {_fmt(self.top_band_lift[0])} | "
            f"{_fmt(self.top_band_lift[1])} |",
            "", "## Rules whose points change for the most leads", "",
        ]
        if self.rules_by_leads_changed:
            lines += ["| rule | leads |", "|---|---:|"]
            lines += [
                f"| {rule_id} | {count:,} |"
                for rule_id, count in self.rules_by_leads_changed
            ]
        else:
            lines.append("No rule's points change for any lead.")
        return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _copy_project(project_dir: Path, destination: Path, rules: Path) -> Path:
    """A copy of the dbt project whose rule file is the proposed one."""
    shutil.copytree(
        project_dir, destination,
        ignore=shutil.ignore_patterns(
            ".venv*", ".git", "target", "logs", "warehouse", "python_tests", "src",
            "*.duckdb", "calibration",
        ),
    )
    shutil.copyfile(rules, destination / RULE_FILE)
    return destination


def _check_rules(rules: Path, project_dir: Path) -> None:
    if not rules.is_file():
        raise PreviewError(
            f"no rule file at {rules}", hint="pass the proposed scoring_rules.csv"
        )
    live = project_dir / RULE_FILE
    if not live.is_file():
        raise PreviewError(
            f"no dbt project at {project_dir} ({RULE_FILE} is missing)",
            hint="run from the project folder or pass --project-dir",
        )
    header = rules.read_text(encoding="utf-8-sig").splitlines()[:1]
    if header != live.read_text(encoding="utf-8-sig").splitlines()[:1]:
        raise PreviewError(
            f"{rules} does not have the columns of {live}",
            hint="start from a copy of the live rule file and edit rows",
        )


def _dbt(project: Path, env: dict[str, str], variables: dict[str, Any],
         log: Path) -> None:
    """`dbt build` of the project copy (no unit tests); PreviewError on failure.
    On DuckDB without the publication model: the proposed marts are compared
    here and never published to readers."""
    command = [
        str(Path(sys.executable).with_name("dbt")), "build",
        "--project-dir", str(project), "--profiles-dir", str(project),
        "--exclude-resource-type", "unit_test",
        "--vars", json.dumps(variables),
    ]
    if env.get("LEAD_SCORING_TARGET") == "duckdb":
        command += ["--exclude", "publication"]
    with log.open("w") as output:
        done = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-12:])
        raise PreviewError(
            f"the build with the proposed rules failed:\n{tail}",
            hint="fix the rule file (the messages above name the rows); the "
            "live warehouse was not touched",
        )


def _month(value: Any) -> str:
    return str(value)[:7]


def compare(reader: Reader, live: str, proposed: str) -> dict[str, Any]:
    """The figures of a preview from two prefixes of relations one reader
    sees (`catalog.schema` or `schema`, quoted)."""
    def rows(relation_sql: str) -> list[tuple]:
        return reader.rows(relation_sql)

    mqls: dict[str, list[int]] = {}
    for index, prefix in enumerate((live, proposed)):
        for mql_at, in rows(f"select mql_at from {prefix}.fct_mql_events"):
            mqls.setdefault(_month(mql_at), [0, 0])[index] += 1
    leads = {
        lead_id: (stage, grade, float(score))
        for lead_id, stage, grade, score in rows(
            f"select lead_id, lifecycle_stage, lead_grade, lead_score from {live}.dim_leads"
        )
    }
    stage_moves: Counter = Counter()
    grade_moves: Counter = Counter()
    sample = []
    for lead_id, stage, grade, score in sorted(rows(
        f"select lead_id, lifecycle_stage, lead_grade, lead_score from {proposed}.dim_leads"
    )):
        before = leads.get(lead_id)
        if before is None:
            continue
        if before[0] != stage:
            stage_moves[(before[0], stage)] += 1
        if before[1] != grade:
            grade_moves[(before[1], grade)] += 1
        if (before[0] != stage or before[1] != grade) and len(sample) < SAMPLE:
            sample.append((
                lead_id, f"{before[0]} -> {stage}", f"{before[1]} -> {grade}",
                before[2], float(score),
            ))

    def ranking(prefix: str) -> tuple[float | None, float | None]:
        bands = rows(
            f"select band_min, lift, auc from {prefix}.rpt_score_calibration "
            "order by band_min desc"
        )
        if not bands:
            return None, None
        top = next((lift for _, lift, _ in bands if lift is not None), None)
        auc = bands[0][2]
        return (None if auc is None else float(auc)), (None if top is None else float(top))

    live_rank, new_rank = ranking(live), ranking(proposed)
    state = (
        "select lead_id, rule_id, points_at_reference, counted_firings, max_points "
        "from {} where counted_firings > 0"
    )
    before_states = {
        (lead_id, rule_id): rest for lead_id, rule_id, *rest in rows(
            state.format(f"{live}.int_lead_rule_states")
        )
    }
    after_states = {
        (lead_id, rule_id): rest for lead_id, rule_id, *rest in rows(
            state.format(f"{proposed}.int_lead_rule_states")
        )
    }
    changed_rules: Counter = Counter()
    for key in set(before_states) | set(after_states):
        if before_states.get(key) != after_states.get(key):
            changed_rules[key[1]] += 1
    return {
        "mqls_by_month": {month: tuple(counts) for month, counts in mqls.items()},
        "stage_moves": stage_moves,
        "grade_moves": grade_moves,
        "changed_leads_sample": sample,
        "leads": len(leads),
        "auc": (live_rank[0], new_rank[0]),
        "top_band_lift": (live_rank[1], new_rank[1]),
        "rules_by_leads_changed": changed_rules.most_common(10),
    }


def preview(
    rules: str | os.PathLike[str],
    target: str | None = None,
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
    raw_schema: str = "raw",
    project_dir: str | os.PathLike[str] = ".",
    variables: dict[str, Any] | None = None,
    keep: bool = False,
    progress: Progress | None = None,
) -> Preview:
    """Build `rules` into a scratch warehouse and compare (module docstring)."""
    report = progress or (lambda message: None)
    chosen = target or engines.default_target()
    project = Path(project_dir)
    rules_path = Path(rules)
    _check_rules(rules_path, project)
    with open_reader(chosen, duckdb_path, published=False) as live_reader:
        live = live_reader.description
        if "dim_leads" not in live_reader.relations(schema):
            raise PreviewError(
                f"no marts in schema {schema!r} of {live}",
                hint="build the live warehouse first (dbt build)",
            )
        as_of = live_reader.rows(
            f"select max(scores_as_of) from {quote_identifier(schema)}.dim_leads"
        )[0][0]
    if as_of is None:
        raise PreviewError(f"{schema}.dim_leads of {live} is empty",
                           hint="load raw data and run dbt build first")
    as_of_text = str(as_of)[:19]
    build_vars = {**(variables or {}), "as_of": as_of_text, "raw_schema": raw_schema}
    with tempfile.TemporaryDirectory(prefix="lead-scoring-preview-") as folder:
        scratch = Path(folder)
        copy = _copy_project(project, scratch / "project", rules_path)
        check_seeds(copy)  # the proposed rule file, as dbt will read it
        env = {**os.environ, "DBT_PROFILES_DIR": str(copy),
               "LEAD_SCORING_TARGET": chosen}
        report(f"preview: building {rules_path} at as_of {as_of_text} "
               f"beside the live marts of {live}")
        if chosen == "duckdb":
            live_path = resolve_duckdb_path(duckdb_path).resolve()
            scratch_path = scratch / "preview.duckdb"
            import duckdb

            with duckdb.connect(str(scratch_path)) as connection:
                connection.execute(f"attach '{live_path}' as live (read_only)")
                connection.execute(f"create schema {quote_identifier(raw_schema)}")
                for table in RAW_TABLES:
                    name = f"{quote_identifier(raw_schema)}.{quote_identifier(table)}"
                    connection.execute(
                        f"create table {name} as select * from live.{name}"
                    )
            env.update(LEAD_SCORING_DUCKDB_PATH=str(scratch_path),
                       LEAD_SCORING_SCHEMA=schema)
            _dbt(copy, env, build_vars, scratch / "dbt.log")
            report("preview: comparing the marts")
            with open_reader("duckdb", scratch_path, published=False) as reader:
                reader.rows(f"attach '{live_path}' as live (read_only)")
                quoted = quote_identifier(schema)
                figures = compare(reader, f"live.{quoted}", f"preview.{quoted}")
        else:
            preview_schema = f"{schema}_preview"
            env.update(LEAD_SCORING_SCHEMA=preview_schema)
            try:
                _dbt(copy, env, build_vars, scratch / "dbt.log")
                report("preview: comparing the marts")
                with open_reader(chosen) as reader:
                    figures = compare(
                        reader, quote_identifier(schema), quote_identifier(preview_schema)
                    )
            finally:
                if not keep:
                    connection = engines.postgres_connect()
                    with connection, connection.cursor() as cursor:
                        for name in (preview_schema, preview_schema + "_restricted"):
                            cursor.execute(
                                f"drop schema if exists {quote_identifier(name)} cascade"
                            )
                    connection.close()
    return Preview(live=live, as_of=as_of_text, rules_file=str(rules_path), **figures)
