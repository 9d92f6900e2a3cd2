"""Calibration outputs: the proposed seed, the report and the terminal summary.

`write_outputs` writes the proposed `scoring_rules.csv` (`proposed_seed`) and
the Markdown report (`report`) of a Calibration, never over the live seed
(`check_out_dir`); `settings_from_project` reads the thresholds and capacity
from dbt_project.yml; `summary_lines` is what the CLI prints.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lead_scoring.analysis.calibrate_inputs import (
    _TOP_SHARE, OUTCOMES, PROPOSED_RULES_FILE, REPORT_FILE, Settings, _day,
)
from lead_scoring.analysis.calibrate_proposal import Calibration
from lead_scoring.analysis.calibrate_review import verdict, warnings
from lead_scoring.errors import CalibrationError


# -------------------------------------------------------------------- outputs


def _number_text(value: float | None) -> str:
    """A seed number: blank for none, no trailing zeros."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def proposed_seed(calibration: Calibration) -> str:
    """The proposed seed as CSV text: same columns and rows, new points, and
    the rules discovery proposes appended."""
    by_id = {result.rule.rule_id: result for result in calibration.results}
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(calibration.rules.header), lineterminator="\n"
    )
    writer.writeheader()
    for rule in calibration.rules.rules:
        row = dict(rule.row)
        result = by_id.get(rule.rule_id) if rule.is_active else None
        if result is not None:
            row["points"] = str(result.proposed_points)
            row["max_points"] = _number_text(result.proposed_max_points)
        writer.writerow(row)
    # the rules discovery proposes, after the file's own
    for result in calibration.results:
        if result.is_new:
            row = dict(result.rule.row)
            row["points"] = str(result.proposed_points)
            row["max_points"] = _number_text(result.proposed_max_points)
            writer.writerow(row)
    return out.getvalue()


def _fmt(value: float, digits: int = 3) -> str:
    """A number for the report; n/a for nan."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _l2_text(calibration: Calibration) -> str:
    """How the penalty was chosen."""
    if not calibration.l2_scores:
        return "as given" if calibration.settings.l2 is not None else "default"
    tried = ", ".join(
        f"{l2:g}: {_fmt(value)}" for l2, value in calibration.l2_scores.items()
    )
    return f"chosen by AUC on the latest quarter of the training leads: {tried}"


def _volume_text(c: Calibration) -> str:
    """How MQLs a month are counted, and the current rules' figure beside
    rpt_threshold_backtest's."""
    s = c.settings
    if not c.volume_months:
        return "- MQLs a month: no complete calendar month of data yet."
    months = c.volume_months
    span = months[0][:7] + (f" to {months[-1][:7]}" if len(months) > 1 else "")
    mart = c.mart_rates.get(float(s.mql_score_threshold))
    in_mart = (
        f"rpt_threshold_backtest counts {_fmt(mart, 1)} at it"
        if mart is not None else
        "rpt_threshold_backtest does not hold it (not in var backtest_thresholds)"
    )
    return (
        "- MQLs a month, as rpt_threshold_backtest counts them: the leads whose "
        "first qualification (score or fast-track, with the minimum fit, before "
        "any disqualification) falls in a calendar month, the mean over the "
        f"{len(months)} complete months {span}. Current rules at "
        f"{s.mql_score_threshold:g} (minimum fit {s.mql_min_fit_score:g}): "
        f"{in_mart}; replayed from the score ledger and fct_activities: "
        f"{_fmt(c.current_rate_at_threshold, 1)}."
    )


