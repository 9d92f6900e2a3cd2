"""The sales funnel and the marketing spend of the synthetic data generator.

The planted conversion propensity (`propensity`), and for each chunk of leads
the sales touches, status changes and opportunities that follow the leads'
hand-raises and pricing views (clean rows, dirtied by `events`); then the daily
spend per lead source and campaign, with its dirt.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lead_scoring.synthetic import textcols as tc
from lead_scoring.synthetic import vocab
from lead_scoring.synthetic.common import (
    DAY,
    SENIORITY_EFFECT,
    _OWNERS,
    _PROPENSITY_BASE,
    _PROPENSITY_DEMO,
    _PROPENSITY_PRICING,
    _STREAM_FUNNEL,
    _STREAM_SPEND,
    Rng,
    _Context,
    _Piece,
    _blank_keys,
    _pick,
    _reasons,
    _styles,
    _weighted,
)
from lead_scoring.synthetic.events import (
    _SPECS,
    _EventBatch,
    _EventSpec,
    _Signals,
    _vocabulary,
)
from lead_scoring.synthetic.people import (
    _CAMPAIGN_SOURCE,
    _CAMPAIGN_SPEND,
    _CAMPAIGNS,
    _SOURCE_NAMES,
    _LeadChunk,
)


# -------------------------------------------------------------------------- funnel


def propensity(
    seniority: np.ndarray, pricing_views: np.ndarray, demo_requests: np.ndarray
) -> np.ndarray:
    """The planted conversion propensity (see `lead_scoring.synthetic.generate`)."""
    effect = np.array([SENIORITY_EFFECT[level] for level in vocab.SENIORITIES])
    logit = (
        _PROPENSITY_BASE
        + effect[seniority]
        + _PROPENSITY_PRICING * np.log1p(pricing_views)
        + _PROPENSITY_DEMO * (demo_requests > 0)
    )
    return 1.0 / (1.0 + np.exp(-logit))


def _touch_delay(rng: Rng, count: int) -> np.ndarray:
    """Seconds from hand-raise to first touch: a quarter within 5 minutes."""
    bucket = _weighted(rng, [0.25, 0.30, 0.25, 0.20], count)
    low = np.array([20, 300, 2 * 3600, 2 * DAY])[bucket]
    high = np.array([300, 2 * 3600, 2 * DAY, 10 * DAY])[bucket]
    return low + (rng.random(count) * (high - low)).astype(np.int64)


def _sales_touches(
    ctx: _Context,
    chunk: _LeadChunk,
    rng: Rng,
    first_touch: np.ndarray,
    touched: np.ndarray,
) -> _EventBatch:
    """Calls, e-mails and meetings from the first touch on."""
    touched_leads = np.flatnonzero(touched)
    per_lead = 1 + rng.poisson(1.5, size=len(touched_leads))
    lead = np.repeat(touched_leads, per_lead)
    gaps = rng.exponential(3 * DAY, size=len(lead)).astype(np.int64) + 600
    starts = np.cumsum(per_lead) - per_lead
    gaps[starts] = 0
    running = np.cumsum(gaps)
    ts = first_touch[lead] + running - np.repeat(running[starts], per_lead)
    keep = ts <= ctx.as_of
    lead, ts = lead[keep], ts[keep]
    count = len(lead)
    other_rep = tc.fixed_width_ids("U", rng.integers(1, _OWNERS + 1, count), 3)
    own = chunk.owner_ids.take(pa.array(lead))
    kind = _weighted(rng, [0.5, 0.35, 0.15], count)
    variant = _weighted(rng, [0.8, 0.15, 0.05], count)
    type_text = [
        text
        for name in vocab.SALES_ACTIVITY_TYPES
        for text in (name, name.title(), name.upper())
    ]
    columns = {
        "rep_id": tc.where(rng.random(count) < 0.1, other_rep, own),
        "activity_type": tc.take(type_text, kind * 3 + variant),
    }
    return _EventBatch(ctx.allocate("sales_activities", count), lead, ts, columns)


_STATUS = {name: code for code, name in enumerate(vocab.STATUSES)}


def _status_text(rng: Rng, status: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Status (mostly lower case, some re-cased or padded) and a reason."""
    count = len(status)
    variants = [
        text
        for name in vocab.STATUSES
        for text in (name, name.upper(), name.title(), f" {name} ", name.capitalize())
    ]
    variant = _weighted(rng, [0.8, 0.06, 0.06, 0.04, 0.04], count)
    reasons, start, size = _vocabulary(
        {name: vocab.STATUS_REASONS[name] for name in vocab.STATUSES}
    )
    starts = np.array([start[name] for name in vocab.STATUSES])
    sizes = np.array([size[name] for name in vocab.STATUSES])
    reason = starts[status] + (rng.random(count) * sizes[status]).astype(np.int64)
    return tc.take(variants, status * 5 + variant), reasons.take(pa.array(reason))


