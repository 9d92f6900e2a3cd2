"""Calibration model: L2-regularised logistic regression and its measures.

`fit_logistic` (damped Newton steps on standardised features), `choose_l2`
(the penalty with the best validation AUC over L2_GRID), and the held-out
measures `auc` and `top_share_lift`. Plain numpy, deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


# The two-sided 95% normal quantile: every interval calibrate reports or
# decides on is coefficient +- Z95 standard errors.
Z95 = 1.959964


# ---------------------------------------------------------------------- model


@dataclass
class Fit:
    """A fitted logistic model on the raw feature scale."""

    intercept: float
    coef: np.ndarray  # log-odds per firing
    coef_std: np.ndarray  # log-odds per standard deviation of the feature
    iterations: int
    se: np.ndarray  # standard error of coef (from the penalised Hessian)
    l2: float = 0.0


def _penalised_loss(
    design: np.ndarray, y: np.ndarray, beta: np.ndarray, penalty: np.ndarray
) -> float:
    """Negative log-likelihood plus the L2 penalty (numerically stable)."""
    eta = design @ beta
    return float(
        np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(penalty * beta**2)
    )


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> Fit:
    """L2-regularised logistic regression by damped Newton steps (deterministic)."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    usable = std > 0
    z = np.zeros_like(x)
    z[:, usable] = (x[:, usable] - mean[usable]) / std[usable]
    design = np.column_stack([np.ones(len(z)), z])
    penalty = np.full(design.shape[1], max(l2, 1e-6))
    penalty[0] = 0.0
    beta = np.zeros(design.shape[1])
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    beta[0] = math.log(rate / (1 - rate))
    loss = _penalised_loss(design, y, beta, penalty)
    iterations = 0
    for iterations in range(1, 201):
        prob = 0.5 * (1.0 + np.tanh(0.5 * (design @ beta)))
        gradient = design.T @ (prob - y) + penalty * beta
        weight = prob * (1 - prob) + 1e-12
        hessian = design.T @ (design * weight[:, None]) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while True:
            candidate = beta - size * step
            candidate_loss = _penalised_loss(design, y, candidate, penalty)
            if candidate_loss <= loss or size < 1e-8:
                break
            size /= 2.0
        converged = loss - candidate_loss < 1e-12 * max(1.0, abs(loss))
        beta, loss = candidate, min(candidate_loss, loss)
        if converged or np.max(np.abs(size * step)) < 1e-10:
            break
    prob = 0.5 * (1.0 + np.tanh(0.5 * (design @ beta)))
    weight = prob * (1 - prob) + 1e-12
    hessian = design.T @ (design * weight[:, None]) + np.diag(penalty)
    se_std = np.sqrt(np.clip(np.diag(np.linalg.inv(hessian))[1:], 0.0, None))
    coef_std = np.where(usable, beta[1:], 0.0)
    coef = np.zeros(x.shape[1])
    se = np.zeros(x.shape[1])
    coef[usable] = coef_std[usable] / std[usable]
    se[usable] = se_std[usable] / std[usable]
    intercept = beta[0] - float(np.sum(coef[usable] * mean[usable]))
    return Fit(intercept, coef, coef_std, iterations, se, l2)


L2_GRID = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)


def choose_l2(
    x: np.ndarray, y: np.ndarray, created: np.ndarray, lead_ids: np.ndarray
) -> tuple[float, dict[float, float]]:
    """The L2 penalty with the best AUC on the latest quarter of the training leads.

    Fitted on the earlier three quarters; ties go to the larger penalty (the
    simpler model). Falls back to 1 when the validation part has one class.
    """
    order = np.lexsort((lead_ids, created))
    cut = len(order) - len(order) // 4
    early, late = order[:cut], order[cut:]
    scores: dict[float, float] = {}
    if len(late) == 0 or y[late].min() == y[late].max() or y[early].min() == y[early].max():
        return 1.0, scores
    for l2 in L2_GRID:
        fit = fit_logistic(x[early], y[early], l2)
        scores[l2] = auc(x[late] @ fit.coef, y[late])
    best = max(scores.values())
    chosen = max(l2 for l2, value in scores.items() if value >= best - 1e-12)
    return chosen, scores


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve by ranks (ties count one half); nan if one class."""
    positives = labels > 0.5
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def top_share_lift(scores: np.ndarray, labels: np.ndarray, share: float) -> float:
    """Conversion rate of the top `share` by score over the overall rate."""
    overall = labels.mean() if len(labels) else 0.0
    if overall == 0:
        return math.nan
    take = max(1, math.ceil(share * len(scores)))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return float(labels[order[:take]].mean() / overall)
