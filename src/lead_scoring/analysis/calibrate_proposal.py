"""Calibration proposal: from the fitted model to proposed points.

`calibrate` runs a whole calibration (read, design, split, fit) and scales
the coefficients to points, evaluates current and proposed points on the
held-out leads and finds the threshold for sales capacity; the result is a
Calibration (with a RuleResult per active rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lead_scoring.analysis.calibrate_design import (
    Split, build_design, features_at, split_design,
)
from lead_scoring.analysis.calibrate_inputs import (
    _TOP_SHARE, DAY_SECONDS, MONTH_DAYS, OUTCOMES, Progress, Query, Rule,
    RuleFile, Settings, WarehouseData, _quiet, read_warehouse,
)
from lead_scoring.analysis.calibrate_model import (
    Fit, auc, choose_l2, fit_logistic, top_share_lift,
)
from lead_scoring.errors import CalibrationError


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
    train_leads: int
    fitted: bool
    notes: list[str] = field(default_factory=list)

    @property
    def interval(self) -> tuple[float, float]:
        """95% interval of the log-odds per firing."""
        return (self.coef - 1.96 * self.se, self.coef + 1.96 * self.se)

    @property
    def is_clear(self) -> bool:
        """Whether the 95% interval excludes zero."""
        low, high = self.interval
        return low > 0 or high < 0

    @property
    def sign_flipped(self) -> bool:
        current = self.rule.points
        return (
            self.fitted
            and self.proposed_points != 0
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
    """Everything a calibration run found."""

    settings: Settings
    as_of: float
    split: Split
    leads_train: int
    leads_test: int
    conversions_train: int
    conversions_test: int
    fit: Fit
    l2_scores: dict[float, float]
    scale: float
    scale_reason: str
    results: list[RuleResult]
    current: Evaluation
    proposed: Evaluation
    current_rate_at_threshold: float
    proposed_threshold: int | None
    proposed_min_fit: int
    proposed_rate_at_threshold: float
    mql_events_per_month: float
    rules: RuleFile

    def ranked(self) -> list[RuleResult]:
        """Fitted rules by standardised effect, strongest positive first."""
        fitted = [result for result in self.results if result.fitted]
        return sorted(fitted, key=lambda result: (-result.coef_std, result.rule.rule_id))


def _choose_scale(
    x: np.ndarray,
    coef: np.ndarray,
    fitted: np.ndarray,
    current_points: np.ndarray,
    threshold: float,
    converted: int,
) -> tuple[float, str]:
    """One multiplier for all coefficients: as many leads reach the threshold.

    As many as under the current rules, or as many as converted when no lead
    reaches it under the current rules.
    """
    current = x @ current_points
    target = int((np.round(current, 6) >= threshold).sum())
    matched_current = target > 0
    if target == 0:
        # no lead reaches the threshold today: let as many reach it as converted
        target = max(1, converted)
    kept = x[:, ~fitted] @ current_points[~fitted]
    learned = x[:, fitted] @ coef[fitted]
    best_scale, best_gap, best_reached = 1.0, math.inf, 0
    for scale in np.geomspace(1e-2, 1e4, 3001):
        reached = int((np.round(kept + scale * learned, 6) >= threshold).sum())
        gap = abs(reached - target)
        if gap < best_gap:
            best_scale, best_gap, best_reached = float(scale), gap, reached
    if best_reached == 0 and learned.std() > 0:
        # No lead can reach the threshold (every fitted rule lowers the odds
        # against leads no rule fires for): keep the current points' spread.
        return float(current.std() / learned.std()), (
            "no lead can reach the threshold with any positive scale (the fitted "
            "rules lower the odds against leads none of them fires for), so the "
            "points keep the spread of the current scores"
        )
    return best_scale, (
        f"so that as many training leads reach the threshold {threshold:g} as "
        + ("under the current rules" if matched_current else "converted (none "
           "reaches it under the current rules)")
    )


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


def _monthly_new_qualifiers(
    data: WarehouseData,
    rules: RuleFile,
    settings: Settings,
    points: np.ndarray,
    thresholds: np.ndarray,
    min_fit: float,
) -> np.ndarray:
    """Leads a month newly at or above each threshold (with the minimum fit)."""
    step = 30.0 * DAY_SECONDS
    # the last months with data: a warehouse evaluated long after its last
    # lead (a historical data set) would otherwise measure empty months
    latest = np.nanmax(np.concatenate([data.created, data.fire_time, [-np.inf]]))
    end = min(data.as_of, latest) if np.isfinite(latest) else data.as_of
    cutoffs = [end - k * step for k in range(settings.capacity_months + 1)]
    cutoffs = sorted(cutoff for cutoff in cutoffs if cutoff > np.nanmin(data.created))
    if len(cutoffs) < 2:
        return np.full(len(thresholds), math.nan)
    is_fit = np.array([rule.category == "fit" for rule in rules.active])
    before = None
    counts = np.zeros(len(thresholds))
    for cutoff in cutoffs:
        x = features_at(data, rules, cutoff)
        present = data.created <= cutoff
        score = np.round(x @ points, 6)
        fit_ok = np.round(x[:, is_fit] @ points[is_fit], 6) >= min_fit
        qualifies = (
            present[:, None] & fit_ok[:, None] & (score[:, None] >= thresholds[None, :])
        )
        if before is not None:
            counts += (qualifies & ~before).sum(axis=0)
        before = qualifies
    months = (cutoffs[-1] - cutoffs[0]) / DAY_SECONDS / MONTH_DAYS
    return counts / months


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
        raise CalibrationError(
            f"too few outcomes to calibrate: {converted_train} of "
            f"{len(y_train)} training leads reached {outcome_text} within "
            f"{settings.window_days:g} days of their creation "
            f"({int(design.y.sum())} of {len(design.y)} leads with a full "
            f"horizon in all); at least {settings.min_conversions} are needed",
            "wait for more outcomes, widen --window-days, use --outcome sql, or "
            "lower --min-conversions knowingly (estimates get noisy)",
        )
    active = rules.active
    current_points = np.array([rule.points for rule in active], dtype=float)
    leads_fired = (x_train != 0).sum(axis=0)
    fitted = leads_fired >= settings.min_rule_leads
    progress(
        f"calibrate: fitting {int(fitted.sum())} rules on {len(x_train):,} leads "
        f"({converted_train:,} converted)"
    )
    fit_x = x_train[:, fitted]
    l2, l2_scores = settings.l2, {}
    if l2 is None:
        l2, l2_scores = choose_l2(
            fit_x,
            y_train,
            data.created[design.lead[split.train]],
            data.lead_ids[design.lead[split.train]],
        )
    model = fit_logistic(fit_x, y_train, l2)
    se = np.zeros(len(active))
    se[fitted] = model.se
    coef = np.zeros(len(active))
    coef_std = np.zeros(len(active))
    coef[fitted] = model.coef
    coef_std[fitted] = model.coef_std
    scale, scale_reason = _choose_scale(
        x_train, coef, fitted, current_points, settings.mql_score_threshold,
        converted_train,
    )
    results = []
    for index, rule in enumerate(active):
        if fitted[index]:
            points = int(np.round(scale * coef[index]))
            notes = []
        else:
            points = rule.points
            notes = [
                f"fired for {leads_fired[index]} training leads "
                f"(< {settings.min_rule_leads}): points kept"
            ]
        result = RuleResult(
            rule=rule,
            proposed_points=points,
            proposed_max_points=_scaled_cap(rule, points),
            coef=float(coef[index]),
            coef_std=float(coef_std[index]),
            se=float(se[index]),
            train_leads=int(leads_fired[index]),
            fitted=bool(fitted[index]),
            notes=notes,
        )
        if result.sign_flipped:
            evidence = (
                "the 95% interval excludes 0"
                if result.is_clear
                else "weak evidence: the 95% interval includes 0"
            )
            result.notes.append(
                f"sign flips: {rule.points:+d} -> {points:+d} ({evidence})"
            )
        elif result.fitted and points == 0 and rule.points != 0:
            result.notes.append("no measurable effect: 0 points proposed")
        results.append(result)
    proposed_points = np.array([result.proposed_points for result in results], float)
    x_test, y_test = design.x[split.test], design.y[split.test]
    current_eval = _evaluate(x_test, y_test, current_points, settings.mql_score_threshold)
    proposed_eval = _evaluate(x_test, y_test, proposed_points, settings.mql_score_threshold)

    progress("calibrate: estimating monthly MQL volume per threshold")
    is_fit = np.array([rule.category == "fit" for rule in active])
    proposed_min_fit = _matching_min_fit(
        x_train[:, is_fit], current_points[is_fit], proposed_points[is_fit],
        settings.mql_min_fit_score,
    )
    candidates = np.arange(1, 1001, dtype=float)
    proposed_rates = _monthly_new_qualifiers(
        data, rules, settings, proposed_points, candidates, proposed_min_fit
    )
    current_rate = _monthly_new_qualifiers(
        data, rules, settings, current_points,
        np.array([settings.mql_score_threshold]), settings.mql_min_fit_score,
    )[0]
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
        fit=model,
        l2_scores=l2_scores,
        scale=scale,
        scale_reason=scale_reason,
        results=results,
        current=current_eval,
        proposed=proposed_eval,
        current_rate_at_threshold=float(current_rate),
        proposed_threshold=proposed_threshold,
        proposed_min_fit=proposed_min_fit,
        proposed_rate_at_threshold=proposed_rate,
        mql_events_per_month=data.mql_events_per_month,
        rules=rules,
    )
