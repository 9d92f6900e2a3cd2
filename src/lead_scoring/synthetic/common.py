"""Shared pieces of the synthetic data generator.

The constants (formats, chunk size, limits, file names, the planted seniority
effects, random-number streams), the arguments of one run (`_Context`), the
rows of one table from one chunk (`_Piece`), as_of parsing and the small
drawing and rejection helpers every table module uses. The overview of the
data is the docstring of `lead_scoring.synthetic.generate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from lead_scoring.synthetic import textcols as tc
from lead_scoring.contract import REJECTION_REASONS
from lead_scoring.errors import GenerateError

Rng = np.random.Generator

FORMATS: tuple[str, ...] = ("parquet", "csv")
LEADS_PER_CHUNK = 10_000
MAX_DIRTY_RATE = 0.5
MAX_LEADS = 50_000_000
DAY = tc.SECONDS_PER_DAY
REJECTIONS_FILE = "_expected_rejections.csv"
NULLS_FILE = "_expected_nulls.csv"
MANIFEST_FILE = "_manifest.json"

SENIORITY_EFFECT: dict[str, float] = {
    "c_level": 1.3,
    "vp": 1.1,
    "director": 0.8,
    "manager": 0.2,
    "individual_contributor": 0.0,
    "student": -2.0,
    "unknown": -0.4,
}
DECISION_MAKER_SHARE: dict[str, float] = {
    "c_level": 0.9,
    "vp": 0.85,
    "director": 0.7,
    "manager": 0.3,
    "individual_contributor": 0.05,
    "student": 0.0,
    "unknown": 0.1,
}
_PROPENSITY_BASE = -2.2
_PROPENSITY_PRICING = 0.7
_PROPENSITY_DEMO = 1.4

_REASON_CODE = {reason: code + 1 for code, reason in enumerate(REJECTION_REASONS)}
_OWNERS = 25
_MIN_AGE, _MAX_AGE = 3 * DAY, 365 * DAY
_MEAN_AGE = (_MIN_AGE + _MAX_AGE) / 2
_INTENT_MU, _INTENT_SIGMA, _INTENT_MAX = -0.5, 1.1, 15.0
_INTENT_SHARE = 0.6  # share of activities from the intent-driven stream

# Random-number streams: each (stream, chunk) pair has its own generator.
_STREAM_COMPANIES, _STREAM_LEADS, _STREAM_ACTIVITIES, _STREAM_FUNNEL = 0, 1, 2, 3
_STREAM_SPEND = 4
_STREAM_DIRT = {"activities": 11, "sales_activities": 12}
_STREAM_DIRT |= {"lead_status_changes": 13, "opportunities": 14}


# --------------------------------------------------------------------------- setup


@dataclass
class _Context:
    """Arguments of one run plus the running id counters."""

    seed: int
    leads: int
    dirty_rate: float
    as_of: int
    activities_per_lead: float
    lead_id_width: int
    next_ids: dict[str, int] = field(default_factory=dict)

    def rng(self, stream: int, chunk: int = 0) -> np.random.Generator:
        """The random generator of one stream and chunk."""
        return np.random.default_rng([self.seed, stream, chunk])

    def allocate(self, table: str, count: int) -> np.ndarray:
        """The next count id numbers of a table."""
        first = self.next_ids.get(table, 1)
        self.next_ids[table] = first + count
        return np.arange(first, first + count, dtype=np.int64)


@dataclass
class _Piece:
    """Rows of one table from one chunk, with the rejection reason of each row."""

    table: str
    rows: pa.Table
    reasons: np.ndarray
    raw_keys: pa.Array


def parse_as_of(text: str) -> int:
    """UTC epoch seconds of an as_of text ('YYYY-MM-DD HH:MM:SS', ISO, date)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise GenerateError(
            f"as_of {text!r} is not a timestamp",
            hint="write it as 'YYYY-MM-DD HH:MM:SS' (UTC)",
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return int(moment.replace(tzinfo=timezone.utc).timestamp())


def format_as_of(epoch: int) -> str:
    """'YYYY-MM-DD HH:MM:SS' of UTC epoch seconds."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _weighted(rng: Rng, weights: Sequence[float], size: int) -> np.ndarray:
    """Codes 0..len(weights)-1 drawn with the given relative weights."""
    probabilities = np.asarray(weights, dtype=np.float64)
    probabilities = probabilities / probabilities.sum()
    return rng.choice(len(probabilities), size=size, p=probabilities)


def _pick(rng: Rng, values: Sequence[str | None], size: int) -> pa.Array:
    """size strings drawn uniformly from values."""
    return tc.take(values, rng.integers(0, len(values), size=size))


def _styles(rng: Rng, epoch: np.ndarray, as_of: int) -> np.ndarray:
    """Timestamp styles: mostly plain, some ISO Z, some offsets far from as_of."""
    offsets = len(tc.TS_OFFSETS)
    weights = [0.85, 0.08] + [0.07 / offsets] * offsets
    style = _weighted(rng, weights, len(epoch))
    style[(epoch > as_of - 2 * DAY) & (style >= tc.STYLE_FIRST_OFFSET)] = 0
    return style


def _first_per_lead(
    lead: np.ndarray, ts: np.ndarray, mask: np.ndarray, count: int
) -> np.ndarray:
    """Earliest ts per lead among masked rows sorted by (lead, ts); -1 if none."""
    result = np.full(count, -1, dtype=np.int64)
    leads, times = lead[mask], ts[mask]
    if len(leads):
        first = np.r_[True, leads[1:] != leads[:-1]]
        result[leads[first]] = times[first]
    return result


def _reasons(conditions: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Reason code per row: the first condition that holds, 0 if none."""
    masks = [mask for _, mask in conditions]
    codes = [_REASON_CODE[reason] for reason, _ in conditions]
    return np.select(masks, codes, 0).astype(np.uint8)


def _blank_keys(keys: pa.Array, reasons: np.ndarray) -> pa.Array:
    """Raw keys as written, empty where blank (every missing_key row)."""
    positions = np.flatnonzero(
        tc.is_blank(keys) | (reasons == _REASON_CODE["missing_key"])
    )
    return tc.replace_at(keys, positions, tc.strings([""] * len(positions)))
