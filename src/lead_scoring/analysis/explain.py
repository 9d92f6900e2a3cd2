"""Why a lead has its score: `lead-scoring explain LEAD_ID`.

Read from the marts of a built warehouse (lead_scoring.warehouse.readers: DuckDB or
PostgreSQL), nothing recomputed from raw data:

- the lead's attributes, grade and stage (dim_leads);
- every rule that fired for it (fct_score_ledger): its points at as_of, the
  counted firings' decayed points summed and clipped to the rule's cap, and
  the firings behind them (those before the lead's latest effective reset
  are listed as not counted);
- the category totals and the lead score, which is how dim_leads' scores are
  defined (fct_score_ledger's description; the test
  assert_scores_equal_ledger); the explanation also shows dim_leads' own
  figures beside them;
- the lead's MQL events with their triggers and outcomes (fct_mql_events).

as_of is the build's (dim_leads.scores_as_of). A later --as-of decays the
same firings further (the marts know no firing, reset or event after the
build's as_of); an earlier one needs a build at that as_of.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from lead_scoring.errors import LeadScoringError
from lead_scoring.warehouse.load import parse_utc, quote_identifier
from lead_scoring.warehouse.readers import Reader, open_reader

CATEGORIES: tuple[str, ...] = ("fit", "engagement", "negative")
ATTRIBUTES: tuple[str, ...] = (
    "email_domain", "seniority", "company_size_band", "industry", "country_code",
    "lead_source", "created_at", "owner_id",
)
MQL_COLUMNS: tuple[str, ...] = (
    "mql_event_id", "mql_sequence", "mql_at", "qualification_path",
    "trigger_activity_id", "lead_score_at_mql", "fit_score_at_mql", "outcome",
    "outcome_reason", "outcome_at", "first_sales_touch_at", "sql_at",
    "opportunity_id", "won_at", "won_amount",
)


class ExplainError(LeadScoringError):
    """A lead or as_of that cannot be explained."""


@dataclass
class Firing:
    activity_id: str | None
    occurred_at: str | None
    points: float
    points_at_as_of: float
    is_counted: bool


@dataclass
class RuleContribution:
    rule_id: str
    category: str
    points_at_as_of: float
    uncapped_points: float
    max_points: float | None
    decay_half_life_days: float | None
    firings: list[Firing] = field(default_factory=list)


@dataclass
class Explanation:
    lead_id: str
    as_of: str
    fit_score: float
    engagement_score: float
    negative_score: float
    lead_score: float
    attributes: dict[str, Any]
    lead_grade: str | None
    lifecycle_stage: str | None
    dim_leads_scores: dict[str, float]
    rules: list[RuleContribution]
    mql_events: list[dict[str, Any]]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=_text)


def _text(value: Any) -> Any:
    """Timestamps and dates as ISO text (seconds), the rest unchanged."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if type(value).__name__ == "Decimal":
        return float(value)
    return value


