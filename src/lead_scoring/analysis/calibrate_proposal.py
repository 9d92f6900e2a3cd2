"""Calibration proposal: a whole calibration run.

`calibrate` reads the warehouse, builds the design and the split, chooses
the penalty, proposes points with rule discovery on the training leads and
judges them on the held-out ones, then proposes again on every lead (the
proposal), and finds the minimum fit, grade edges and threshold for sales
capacity that go with it; the result is a Calibration (a RuleResult per
active rule, then one per new rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from lead_scoring.analysis.calibrate_design import (
    Design, Split, build_design, split_design,
)
from lead_scoring.analysis.calibrate_discovery import NewRule, category_of, discover
from lead_scoring.analysis.calibrate_inputs import (
    _TOP_SHARE, OUTCOMES, Progress, Query, Rule, RuleFile, Settings,
    WarehouseData, _quiet, read_warehouse,
)
from lead_scoring.analysis.calibrate_model import (
    Z95, Fit, auc, choose_l2, fit_logistic, top_share_lift,
)
from lead_scoring.analysis.calibrate_points import Points, propose_points
from lead_scoring.analysis.calibrate_volume import (
    complete_months, first_qualifications, mart_volume, monthly,
)
from lead_scoring.errors import CalibrationError, NotEnoughOutcomesError
from lead_scoring.rules import parse_rules


# ------------------------------------------------------------------- proposal


@dataclass
class RuleResult:
    """The verdict on one active rule."""

    rule: Rule
    proposed_points: int
    proposed_max_points: float | None
    coef: float
    coef_std: float
    se: float
    leads_fired: int
    leads_converted: int
    fitted: bool
    notes: list[str] = field(default_factory=list)
    is_new: bool = False  # proposed by rule discovery (calibrate_discovery)

    @property
    def interval(self) -> tuple[float, float]:
        """95% interval of the log-odds per firing."""
        return (self.coef - Z95 * self.se, self.coef + Z95 * self.se)

    @property
    def is_clear(self) -> bool:
        """Whether the 95% interval excludes zero."""
        low, high = self.interval
        return low > 0 or high < 0

    @property
    def sign_flipped(self) -> bool:
        current = self.rule.points
        return (
            self.proposed_points != 0
            and current != 0
            and (self.proposed_points > 0) != (current > 0)
        )


@dataclass
class Evaluation:
    """Held-out performance of one set of points."""

    auc: float
    lift_top: float
    at_threshold: int
    converted_at_threshold: int


@dataclass
class Calibration:
    """Everything a calibration run found.

    `validation` is the procedure fitted on the training leads only and
    judged on the held-out ones (`proposed`); the proposal itself (`final`,
    `results`) is the same procedure refitted on every lead of the run.
    """

    settings: Settings
    as_of: float
    split: Split
    leads_train: int
    leads_test: int
    conversions_train: int
    conversions_test: int
    l2_scores: dict[float, float]
    validation: Points
    final: Points
    results: list[RuleResult]  # every active rule, then the new ones
    current: Evaluation
    proposed: Evaluation
    free_auc: float  # held-out AUC of an unpenalised logistic regression
    current_rate_at_threshold: float
    proposed_threshold: int | None
    proposed_min_fit: int
    proposed_rate_at_threshold: float
    # the calendar months MQLs a month are averaged over, and
    # rpt_threshold_backtest's MQLs a month over them per threshold
    volume_months: tuple[str, ...]
    mart_rates: dict[float, float]
    rules: RuleFile
    # share of the leads at or above each lead_grade_fit_edges edge: now,
    # with the proposed points, and the edges that keep today's shares
    grade_shares_current: tuple[float, ...] = ()
    grade_shares_proposed: tuple[float, ...] = ()
    proposed_grade_edges: tuple[int, ...] = ()

    @property
    def fit(self) -> Fit:
        """The model behind the proposed points."""
        return self.final.fit

    @property
    def scale(self) -> float:
        return self.final.scale

    @property
    def scale_reason(self) -> str:
        return self.final.scale_reason

    @property
    def leads_fit(self) -> int:
        """Leads of the final fit: the training and the held-out ones."""
        return self.leads_train + self.leads_test

    def ranked(self) -> list[RuleResult]:
        """Fitted rules by standardised effect, strongest positive first."""
        fitted = [result for result in self.results if result.fitted]
        return sorted(fitted, key=lambda result: (-result.coef_std, result.rule.rule_id))


def _scaled_cap(rule: Rule, points: int) -> float | None:
    """The rule's cap with the same number of firings at the new points."""
    if rule.max_points is None:
        return None
    if rule.points == 0:
        return rule.max_points
    return round(rule.cap_in_firings * abs(points), 2)


