"""Deterministic synthetic raw data for the lead_scoring warehouse.

`generate()` writes the six raw tables of the source contract
(`lead_scoring.contract.RAW_TABLES`) into a folder, every column as text, as
`<table>.parquet` or `<table>.csv` (header row, every value quoted, null written
as an empty unquoted field, an empty string as ""). The same arguments always
give the same rows. Work is done in chunks of 10,000 leads with NumPy and Arrow
and streamed to the files, so memory depends on the activities per lead, not on
the number of leads (about 0.6 GiB at 100 activities per lead).

Shape of the data
-----------------
- leads: ids `L0000001`..; e-mails first.last@company-domain, about 12% on
  personal domains (gmail.com, yahoo.com, ...); skewed job titles (CEO ... Intern,
  see `vocab.JOB_TITLES`), industries, countries (ISO-2 code or English name,
  upper/lower/title case, see `vocab.COUNTRIES`), employee counts (1..100,000),
  revenue, eight lead sources with their campaigns, decision-maker flag, purchase
  timeframe, opt-out, owner `U001`.., created_at over the 365 days before as_of
  and updated_at >= created_at.
- activities: each lead has a latent intent (lognormal). Intent drives the number
  of web/content activities and their types (more pricing-page views, demo and
  contact requests, trials for high intent). E-mail activities (opens, clicks,
  bounces, unsubscribes) come from a separate stream that does NOT depend on
  intent. Types are written in mixed case and spacing ('Email Open', 'EMAIL_OPEN',
  ' email_open '); 'chat_message' is a rare type outside the contract. Page views
  carry https://example.com URLs (/pricing, /product/.., /features, /careers,
  /blog/.., /docs/..). occurred_at lies between the lead's created_at and as_of.
- sales_activities: leads that raised a hand (demo_request, contact_request,
  trial_signup; or three pricing views, half of them) get a first sales touch
  20 s to 10 days later (a quarter within 5 minutes), then more touches.
- lead_status_changes: touched leads are accepted, rejected (with a reason),
  recycled or disqualified; some rejected or recycled leads come back later.
- opportunities: for accepted leads; closed (won or lost) or still open.
- marketing_spend: one row per day x lead source x campaign over the 366 days
  ending on the as_of date.

Timestamps are written mostly as 'YYYY-MM-DD HH:MM:SS' (UTC), some as ISO
'YYYY-MM-DDTHH:MM:SSZ' and some as local time with an offset,
'YYYY-MM-DDTHH:MM:SS+02:00' (UTC = local - 2 h); the offset form is only used
for times more than two days before as_of. Dates are 'YYYY-MM-DD'.

Planted conversion propensity
-----------------------------
Each lead has p = sigmoid(-2.2 + s + 0.7 * ln(1 + pricing_page_views)
+ 1.4 * [has a demo_request]) with s by seniority (`SENIORITY_EFFECT`: c_level
+1.3, vp +1.1, director +0.8, manager +0.2, individual contributor 0, student
-2.0, unknown -0.4). Followed-up leads are sales_accepted with probability p;
an accepted lead gets an opportunity with probability 0.6 + 0.3 p, and a closed
opportunity is won with probability 0.25 + 0.5 p. E-mail opens (and clicks)
play no part: a score that rewards them should not calibrate better.

Dirt
----
Each kind of dirt hits about `dirty_rate` of a table's rows in total, a row gets
at most one kind, and dirty_rate=0 gives a data set without rejections.
- leads: an older version of a lead (earlier or unparseable updated_at,
  another job title; a quarter of them flagged deleted while the latest row is
  not, so the lead stays live), deleted leads (latest row is_deleted 'true',
  'TRUE', 't', '1', 'yes', 'Y'; some with an older version too), extra rows with
  a blank lead_id, junk employee_count / annual_revenue ('1,200', '~500', 'n/a',
  '$5M', '', 'unknown', listed in `_expected_nulls.csv`), mixed-case names and
  e-mails, countries with stray spaces or unmappable ('Atlantis', blank).
- activities, sales_activities, lead_status_changes, opportunities:
  re-delivered keys (an exact copy, or a copy one minute to three days later;
  half the time the later copy is the row written first), orphans (lead_id of no
  lead, or blank), unparseable timestamps ('not a date', '2025-02-30 10:00:00',
  '31/12/2025', blank, ...), future timestamps (after as_of, mostly 1 day to
  3 years, some within 6 hours), blank keys; status changes also get unknown
  statuses ('on hold', 'pending review', ...).
- marketing_spend: exact duplicate rows, unparseable dates ('31/12/2025' style
  or month + 12), dates two years after the original (future), blank spend_date
  or lead_source, amounts 'abc', '-50', '', 'n/a', 'NaN', '-12.75'.
- every row of a deleted lead's activities, sales activities, status changes and
  opportunities is dirt of kind `erased`.

Blank means null, empty or whitespace only.

How staging classifies a raw row (first matching rule wins)
-----------------------------------------------------------
- leads: the winning row of a lead_id has the latest parseable updated_at
  (unparseable last). erased: every row of a lead whose winning row has
  is_deleted in true/t/1/yes/y (any case); missing_key: blank lead_id;
  duplicate: every other non-winning row.
- activities, sales_activities, lead_status_changes, opportunities: erased (the
  lead_id is an erased lead), missing_key (blank key), duplicate (not the row
  with the earliest parseable timestamp among rows sharing the key),
  orphan_lead (lead_id blank or not a live lead), unparseable_timestamp,
  future_dated (UTC timestamp > as_of), and for status changes unknown_status
  (lower(trim(status)) not a contract status).
- marketing_spend: missing_key (blank spend_date or lead_source), duplicate (not
  the first row sharing trim(spend_date), lower(trim(lead_source)),
  lower(trim(campaign_id))), unparseable_timestamp, future_dated (date > as_of
  date), invalid_amount (blank, not a finite number, or negative).

Besides the tables the folder gets `_manifest.json` (arguments, rows per table,
expected rejections per table and reason, expected nulls), and
`_expected_rejections.csv` (table_name, raw_key, rejection_reason: one line per
rejected raw row; raw_key is the key as written, empty where the key is blank
(so for every missing_key row), and spend_date|lead_source|campaign_id for
marketing_spend) and `_expected_nulls.csv`
(table_name, raw_key, column_name).
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from lead_scoring.synthetic import textcols as tc
from lead_scoring.synthetic import vocab
from lead_scoring.contract import RAW_TABLES, REJECTION_REASONS
from lead_scoring.errors import GenerateError

Progress = Callable[[str], None]
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


# ----------------------------------------------------------------------- companies


@dataclass(frozen=True)
class _Companies:
    """The pool of companies leads work for (attributes per company)."""

    name: pa.Array
    domain: pa.Array
    industry: np.ndarray
    country: np.ndarray
    employees: np.ndarray
    revenue: np.ndarray

    def __len__(self) -> int:
        return len(self.industry)


def _companies(ctx: _Context) -> _Companies:
    """A skewed pool of about one company per four leads."""
    rng = ctx.rng(_STREAM_COMPANIES)
    count = max(50, ctx.leads // 4)
    words, nouns = len(vocab.COMPANY_WORDS), len(vocab.COMPANY_NOUNS)
    index = np.arange(count)
    combo = rng.permutation(words * nouns)[index % (words * nouns)]
    word = tc.take(vocab.COMPANY_WORDS, combo % words)
    noun = tc.take(vocab.COMPANY_NOUNS, combo // words)
    series = index // (words * nouns)
    series_text = tc.where(
        series > 0, tc.integers(series + 1), tc.strings([""] * count)
    )
    suffix = _pick(rng, vocab.COMPANY_SUFFIXES, count)
    tld = _pick(rng, vocab.DOMAIN_TLDS, count)
    employees = np.clip(np.rint(rng.lognormal(np.log(60), 1.8, count)), 1, 100_000)
    revenue = employees * rng.lognormal(np.log(120_000), 0.5, count)
    return _Companies(
        name=tc.join(word, " ", noun, series_text, suffix),
        domain=pc.utf8_lower(tc.join(word, noun, series_text, tld)),
        industry=_weighted(rng, [w for _, w in vocab.INDUSTRIES], count),
        country=_weighted(rng, [w for *_, w in vocab.COUNTRIES], count),
        employees=employees.astype(np.int64),
        revenue=(np.rint(revenue / 1000) * 1000).astype(np.int64),
    )


# --------------------------------------------------------------------------- leads

_LEAD_CLEAN, _LEAD_OLD, _LEAD_OLD_DELETED, _LEAD_DELETED = 0, 1, 2, 3
_LEAD_JUNK, _LEAD_MIXED = 4, 5

_TITLES = tc.strings([title for title, _, _ in vocab.JOB_TITLES])
_TITLE_WEIGHTS = [weight for _, _, weight in vocab.JOB_TITLES]
_TITLE_SENIORITY = np.array(
    [vocab.SENIORITIES.index(level) for _, level, _ in vocab.JOB_TITLES]
)
_SOURCE_NAMES = [name for name, _, _ in vocab.LEAD_SOURCES]
_INDUSTRY_NAMES = [name for name, _ in vocab.INDUSTRIES]
_UNPAID_SOURCES = ("organic_search", "direct")  # most of their leads have no campaign
_CAMPAIGNS = [cid for _, _, camps in vocab.LEAD_SOURCES for cid, _ in camps]
_CAMPAIGN_SOURCE = np.array(
    [code for code, (_, _, camps) in enumerate(vocab.LEAD_SOURCES) for _ in camps]
)
_CAMPAIGN_SPEND = np.array([s for _, _, camps in vocab.LEAD_SOURCES for _, s in camps])
_SOURCE_CAMPAIGN_COUNT = np.array([len(camps) for _, _, camps in vocab.LEAD_SOURCES])
_SOURCE_CAMPAIGN_START = np.cumsum(_SOURCE_CAMPAIGN_COUNT) - _SOURCE_CAMPAIGN_COUNT


@dataclass
class _LeadChunk:
    """What the event tables need to know about one chunk of leads."""

    index: int
    count: int
    lead_ids: pa.Array
    owner_ids: pa.Array
    created: np.ndarray
    intent: np.ndarray
    seniority: np.ndarray
    employees: np.ndarray
    erased: np.ndarray


def _lead_kind_weights(dirty_rate: float) -> list[float]:
    """Weights of the lead dirt kinds (five kinds share the dirty rate)."""
    share = dirty_rate / 5
    return [1 - 4 * share, 0.75 * share, 0.25 * share, share, share, share]


def _lead_country(rng: Rng, companies: _Companies, company: np.ndarray) -> pa.Array:
    """Country of the company as an ISO-2 code or an English name, re-cased."""
    count = len(company)
    code = companies.country[company]
    as_name = rng.random(count) < 0.45
    iso = tc.take([iso for iso, _, _ in vocab.COUNTRIES], code)
    name = tc.take([name for _, name, _ in vocab.COUNTRIES], code)
    name_case = np.array([0, 2, 1])[_weighted(rng, [0.6, 0.2, 0.2], count)]
    iso_case = np.where(rng.random(count) < 0.3, 2, 0)
    text = tc.where(as_name, name, iso)
    return tc.case_variants(text, np.where(as_name, name_case, iso_case))


def _lead_email(
    rng: Rng, first: pa.Array, last: pa.Array, domain: pa.Array
) -> pa.Array:
    """first.last@company-domain, about 12% on a personal domain."""
    count = len(first)
    personal = rng.random(count) < 0.12
    personal_domain = tc.take(
        [name for name, _ in vocab.PERSONAL_DOMAINS],
        _weighted(rng, [w for _, w in vocab.PERSONAL_DOMAINS], count),
    )
    numbered = personal & (rng.random(count) < 0.6)
    number = np.where(numbered, rng.integers(1, 99, count), 0)
    number_text = tc.take([""] + [str(value) for value in range(1, 100)], number)
    address = tc.join(first, ".", last, number_text, "@")
    return pc.utf8_lower(tc.join(address, tc.where(personal, personal_domain, domain)))


def _lead_source(rng: Rng, count: int) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """Source codes, source text (some re-cased) and campaign of each lead."""
    source = _weighted(rng, [w for _, w, _ in vocab.LEAD_SOURCES], count)
    case = np.array([0, 3, 1])[_weighted(rng, [0.92, 0.05, 0.03], count)]
    text = tc.case_variants(tc.take(_SOURCE_NAMES, source), case)
    campaign_code = _SOURCE_CAMPAIGN_START[source] + (
        rng.random(count) * _SOURCE_CAMPAIGN_COUNT[source]
    ).astype(np.int64)
    unpaid = np.isin(source, [_SOURCE_NAMES.index(name) for name in _UNPAID_SOURCES])
    campaign = tc.where(
        unpaid & (rng.random(count) < 0.7), None, tc.take(_CAMPAIGNS, campaign_code)
    )
    return source, text, campaign


def _flags(rng: Rng, truthy: np.ndarray) -> pa.Array:
    """Boolean flags as written by exports: mostly 'true'/'false', some variants."""
    count = len(truthy)
    true_text = tc.take(vocab.TRUE_FLAGS, rng.integers(0, len(vocab.TRUE_FLAGS), count))
    false_code = np.where(
        rng.random(count) < 0.9, 0, rng.integers(0, len(vocab.FALSE_FLAGS), count)
    )
    return tc.where(truthy, true_text, tc.take(vocab.FALSE_FLAGS, false_code))


def _lead_columns(
    ctx: _Context, rng: Rng, companies: _Companies, numbers: np.ndarray, frame: dict
) -> dict[str, pa.Array]:
    """The clean current row of each lead (dirt is applied afterwards)."""
    count = len(numbers)
    company = frame["company"]
    first = _pick(rng, vocab.FIRST_NAMES, count)
    last = _pick(rng, vocab.LAST_NAMES, count)
    domain = companies.domain.take(pa.array(company))
    seniority = frame["seniority"]
    industry_case = np.array([0, 3, 1])[_weighted(rng, [0.82, 0.15, 0.03], count)]
    _, source_text, campaign = _lead_source(rng, count)
    decision_share = np.array([DECISION_MAKER_SHARE[s] for s in vocab.SENIORITIES])
    timeframe = _weighted(rng, [10, 15, 20, 15, 40], count)
    owner = np.minimum(
        (_OWNERS * rng.random(count) ** 1.5).astype(np.int64) + 1, _OWNERS
    )
    created, updated = frame["created"], frame["updated"]
    return {
        "lead_id": tc.fixed_width_ids("L", numbers, ctx.lead_id_width),
        "email": _lead_email(rng, first, last, domain),
        "first_name": first,
        "last_name": last,
        "job_title": _TITLES.take(pa.array(frame["title"])),
        "company_name": companies.name.take(pa.array(company)),
        "company_domain": domain,
        "employee_count": tc.integers(companies.employees[company]),
        "industry": tc.case_variants(
            tc.take(_INDUSTRY_NAMES, companies.industry[company]), industry_case
        ),
        "country": _lead_country(rng, companies, company),
        "annual_revenue": tc.integers(companies.revenue[company]),
        "lead_source": source_text,
        "campaign_id": campaign,
        "is_decision_maker": tc.where(
            rng.random(count) < decision_share[seniority],
            "true",
            tc.strings(["false"] * count),
        ),
        "purchase_timeframe": tc.take(
            ["0-3 months", "3-6 months", "6-12 months", "no plans", None], timeframe
        ),
        "email_opt_out": tc.where(
            rng.random(count) < 0.06, "true", tc.strings(["false"] * count)
        ),
        "owner_id": tc.fixed_width_ids("U", owner, 3),
        "created_at": tc.format_timestamps(created, _styles(rng, created, ctx.as_of)),
        "updated_at": tc.format_timestamps(updated, _styles(rng, updated, ctx.as_of)),
        "is_deleted": _flags(rng, frame["kind"] == _LEAD_DELETED),
    }


def _mix_case(rng: Rng, columns: dict[str, pa.Array], rows: np.ndarray) -> None:
    """Mixed-case names and e-mails, stray spaces or unknown countries."""
    count = len(rows)
    if not count:
        return
    for column in ("first_name", "last_name"):
        recased = tc.case_variants(
            columns[column].take(pa.array(rows)), rng.choice([1, 2, 4], size=count)
        )
        columns[column] = tc.replace_at(columns[column], rows, recased)
    email = columns["email"].take(pa.array(rows))
    columns["email"] = tc.replace_at(
        columns["email"], rows, tc.case_variants(email, rng.choice([1, 3], size=count))
    )
    country = columns["country"].take(pa.array(rows))
    spaced = tc.join(
        _pick(rng, ["", " ", "  "], count), country, _pick(rng, [" ", ""], count)
    )
    unknown = _pick(rng, vocab.UNMAPPABLE_COUNTRIES, count)
    columns["country"] = tc.replace_at(
        columns["country"], rows, tc.where(rng.random(count) < 0.3, unknown, spaced)
    )


def _junk_numbers(rng: Rng, columns: dict[str, pa.Array], rows: np.ndarray) -> pa.Table:
    """Junk employee_count / annual_revenue; returns the expected-null lines."""
    column_names = np.array(["employee_count", "annual_revenue"])
    which = rng.integers(0, 2, size=len(rows))
    junk = _pick(rng, vocab.JUNK_NUMBERS, len(rows))
    for code, column in enumerate(column_names):
        chosen = which == code
        columns[column] = tc.replace_at(
            columns[column], rows[chosen], junk.filter(pa.array(chosen))
        )
    return pa.table(
        {
            "table_name": tc.strings(["leads"] * len(rows)),
            "raw_key": columns["lead_id"].take(pa.array(rows)),
            "column_name": tc.strings(list(column_names[which])),
        }
    )


def _old_versions(
    ctx: _Context, rng: Rng, columns: dict[str, pa.Array], frame: dict, rows: np.ndarray
) -> dict[str, pa.Array]:
    """Older versions of some leads: earlier updated_at, another job title."""
    count = len(rows)
    old = {name: column.take(pa.array(rows)) for name, column in columns.items()}
    old["job_title"] = _TITLES.take(pa.array(_weighted(rng, _TITLE_WEIGHTS, count)))
    created, updated = frame["created"][rows], frame["updated"][rows]
    earlier = created + (rng.random(count) * (updated - created - DAY)).astype(np.int64)
    text = tc.format_timestamps(earlier, _styles(rng, earlier, ctx.as_of))
    junk = rng.random(count) < 0.2
    old["updated_at"] = tc.where(junk, _pick(rng, vocab.JUNK_TIMESTAMPS, count), text)
    old["is_deleted"] = _flags(rng, frame["kind"][rows] == _LEAD_OLD_DELETED)
    return old


def _lead_chunk(
    ctx: _Context, companies: _Companies, index: int
) -> tuple[_LeadChunk, _Piece, pa.Table]:
    """One chunk of leads: the chunk summary, its rows and expected nulls."""
    rng = ctx.rng(_STREAM_LEADS, index)
    start = index * LEADS_PER_CHUNK + 1
    count = min(LEADS_PER_CHUNK, ctx.leads - start + 1)
    kind = _weighted(rng, _lead_kind_weights(ctx.dirty_rate), count)
    has_old = np.isin(kind, [_LEAD_OLD, _LEAD_OLD_DELETED])
    has_old |= (kind == _LEAD_DELETED) & (rng.random(count) < 0.3)
    created = ctx.as_of - rng.integers(_MIN_AGE, _MAX_AGE, size=count)
    age = (rng.random(count) * (ctx.as_of - created)).astype(np.int64)
    updated = created + np.maximum(age, np.where(has_old, 2 * DAY, 0))
    title = _weighted(rng, _TITLE_WEIGHTS, count)
    frame = {
        "kind": kind,
        "company": (len(companies) * rng.random(count) ** 1.6).astype(np.int64),
        "title": title,
        "seniority": _TITLE_SENIORITY[title],
        "created": created,
        "updated": updated,
    }
    numbers = np.arange(start, start + count, dtype=np.int64)
    columns = _lead_columns(ctx, rng, companies, numbers, frame)
    _mix_case(rng, columns, np.flatnonzero(kind == _LEAD_MIXED))
    nulls = _junk_numbers(rng, columns, np.flatnonzero(kind == _LEAD_JUNK))
    old_rows = np.flatnonzero(has_old)
    old = _old_versions(ctx, rng, columns, frame, old_rows)
    blank_rows = rng.integers(0, count, size=rng.binomial(count, ctx.dirty_rate / 5))
    blank = {name: col.take(pa.array(blank_rows)) for name, col in columns.items()}
    blank["lead_id"] = _pick(rng, vocab.BLANKS, len(blank_rows))
    blank["is_deleted"] = tc.strings(["false"] * len(blank_rows))
    erased = kind == _LEAD_DELETED
    reasons = np.concatenate(
        [
            np.where(erased, _REASON_CODE["erased"], 0),
            np.where(
                erased[old_rows], _REASON_CODE["erased"], _REASON_CODE["duplicate"]
            ),
            np.full(len(blank_rows), _REASON_CODE["missing_key"]),
        ]
    ).astype(np.uint8)
    names = RAW_TABLES["leads"]
    parts = [
        pa.table({name: part[name] for name in names}) for part in (columns, old, blank)
    ]
    rows = pa.concat_tables(parts).combine_chunks()
    keys = _blank_keys(rows["lead_id"].chunk(0), reasons)
    piece = _Piece("leads", rows, reasons, keys)
    chunk = _LeadChunk(
        index=index,
        count=count,
        lead_ids=columns["lead_id"],
        owner_ids=columns["owner_id"],
        created=created,
        intent=np.minimum(rng.lognormal(_INTENT_MU, _INTENT_SIGMA, count), _INTENT_MAX),
        seniority=frame["seniority"],
        employees=companies.employees[frame["company"]],
        erased=erased,
    )
    return chunk, piece, nulls


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
_INTENT_TYPES = (
    "page_view",
    "content_download",
    "webinar_registration",
    "webinar_attendance",
    "newsletter_signup",
    "form_submission",
    "demo_request",
    "contact_request",
    "trial_signup",
    "event_attendance",
    "chat_message",
)
_INTENT_LOW = (0.70, 0.08, 0.04, 0.015, 0.06, 0.01, 8e-4, 8e-4, 0.0012, 0.015, 0.003)
_INTENT_HIGH = (0.58, 0.12, 0.06, 0.05, 0.01, 0.04, 0.008, 0.006, 0.006, 0.03, 0.003)
_EMAIL_TYPES = ("email_open", "email_click", "email_bounce", "unsubscribe")
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


# -------------------------------------------------------------------------- funnel


def propensity(
    seniority: np.ndarray, pricing_views: np.ndarray, demo_requests: np.ndarray
) -> np.ndarray:
    """The planted conversion propensity (see the module docstring)."""
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


# --------------------------------------------------------------------------- files


class _TableSink:
    """Streams one table to `<table>.<format>` (written as .tmp, then renamed)."""

    def __init__(self, out_dir: Path, table: str, fmt: str) -> None:
        self.path = out_dir / f"{table}.{fmt}"
        self.temp = out_dir / f".{table}.{fmt}.tmp"
        self.schema = pa.schema([(name, pa.string()) for name in RAW_TABLES[table]])
        self.rows = 0
        if fmt == "parquet":
            self.writer = pq.ParquetWriter(
                self.temp, self.schema, compression="zstd", compression_level=1
            )
        else:
            self.writer = pa_csv.CSVWriter(self.temp, self.schema)

    def write(self, rows: pa.Table) -> None:
        """Append rows."""
        self.writer.write_table(rows.cast(self.schema))
        self.rows += rows.num_rows

    def close(self) -> None:
        """Finish the file and move it into place."""
        self.writer.close()
        os.replace(self.temp, self.path)


def _csv_header(columns: tuple[str, ...]) -> bytes:
    """The header line pyarrow writes for these columns."""
    buffer = io.BytesIO()
    empty = pa.table({name: pa.array([], pa.string()) for name in columns})
    pa_csv.write_csv(empty, buffer)
    return buffer.getvalue()


_REJECTION_COLUMNS = ("table_name", "raw_key", "rejection_reason")
_NULL_COLUMNS = ("table_name", "raw_key", "column_name")
_REASON_TEXT = tc.strings([""] + list(REJECTION_REASONS))


class _Expectations:
    """Collects expected rejections per table (streamed) and expected nulls."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.counts = {
            table: np.zeros(len(_REASON_TEXT), np.int64) for table in RAW_TABLES
        }
        options = pa_csv.WriteOptions(include_header=False)
        schema = pa.schema([(name, pa.string()) for name in _REJECTION_COLUMNS])
        self.parts = {
            table: out_dir / f".{table}.rejections.tmp" for table in RAW_TABLES
        }
        self.writers = {
            table: pa_csv.CSVWriter(path, schema, write_options=options)
            for table, path in self.parts.items()
        }
        self.nulls_path = out_dir / NULLS_FILE
        self.null_schema = pa.schema([(name, pa.string()) for name in _NULL_COLUMNS])
        self.null_writer = pa_csv.CSVWriter(self.nulls_path, self.null_schema)
        self.null_counts: dict[str, dict[str, int]] = {}

    def add(self, piece: _Piece) -> None:
        """Record the rejected rows of a piece."""
        self.counts[piece.table] += np.bincount(
            piece.reasons, minlength=len(_REASON_TEXT)
        )
        rejected = np.flatnonzero(piece.reasons)
        if not len(rejected):
            return
        lines = pa.table(
            {
                "table_name": tc.strings([piece.table] * len(rejected)),
                "raw_key": piece.raw_keys.take(pa.array(rejected)),
                "rejection_reason": _REASON_TEXT.take(
                    pa.array(piece.reasons[rejected])
                ),
            }
        )
        self.writers[piece.table].write_table(lines)

    def add_nulls(self, lines: pa.Table) -> None:
        """Record expected nulls."""
        self.null_writer.write_table(lines.cast(self.null_schema))
        for table, column in zip(
            lines["table_name"].to_pylist(), lines["column_name"].to_pylist()
        ):
            per_table = self.null_counts.setdefault(table, {})
            per_table[column] = per_table.get(column, 0) + 1

    def close(self) -> None:
        """Merge the per-table parts into `_expected_rejections.csv`."""
        self.null_writer.close()
        for writer in self.writers.values():
            writer.close()
        with open(self.out_dir / REJECTIONS_FILE, "wb") as merged:
            merged.write(_csv_header(_REJECTION_COLUMNS))
            for path in self.parts.values():
                with open(path, "rb") as part:
                    while block := part.read(1 << 24):
                        merged.write(block)
                path.unlink()

    def summary(self) -> dict[str, dict[str, int]]:
        """Expected rejections per table and reason (non-zero counts only)."""
        return {
            table: {
                reason: int(counts[code])
                for reason, code in _REASON_CODE.items()
                if counts[code]
            }
            for table, counts in self.counts.items()
        }


