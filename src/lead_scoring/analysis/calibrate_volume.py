"""MQLs a month at a threshold: the definition rpt_threshold_backtest uses.

A lead counts in the calendar month of its first qualification from its
beginning: the first of its activities, in time order, at which its
round(fit_score, 6) reaches the minimum fit and either its round(lead_score,
6) reaches the threshold or the activity's type is fast-tracked; not at or
after its first disqualification; resets are not replayed (they depend on
sales' reaction to an MQL that would have come at another time). MQLs a
month is the mean of those counts over the last complete calendar months.

`first_qualifications` replays this for any points (calibrate's proposal,
its new rules included) from the score ledger and fct_activities: the
scores are evaluated at every valid activity of the lead, as the build
does, so the replay of the current points gives the mart's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lead_scoring.analysis.calibrate_discovery import NewRule
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


def first_qualifications(
    data: WarehouseData,
    rules: RuleFile,
    settings: Settings,
    points: np.ndarray,
    thresholds: np.ndarray,
    min_fit: float,
    new_rules: Sequence[NewRule] = (),
    new_points: np.ndarray | None = None,
) -> np.ndarray:
    """Leads x thresholds: the time of each lead's first qualification, nan
    when it never qualifies (see the module docstring). `points` are the
    active rules'; `new_rules` (rules the file does not hold yet) give
    `new_points` each from their `since` time on."""
    active = rules.active
    half_life = np.array([rule.half_life_days for rule in active])
    cap = np.array([rule.cap_in_firings for rule in active])
    is_fit = np.array([rule.category == "fit" for rule in active])
    new_points = np.zeros(0) if new_points is None else np.asarray(new_points, float)
    new_since = np.array([new.since for new in new_rules]).reshape(
        len(new_rules), len(data.lead_ids)
    )
    new_fit = np.array([new.category == "fit" for new in new_rules], dtype=bool)
    fast_types = np.isin(
        data.activity_types, [kind.lower() for kind in settings.fast_track_activity_types]
    )
    thresholds = np.asarray(thresholds, dtype=float)
    result = np.full((len(data.lead_ids), len(thresholds)), np.nan)
    is_attribute = np.isnan(data.fire_time)
    order = np.lexsort((data.fire_time, data.fire_lead))
    bounds = np.flatnonzero(np.diff(data.fire_lead[order])) + 1
    by_lead = {
        int(data.fire_lead[rows[0]]): rows
        for rows in np.split(order, bounds) if len(rows)
    }
    # fct_activities is in (lead, time) order: each lead's rows are a slice
    leads_seen, first_row = np.unique(data.act_lead, return_index=True)
    last_row = np.append(first_row[1:], len(data.act_lead))
    for lead, begin, end in zip(leads_seen.tolist(), first_row, last_row):
        # the moments the scores are evaluated at: every valid activity,
        # before the first disqualification
        times = data.act_time[begin:end]
        fast_times = times[fast_types[data.act_type[begin:end]]]
        stop = data.disqualified[lead]
        if not np.isnan(stop):
            times, fast_times = times[times < stop], fast_times[fast_times < stop]
        if len(times) == 0:
            continue
        times = np.unique(times)
        rows = by_lead.get(lead, order[:0])
        attribute = rows[is_attribute[rows]]
        fired = rows[~is_attribute[rows]]
        base = np.zeros(len(active))
        base[data.fire_rule[attribute]] = 1.0
        rule_of = data.fire_rule[fired]
        fire_times = data.fire_time[fired]
        since = new_since[:, lead]
        scores, fits = [], []
        for start in range(0, len(times), _BLOCK):
            at = times[start:start + _BLOCK]
            age = (at[:, None] - fire_times[None, :]) / DAY_SECONDS
            decay = np.where(
                age >= 0, np.power(0.5, np.maximum(age, 0) / half_life[rule_of]), 0.0
            )
            sums = np.zeros((len(active), len(at)))
            np.add.at(sums, rule_of, decay.T)  # in firing order: deterministic
            features = np.minimum(sums.T + base, cap)
            new = (since[None, :] <= at[:, None]).astype(float)
            scores.append(np.round(features @ points + new @ new_points, 6))
            fits.append(np.round(
                features[:, is_fit] @ points[is_fit]
                + new[:, new_fit] @ new_points[new_fit],
                6,
            ))
        fit_ok = np.concatenate(fits) >= min_fit
        score = np.concatenate(scores)
        reach = np.maximum.accumulate(np.where(fit_ok, score, -np.inf))
        index = np.searchsorted(reach, thresholds, side="left")
        crossed = np.where(index < len(times), times[np.minimum(index, len(times) - 1)],
                           np.nan)
        fast_fit = fit_ok[np.searchsorted(times, fast_times)]
        if fast_fit.any():
            crossed = np.fmin(crossed, fast_times[fast_fit][0])
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
    latest = np.nanmax(
        np.concatenate([created, data.fire_time, data.act_time, [-np.inf]])
    )
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