def _evaluate(
    x: np.ndarray, y: np.ndarray, points: np.ndarray, threshold: float
) -> Evaluation:
    """AUC, top-decile lift and the rows at or above the threshold."""
    scores = np.round(x @ points, 6)
    above = scores >= threshold
    return Evaluation(
        auc=auc(scores, y),
        lift_top=top_share_lift(scores, y, _TOP_SHARE),
        at_threshold=int(above.sum()),
        converted_at_threshold=int(y[above].sum()),
    )


def _matching_min_fit(
    fit_x: np.ndarray,
    current_points: np.ndarray,
    proposed_points: np.ndarray,
    min_fit: float,
) -> int:
    """The minimum fit under the proposed points that as many leads pass as now."""
    passing = int((np.round(fit_x @ current_points, 6) >= min_fit).sum())
    proposed = np.round(fit_x @ proposed_points, 6)
    if min_fit <= 0 or passing >= len(proposed):
        return int(min(min_fit, 0))
    # the smallest integer gate that lets at most as many leads through
    ordered = np.sort(proposed)[::-1]
    if passing == 0:
        return int(math.floor(ordered[0])) + 1
    gate = math.floor(ordered[passing - 1])
    while (proposed >= gate).sum() > passing:
        gate += 1
    return int(gate)


def _rule_result(
    rule: Rule, final: Points, index: int, settings: Settings | None
) -> RuleResult:
    """One rule's verdict, with the notes a reviewer needs."""
    points = int(final.points[index])
    fitted = bool(final.fitted[index])
    fired = int(final.leads_fired[index])
    result = RuleResult(
        rule=rule,
        proposed_points=points,
        proposed_max_points=_scaled_cap(rule, points),
        coef=float(final.coef[index]),
        coef_std=float(final.coef_std[index]),
        se=float(final.se[index]),
        leads_fired=fired,
        leads_converted=int(final.leads_converted[index]),
        fitted=fitted,
    )
    if not fitted and settings is not None:
        result.notes.append(
            f"fired for {fired} leads (< {settings.min_rule_leads}): no evidence "
            f"of its own; rescaled with the rest at the current rules' exchange "
            f"rate, {rule.points:+d} -> {points:+d}"
        )
    if result.sign_flipped:
        evidence = (
            "the 95% interval excludes 0"
            if result.is_clear
            else "weak evidence: the 95% interval includes 0"
        )
        result.notes.append(f"sign flips: {rule.points:+d} -> {points:+d} ({evidence})")
    elif fitted and points == 0 and rule.points != 0:
        result.notes.append("no measurable effect: 0 points proposed")
    return result


def _propose_with_discovery(
    data: WarehouseData,
    rules: RuleFile,
    settings: Settings,
    design: Design,
    rows: np.ndarray,
    l2: float,
    current_points: np.ndarray,
) -> tuple[Points, np.ndarray, np.ndarray, list[NewRule]]:
    """Points for the design rows `rows` with the new rules found on them
    (calibrate_discovery) as columns of their own: the points, the rows'
    features with those columns, the current points (0 for a new rule) and
    the new rules. A new rule whose interval includes 0 once fitted beside
    all the others, or whose points round to 0, is dropped and the rest
    refitted; the category of those kept follows the sign of that fit."""
    x, y = design.x[rows], design.y[rows]
    evidence = (x != 0).sum(axis=0) >= settings.min_rule_leads
    lead, cutoff = design.lead[rows], design.cutoff[rows]
    found = discover(data, rules, settings, x[:, evidence], y, lead, cutoff, l2)
    while True:
        extended = np.column_stack([x, *(new.feature(lead, cutoff) for new in found)])
        current = np.concatenate([current_points, np.zeros(len(found))])
        points = propose_points(extended, y, current, l2, settings)
        low = points.coef - Z95 * points.se
        high = points.coef + Z95 * points.se
        clear = [
            new for index, new in enumerate(found, start=x.shape[1])
            if (low[index] > 0 or high[index] < 0) and points.points[index] != 0
        ]
        if len(clear) == len(found):
            return points, extended, current, [
                replace(new, category=category_of(new.field, points.coef[index]))
                for index, new in enumerate(found, start=x.shape[1])
            ]
        found = clear


