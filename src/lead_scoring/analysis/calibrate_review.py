"""Calibration review: what a person must look at before taking a proposal.

`warnings` lists, one line each, the moves a reviewer should not take on
trust: sign flips, moves whose 95% interval in points is wide next to the
threshold, rules rescaled without evidence of their own, fast-tracked
activity types proposed at no or negative points, fit rules turned
negative, lead-grade edges that no longer sort the leads as they do today,
and every rule discovery proposes. `verdict` turns them and the held-out
comparison into what to do: accept, review or not enough data.
"""

from __future__ import annotations

from lead_scoring.analysis.calibrate_proposal import Calibration, RuleResult

# A move is flagged when its 95% interval, in proposed points, spans more
# than this share of mql_score_threshold and does not lie wholly at or above
# the threshold (or at or below minus it): the evidence cannot tell whether
# the rule alone qualifies a lead.
WIDE_SHARE = 1.0
# Grade edges are flagged when the share of leads at or above one of them
# moves by more than this.
GRADE_SHIFT = 0.10

ACCEPT, REVIEW, NOT_ENOUGH_DATA = "accept", "review", "not enough data"


def _points_interval(calibration: Calibration, result: RuleResult) -> tuple[float, float]:
    low, high = result.interval
    return calibration.scale * low, calibration.scale * high


def _fast_tracked_types(calibration: Calibration, result: RuleResult) -> list[str]:
    """The fast-tracked activity types an activity rule names outright."""
    rule = result.rule.parsed
    if not rule.is_activity_rule or rule.operator not in ("equals", "in"):
        return []
    named = [part.strip().lower() for part in (rule.value or "").split("|")]
    fast = set(calibration.settings.fast_track_activity_types)
    return [name for name in named if name in fast]


def _edges(values: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{value:g}" for value in values) + "]"


def _shares(values: tuple[float, ...]) -> str:
    return " / ".join(f"{value:.0%}" for value in values)


def _reasons(calibration: Calibration, result: RuleResult) -> list[str]:
    """Why one rule's move needs a look; empty when it does not."""
    threshold = calibration.settings.mql_score_threshold
    new = result.proposed_points
    reasons = []
    if result.is_new:
        low, high = result.interval
        rule = result.rule.parsed
        reasons.append(
            f"a new rule, {rule.field} {rule.operator} {rule.value}: "
            f"{result.leads_fired} leads, {result.leads_converted} converted, "
            f"log-odds {result.coef:+.2f} ({low:+.2f} .. {high:+.2f}); keep or "
            "drop the row"
        )
    if result.sign_flipped:
        reasons.append(
            "sign flips" + ("" if result.is_clear else
                            " (weak evidence: the 95% interval includes 0)")
        )
    if not result.fitted:
        reasons.append(
            f"no evidence of its own (fired for {result.leads_fired} leads): "
            "rescaled at the current rules' exchange rate"
        )
    else:
        low, high = _points_interval(calibration, result)
        # wide, unless the rule alone qualifies (or sinks) a lead either way
        decided = low >= threshold or high <= -threshold
        if high - low > WIDE_SHARE * threshold and not decided:
            reasons.append(
                f"weak evidence: the 95% interval is {low:+.0f} .. {high:+.0f} "
                f"points, wider than the threshold {threshold:g} "
                f"({result.leads_fired} leads fired, {result.leads_converted} "
                "converted)"
            )
    fast = _fast_tracked_types(calibration, result)
    if fast and new <= 0:
        reasons.append(
            f"{', '.join(fast)} is fast-tracked (var fast_track_activity_types "
            "qualifies such a lead whatever its score): take the type out of "
            "the var, or keep the rule's points"
        )
    if result.rule.category == "fit" and new < 0 <= result.rule.points:
        reasons.append(
            "a fit rule turned negative: fit says who the lead is, and a "
            "negative fit rule is usually a negative rule"
        )
    return reasons


def warnings(calibration: Calibration) -> list[str]:
    """Every call for review, one Markdown list line each: the rules in file
    order (all of a rule's reasons on its line), then the grade edges."""
    c = calibration
    lines = []
    for result in c.results:
        reasons = _reasons(c, result)
        if reasons:
            lines.append(
                f"- {result.rule.rule_id} ({result.rule.category}): "
                f"{result.rule.points:+d} -> {result.proposed_points:+d}: "
                + "; ".join(reasons)
            )
    shifted = any(
        abs(now - then) > GRADE_SHIFT
        for now, then in zip(c.grade_shares_current, c.grade_shares_proposed)
    )
    if shifted:
        edges = c.settings.lead_grade_fit_edges
        lines.append(
            f"- lead_grade_fit_edges {_edges(edges)}: with the proposed points "
            f"{_shares(c.grade_shares_proposed)} of the leads reach each edge, "
            f"against {_shares(c.grade_shares_current)} today; "
            f"{_edges(tuple(float(e) for e in c.proposed_grade_edges))} keeps "
            "today's shares"
        )
    return lines


def verdict(calibration: Calibration) -> tuple[str, str]:
    """What to do with the proposal, and why, in one sentence."""
    c = calibration
    if c.conversions_test < c.settings.min_test_conversions:
        return NOT_ENOUGH_DATA, (
            f"only {c.conversions_test} held-out leads converted (fewer than "
            f"{c.settings.min_test_conversions}): the held-out comparison cannot "
            "tell the proposal from the current rules; keep the current rules "
            "and calibrate again when more outcomes are in"
        )
    found = warnings(c)
    if not c.proposed.auc > c.current.auc:
        return REVIEW, (
            f"the proposal does not rank the held-out leads better (AUC "
            f"{c.proposed.auc:.3f} against {c.current.auc:.3f} now): take single "
            "rows only where the evidence below is clear"
        )
    if found:
        return REVIEW, (
            f"the proposal ranks the held-out leads better (AUC {c.current.auc:.3f} "
            f"-> {c.proposed.auc:.3f}), but {len(found)} "
            f"{'move needs' if len(found) == 1 else 'moves need'} a look first "
            "(below)"
        )
    return ACCEPT, (
        f"the proposal ranks the held-out leads better (AUC {c.current.auc:.3f} "
        f"-> {c.proposed.auc:.3f}) and nothing calls for review"
    )
