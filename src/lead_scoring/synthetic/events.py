"""Event tables of the synthetic data generator.

How activities, sales_activities, lead_status_changes and opportunities are
written as text with their dirt (re-delivered keys, orphans, unparseable and
future timestamps, blank keys, unknown statuses) and the expected rejection
reason of every row; and the marketing activities of each chunk of leads with
the per-lead signals (`_Signals`) the funnel reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from lead_scoring.synthetic import textcols as tc
from lead_scoring.synthetic import vocab
from lead_scoring.synthetic.common import (
    DAY,
    _INTENT_MU,
    _INTENT_SHARE,
    _INTENT_SIGMA,
    _MEAN_AGE,
    _STREAM_ACTIVITIES,
    _STREAM_DIRT,
    Rng,
    _Context,
    _Piece,
    _blank_keys,
    _first_per_lead,
    _pick,
    _reasons,
    _styles,
    _weighted,
)
from lead_scoring.synthetic.people import _LeadChunk
from lead_scoring.contract import RAW_TABLES


# -------------------------------------------------------------------- event tables


@dataclass
class _EventBatch:
    """Clean rows of an event table: id numbers, local lead index, UTC times."""

    keys: np.ndarray
    lead: np.ndarray
    ts: np.ndarray
    columns: dict[str, pa.Array]


@dataclass(frozen=True)
class _EventSpec:
    """How to write and dirty one event table."""

    table: str
    prefix: str
    width: int
    ts_column: str
    status_column: str | None = None


_SPECS = {
    "activities": _EventSpec("activities", "A", 10, "occurred_at"),
    "sales_activities": _EventSpec("sales_activities", "SA", 9, "occurred_at"),
    "lead_status_changes": _EventSpec(
        "lead_status_changes", "SC", 9, "changed_at", status_column="status"
    ),
    "opportunities": _EventSpec("opportunities", "OP", 8, "created_at"),
}

(_EV_CLEAN, _EV_DUP_EXACT, _EV_DUP_LATER, _EV_ORPHAN_ID, _EV_ORPHAN_BLANK) = range(5)
(_EV_TS_JUNK, _EV_TS_FUTURE, _EV_KEY_BLANK, _EV_UNKNOWN_STATUS) = range(5, 9)


def _event_kind_weights(dirty_rate: float, with_status: bool) -> list[float]:
    """Weights of the event dirt kinds; each logical kind gets an equal share."""
    share = dirty_rate / (6 if with_status else 5)
    weights = [1 - dirty_rate, share / 2, share / 2, share / 2, share / 2]
    weights += [share, share, share, share if with_status else 0.0]
    return weights


def _future_times(rng: Rng, as_of: int, count: int) -> np.ndarray:
    """Times after as_of: mostly 1 day to 3 years later, some within 6 hours."""
    soon = rng.random(count) < 0.1
    later = np.where(
        soon, rng.integers(60, 6 * 3600, count), rng.integers(DAY, 3 * 365 * DAY, count)
    )
    return as_of + later


@dataclass
class _Layout:
    """Output rows of an event table: the clean row each copies and its dirt."""

    source: np.ndarray
    kind: np.ndarray
    times: np.ndarray
    style: np.ndarray
    loser: np.ndarray

    def rows_of(self, *kinds: int) -> np.ndarray:
        """Positions of the rows with one of these dirt kinds."""
        return np.flatnonzero(np.isin(self.kind, kinds))


def _event_layout(
    ctx: _Context, rng: Rng, batch: _EventBatch, spec: _EventSpec
) -> _Layout:
    """Draw dirt kinds and append re-delivered copies (marking the losers).

    A later copy is one minute to three days after the original; for half of
    them the row written first carries the later time, so file order never
    tells the winner.
    """
    count = len(batch.keys)
    weights = _event_kind_weights(ctx.dirty_rate, spec.status_column is not None)
    kinds = _weighted(rng, weights, count)
    styles = _styles(rng, batch.ts, ctx.as_of)
    dup = np.flatnonzero((kinds == _EV_DUP_EXACT) | (kinds == _EV_DUP_LATER))
    source = np.concatenate([np.arange(count), dup])
    times = batch.ts[source].copy()
    copies = count + np.arange(len(dup))
    later = kinds[dup] == _EV_DUP_LATER
    times[copies[later]] += rng.integers(60, 3 * DAY, size=int(later.sum()))
    swap = later & (rng.random(len(dup)) < 0.5)
    originals, swapped = dup[swap], copies[swap]
    times[originals], times[swapped] = times[swapped], times[originals].copy()
    loser = np.zeros(len(source), dtype=bool)
    loser[copies[~swap]] = True
    loser[originals] = True
    kind, style = kinds[source], styles[source]
    style[(kind == _EV_DUP_LATER) & (style >= tc.STYLE_FIRST_OFFSET)] = tc.STYLE_PLAIN
    return _Layout(source, kind, times, style, loser)


def _event_keys(
    rng: Rng, layout: _Layout, batch: _EventBatch, spec: _EventSpec
) -> pa.Array:
    """Key text; blank (empty, null or spaces) for missing-key dirt."""
    keys = tc.fixed_width_ids(spec.prefix, batch.keys[layout.source], spec.width)
    blank = layout.rows_of(_EV_KEY_BLANK)
    return tc.replace_at(keys, blank, _pick(rng, vocab.BLANKS, len(blank)))


def _event_leads(
    ctx: _Context, rng: Rng, layout: _Layout, batch: _EventBatch, chunk: _LeadChunk
) -> pa.Array:
    """lead_id text; ids of no lead, or blanks, for orphan dirt."""
    leads = chunk.lead_ids.take(pa.array(batch.lead[layout.source]))
    unknown, blank = layout.rows_of(_EV_ORPHAN_ID), layout.rows_of(_EV_ORPHAN_BLANK)
    numbers = ctx.leads + 1 + rng.integers(0, 10**6, size=len(unknown))
    unknown_ids = tc.fixed_width_ids("L", numbers, ctx.lead_id_width)
    leads = tc.replace_at(leads, unknown, unknown_ids)
    return tc.replace_at(leads, blank, _pick(rng, vocab.BLANKS, len(blank)))


def _event_stamps(ctx: _Context, rng: Rng, layout: _Layout) -> pa.Array:
    """Timestamp text; junk or times after as_of for timestamp dirt."""
    stamps = tc.format_timestamps(layout.times, layout.style)
    junk, future = layout.rows_of(_EV_TS_JUNK), layout.rows_of(_EV_TS_FUTURE)
    junk_text = _pick(rng, vocab.JUNK_TIMESTAMPS, len(junk))
    stamps = tc.replace_at(stamps, junk, junk_text)
    future_text = tc.format_timestamps(
        _future_times(rng, ctx.as_of, len(future)), rng.integers(0, 2, len(future))
    )
    return tc.replace_at(stamps, future, future_text)


def _event_reasons(
    layout: _Layout, batch: _EventBatch, chunk: _LeadChunk
) -> np.ndarray:
    """Expected rejection reason of every output row."""
    kind = layout.kind
    orphan = np.isin(kind, [_EV_ORPHAN_ID, _EV_ORPHAN_BLANK])
    return _reasons(
        [
            ("erased", chunk.erased[batch.lead[layout.source]] & ~orphan),
            ("missing_key", kind == _EV_KEY_BLANK),
            ("duplicate", layout.loser),
            ("orphan_lead", orphan),
            ("unparseable_timestamp", kind == _EV_TS_JUNK),
            ("future_dated", kind == _EV_TS_FUTURE),
            ("unknown_status", kind == _EV_UNKNOWN_STATUS),
        ]
    )


def _dirty_events(
    ctx: _Context, chunk: _LeadChunk, batch: _EventBatch, spec: _EventSpec
) -> _Piece:
    """Write an event batch as text with its dirt and expected reasons."""
    rng = ctx.rng(_STREAM_DIRT[spec.table], chunk.index)
    layout = _event_layout(ctx, rng, batch, spec)
    names = RAW_TABLES[spec.table]
    taken = pa.array(layout.source)
    columns = {name: column.take(taken) for name, column in batch.columns.items()}
    keys = _event_keys(rng, layout, batch, spec)
    columns[names[0]] = keys
    columns["lead_id"] = _event_leads(ctx, rng, layout, batch, chunk)
    columns[spec.ts_column] = _event_stamps(ctx, rng, layout)
    if spec.status_column:
        unknown = layout.rows_of(_EV_UNKNOWN_STATUS)
        columns[spec.status_column] = tc.replace_at(
            columns[spec.status_column],
            unknown,
            _pick(rng, vocab.UNKNOWN_STATUSES, len(unknown)),
        )
    reasons = _event_reasons(layout, batch, chunk)
    rows = pa.table({name: columns[name] for name in names})
    return _Piece(spec.table, rows, reasons, _blank_keys(keys, reasons))


# ---------------------------------------------------------------------- activities

_TYPE = {name: code for code, name in enumerate(vocab.ACTIVITY_TYPES)}
# Weights of vocab.INTENT_ACTIVITY_TYPES, in its order, by segment.
_INTENT_TYPES = vocab.INTENT_ACTIVITY_TYPES
_INTENT_LOW = (0.70, 0.08, 0.04, 0.015, 0.06, 0.01, 8e-4, 8e-4, 0.0012, 0.015, 0.003)
_INTENT_HIGH = (0.58, 0.12, 0.06, 0.05, 0.01, 0.04, 0.008, 0.006, 0.006, 0.03, 0.003)
_EMAIL_TYPES = vocab.EMAIL_ACTIVITY_TYPES
_EMAIL_WEIGHTS = (0.74, 0.21, 0.04, 0.01)
_HAND_RAISES = ("demo_request", "contact_request", "trial_signup")


def _type_variants(name: str) -> list[str]:
    """How exports spell an activity type: as is, upper, spaced, padded, Title."""
    return [
        name,
        name.upper(),
        name.replace("_", " ").title(),
        f" {name} ",
        name.title(),
    ]


_TYPE_TEXT = tc.strings(
    [text for name in vocab.ACTIVITY_TYPES for text in _type_variants(name)]
)
_TYPE_VARIANT_WEIGHTS = (0.8, 0.05, 0.08, 0.04, 0.03)


def _vocabulary(
    groups: dict[str, tuple[str | None, ...]],
) -> tuple[pa.Array, dict[str, int], dict[str, int]]:
    """Flatten groups of values into one vocabulary (index 0 is null)."""
    values: list[str | None] = [None]
    start, size = {}, {}
    for group, members in groups.items():
        start[group], size[group] = len(values), len(members)
        values.extend(members)
    return tc.strings(values), start, size


_PAGE_CATEGORIES = tuple(vocab.PAGE_URLS)
_PAGE_WEIGHTS = {"product": 25, "features": 12, "careers": 5, "blog": 28}
_PAGE_WEIGHTS |= {"docs": 12, "home": 18, "pricing": 0}
_URLS, _URL_START, _URL_SIZE = _vocabulary(
    {
        **{
            category: tuple(vocab.URL_HOST + path for path in paths)
            for category, paths in vocab.PAGE_URLS.items()
        },
        "demo_request": (vocab.URL_HOST + "/demo",),
        "contact_request": (vocab.URL_HOST + "/contact-sales",),
        "trial_signup": (vocab.URL_HOST + "/signup",),
        "form_submission": (vocab.URL_HOST + "/contact",),
        "webinar_registration": (vocab.URL_HOST + "/webinars/register",),
        "content_download": (vocab.URL_HOST + "/resources",),
    }
)
_ASSETS, _ASSET_START, _ASSET_SIZE = _vocabulary(
    {
        "content_download": vocab.CONTENT_ASSETS,
        "webinar_registration": vocab.WEBINAR_ASSETS,
        "webinar_attendance": vocab.WEBINAR_ASSETS,
        "event_attendance": vocab.EVENT_ASSETS,
    }
)
_WEBINAR_CAMPAIGNS = ("cmp-webinar-monthly", "cmp-webinar-partner")
_ACTIVITY_CAMPAIGNS, _CAMPAIGN_START, _CAMPAIGN_SIZE = _vocabulary(
    {
        **{name: vocab.EMAIL_CAMPAIGNS for name in _EMAIL_TYPES},
        "webinar_registration": _WEBINAR_CAMPAIGNS,
        "webinar_attendance": _WEBINAR_CAMPAIGNS,
    }
)


def _per_type(
    start: dict[str, int], size: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Arrays indexed by activity type code: vocabulary start and size."""
    starts = np.array([start.get(name, 0) for name in vocab.ACTIVITY_TYPES])
    sizes = np.array([size.get(name, 0) for name in vocab.ACTIVITY_TYPES])
    return starts, sizes