def _seconds(value: Any) -> float:
    """A timestamp as seconds since the epoch (naive = UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value - datetime(1970, 1, 1)).total_seconds()


def decay(points: float, seconds_elapsed: float, half_life_days: float | None) -> float:
    """points * 0.5 ^ (days elapsed / half-life), as the models decay them
    (macro decay_factor): no half-life keeps them, past 1000 half-lives 0."""
    if half_life_days is None:
        return points
    if seconds_elapsed > 1000 * 86400.0 * half_life_days:
        return 0.0
    return points * 0.5 ** (seconds_elapsed / (86400.0 * half_life_days))


def clip(points: float, max_points: float | None) -> float:
    """points clipped to [-max_points, max_points] (macro clip_points)."""
    if max_points is None:
        return points
    return min(max(points, -max_points), max_points)


def _as_of_of(reader: Reader, schema: str) -> datetime:
    rows = reader.rows(
        f"select max(scores_as_of) from {quote_identifier(schema)}.dim_leads"
    )
    if not rows or rows[0][0] is None:
        raise ExplainError(
            f"{schema}.dim_leads in {reader.description} holds no lead",
            hint="load raw data and run dbt build first",
        )
    value = rows[0][0]
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def explain_leads(
    reader: Reader,
    schema: str = "analytics",
    lead_ids: list[str] | None = None,
    as_of: str | None = None,
) -> dict[str, Explanation]:
    """Explanations of the given leads (all leads when None), by lead id."""
    relation = quote_identifier(schema)
    built_as_of = _as_of_of(reader, schema)
    moment = built_as_of
    if as_of:
        moment = parse_utc(as_of)
        if moment is None:
            raise ExplainError(
                f"--as-of {as_of!r} is not a date and time",
                hint="use 'YYYY-MM-DD HH:MM:SS' (UTC)",
            )
        if moment < built_as_of:
            raise ExplainError(
                f"--as-of {moment} is before the build's as_of {built_as_of}",
                hint="the marts know the firings up to the build's as_of only: "
                f"build at that moment (dbt build --vars '{{as_of: \"{moment}\"}}') "
                "to explain it",
            )
    where, params = "", []
    if lead_ids is not None:
        where = "where lead_id in (" + ", ".join("?" for _ in lead_ids) + ")"
        params = list(lead_ids)
    lead_columns = (
        "lead_id", *ATTRIBUTES, "fit_score", "engagement_score", "negative_score",
        "lead_score", "lead_grade", "lifecycle_stage",
    )
    leads = {
        row[0]: dict(zip(lead_columns, row))
        for row in reader.rows(
            f"select {', '.join(lead_columns)} from {relation}.dim_leads {where}",
            params,
        )
    }
    ledger = reader.rows(
        "select lead_id, rule_id, category, activity_id, occurred_at, points, "
        "max_points, decay_half_life_days, is_counted_at_as_of, "
        f"decayed_points_at_as_of from {relation}.fct_score_ledger {where}",
        params,
    )
    events = reader.rows(
        f"select lead_id, {', '.join(MQL_COLUMNS)} from {relation}.fct_mql_events "
        f"{where} order by lead_id, mql_sequence",
        params,
    )
    rules: dict[str, dict[str, RuleContribution]] = {lead_id: {} for lead_id in leads}
    moved = moment != built_as_of
    for (lead_id, rule_id, category, activity_id, occurred_at, points, max_points,
         half_life, counted, decayed) in ledger:
        if lead_id not in rules:
            continue
        half_life = None if half_life is None else float(half_life)
        if moved and occurred_at is not None:
            decayed = decay(float(points), _seconds(moment) - _seconds(occurred_at),
                            half_life)
        contribution = rules[lead_id].setdefault(rule_id, RuleContribution(
            rule_id, category, 0.0, 0.0,
            None if max_points is None else float(max_points), half_life,
        ))
        contribution.firings.append(Firing(
            activity_id, _text(occurred_at), float(points), float(decayed or 0.0),
            bool(counted),
        ))
    explained = {}
    for lead_id, lead in leads.items():
        contributions = sorted(
            rules[lead_id].values(), key=lambda rule: (rule.category, rule.rule_id)
        )
        totals = {category: [] for category in CATEGORIES}
        for rule in contributions:
            rule.firings.sort(key=lambda firing: (
                firing.occurred_at or "", firing.activity_id or ""
            ))
            rule.uncapped_points = math.fsum(
                firing.points_at_as_of for firing in rule.firings if firing.is_counted
            )
            rule.points_at_as_of = clip(rule.uncapped_points, rule.max_points)
            if any(firing.is_counted for firing in rule.firings):
                totals[rule.category].append(rule.points_at_as_of)
        scores = {category: math.fsum(values) for category, values in totals.items()}
        explained[lead_id] = Explanation(
            lead_id=lead_id,
            as_of=moment.strftime("%Y-%m-%d %H:%M:%S"),
            fit_score=scores["fit"],
            engagement_score=scores["engagement"],
            negative_score=scores["negative"],
            lead_score=math.fsum(scores.values()),
            attributes={name: _text(lead[name]) for name in ATTRIBUTES},
            lead_grade=lead["lead_grade"],
            lifecycle_stage=lead["lifecycle_stage"],
            dim_leads_scores={
                name: float(lead[name]) for name in (
                    "fit_score", "engagement_score", "negative_score", "lead_score",
                )
            },
            rules=contributions,
            mql_events=[
                {name: _text(value) for name, value in zip(MQL_COLUMNS, row[1:])}
                for row in events if row[0] == lead_id
            ],
        )
    return explained


def explain(
    lead_id: str,
    target: str | None = None,
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
    as_of: str | None = None,
) -> Explanation:
    """The explanation of one lead; ExplainError when it is unknown."""
    with open_reader(target, duckdb_path) as reader:
        found = explain_leads(reader, schema, [lead_id], as_of)
        if lead_id not in found:
            raise ExplainError(
                f"no lead {lead_id!r} in {schema}.dim_leads of {reader.description}",
                hint="dim_leads holds the live leads at the build's as_of "
                "(erased, rejected and later leads are not there); check the id",
            )
    return found[lead_id]


def _number(value: float) -> str:
    return f"{value:,.2f}"


def render_text(explanation: Explanation, firings_per_rule: int = 5) -> str:
    """The explanation for people: attributes, rules, totals, MQL events."""
    lines = [f"lead {explanation.lead_id} at {explanation.as_of}"]
    attributes = ", ".join(
        f"{name}={value}" for name, value in explanation.attributes.items()
        if value is not None
    )
    lines.append(f"  {attributes or 'no attributes'}")
    lines.append(
        f"  grade {explanation.lead_grade or '-'}, "
        f"stage {explanation.lifecycle_stage or '-'}"
    )
    lines.append("")
    lines.append(f"  {'rule':<32} {'category':<11} {'points at as_of':>16}  firings")
    for rule in explanation.rules:
        counted = [firing for firing in rule.firings if firing.is_counted]
        capped = (
            f" (capped at {_number(rule.max_points)} from "
            f"{_number(rule.uncapped_points)})"
            if rule.max_points is not None and rule.points_at_as_of != rule.uncapped_points
            else ""
        )
        lines.append(
            f"  {rule.rule_id:<32} {rule.category:<11} "
            f"{_number(rule.points_at_as_of):>16}  {len(counted)} counted"
            + (f", {len(rule.firings) - len(counted)} before a reset"
               if len(counted) < len(rule.firings) else "")
            + capped
        )
        for firing in rule.firings[-firings_per_rule:]:
            if firing.activity_id is None:
                continue
            lines.append(
                f"      {firing.occurred_at}  {firing.activity_id:<20} "
                f"{_number(firing.points)} -> {_number(firing.points_at_as_of)}"
                + ("" if firing.is_counted else "  (before a reset: not counted)")
            )
        hidden = sum(1 for firing in rule.firings if firing.activity_id) - firings_per_rule
        if hidden > 0:
            lines.append(f"      ... and {hidden} earlier firing(s)")
    lines.append("")
    lines.append(
        f"  fit {_number(explanation.fit_score)} + engagement "
        f"{_number(explanation.engagement_score)} + negative "
        f"{_number(explanation.negative_score)} = lead_score "
        f"{_number(explanation.lead_score)}"
    )
    lines.append(
        f"  (dim_leads: lead_score {_number(explanation.dim_leads_scores['lead_score'])})"
    )
    lines.append("")
    if not explanation.mql_events:
        lines.append("  no MQL event")
    for event in explanation.mql_events:
        lines.append(
            f"  MQL #{event['mql_sequence']} at {event['mql_at']} by "
            f"{event['qualification_path']} (trigger {event['trigger_activity_id']}, "
            f"score {_number(event['lead_score_at_mql'])}, fit "
            f"{_number(event['fit_score_at_mql'])}): {event['outcome']}"
            + (f" ({event['outcome_reason']})" if event.get("outcome_reason") else "")
            + (f", SQL at {event['sql_at']}" if event.get("sql_at") else "")
        )
    return "\n".join(lines) + "\n"
