"""Companies and leads of the synthetic data generator.

The pool of companies leads work for, and for each chunk of leads its rows
(the current row of each lead, older versions, rows with a blank lead_id and
the other lead dirt), its expected nulls and the `_LeadChunk` summary the
event tables are drawn from. Campaign and lead-source lookups also serve the
marketing spend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lead_scoring.synthetic import textcols as tc
from lead_scoring.synthetic import vocab
from lead_scoring.synthetic.common import (
    DAY,
    DECISION_MAKER_SHARE,
    LEADS_PER_CHUNK,
    _INTENT_MAX,
    _INTENT_MU,
    _INTENT_SIGMA,
    _MAX_AGE,
    _MIN_AGE,
    _OWNERS,
    _REASON_CODE,
    _STREAM_COMPANIES,
    _STREAM_LEADS,
    Rng,
    _Context,
    _Piece,
    _blank_keys,
    _pick,
    _styles,
    _weighted,
)
from lead_scoring.contract import RAW_TABLES


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
