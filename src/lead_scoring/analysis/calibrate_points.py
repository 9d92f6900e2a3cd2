"""Calibration points: from a fitted model to points, every rule on one scale.

`propose_points` fits the rules with evidence (at least `min_rule_leads`
leads), converts the others' current points at the current rules'
exchange rate (`_exchange_rate`: log-odds per point of the current score),
and chooses one multiplier for every rule's log-odds (`_choose_scale`: as
many leads reach the MQL threshold as under the current rules); the
rounded products are the proposed points (a Points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lead_scoring.analysis.calibrate_inputs import Settings
from lead_scoring.analysis.calibrate_model import Fit, fit_logistic


@dataclass
class Points:
    """Points proposed by one fit, every rule on one scale.

    A rule that fired for at least `min_rule_leads` of the leads is fitted:
    its log-odds per firing is the model's coefficient. The others have no
    evidence of their own: their log-odds is their current points times the
    exchange rate of the current rules (log-odds per current point, measured
    on the same leads). Proposed points = scale x log-odds, rounded.
    """

    fit: Fit
    fitted: np.ndarray  # bool per active rule
    leads_fired: np.ndarray  # leads each rule fired for
    leads_converted: np.ndarray  # of them, the converted ones
    coef: np.ndarray  # fitted log-odds per firing (0 for the others)
    coef_std: np.ndarray
    se: np.ndarray
    exchange: float
    exchange_reason: str
    log_odds: np.ndarray  # per firing, every rule
    scale: float
    scale_reason: str
    points: np.ndarray  # integers, as floats


def _exchange_rate(
    x: np.ndarray,
    y: np.ndarray,
    current_points: np.ndarray,
    fitted_score: np.ndarray,
) -> tuple[float, str]:
    """Log-odds per point of the current rules on these leads.

    The slope of a logistic regression of the outcome on the current score
    (practically unpenalised: one feature, a measurement). When the current
    score does not rise with conversion, the ratio of the spreads of the
    fitted log-odds and of the current score stands in.
    """
    current = x @ current_points
    if current.std() > 0:
        slope = float(fit_logistic(current[:, None], y, 1e-6).coef[0])
        if slope > 0:
            return slope, (
                f"{slope:.4f} log-odds per current point (a logistic regression "
                "of the outcome on the current lead score)"
            )
        if fitted_score.std() > 0:
            ratio = float(fitted_score.std() / current.std())
            return ratio, (
                f"{ratio:.4f} log-odds per current point (the current score does "
                "not rise with conversion, so the ratio of the spread of the "
                "fitted log-odds to that of the current score)"
            )
    return 0.0, (
        "none: the current score does not vary or no rule was fitted, so rules "
        "without evidence get 0 points"
    )


def _choose_scale(
    x: np.ndarray,
    log_odds: np.ndarray,
    current_points: np.ndarray,
    threshold: float,
    converted: int,
) -> tuple[float, str]:
    """One multiplier for every rule's log-odds: as many leads reach the
    threshold with the rounded points as under the current rules, or as many
    as converted when no lead reaches it under the current rules.
    """
    current = x @ current_points
    target = int((np.round(current, 6) >= threshold).sum())
    matched_current = target > 0
    if target == 0:
        # no lead reaches the threshold today: let as many reach it as converted
        target = max(1, converted)
    learned = x @ log_odds
    best_scale, best_gap, best_reached = 1.0, math.inf, 0
    for scale in np.geomspace(1e-2, 1e4, 3001):
        # counted with the points as proposed: rounded to integers
        reached = int((np.round(x @ np.round(scale * log_odds), 6) >= threshold).sum())
        gap = abs(reached - target)
        if gap < best_gap:
            best_scale, best_gap, best_reached = float(scale), gap, reached
    if best_reached == 0 and learned.std() > 0:
        # No lead can reach the threshold (every rule lowers the odds against
        # leads none of them fires for): keep the current points' spread.
        return float(current.std() / learned.std()), (
            "no lead can reach the threshold with any positive scale (the rules "
            "lower the odds against leads none of them fires for), so the "
            "points keep the spread of the current scores"
        )
    return best_scale, (
        f"so that as many leads reach the threshold {threshold:g} as "
        + ("under the current rules" if matched_current else "converted (none "
           "reaches it under the current rules)")
    )


def propose_points(
    x: np.ndarray,
    y: np.ndarray,
    current_points: np.ndarray,
    l2: float,
    settings: Settings,
) -> Points:
    """Fit the rules with evidence, put every rule on one scale, round."""
    leads_fired = (x != 0).sum(axis=0)
    fitted = leads_fired >= settings.min_rule_leads
    model = fit_logistic(x[:, fitted], y, l2)
    coef = np.zeros(x.shape[1])
    coef_std = np.zeros(x.shape[1])
    se = np.zeros(x.shape[1])
    coef[fitted] = model.coef
    coef_std[fitted] = model.coef_std
    se[fitted] = model.se
    exchange, exchange_reason = _exchange_rate(
        x, y, current_points, x[:, fitted] @ coef[fitted]
    )
    log_odds = np.where(fitted, coef, exchange * current_points)
    scale, scale_reason = _choose_scale(
        x, log_odds, current_points, settings.mql_score_threshold, int(y.sum())
    )
    return Points(
        fit=model,
        fitted=fitted,
        leads_fired=leads_fired,
        leads_converted=((x != 0) & (y[:, None] > 0.5)).sum(axis=0),
        coef=coef,
        coef_std=coef_std,
        se=se,
        exchange=exchange,
        exchange_reason=exchange_reason,
        log_odds=log_odds,
        scale=scale,
        scale_reason=scale_reason,
        points=np.round(scale * log_odds) + 0.0,
    )
