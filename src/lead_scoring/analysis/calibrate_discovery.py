"""Rule discovery: attribute values and activity types no active rule covers.

A candidate is a value of one of the text fields a rule may name and
dim_leads holds (ATTRIBUTE_FIELDS), or an activity type of fct_activities,
as the rules compare it (lower-cased, trimmed), that no active rule on that
field matches (equals, in or contains) and that at least `min_rule_leads`
of the leads have (an activity type: by their cut-off). Each candidate is
measured against the fitted rules: its indicator (the lead has the value;
the lead did such an activity by its cut-off) is added to the rules with
evidence and the model refitted. The values of one field
with the same sign are taken strongest first and merged while each one's
estimate lies within the 95% interval of their pooled indicator (they
behave alike), so several lead sources become one `in` rule; a group is
proposed when the 95% interval of its pooled log-odds excludes 0. The
proposal then refits every rule and the new ones together, on one scale
(calibrate_proposal). A new activity rule counts once per lead (max_points
equal to its points, no decay), which is what its indicator measured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from lead_scoring.analysis.calibrate_inputs import (
    ATTRIBUTE_FIELDS, RuleFile, Settings, WarehouseData,
)
from lead_scoring.rules import ACTIVITY_FIELD
from lead_scoring.analysis.calibrate_model import Z95, fit_logistic


@dataclass(frozen=True)
class NewRule:
    """A rule calibrate proposes to add: `field` in `values`."""

    rule_id: str
    # fit (an attribute) or engagement (an activity type) for a positive
    # effect, negative for a negative one
    category: str
    field: str
    values: tuple[str, ...]
    # per lead of WarehouseData: from when the rule gives it its points
    # (-inf for a matching attribute, the first matching activity's time,
    # inf for never)
    since: np.ndarray
    coef: float  # log-odds of the pooled indicator next to the rules
    se: float
    leads: int  # leads of the fit it matches
    converted: int

    @property
    def interval(self) -> tuple[float, float]:
        return (self.coef - Z95 * self.se, self.coef + Z95 * self.se)

    @property
    def is_activity_rule(self) -> bool:
        return self.field == ACTIVITY_FIELD

    def feature(self, lead: np.ndarray, cutoff: np.ndarray) -> np.ndarray:
        """1.0 for each lead (index into WarehouseData) the rule gives its
        points to by its cut-off, else 0.0."""
        return (self.since[lead] <= cutoff).astype(float)


def _covered(rules: RuleFile, field: str, value: str) -> bool:
    """Whether an active rule on `field` matches `value` (as the build does)."""
    for rule in rules.active:
        parsed = rule.parsed
        if parsed.field != field:
            continue
        pieces = [piece.strip().lower() for piece in (parsed.value or "").split("|")]
        if parsed.operator in ("equals", "in") and value in pieces:
            return True
        if parsed.operator == "contains" and any(p and p in value for p in pieces):
            return True
    return False


def _test(
    x: np.ndarray, y: np.ndarray, column: np.ndarray, l2: float
) -> tuple[float, float]:
    """Log-odds and standard error of `column` next to the rules in x."""
    fit = fit_logistic(np.column_stack([x, column]), y, l2)
    return float(fit.coef[-1]), float(fit.se[-1])


def category_of(field: str, coef: float) -> str:
    """A new rule's category by the sign of its effect: fit (an attribute)
    or engagement (an activity type) when positive, else negative."""
    if coef < 0:
        return "negative"
    return "engagement" if field == ACTIVITY_FIELD else "fit"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "value"


def _candidates(
    data: WarehouseData, rules: RuleFile, field: str, lead: np.ndarray, least: int
) -> list[str]:
    """The values of `field` no active rule covers that could have the
    support (at least `least` of the leads `lead`); activity types only
    when known (seeds/activity_types.csv: the build scores no other)."""
    if field == ACTIVITY_FIELD:
        values = data.activity_types[data.known_types]
    else:
        values, counts = np.unique(data.attributes[field][lead], return_counts=True)
        values = values[counts >= least]
    return [
        value for value in sorted(values.tolist())
        if value and "|" not in value and not _covered(rules, field, value)
    ]


def _since(data: WarehouseData, field: str, names: tuple[str, ...]) -> np.ndarray:
    """Per lead, from when a rule on `field` matching `names` gives it its
    points (see NewRule)."""
    if field != ACTIVITY_FIELD:
        return np.where(np.isin(data.attributes[field], names), -np.inf, np.inf)
    hit = np.isin(data.act_type, np.flatnonzero(np.isin(data.activity_types, names)))
    first = np.full(len(data.lead_ids), np.inf)
    np.minimum.at(first, data.act_lead[hit], data.act_time[hit])
    return first


def discover(
    data: WarehouseData,
    rules: RuleFile,
    settings: Settings,
    x: np.ndarray,
    y: np.ndarray,
    lead: np.ndarray,
    cutoff: np.ndarray,
    l2: float,
) -> list[NewRule]:
    """New rules for the leads `lead` (indexes into data) at their cut-offs,
    whose rule features with evidence are `x` and outcomes `y`; in field
    order, strongest first."""
    found: list[NewRule] = []
    taken = {rule.rule_id for rule in rules.rules}
    for field in (*ATTRIBUTE_FIELDS, ACTIVITY_FIELD):

        def column_of(names: tuple[str, ...], field: str = field) -> np.ndarray:
            return (_since(data, field, names)[lead] <= cutoff).astype(float)

        kept = []
        for value in _candidates(data, rules, field, lead, settings.min_rule_leads):
            column = column_of((value,))
            if column.sum() < settings.min_rule_leads:
                continue
            coef, se = _test(x, y, column, l2)
            if coef != 0:
                kept.append((coef, se, value))
        for sign in (1.0, -1.0):
            same = sorted(
                (item for item in kept if np.sign(item[0]) == sign),
                key=lambda item: (-sign * item[0], item[2]),
            )
            groups: list[list[tuple[float, float, str]]] = []
            for item in same:
                if groups:
                    trial = groups[-1] + [item]
                    coef, se = _test(x, y, column_of(tuple(v for _, _, v in trial)), l2)
                    if all(abs(c - coef) <= Z95 * se for c, _, _ in trial):
                        groups[-1] = trial
                        continue
                groups.append([item])
            for group in groups:
                names = tuple(sorted(v for _, _, v in group))
                column = column_of(names)
                coef, se = _test(x, y, column, l2)
                if not (coef - Z95 * se > 0 or coef + Z95 * se < 0):
                    continue
                rule_id = f"new_{field}_{_slug(names[0])}" + (
                    f"_and_{len(names) - 1}_more" if len(names) > 1 else ""
                )
                while rule_id in taken:
                    rule_id += "_x"
                taken.add(rule_id)
                found.append(NewRule(
                    rule_id=rule_id,
                    category=category_of(field, coef),
                    field=field,
                    values=names,
                    since=_since(data, field, names),
                    coef=coef,
                    se=se,
                    leads=int(column.sum()),
                    converted=int(column[y > 0.5].sum()),
                ))
    return found