def _draw_from_groups(
    rng: Rng, types: np.ndarray, start: dict, size: dict
) -> np.ndarray:
    """Vocabulary code per row: a random member of its type's group, 0 if none."""
    starts, sizes = _per_type(start, size)
    offset = (rng.random(len(types)) * sizes[types]).astype(np.int64)
    return np.where(sizes[types] > 0, starts[types] + offset, 0)


@dataclass
class _Signals:
    """Per-lead facts the funnel needs from the activities."""

    pricing_views: np.ndarray
    demo_requests: np.ndarray
    first_hand_raise: np.ndarray
    first_pricing_view: np.ndarray


def _intent_weight(chunk: _LeadChunk) -> np.ndarray:
    """Per lead, the chance (0..1) an intent activity follows the high-intent mix."""
    return chunk.intent / (chunk.intent + 2.0)


def _activity_rows(
    ctx: _Context, chunk: _LeadChunk, rng: Rng
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lead, time and type of each activity, sorted by (lead, time)."""
    age = ctx.as_of - chunk.created
    age_factor = age / _MEAN_AGE
    intent_mean = np.exp(_INTENT_MU + _INTENT_SIGMA**2 / 2)
    mean = ctx.activities_per_lead
    intent_rate = mean * _INTENT_SHARE * chunk.intent / intent_mean * age_factor
    n_intent = rng.poisson(intent_rate)
    n_email = rng.poisson(mean * (1 - _INTENT_SHARE) * age_factor)
    local = np.arange(chunk.count, dtype=np.int64)
    lead = np.concatenate([np.repeat(local, n_intent), np.repeat(local, n_email)])
    is_email = np.repeat(np.array([False, True]), [n_intent.sum(), n_email.sum()])
    offset = (rng.random(len(lead)) * (age[lead] + 1)).astype(np.int64)
    ts = chunk.created[lead] + offset
    order = np.argsort((lead << 26) | (ts - (ctx.as_of - 367 * DAY)), kind="stable")
    lead, is_email, ts = lead[order], is_email[order], ts[order]
    high = rng.random(len(lead)) < _intent_weight(chunk)[lead]
    intent_codes = np.array([_TYPE[name] for name in _INTENT_TYPES])
    email_codes = np.array([_TYPE[name] for name in _EMAIL_TYPES])
    types = np.where(
        is_email,
        email_codes[_weighted(rng, _EMAIL_WEIGHTS, len(lead))],
        np.where(
            high,
            intent_codes[_weighted(rng, _INTENT_HIGH, len(lead))],
            intent_codes[_weighted(rng, _INTENT_LOW, len(lead))],
        ),
    )
    return lead, ts, types


def _page_urls(
    rng: Rng, chunk: _LeadChunk, lead: np.ndarray, types: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """URL code of each activity and whether it is a pricing-page view."""
    url = _draw_from_groups(rng, types, _URL_START, _URL_SIZE)
    views = np.flatnonzero(types == _TYPE["page_view"])
    weights = [_PAGE_WEIGHTS[name] for name in _PAGE_CATEGORIES]
    category = _weighted(rng, weights, len(views))
    intent_weight = _intent_weight(chunk)[lead[views]]
    pricing = rng.random(len(views)) < 0.02 + 0.25 * intent_weight
    category[pricing] = _PAGE_CATEGORIES.index("pricing")
    starts = np.array([_URL_START[name] for name in _PAGE_CATEGORIES])
    sizes = np.array([_URL_SIZE[name] for name in _PAGE_CATEGORIES])
    offset = (rng.random(len(views)) * sizes[category]).astype(np.int64)
    url[views] = starts[category] + offset
    is_pricing = np.zeros(len(types), dtype=bool)
    is_pricing[views[pricing]] = True
    return url, is_pricing


def _activities(ctx: _Context, chunk: _LeadChunk) -> tuple[_EventBatch, _Signals]:
    """Clean activities of a chunk of leads and the per-lead signals."""
    rng = ctx.rng(_STREAM_ACTIVITIES, chunk.index)
    lead, ts, types = _activity_rows(ctx, chunk, rng)
    url, is_pricing = _page_urls(rng, chunk, lead, types)
    variant = _weighted(rng, _TYPE_VARIANT_WEIGHTS, len(types))
    columns = {
        "activity_type": _TYPE_TEXT.take(pa.array(types * 5 + variant)),
        "url": _URLS.take(pa.array(url)),
        "asset": _ASSETS.take(
            pa.array(_draw_from_groups(rng, types, _ASSET_START, _ASSET_SIZE))
        ),
        "campaign_id": _ACTIVITY_CAMPAIGNS.take(
            pa.array(_draw_from_groups(rng, types, _CAMPAIGN_START, _CAMPAIGN_SIZE))
        ),
    }
    hand_codes = [_TYPE[name] for name in _HAND_RAISES]
    signals = _Signals(
        pricing_views=np.bincount(lead[is_pricing], minlength=chunk.count),
        demo_requests=np.bincount(
            lead[types == _TYPE["demo_request"]], minlength=chunk.count
        ),
        first_hand_raise=_first_per_lead(
            lead, ts, np.isin(types, hand_codes), chunk.count
        ),
        first_pricing_view=_first_per_lead(lead, ts, is_pricing, chunk.count),
    )
    keys = ctx.allocate("activities", len(lead))
    return _EventBatch(keys, lead, ts, columns), signals