def _status_changes(
    ctx: _Context,
    rng: Rng,
    first_touch: np.ndarray,
    touched: np.ndarray,
    chance: np.ndarray,
) -> tuple[_EventBatch, np.ndarray]:
    """Sales decisions after the first touch; returns them and accepted_at."""
    count = len(touched)
    decided_at = first_touch + rng.integers(3600, 10 * DAY, size=count)
    decided = touched & (decided_at <= ctx.as_of)
    accepted = decided & (rng.random(count) < chance)
    other = 1 + _weighted(rng, [0.45, 0.30, 0.25], count)
    status = np.where(accepted, _STATUS["sales_accepted"], other)
    again_at = decided_at + rng.integers(14 * DAY, 90 * DAY, size=count)
    comes_back = decided & ~accepted & (status != _STATUS["disqualified"])
    comes_back &= (rng.random(count) < 0.3) & (again_at <= ctx.as_of)
    accepted_again = comes_back & (rng.random(count) < chance)
    again_status = np.where(
        accepted_again, _STATUS["sales_accepted"], _STATUS["sales_rejected"]
    )
    accepted_at = np.where(accepted, decided_at, np.where(accepted_again, again_at, -1))
    first, second = np.flatnonzero(decided), np.flatnonzero(comes_back)
    lead = np.concatenate([first, second])
    ts = np.concatenate([decided_at[first], again_at[second]])
    codes = np.concatenate([status[first], again_status[second]])
    order = np.lexsort((ts, lead))
    lead, ts, codes = lead[order], ts[order], codes[order]
    status_text, reason_text = _status_text(rng, codes)
    batch = _EventBatch(
        ctx.allocate("lead_status_changes", len(lead)),
        lead,
        ts,
        {"status": status_text, "reason": reason_text},
    )
    return batch, accepted_at


def _opportunities(
    ctx: _Context,
    chunk: _LeadChunk,
    rng: Rng,
    accepted_at: np.ndarray,
    chance: np.ndarray,
) -> _EventBatch:
    """Opportunities of accepted leads: won, lost or still open at as_of."""
    count = chunk.count
    opened_at = accepted_at + rng.integers(DAY, 21 * DAY, size=count)
    has_opportunity = (accepted_at >= 0) & (opened_at <= ctx.as_of)
    has_opportunity &= rng.random(count) < 0.6 + 0.3 * chance
    closed_at = opened_at + rng.integers(14 * DAY, 150 * DAY, size=count)
    closed = closed_at <= ctx.as_of
    won = closed & (rng.random(count) < 0.25 + 0.5 * chance)
    scale = np.log(15_000) + 0.25 * np.log(np.maximum(chunk.employees, 1))
    cents = np.rint(rng.lognormal(scale, 0.6) * 100).astype(np.int64)
    open_stage = rng.integers(0, len(vocab.OPEN_STAGES), size=count)
    lead = np.flatnonzero(has_opportunity)
    stage = tc.where(
        won[lead],
        "closed_won",
        tc.where(
            closed[lead],
            "closed_lost",
            tc.take(vocab.OPEN_STAGES, open_stage[lead]),
        ),
    )
    closed_text = tc.format_timestamps(
        closed_at[lead], _styles(rng, closed_at[lead], ctx.as_of)
    )
    false_text = tc.strings(["false"] * len(lead))
    columns = {
        "stage": stage,
        "amount": tc.format_cents(cents[lead]),
        "is_closed": tc.where(closed[lead], "true", false_text),
        "is_won": tc.where(won[lead], "true", false_text),
        "closed_at": tc.where(
            closed[lead], closed_text, pa.nulls(len(lead), pa.string())
        ),
    }
    keys = ctx.allocate("opportunities", len(lead))
    return _EventBatch(keys, lead, opened_at[lead], columns)


def _funnel(
    ctx: _Context, chunk: _LeadChunk, signals: _Signals
) -> list[tuple[_EventSpec, _EventBatch]]:
    """Sales touches, status changes and opportunities of one chunk."""
    rng = ctx.rng(_STREAM_FUNNEL, chunk.index)
    count = chunk.count
    chance = propensity(chunk.seniority, signals.pricing_views, signals.demo_requests)
    no_hand_raise = signals.first_hand_raise < 0
    outbound = no_hand_raise & (signals.pricing_views >= 3) & (rng.random(count) < 0.5)
    outbound_at = signals.first_pricing_view + rng.integers(DAY, 14 * DAY, size=count)
    engaged_at = np.where(outbound, outbound_at, signals.first_hand_raise)
    first_touch = engaged_at + _touch_delay(rng, count)
    touched = (engaged_at >= 0) & (first_touch <= ctx.as_of)
    sales = _sales_touches(ctx, chunk, rng, first_touch, touched)
    statuses, accepted_at = _status_changes(ctx, rng, first_touch, touched, chance)
    opportunities = _opportunities(ctx, chunk, rng, accepted_at, chance)
    return [
        (_SPECS["sales_activities"], sales),
        (_SPECS["lead_status_changes"], statuses),
        (_SPECS["opportunities"], opportunities),
    ]