def report(
    calibration: Calibration,
    rules_path: str | Path = "seeds/scoring_rules.csv",
    proposed_path: str | Path = f"calibration/{PROPOSED_RULES_FILE}",
) -> str:
    """The Markdown report of a calibration run."""
    c = calibration
    s = c.settings
    outcome_text = " or ".join(OUTCOMES[s.outcome])
    decision, why = verdict(c)
    calls = warnings(c)
    lines = [
        "# Scoring calibration report",
        "",
        f"## What to do: {decision}",
        "",
        why[0].upper() + why[1:] + ".",
        "",
        "## Calls for review",
        "",
        *(calls or ["- None."]),
        "",
        "## How it was measured",
        "",
        f"- Scores as of {np.datetime64(int(c.as_of), 's')} (UTC). Outcome: the "
        f"lead reached {outcome_text} within {s.window_days:g} days of its "
        "creation; features are taken just before it did, or at the end of "
        f"those {s.window_days:g} days.",
        f"- Split: {c.split.method}.",
        f"- Training: {c.leads_train:,} leads, {c.conversions_train:,} converted. "
        f"Held out: {c.leads_test:,} leads, {c.conversions_test:,} converted.",
        f"- Model: logistic regression, L2 penalty {c.fit.l2:g} on standardised "
        f"features ({_l2_text(c)}). Held-out figures below: fitted on the "
        "training leads only. Proposed points: the same fit repeated on all "
        f"{c.leads_fit:,} leads ({sum(r.fitted for r in c.results)} rules fitted, "
        f"{c.fit.iterations} Newton steps); points = {c.scale:.3f} x log-odds "
        f"per firing for every rule, {c.scale_reason}.",
        f"- Rules that fired for fewer than {s.min_rule_leads} leads have no "
        "evidence of their own: their log-odds is their current points times "
        f"the current rules' exchange rate, {c.final.exchange_reason}.",
        "",
        "## Held-out performance",
        "",
        f"| rules | AUC | lift of the top {_TOP_SHARE:.0%} | leads >= {s.mql_score_threshold:g} "
        "| of them converted |",
        "|---|---|---|---|---|",
    ]
    for name, evaluation in (("current", c.current), ("proposed", c.proposed)):
        lines.append(
            f"| {name} | {_fmt(evaluation.auc)} | {_fmt(evaluation.lift_top, 2)} "
            f"| {evaluation.at_threshold:,} | {evaluation.converted_at_threshold:,} |"
        )
    lines += [
        "",
        f"Yardstick: an unpenalised logistic regression on the same features "
        f"(every active rule, coefficients not rounded to points) reaches a "
        f"held-out AUC of {_fmt(c.free_auc)}; the proposal's, "
        f"{_fmt(c.proposed.auc)}, differs from it by "
        f"{_fmt(c.proposed.auc - c.free_auc)}.",
    ]
    lines += [
        "",
        "## Rules by effect (strongest first)",
        "",
        "Every active rule: fitted ones by standardised effect, then the ones "
        "without evidence of their own. Intervals are 95%; in points, the "
        "log-odds interval times the scale.",
        "",
        "| rank | rule_id | category | points now | proposed | points interval "
        "| log-odds per firing (interval) | per std. dev. | leads fired "
        "| of them converted | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    unfitted = [result for result in c.results if not result.fitted]
    for rank, result in enumerate([*c.ranked(), *unfitted], start=1):
        low, high = result.interval
        evidence = (
            f"{c.scale * low:+.0f} .. {c.scale * high:+.0f} "
            f"| {result.coef:+.3f} ({low:+.3f} .. {high:+.3f}) | {result.coef_std:+.3f}"
            if result.fitted else "n/a | n/a | n/a"
        )
        lines.append(
            f"| {rank if result.fitted else '-'} | {result.rule.rule_id} "
            f"| {result.rule.category} | {result.rule.points} | {result.proposed_points} "
            f"| {evidence} | {result.leads_fired:,} | {result.leads_converted:,} "
            f"| {'; '.join(result.notes)} |"
        )
    lines += [
        "",
        "## Threshold for sales capacity",
        "",
        f"- Sales capacity (var sales_capacity_mqls_per_month): "
        f"{s.sales_capacity_mqls_per_month:g} MQLs a month.",
        _volume_text(c),
    ]
    lines.append(
        f"- Minimum fit: {s.mql_min_fit_score:g} now; {c.proposed_min_fit} with the "
        "proposed points lets as many leads through (var "
        "mql_min_fit_score)."
    )
    if c.proposed_threshold is None:
        lines.append(
            "- Proposed rules: no threshold up to 1000 keeps within capacity."
        )
    elif c.proposed_threshold == 1:
        lines.append(
            f"- Proposed rules: any threshold from 1 up keeps within capacity: "
            f"only {_fmt(c.proposed_rate_at_threshold, 1)} MQLs a month at 1 "
            f"point with minimum fit {c.proposed_min_fit}."
        )
    else:
        lines.append(
            f"- Proposed rules: threshold {c.proposed_threshold} "
            f"({_fmt(c.proposed_rate_at_threshold, 1)} MQLs a month, with minimum "
            f"fit {c.proposed_min_fit}): set var mql_score_threshold to it if "
            "sales should work no more than capacity."
        )
    lines += [
        "",
        "## Next steps",
        "",
        f"1. Review the proposal: `diff -u {rules_path} {proposed_path}`.",
        f"2. Copy the rows you accept into {rules_path} and commit them.",
        "3. `dbt build` (with the thresholds above if you take them): history "
        "is re-scored with the new rules.",
        "",
    ]
    return "\n".join(lines)


def check_out_dir(out_dir: str | Path, live_seed: str | Path | None) -> Path:
    """The proposed seed's path; refuses the live seed's folder."""
    target = Path(out_dir) / PROPOSED_RULES_FILE
    if live_seed is not None and target.resolve() == Path(live_seed).resolve():
        raise CalibrationError(
            f"{target} is the live seed; calibrate never overwrites it",
            "pass --out with another folder (default calibration/) and review "
            "the diff",
        )
    return target


def write_outputs(
    calibration: Calibration, out_dir: str | Path, live_seed: str | Path | None
) -> tuple[Path, Path]:
    """Write the proposed seed and the report; never over the live seed."""
    out = Path(out_dir)
    target = check_out_dir(out, live_seed)
    out.mkdir(parents=True, exist_ok=True)
    target.write_text(proposed_seed(calibration), encoding="utf-8")
    report_path = out / REPORT_FILE
    report_path.write_text(
        report(calibration, live_seed or "seeds/scoring_rules.csv", target),
        encoding="utf-8",
    )
    return target, report_path


def settings_from_project(project_dir: str | Path, **overrides: object) -> Settings:
    """Settings with the threshold, minimum fit, capacity, fast-track types,
    grade edges and rule support (calibrate_min_rule_leads) from
    dbt_project.yml; `overrides` that are not None win."""
    import yaml

    path = Path(project_dir) / "dbt_project.yml"
    values: dict[str, object] = {}
    if path.is_file():
        project = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        project_vars = project.get("vars") or {}
        for name in (
            "mql_score_threshold",
            "mql_min_fit_score",
            "sales_capacity_mqls_per_month",
        ):
            if name in project_vars:
                values[name] = float(project_vars[name])
        if "fast_track_activity_types" in project_vars:
            values["fast_track_activity_types"] = tuple(
                str(name).strip().lower()
                for name in project_vars["fast_track_activity_types"] or ()
            )
        if project_vars.get("calibrate_min_rule_leads") is not None:
            # checked by Settings.problems (a whole number >= 1)
            values["min_rule_leads"] = project_vars["calibrate_min_rule_leads"]
        if "lead_grade_fit_edges" in project_vars:
            values["lead_grade_fit_edges"] = tuple(
                float(edge) for edge in project_vars["lead_grade_fit_edges"] or ()
            )
    values.update({key: value for key, value in overrides.items() if value is not None})
    return Settings(**values)  # type: ignore[arg-type]


def summary_lines(calibration: Calibration) -> Sequence[str]:
    """A few lines for the terminal."""
    c = calibration
    top = ", ".join(result.rule.rule_id for result in c.ranked()[:5])
    decision, why = verdict(c)
    return (
        f"what to do: {decision} ({why})",
        f"held-out AUC: current {_fmt(c.current.auc)}, proposed {_fmt(c.proposed.auc)} "
        f"(an unpenalised logistic regression: {_fmt(c.free_auc)})",
        f"held-out lift of the top {_TOP_SHARE:.0%}: current "
        f"{_fmt(c.current.lift_top, 2)}, proposed {_fmt(c.proposed.lift_top, 2)}",
        f"strongest rules: {top}",
        f"sign flips: {', '.join(r.rule.rule_id for r in c.results if r.sign_flipped) or 'none'}",
        "proposed threshold for capacity: "
        + (str(c.proposed_threshold) if c.proposed_threshold is not None else "none"),
    )
