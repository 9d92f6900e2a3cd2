"""Propose new points for the scoring rules from what sales actually closed.

`lead-scoring calibrate` reads the score ledger, the activities and the
lifecycle outcomes of a built warehouse, fits a regularised logistic model of
conversion on the rule firings, checks it on held-out data and writes a
proposed `scoring_rules.csv` (same columns and rule order as the live seed,
then the new rules discovery proposes) plus a report. It never writes
the live seed: the user reviews the diff and commits it.

Design (the report repeats the figures of each run)
---------------------------------------------------
- Population and label. Every live lead gets the same observation horizon:
  the leads created at least `window_days` before as_of; the label is whether
  the lead converted (reached SQL, or became a customer with
  `--outcome customer`) within `window_days` of its creation.
- Cut-off. A lead's features are taken just before it converted, or at the end
  of its horizon when it did not: what the score knew when sales decided.
- Features, one per active rule, in "firings" (fresh, uncapped firings of the
  rule): an attribute rule is 1 when it matches the lead (its current
  attributes, as the scores use them); an activity rule is the lead's points
  from it at the cut-off (firings up to then, decayed to it, clipped to
  +-max_points), divided by |points|. So `points x feature` summed over the rules
  is the engine's lead_score at the cut-off (ignoring resets, which depend on
  sales' reactions).
- Split. Time-based when the dates allow: held out are the latest-created
  `test_share` of the leads. Otherwise (too few held-out conversions) a
  deterministic split by a hash of lead_id.
- Model. Logistic regression on standardised features with an L2 penalty
  (`l2`, on the summed log-likelihood; the intercept is not penalised), fitted
  by damped Newton steps: on the training leads for the held-out figures,
  then again on every lead for the proposal. Rules that fired for fewer than
  `min_rule_leads` leads are not fitted: there is no evidence to move them.
- Points. A rule's proposed points are k x its log-odds per firing, rounded
  to integers, with one k for all rules chosen so that as many leads reach
  `mql_score_threshold` as under the current rules: the threshold keeps its
  meaning and MQL volume stays where sales sized it. An unfitted rule's
  log-odds is its current points times the current rules' exchange rate
  (log-odds per point of the current score), so every rule is on one scale.
  Caps keep the same number of firings (max_points scaled with the points);
  a new activity rule's cap is its points (it counts once per lead).
- Guard rails. Fewer than `min_conversions` converted training leads: refused
  with the numbers. A proposed sign that differs from the current one is called
  out. The same warehouse and settings always give the same proposal.
- Capacity. For var `sales_capacity_mqls_per_month`, the proposed threshold is
  the lowest score at which, with the proposed points and the minimum fit, no
  more MQLs a month come than sales can work. MQLs a month are counted as
  rpt_threshold_backtest counts them (calibrate_volume): first
  qualifications, fast-track included, per calendar month, the mean over the
  last `capacity_months` complete months.

The code is split by stage: calibrate_inputs (settings, the seed, the
warehouse), calibrate_design (features and the split), calibrate_model (the
logistic fit and its measures), calibrate_points (from the fit to points on
one scale), calibrate_discovery (new rules), calibrate_proposal
(`calibrate`: the whole run), calibrate_volume (MQLs a month at a
threshold), calibrate_review (warnings and the verdict) and
calibrate_outputs (the proposed seed, the report). This module is the
public entry: every name below is importable from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lead_scoring.analysis.calibrate_design import (
    Design, Split, build_design, features_at, lead_hash_share, split_design,
)
from lead_scoring.analysis.calibrate_inputs import (
    DAY_SECONDS, MONTH_DAYS, OUTCOMES, PROPOSED_RULES_FILE, REPORT_FILE,
    SEED_COLUMNS, Progress, Query, Rule, RuleFile, Settings, WarehouseData,
    duckdb_query, read_rules, read_warehouse, warehouse_query,
)
from lead_scoring.analysis.calibrate_model import (
    L2_GRID, Fit, auc, choose_l2, fit_logistic, top_share_lift,
)
from lead_scoring.analysis.calibrate_outputs import (
    check_out_dir, proposed_seed, report, settings_from_project, summary_lines,
    write_outputs,
)
from lead_scoring.analysis.calibrate_points import Points
from lead_scoring.analysis.calibrate_proposal import (
    Calibration, Evaluation, RuleResult, calibrate,
)
from lead_scoring.analysis.calibrate_review import (
    ACCEPT, NOT_ENOUGH_DATA, REVIEW, verdict, warnings,
)
from lead_scoring.errors import CalibrationError, NotEnoughOutcomesError

__all__ = [
    "ACCEPT", "NOT_ENOUGH_DATA", "REVIEW", "RulesReview", "review_rules",
    "DAY_SECONDS", "L2_GRID", "MONTH_DAYS", "OUTCOMES", "PROPOSED_RULES_FILE",
    "REPORT_FILE", "SEED_COLUMNS", "Calibration", "CalibrationError", "Design",
    "Evaluation", "Fit", "Points", "Progress", "Query", "Rule", "RuleFile", "RuleResult",
    "Settings", "Split", "WarehouseData", "auc", "build_design", "calibrate",
    "check_out_dir", "choose_l2", "duckdb_query", "features_at",
    "fit_logistic", "lead_hash_share", "proposed_seed", "read_rules",
    "read_warehouse", "report", "settings_from_project", "split_design",
    "summary_lines", "top_share_lift", "verdict", "warehouse_query", "warnings",
    "write_outputs",
]


@dataclass(frozen=True)
class RulesReview:
    """What a calibration run with the project's settings says to do."""

    decision: str  # ACCEPT, REVIEW, NOT_ENOUGH_DATA, or "not available"
    why: str
    calls: tuple[str, ...] = ()
    held_out_auc: tuple[float, float] | None = None  # current, proposed


def review_rules(query: Query, schema: str, project_dir: str | Path) -> RulesReview:
    """Calibrate with the project's seed and vars; the verdict and the calls
    for review (what `lead-scoring report` shows). Too few judged outcomes is
    "not enough data"; any other reason calibration cannot run is "not
    available", with the reason."""
    project = Path(project_dir)
    try:
        rules = read_rules(project / "seeds" / "scoring_rules.csv")
        result = calibrate(query, schema, rules, settings_from_project(project))
    except NotEnoughOutcomesError as exc:
        return RulesReview(NOT_ENOUGH_DATA, str(exc))
    except CalibrationError as exc:
        return RulesReview("not available", str(exc))
    decision, why = verdict(result)
    return RulesReview(
        decision, why, tuple(warnings(result)),
        (result.current.auc, result.proposed.auc),
    )
