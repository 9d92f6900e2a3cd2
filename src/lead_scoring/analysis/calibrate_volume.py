"""MQLs a month at a threshold: the definition rpt_threshold_backtest uses.

A lead counts in the calendar month of its first qualification from its
beginning: the first of its activities, in time order, at which its
round(fit_score, 6) reaches the minimum fit and either its round(lead_score,
6) reaches the threshold or the activity's type is fast-tracked; not at or
after its first disqualification; resets are not replayed (they depend on
sales' reaction to an MQL that would have come at another time). MQLs a
month is the mean of those counts over the last complete calendar months.

`first_qualifications` replays this for any points (calibrate's proposal)
from the score ledger: the scores are evaluated at the activities that fire
a rule and at the lead's first engagement (fct_lifecycle_transitions: its
first activity beyond subscribing, where attribute points alone may
qualify it). That is exact unless a lead's score rises between them (a
decaying negative activity rule) and crosses at an activity no rule fires
for, or a fast-tracked type has no active rule. For the current points the
report shows the mart's own figure beside the replay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lead_scoring.analysis.calibrate_inputs import (
    DAY_SECONDS, RuleFile, Settings, WarehouseData,
)

# Evaluation points per block of the per-lead decay matrix (bounds memory
# for leads with thousands of firings).
_BLOCK = 512


@dataclass(frozen=True)
class Volume:
    """MQLs a month per threshold over `months` (first days, YYYY-MM-01)."""

    months: tuple[str, ...]
    thresholds: np.ndarray
    per_month: np.ndarray  # thresholds: mean first qualifications a month


def fast_track_rules(rules: RuleFile, settings: Settings) -> np.ndarray:
    """Active activity rules naming a fast-tracked type outright (equals/in)."""
    fast = set(settings.fast_track_activity_types)
    found = []
    for rule in rules.active:
        parsed = rule.parsed
        named = {
            part.strip().lower() for part in (parsed.value or "").split("|")
        } if parsed.is_activity_rule and parsed.operator in ("equals", "in") else set()
        found.append(bool(named & fast))
    return np.array(found, dtype=bool)


def first_qualifications(
    data: WarehouseData,
    rules: RuleFile,
    settings: Settings,
    points: np.ndarray,
    thresholds: np.ndarray,
    min_fit: float,
    extra_score: np.ndarray | None = None,
    extra_fit: np.ndarray | None = None,
) -> np.ndarray:
    """Leads x thresholds: the time of each lead's first qualification, nan
    when it never qualifies (see the module docstring). `extra_score` and
    `extra_fit` add per-lead points of attribute rules the file does not
    hold yet (calibrate's new rules) to the lead and fit scores."""
    active = rules.active
    half_life = np.array([rule.half_life_days for rule in active])
    cap = np.array([rule.cap_in_firings for rule in active])
    is_fit = np.array([rule.category == "fit" for rule in active])
    fast = fast_track_rules(rules, settings)
    thresholds = np.asarray(thresholds, dtype=float)
    result = np.full((len(data.lead_ids), len(thresholds)), np.nan)
    is_attribute = np.isnan(data.fire_time)
    order = np.lexsort((data.fire_time, data.fire_lead))
    bounds = np.flatnonzero(np.diff(data.fire_lead[order])) + 1
    by_lead = {
        int(data.fire_lead[rows[0]]): rows
        for rows in np.split(order, bounds) if len(rows)
    }
    engaged = np.flatnonzero(~np.isnan(data.first_engaged))
    for lead in sorted(set(by_lead) | set(engaged.tolist())):
        rows = by_lead.get(lead, order[:0])
        attribute = rows[is_attribute[rows]]
        fired = rows[~is_attribute[rows]]
        # the moments the scores are evaluated at: the activities that fire
        # a rule and the first engagement (the first activity no rule may
        # fire for, where attribute points alone can qualify a lead)
        moments = np.concatenate([data.fire_time[fired], data.first_engaged[[lead]]])
        moments = moments[~np.isnan(moments)]
        stop = data.disqualified[lead]
        if not np.isnan(stop):
            fired = fired[data.fire_time[fired] < stop]
            moments = moments[moments < stop]
        if len(moments) == 0:
            continue
        base = np.zeros(len(active))
        base[data.fire_rule[attribute]] = 1.0
        more_score = 0.0 if extra_score is None else float(extra_score[lead])
        more_fit = 0.0 if extra_fit is None else float(extra_fit[lead])
        times = np.unique(moments)
        rule_of = data.fire_rule[fired]
        fire_times = data.fire_time[fired]
        scores, fits, fast_at = [], [], []
        for start in range(0, len(times), _BLOCK):
            at = times[start:start + _BLOCK]
            age = (at[:, None] - fire_times[None, :]) / DAY_SECONDS
            decay = np.where(
                age >= 0, np.power(0.5, np.maximum(age, 0) / half_life[rule_of]), 0.0
            )
            sums = np.zeros((len(active), len(at)))
            np.add.at(sums, rule_of, decay.T)  # in firing order: deterministic
            features = np.minimum(sums.T + base, cap)
            scores.append(np.round(features @ points + more_score, 6))
            fits.append(np.round(features[:, is_fit] @ points[is_fit] + more_fit, 6))
            fast_at.append(np.isin(at, fire_times[fast[rule_of]]))
        score = np.concatenate(scores)
        fit_ok = np.concatenate(fits) >= min_fit
        reach = np.maximum.accumulate(np.where(fit_ok, score, -np.inf))
        index = np.searchsorted(reach, thresholds, side="left")
        crossed = np.where(index < len(times), times[np.minimum(index, len(times) - 1)],
                           np.nan)
        fast_times = times[np.concatenate(fast_at) & fit_ok]
        if len(fast_times):
            crossed = np.fmin(crossed, fast_times[0])
        result[lead] = crossed
    return result


def complete_months(data: WarehouseData, count: int) -> tuple[str, ...]:
    """The last `count` calendar months that end by as_of, none after the
    month of the newest lead or activity (a data set evaluated long after
    it ends would otherwise average empty months) nor before the first lead."""
    def month(epoch: float) -> np.datetime64:
        return np.datetime64(int(epoch), "s").astype("datetime64[M]")

    created = data.created[~np.isnan(data.created)]
    if len(created) == 0:
        return ()
    latest = np.nanmax(np.concatenate([created, data.fire_time, [-np.inf]]))
    # a month is complete when as_of reaches its last second
    last = min(month(data.as_of + 1) - 1, month(latest))
    first = max(month(created.min()), last - (count - 1))
    return tuple(str(m) + "-01" for m in np.arange(first, last + 1))


def monthly(
    times: np.ndarray, thresholds: np.ndarray, months: tuple[str, ...]
) -> Volume:
    """Mean first qualifications a month over `months`, per threshold."""
    if not months:
        return Volume(months, thresholds, np.full(len(thresholds), np.nan))
    month_of = np.full(times.shape, np.datetime64("NaT"), dtype="datetime64[M]")
    known = ~np.isnan(times)
    month_of[known] = times[known].astype("int64").astype("datetime64[s]").astype(
        "datetime64[M]"
    )
    wanted = np.array([np.datetime64(month[:7], "M") for month in months])
    inside = np.isin(month_of, wanted)
    return Volume(months, thresholds, inside.sum(axis=0) / len(months))


def mart_volume(
    backtest: dict[float, dict[str, int]], months: tuple[str, ...]
) -> dict[float, float]:
    """rpt_threshold_backtest's MQLs a month over the same months."""
    if not months:
        return {}
    return {
        threshold: sum(counts.get(month, 0) for month in months) / len(months)
        for threshold, counts in backtest.items()
    }