def _new_rule_result(
    rules: RuleFile, new: NewRule, final: Points, index: int
) -> RuleResult:
    """A discovered rule as a rule row (0 points today) and its verdict; its
    description gives the evidence of the final fit. A new activity rule
    counts once per lead: its cap is its points."""
    coef, se = float(final.coef[index]), float(final.se[index])
    once = "; counts once per lead" if new.is_activity_rule else ""
    row = {column: "" for column in rules.header}
    row.update(
        rule_id=new.rule_id,
        category=new.category,
        field=new.field,
        operator="equals" if len(new.values) == 1 else "in",
        value="|".join(new.values),
        points="0",
        is_active="true",
        description=(
            f"Proposed by calibrate: {int(final.leads_fired[index])} leads, "
            f"{int(final.leads_converted[index])} converted; log-odds "
            f"{coef:+.2f} ({coef - Z95 * se:+.2f} .. {coef + Z95 * se:+.2f}) "
            f"next to the other rules{once}"
        ),
    )
    [parsed] = parse_rules([row])
    result = _rule_result(Rule(parsed), final, index, None)
    result.is_new = True
    if new.is_activity_rule:
        result.proposed_max_points = float(abs(result.proposed_points))
    result.notes.insert(0, "new rule: " + row["description"])
    return result


