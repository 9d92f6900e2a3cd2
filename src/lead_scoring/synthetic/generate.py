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

Modules
-------
This module holds the public API (`generate()`, `propensity()`, `parse_as_of()`,
`format_as_of()` and the constants) and the loop over chunks; the work is
done by its siblings:
- `common`: constants, the run context, random streams and drawing helpers.
- `people`: the company pool, and the leads of each chunk with their dirt.
- `events`: the dirt and expected reasons of the four event tables, and the
  marketing activities of each chunk of leads.
- `funnel`: the planted propensity, sales touches, status changes and
  opportunities; the marketing spend.
- `files`: the table files, the expected rejections and nulls, the out folder.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from lead_scoring.synthetic.common import (
    DAY,
    DECISION_MAKER_SHARE,
    FORMATS,
    LEADS_PER_CHUNK,
    MANIFEST_FILE,
    MAX_DIRTY_RATE,
    MAX_LEADS,
    NULLS_FILE,
    REJECTIONS_FILE,
    SENIORITY_EFFECT,
    Rng,
    _Context,
    _Piece,
    format_as_of,
    parse_as_of,
)
from lead_scoring.synthetic.events import _SPECS, _activities, _dirty_events
from lead_scoring.synthetic.files import _Expectations, _TableSink, _prepare_out_dir
from lead_scoring.synthetic.funnel import _funnel, _spend, propensity
from lead_scoring.synthetic.people import _Companies, _companies, _lead_chunk
from lead_scoring.contract import RAW_TABLES
from lead_scoring.errors import GenerateError

# The public names, as before the generator was split into modules.
__all__ = [
    "DAY",
    "DECISION_MAKER_SHARE",
    "FORMATS",
    "LEADS_PER_CHUNK",
    "MANIFEST_FILE",
    "MAX_DIRTY_RATE",
    "MAX_LEADS",
    "NULLS_FILE",
    "REJECTIONS_FILE",
    "SENIORITY_EFFECT",
    "Progress",
    "Rng",
    "format_as_of",
    "generate",
    "parse_as_of",
    "propensity",
]

Progress = Callable[[str], None]


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
