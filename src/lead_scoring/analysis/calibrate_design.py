"""Calibration design: each lead's rule features at its cut-off, and the split.

`build_design` takes the leads with a full observation horizon, their
features (`features_at`, in fresh firings of each active rule) and their
labels; `split_design` holds out the latest-created leads, or a hash-chosen
share of them, for validation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from lead_scoring.analysis.calibrate_inputs import (
    DAY_SECONDS, Rule, RuleFile, Settings, WarehouseData, _day,
)
from lead_scoring.errors import NotEnoughOutcomesError


# ------------------------------------------------------------------- features


def features_at(
    data: WarehouseData, rules: RuleFile, cutoff: float | np.ndarray
) -> np.ndarray:
    """Leads x active rules: each rule's points at the cut-off in fresh firings.

    `cutoff` is one instant or one per lead. Firings up to the cut-off, decayed
    to it, summed per lead and rule, then capped at the rule's cap in firings;
    an attribute rule counts once. So points x feature is exactly the rule's
    clipped points at the cut-off.
    """
    active = rules.active
    count, width = len(data.lead_ids), len(active)
    half_life = np.array([rule.half_life_days for rule in active])
    cap = np.array([rule.cap_in_firings for rule in active])
    lead_cutoff = np.broadcast_to(np.asarray(cutoff, dtype=float), (count,))
    fire_cutoff = lead_cutoff[data.fire_lead]
    is_attribute = np.isnan(data.fire_time)
    happened = is_attribute | (data.fire_time <= fire_cutoff)
    rule = data.fire_rule[happened]
    age_days = np.where(
        is_attribute[happened],
        0.0,
        (fire_cutoff[happened] - data.fire_time[happened]) / DAY_SECONDS,
    )
    decayed = np.power(0.5, age_days / half_life[rule])
    sums = np.bincount(
        data.fire_lead[happened] * width + rule,
        weights=decayed,
        minlength=count * width,
    ).reshape(count, width)
    attribute = np.array([not rule.is_activity_rule for rule in active], dtype=bool)
    sums[:, attribute] = np.minimum(sums[:, attribute], 1.0)
    return np.minimum(sums, cap)




@dataclass
class Design:
    """One row per eligible lead: features at its cut-off and its label."""

    lead: np.ndarray  # index into WarehouseData.lead_ids
    cutoff: np.ndarray  # the moment the features are taken at
    x: np.ndarray
    y: np.ndarray


def build_design(data: WarehouseData, rules: RuleFile, settings: Settings) -> Design:
    """Eligible leads (a full horizon before as_of), their features and labels."""
    window = settings.window_days * DAY_SECONDS
    horizon_end = data.created + window
    eligible = np.flatnonzero(horizon_end <= data.as_of)
    if len(eligible) == 0:
        raise NotEnoughOutcomesError(
            f"no lead was created at least {settings.window_days:g} days before "
            f"as_of ({_day(data.as_of)}), so no outcome can be judged",
            "lower --window-days, or calibrate once more history is loaded",
        )
    converted = data.converted <= horizon_end
    cutoff = np.where(converted, data.converted - 1.0, horizon_end)
    # Non-converted leads are looked at after as long as converted ones were
    # (a hash-chosen quantile of the converted leads' times to convert), so
    # time alone (more e-mails opened in 90 days than in 3) does not count.
    waits = np.sort((cutoff - data.created)[eligible][converted[eligible]])
    if len(waits):
        quantile = lead_hash_share(data.lead_ids)
        matched = data.created + np.quantile(waits, quantile, method="inverted_cdf")
        cutoff = np.where(converted, cutoff, matched)
    x = features_at(data, rules, cutoff)[eligible]
    return Design(
        lead=eligible, cutoff=cutoff[eligible], x=x, y=converted[eligible].astype(float)
    )


# ---------------------------------------------------------------------- split


@dataclass
class Split:
    """Which design rows train the model and which are held out, and why."""

    train: np.ndarray
    test: np.ndarray
    method: str


def lead_hash_share(lead_ids: np.ndarray) -> np.ndarray:
    """A stable number in [0, 1) per lead id (md5 of the id)."""
    return np.array(
        [
            int.from_bytes(hashlib.md5(lead_id.encode("utf-8")).digest()[:8], "big")
            / 2.0**64
            for lead_id in lead_ids
        ]
    )


def split_design(design: Design, data: WarehouseData, settings: Settings) -> Split:
    """Latest-created leads held out when that gives enough conversions, else a hash split."""
    created = data.created[design.lead]
    order = np.lexsort((data.lead_ids[design.lead], created))
    held = int(round(settings.test_share * len(order)))
    test = np.zeros(len(order), dtype=bool)
    test[order[len(order) - held :]] = True
    if held and (~test).any() and design.y[test].sum() >= settings.min_test_conversions:
        first = float(created[order[len(order) - held]])
        return Split(
            ~test,
            test,
            f"time-based: held out the {held:,} leads created from {_day(first)} "
            f"on (the latest {settings.test_share:.0%})",
        )
    test = lead_hash_share(data.lead_ids[design.lead]) < settings.test_share
    return Split(
        ~test,
        test,
        f"hash split: {settings.test_share:.0%} of the leads held out by md5 of "
        "lead_id (the latest-created leads hold fewer than "
        f"{settings.min_test_conversions} conversions)",
    )