# ------------------------------------------------------------------ marketing spend

(_SP_CLEAN, _SP_DUP, _SP_JUNK_DATE, _SP_FUTURE, _SP_BLANK_DATE) = range(5)
(_SP_BLANK_SOURCE, _SP_BAD_AMOUNT) = range(5, 7)


def _junk_dates(rng: Rng, days: np.ndarray) -> pa.Array:
    """Unparseable dates, distinct per original date: '31/12/2025', '2026-13-05'."""
    year, month, day = tc.civil_dates(days)
    slashed = rng.random(len(days)) < 0.5
    return tc.strings(
        [
            f"{d:02d}/{m:02d}/{y:04d}" if flag else f"{y:04d}-{m + 12:02d}-{d:02d}"
            for y, m, d, flag in zip(year, month, day, slashed)
        ]
    )


def _spend_grid(ctx: _Context, rng: Rng) -> dict[str, np.ndarray]:
    """Day, campaign, re-casing, cents and dirt kind of every spend row.

    Duplicates are exact copies appended at the end (kind -1).
    """
    last_day = ctx.as_of // DAY
    days = np.arange(last_day - 365, last_day + 1, dtype=np.int64)
    count = len(days) * len(_CAMPAIGNS)
    day = np.repeat(days, len(_CAMPAIGNS))
    campaign = np.tile(np.arange(len(_CAMPAIGNS)), len(days))
    weekend = ((day + 3) % 7) >= 5
    daily = _CAMPAIGN_SPEND[campaign] * np.where(weekend, 0.6, 1.0)
    cents = np.rint(daily * rng.lognormal(0.0, 0.35, count) * 100).astype(np.int64)
    case = np.array([0, 3, 1])[_weighted(rng, [0.9, 0.07, 0.03], count)]
    share = ctx.dirty_rate / 5
    weights = [1 - ctx.dirty_rate, share, share, share, share / 2, share / 2, share]
    kind = _weighted(rng, weights, count)
    rows = np.concatenate([np.arange(count), np.flatnonzero(kind == _SP_DUP)])
    grid = {"day": day, "campaign": campaign, "case": case, "cents": cents}
    grid = {name: values[rows] for name, values in grid.items()}
    grid["kind"] = np.where(np.arange(len(rows)) < count, kind[rows], -1)
    return grid


def _spend_columns(rng: Rng, grid: dict[str, np.ndarray]) -> dict[str, pa.Array]:
    """The text columns of the spend rows, dirt applied."""
    kind, day = grid["kind"], grid["day"]

    def rows_of(code: int) -> np.ndarray:
        return np.flatnonzero(kind == code)

    dates = tc.format_dates(day)
    junk, future = rows_of(_SP_JUNK_DATE), rows_of(_SP_FUTURE)
    dates = tc.replace_at(dates, junk, _junk_dates(rng, day[junk]))
    dates = tc.replace_at(dates, future, tc.format_dates(day[future] + 730))
    blank_date, blank_source = rows_of(_SP_BLANK_DATE), rows_of(_SP_BLANK_SOURCE)
    dates = tc.replace_at(dates, blank_date, _pick(rng, vocab.BLANKS, len(blank_date)))
    source = _CAMPAIGN_SOURCE[grid["campaign"]]
    sources = tc.case_variants(tc.take(_SOURCE_NAMES, source), grid["case"])
    sources = tc.replace_at(
        sources, blank_source, _pick(rng, vocab.BLANKS, len(blank_source))
    )
    bad = rows_of(_SP_BAD_AMOUNT)
    amounts = tc.format_cents(grid["cents"])
    amounts = tc.replace_at(amounts, bad, _pick(rng, vocab.JUNK_AMOUNTS, len(bad)))
    return {
        "spend_date": dates,
        "lead_source": sources,
        "campaign_id": tc.take(_CAMPAIGNS, grid["campaign"]),
        "amount": amounts,
    }


def _spend(ctx: _Context) -> _Piece:
    """Daily spend per lead source and campaign, with its dirt."""
    rng = ctx.rng(_STREAM_SPEND)
    grid = _spend_grid(ctx, rng)
    columns = _spend_columns(rng, grid)
    kind = grid["kind"]
    reasons = _reasons(
        [
            ("missing_key", np.isin(kind, [_SP_BLANK_DATE, _SP_BLANK_SOURCE])),
            ("duplicate", kind == -1),
            ("unparseable_timestamp", kind == _SP_JUNK_DATE),
            ("future_dated", kind == _SP_FUTURE),
            ("invalid_amount", kind == _SP_BAD_AMOUNT),
        ]
    )
    day, source, campaign = (
        pc.fill_null(columns[name], "")
        for name in ("spend_date", "lead_source", "campaign_id")
    )
    keys = tc.join(day, "|", source, "|", campaign)
    rows = pa.table(columns)
    return _Piece("marketing_spend", rows, reasons, _blank_keys(keys, reasons))