def _prepare_out_dir(out_dir: Path) -> None:
    """Create out_dir and remove raw tables and expectations of earlier runs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in RAW_TABLES:
        if (out_dir / table).is_dir():
            raise GenerateError(
                f"{out_dir / table} is a folder of an earlier data set",
                hint="remove it or generate into an empty folder",
            )
        for suffix in FORMATS:
            (out_dir / f"{table}.{suffix}").unlink(missing_ok=True)
    for name in (REJECTIONS_FILE, NULLS_FILE, MANIFEST_FILE):
        (out_dir / name).unlink(missing_ok=True)


# ----------------------------------------------------------------------------- api


def _validate(
    leads: int, seed: int, dirty_rate: float, fmt: str, activities_per_lead: float
) -> None:
    """Raise GenerateError on arguments the generator cannot honour."""
    checks = [
        (
            isinstance(leads, int) and 1 <= leads <= MAX_LEADS,
            f"leads must be 1..{MAX_LEADS:,}, not {leads!r}",
        ),
        (
            isinstance(seed, int) and seed >= 0,
            f"seed must be a non-negative integer, not {seed!r}",
        ),
        (
            0.0 <= dirty_rate <= MAX_DIRTY_RATE,
            f"dirty_rate must be 0..{MAX_DIRTY_RATE}, not {dirty_rate!r}",
        ),
        (
            fmt in FORMATS,
            f"format must be one of {', '.join(FORMATS)}, not {fmt!r}",
        ),
        (
            0 <= activities_per_lead <= 10_000,
            f"activities_per_lead must be 0..10,000, not {activities_per_lead!r}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise GenerateError(message, hint="see `lead-scoring generate --help`")


def generate(
    out_dir: str | os.PathLike[str],
    leads: int = 1000,
    seed: int = 42,
    dirty_rate: float = 0.05,
    fmt: str = "parquet",
    as_of: str = "2026-06-30 23:59:59",
    activities_per_lead: float = 100,
    progress: Progress | None = None,
) -> dict:
    """Write the six raw tables and the expectations; return the manifest."""
    _validate(leads, seed, dirty_rate, fmt, activities_per_lead)
    as_of_epoch = parse_as_of(as_of)
    out = Path(out_dir)
    _prepare_out_dir(out)
    report = progress or (lambda message: None)
    started = time.monotonic()
    report(
        f"generating {leads:,} leads (seed {seed}, {fmt}, dirty rate "
        f"{dirty_rate:g}, as of {format_as_of(as_of_epoch)}) into {out}"
    )
    ctx = _Context(
        seed=seed,
        leads=leads,
        dirty_rate=float(dirty_rate),
        as_of=as_of_epoch,
        activities_per_lead=float(activities_per_lead),
        lead_id_width=max(7, len(str(leads + 10**6))),
    )
    sinks = {table: _TableSink(out, table, fmt) for table in RAW_TABLES}
    expectations = _Expectations(out)
    companies = _companies(ctx)
    chunks = -(-leads // LEADS_PER_CHUNK)
    for index in range(chunks):
        for piece in _chunk_pieces(ctx, companies, index, expectations):
            sinks[piece.table].write(piece.rows)
            expectations.add(piece)
        if chunks > 1 and (index + 1) % max(1, chunks // 10) == 0:
            done = min(leads, (index + 1) * LEADS_PER_CHUNK)
            elapsed = time.monotonic() - started
            report(f"generated {done:,}/{leads:,} leads ({elapsed:.1f}s)")
    spend = _spend(ctx)
    sinks["marketing_spend"].write(spend.rows)
    expectations.add(spend)
    for table, sink in sinks.items():
        sink.close()
        elapsed = time.monotonic() - started
        report(f"wrote {sink.path.name}: {sink.rows:,} rows ({elapsed:.1f}s)")
    expectations.close()
    manifest = _manifest(ctx, fmt, sinks, expectations)
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    report(f"wrote {MANIFEST_FILE} ({time.monotonic() - started:.1f}s)")
    return manifest


def _chunk_pieces(
    ctx: _Context, companies: _Companies, index: int, expectations: _Expectations
) -> list[_Piece]:
    """Every table's rows of one chunk of leads."""
    chunk, leads_piece, nulls = _lead_chunk(ctx, companies, index)
    expectations.add_nulls(nulls)
    batch, signals = _activities(ctx, chunk)
    pieces = [leads_piece, _dirty_events(ctx, chunk, batch, _SPECS["activities"])]
    for spec, event_batch in _funnel(ctx, chunk, signals):
        pieces.append(_dirty_events(ctx, chunk, event_batch, spec))
    return pieces


def _manifest(
    ctx: _Context,
    fmt: str,
    sinks: dict[str, _TableSink],
    expectations: _Expectations,
) -> dict:
    """The manifest: arguments, rows, expected rejections and nulls."""
    rejections = expectations.summary()
    rows = {table: sink.rows for table, sink in sinks.items()}
    return {
        "generator": "lead_scoring.synthetic.generate",
        "seed": ctx.seed,
        "leads": ctx.leads,
        "dirty_rate": ctx.dirty_rate,
        "as_of": format_as_of(ctx.as_of),
        "format": fmt,
        "activities_per_lead": ctx.activities_per_lead,
        "files": {table: sink.path.name for table, sink in sinks.items()},
        "rows": rows,
        "expected_rejections": rejections,
        "expected_used_rows": {
            table: rows[table] - sum(rejections[table].values()) for table in rows
        },
        "expected_nulls": expectations.null_counts,
    }