def calibrate(
    query: Query,
    schema: str,
    rules: RuleFile,
    settings: Settings,
    progress: Progress = _quiet,
) -> Calibration:
    """Fit, validate and propose; raises CalibrationError on too little evidence."""
    problems = settings.problems()
    if problems:
        raise CalibrationError("; ".join(problems), "fix the calibrate options")
    progress("calibrate: reading leads, outcomes and the score ledger")
    data = read_warehouse(query, schema, rules, settings.outcome)
    design = build_design(data, rules, settings)
    split = split_design(design, data, settings)
    x_train, y_train = design.x[split.train], design.y[split.train]
    converted_train = int(y_train.sum())
    outcome_text = " or ".join(OUTCOMES[settings.outcome])
    if converted_train < settings.min_conversions:
        raise NotEnoughOutcomesError(
            f"too few outcomes to calibrate: {converted_train} of "
            f"{len(y_train)} training leads reached {outcome_text} within "
            f"{settings.window_days:g} days of their creation "
            f"({int(design.y.sum())} of {len(design.y)} leads with a full "
            f"horizon in all); at least {settings.min_conversions} are needed",
            "wait for more outcomes, widen --window-days, "
            + ("" if settings.outcome == "sql" else "use --outcome sql, ")
            + "or lower --min-conversions knowingly (estimates get noisy)",
        )
    active = rules.active
    current_points = np.array([rule.points for rule in active], dtype=float)
    progress(
        f"calibrate: fitting on {len(x_train):,} training leads "
        f"({converted_train:,} converted), judging on {int(split.test.sum()):,} "
        "held-out leads"
    )
    l2, l2_scores = settings.l2, {}
    if l2 is None:
        evidence = (x_train != 0).sum(axis=0) >= settings.min_rule_leads
        l2, l2_scores = choose_l2(
            x_train[:, evidence],
            y_train,
            data.created[design.lead[split.train]],
            data.lead_ids[design.lead[split.train]],
        )
    x_test, y_test = design.x[split.test], design.y[split.test]
    progress("calibrate: looking for attribute values and activity types no rule covers")
    validation, train_x, _, train_new = _propose_with_discovery(
        data, rules, settings, design, split.train, l2, current_points
    )
    test_x = np.column_stack([
        x_test,
        *(rule.feature(design.lead[split.test], design.cutoff[split.test])
          for rule in train_new),
    ])
    threshold = settings.mql_score_threshold
    current_eval = _evaluate(x_test, y_test, current_points, threshold)
    proposed_eval = _evaluate(test_x, y_test, validation.points, threshold)
    # the yardstick: a free (practically unpenalised) logistic regression on
    # the same features, not rounded to points nor put on one scale
    free = fit_logistic(train_x, y_train, 1e-6)
    free_auc = auc(test_x @ free.coef, y_test)

    progress(
        f"calibrate: refitting on all {len(design.y):,} leads "
        f"({int(design.y.sum()):,} converted)"
    )
    every = np.ones(len(design.y), dtype=bool)
    final, x_all, all_points, new_rules = _propose_with_discovery(
        data, rules, settings, design, every, l2, current_points
    )
    results = [
        _rule_result(rule, final, index, settings)
        for index, rule in enumerate(active)
    ] + [
        _new_rule_result(rules, new, final, len(active) + index)
        for index, new in enumerate(new_rules)
    ]
    proposed_points = final.points[: len(active)]
    new_points = final.points[len(active):]
    new_fit = np.array([new.category == "fit" for new in new_rules], dtype=bool)

    progress("calibrate: estimating monthly MQL volume per threshold")
    is_fit = np.array([rule.category == "fit" for rule in active] + list(new_fit))
    fit_x, fit_current, fit_proposed = (
        x_all[:, is_fit], all_points[is_fit], final.points[is_fit]
    )
    proposed_min_fit = _matching_min_fit(
        fit_x, fit_current, fit_proposed, settings.mql_min_fit_score
    )
    fit_now = np.round(fit_x @ fit_current, 6)
    fit_then = np.round(fit_x @ fit_proposed, 6)
    edges = settings.lead_grade_fit_edges
    proposed_edges = tuple(
        _matching_min_fit(fit_x, fit_current, fit_proposed, edge) for edge in edges
    )
    candidates = np.arange(1, 1001, dtype=float)
    months = complete_months(data, settings.capacity_months)
    proposed_rates = monthly(
        first_qualifications(
            data, rules, settings, proposed_points, candidates, proposed_min_fit,
            new_rules, new_points,
        ),
        candidates, months,
    ).per_month
    current_threshold = np.array([settings.mql_score_threshold])
    current_rate = monthly(
        first_qualifications(
            data, rules, settings, current_points, current_threshold,
            settings.mql_min_fit_score,
        ),
        current_threshold, months,
    ).per_month[0]
    within = np.flatnonzero(proposed_rates <= settings.sales_capacity_mqls_per_month)
    proposed_threshold = int(candidates[within[0]]) if len(within) else None
    proposed_rate = (
        float(proposed_rates[within[0]]) if len(within) else math.nan
    )
    return Calibration(
        settings=settings,
        as_of=data.as_of,
        split=split,
        leads_train=len(y_train),
        leads_test=int(split.test.sum()),
        conversions_train=converted_train,
        conversions_test=int(design.y[split.test].sum()),
        l2_scores=l2_scores,
        validation=validation,
        final=final,
        results=results,
        current=current_eval,
        proposed=proposed_eval,
        free_auc=free_auc,
        current_rate_at_threshold=float(current_rate),
        proposed_threshold=proposed_threshold,
        proposed_min_fit=proposed_min_fit,
        proposed_rate_at_threshold=proposed_rate,
        volume_months=months,
        mart_rates=mart_volume(data.backtest, months),
        rules=rules,
        grade_shares_current=tuple(float((fit_now >= e).mean()) for e in edges),
        grade_shares_proposed=tuple(float((fit_then >= e).mean()) for e in edges),
        proposed_grade_edges=proposed_edges,
    )
