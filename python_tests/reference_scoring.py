"""Reference implementation of the lead-scoring semantics, in plain Python.

Written from the contract text only (``docs/contract.md`` section 2, "Scoring
rules", and section 1 for what a valid activity is), independently of the SQL,
so that a property test can compare the two. It is deliberately literal and
slow (quadratic per lead): every score is recomputed from scratch at every
point it is needed, and decay is computed directly from the time difference
(``points * 0.5 ** (days / half_life)``), which stays exact for any half-life.

Inputs are the *staged* values (what the SQL sees), which
:func:`read_staged_inputs` reads back from a built warehouse:

* leads: dicts with lead_id, job_title, seniority, employee_count (float or
  None), industry, country_code, email_domain, lead_source, is_decision_maker
  (bool or None), purchase_timeframe, annual_revenue (float or None);
* activities: dicts with activity_id, lead_id, activity_type (normalised),
  occurred_at (naive UTC datetime);
* status changes: dicts with status_change_id, lead_id, status, changed_at;
* rules: rows of the ``scoring_rules`` seed, as strings, read by the
  project's one rule-file parser (lead_scoring.rules, see :func:`parse_rules`);
* vars: :class:`ScoringVars` (as_of, mql_score_threshold, mql_min_fit_score,
  fast_track_activity_types).

Interpretations where the contract is silent (the natural reading, written
down so that a disagreement with the SQL can be traced to a choice):

1. Text normalisation is ``str.strip().lower()`` on both sides: the attribute
   and the rule value (or each ``|`` piece of it). A piece that is blank after
   trimming is an "empty piece" and is ignored; a rule whose pieces are all
   empty matches nothing. ``equals`` does not split on ``|``.
2. ``contains`` matches when the attribute contains at least one piece as a
   substring; ``in`` when it equals at least one piece.
3. Numbers are decimal literals only (``[+-]digits[.digits][e[+-]digits]``,
   surrounding blanks allowed); no thousands separators, no ``inf``/``nan``,
   and the result must be finite. ``between`` needs exactly two non-empty
   pieces ``lo|hi`` that are both numbers and matches ``lo <= x <= hi`` (so
   ``lo > hi`` matches nothing). ``gte``/``lt`` need one number.
4. Numeric operators on a text attribute parse the attribute text as a number
   with the same rule (so ``job_title gte 5`` matches nothing for ordinary
   titles); on ``activity_type`` they never match in practice; on
   is_decision_maker (text ``'true'``/``'false'``) they never match.
5. For the numeric fields (employee_count, annual_revenue) ``equals``/``in``
   compare numerically (``'250.0'`` equals 250); a piece that is not a number
   does not match. ``contains`` on a numeric field never matches (there is no
   canonical text for a number; the property test does not generate it).
6. A non-finite numeric attribute (NaN, infinity) matches nothing. A blank
   attribute (None, or text that is empty after trimming) matches nothing.
7. Unknown activity types (anything outside the contract's 14 types and the
   three re-typed page views) score 0: they never match an activity rule, even
   one written with ``contains``. They are still evaluation points for
   qualification.
8. Attribute rules never decay (a half-life on them is ignored). A blank or
   non-numeric ``max_points`` means no cap; the cap is ``abs(max_points)``.
   A blank, non-numeric or non-positive ``decay_half_life_days`` means no
   decay. ``is_active`` is true for true/t/yes/y/1 (any case), false otherwise.
   category, field and operator are compared trimmed and lower-cased.
9. An activity rule of category ``fit`` (allowed by the text) counts in
   fit_score and, like every activity rule, only counts activities not wiped
   by a reset. Attribute rules of any category are never reset.
10. Status changes with changed_at after as_of are ignored (everything is
    evaluated as of as_of); statuses are compared trimmed and lower-cased;
    unknown statuses are ignored. status_change_id is ordered as text.
    sales_accepted outside the MQL state is ignored; disqualified applies from
    any state and is final (later rejections/recycles are ignored because the
    lead is no longer an MQL or SQL).
11. fast_track_activity_types are compared with the activity type trimmed and
    lower-cased. When both paths hold at one activity, the path is
    ``threshold``.
12. A lead's MQL events are ordered by mql_at (= the trigger activity's
    occurred_at); two events of one lead can never share a second, since
    status changes at a second apply before the activities of that second.
"""

from __future__ import annotations

import csv
import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from lead_scoring import rules as rules_file


ATTRIBUTE_FIELDS: tuple[str, ...] = (
    "job_title",
    "seniority",
    "employee_count",
    "industry",
    "country_code",
    "email_domain",
    "lead_source",
    "is_decision_maker",
    "purchase_timeframe",
    "annual_revenue",
)
NUMERIC_FIELDS: frozenset[str] = frozenset({"employee_count", "annual_revenue"})
ACTIVITY_FIELD = "activity_type"

# The known activity types are data: the rows of seeds/activity_types.csv.
with open(
    Path(__file__).resolve().parents[1] / "seeds" / "activity_types.csv",
    newline="", encoding="utf-8",
) as _seed:
    KNOWN_ACTIVITY_TYPES: frozenset[str] = frozenset(
        row["activity_type"] for row in csv.DictReader(_seed)
    )
DEFAULT_FAST_TRACK: tuple[str, ...] = ("demo_request", "contact_request")

NURTURE, MQL, SQL, DISQUALIFIED = "nurture", "mql", "sql", "disqualified"
RESET_STATUSES = frozenset({"sales_rejected", "recycled"})

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


# --------------------------------------------------------------------------
# Small value helpers
# --------------------------------------------------------------------------

def norm_text(value: Any) -> str | None:
    """Trimmed, lower-cased text; None for a blank value. Booleans -> 'true'/'false'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip().lower()
    return text or None


def parse_number(value: Any) -> float | None:
    """A finite float from a number or a decimal literal; None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if not _NUMBER.fullmatch(text):
            return None
        try:
            number = float(text)
        except (ValueError, OverflowError):
            return None
    return number if math.isfinite(number) else None


def pieces(value: str | None) -> list[str]:
    """The non-empty, trimmed, lower-cased `|`-separated pieces of a rule value."""
    if value is None:
        return []
    return [piece.strip().lower() for piece in str(value).split("|") if piece.strip()]


def days_between(later: datetime, earlier: datetime) -> float:
    """Fractional days (seconds / 86400) from `earlier` to `later`."""
    return (later - earlier).total_seconds() / 86400.0


def to_naive_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("T", " "))
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


# --------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    rule_id: str
    category: str
    field: str
    operator: str
    value: str
    points: float
    max_points: float | None
    half_life_days: float | None
    is_active: bool
    description: str = ""

    @property
    def is_activity_rule(self) -> bool:
        return self.field == ACTIVITY_FIELD

    def clip(self, amount: float) -> float:
        if self.max_points is None:
            return amount
        return max(-self.max_points, min(self.max_points, amount))

    def is_capped(self, amount: float) -> bool:
        return self.max_points is not None and abs(amount) > self.max_points

    def describe(self) -> str:
        parts = [
            f"{self.rule_id}: {self.category} {self.field} {self.operator} {self.value!r}",
            f"points={self.points:g}",
        ]
        if self.max_points is not None:
            parts.append(f"max={self.max_points:g}")
        if self.half_life_days is not None:
            parts.append(f"half_life={self.half_life_days:g}d")
        if not self.is_active:
            parts.append("INACTIVE")
        return " ".join(parts)


def parse_rule(row: Mapping[str, Any]) -> Rule:
    """One seed row as a Rule, read by the project's one rule-file parser
    (lead_scoring.rules, the same verdict as the build's SQL check); an
    active rule with a problem is refused."""
    return parse_rules([row])[0]


def parse_rules(rows: Iterable[Mapping[str, Any]]) -> list[Rule]:
    parsed = []
    for rule in rules_file.parse_rules(rows):
        if rule.problem:
            raise ValueError(f"rule {rule.rule_id!r}: {rule.problem}")
        parsed.append(Rule(
            rule_id=rule.rule_id or "",
            category=rule.category or "",
            field=rule.field or "",
            operator=rule.operator or "",
            value=rule.value or "",
            points=rule.points if rule.points is not None else 0.0,
            max_points=rule.max_points,
            half_life_days=rule.decay_half_life_days,
            is_active=bool(rule.is_active),
            description=str(rule.row.get("description") or ""),
        ))
    return parsed


def _match_numeric(operator: str, number: float | None, value: str) -> bool:
    if number is None:
        return False
    if operator == "gte":
        bound = parse_number(value)
        return bound is not None and number >= bound
    if operator == "lt":
        bound = parse_number(value)
        return bound is not None and number < bound
    if operator == "between":
        bounds = pieces(value)
        if len(bounds) != 2:
            return False
        low, high = parse_number(bounds[0]), parse_number(bounds[1])
        return low is not None and high is not None and low <= number <= high
    return False


def value_matches(field_name: str, operator: str, rule_value: str, attribute: Any) -> bool:
    """Whether an attribute (or an activity type) matches an operator and value."""
    if field_name in NUMERIC_FIELDS:
        number = parse_number(attribute)
        if number is None:  # blank, junk or non-finite
            return False
        if operator == "equals":
            target = parse_number(rule_value)
            return target is not None and number == target
        if operator == "in":
            return any(parse_number(piece) == number for piece in pieces(rule_value))
        if operator == "contains":
            return False
        return _match_numeric(operator, number, rule_value)

    text = norm_text(attribute)
    if text is None:
        return False
    if operator == "equals":
        target = norm_text(rule_value)
        return target is not None and text == target
    if operator == "in":
        return text in pieces(rule_value)
    if operator == "contains":
        return any(piece in text for piece in pieces(rule_value))
    if operator in ("between", "gte", "lt"):
        if isinstance(attribute, bool):
            return False
        return _match_numeric(operator, parse_number(text), rule_value)
    return False


def rule_matches_lead(rule: Rule, lead: Mapping[str, Any]) -> bool:
    return value_matches(rule.field, rule.operator, rule.value, lead.get(rule.field))


def rule_matches_activity(rule: Rule, activity_type: Any) -> bool:
    text = norm_text(activity_type)
    if text is None or text not in KNOWN_ACTIVITY_TYPES:
        return False  # unknown types score 0
    return value_matches(ACTIVITY_FIELD, rule.operator, rule.value, text)


# --------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ScoringVars:
    as_of: datetime
    mql_score_threshold: float
    mql_min_fit_score: float
    fast_track_activity_types: tuple[str, ...] = DEFAULT_FAST_TRACK

    def as_dbt_vars(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.strftime("%Y-%m-%d %H:%M:%S"),
            "mql_score_threshold": self.mql_score_threshold,
            "mql_min_fit_score": self.mql_min_fit_score,
            "fast_track_activity_types": list(self.fast_track_activity_types),
        }


@dataclass(frozen=True)
class Scores:
    fit_score: float
    engagement_score: float
    negative_score: float

    @property
    def lead_score(self) -> float:
        return self.fit_score + self.engagement_score + self.negative_score

    def as_dict(self) -> dict[str, float]:
        return {
            "fit_score": self.fit_score,
            "engagement_score": self.engagement_score,
            "negative_score": self.negative_score,
            "lead_score": self.lead_score,
        }


@dataclass(frozen=True)
class Contribution:
    """What one rule gives a lead at one instant: raw sum and clipped value."""

    rule_id: str
    category: str
    raw: float
    clipped: float
    matches: int  # number of matching counting activities (1 for attribute rules)

    @property
    def capped(self) -> bool:
        return self.raw != self.clipped


@dataclass(frozen=True)
class MqlEvent:
    lead_id: str
    mql_at: datetime
    qualification_path: str
    trigger_activity_id: str
    lead_score_at_mql: float
    fit_score_at_mql: float


@dataclass
class LeadResult:
    lead_id: str
    scores: Scores
    contributions: dict[str, Contribution]
    mql_events: list[MqlEvent] = field(default_factory=list)
    effective_resets: list[datetime] = field(default_factory=list)
    final_state: str = NURTURE
    capped_rule_ids: set[str] = field(default_factory=set)
    contributions_at_mql: list[dict[str, Contribution]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.scores.as_dict(),
            "mql_events": [
                {
                    "mql_at": event.mql_at,
                    "qualification_path": event.qualification_path,
                    "trigger_activity_id": event.trigger_activity_id,
                    "lead_score_at_mql": event.lead_score_at_mql,
                    "fit_score_at_mql": event.fit_score_at_mql,
                }
                for event in self.mql_events
            ],
        }


def _category_totals(contributions: Iterable[Contribution]) -> Scores:
    totals = {"fit": 0.0, "engagement": 0.0, "negative": 0.0}
    for contribution in contributions:
        if contribution.category in totals:
            totals[contribution.category] += contribution.clipped
    return Scores(totals["fit"], totals["engagement"], totals["negative"])


def _decayed(rule: Rule, at: datetime, occurred_at: datetime) -> float:
    if rule.half_life_days is None:
        return rule.points
    return rule.points * 0.5 ** (days_between(at, occurred_at) / rule.half_life_days)


class _LeadScorer:
    """Scores one lead at any instant, given the reset in force."""

    def __init__(self, lead: Mapping[str, Any], activities: Sequence[Mapping[str, Any]],
                 rules: Sequence[Rule]) -> None:
        self.activity_rules = [rule for rule in rules if rule.is_activity_rule]
        self.attribute_contributions: dict[str, Contribution] = {}
        for rule in rules:
            if not rule.is_activity_rule and rule_matches_lead(rule, lead):
                self.attribute_contributions[rule.rule_id] = Contribution(
                    rule.rule_id, rule.category, rule.points, rule.clip(rule.points), 1
                )
        # occurred_at of the activities each activity rule matches, in time order
        self.matching: dict[str, list[datetime]] = {
            rule.rule_id: sorted(
                activity["occurred_at"] for activity in activities
                if rule_matches_activity(rule, activity["activity_type"])
            )
            for rule in self.activity_rules
        }

    def contributions_at(self, at: datetime, reset_at: datetime | None,
                         categories: Iterable[str] | None = None) -> dict[str, Contribution]:
        """Every rule's contribution at `at`, counting activities in [reset_at, at].

        `categories` limits the result to rules of those categories.
        """
        wanted = None if categories is None else set(categories)
        result = {
            rule_id: contribution
            for rule_id, contribution in self.attribute_contributions.items()
            if wanted is None or contribution.category in wanted
        }
        for rule in self.activity_rules:
            if wanted is not None and rule.category not in wanted:
                continue
            times = self.matching[rule.rule_id]
            start = 0 if reset_at is None else bisect_left(times, reset_at)
            counted = times[start:bisect_right(times, at)]
            if not counted:
                continue
            raw = math.fsum(_decayed(rule, at, occurred_at) for occurred_at in counted)
            result[rule.rule_id] = Contribution(
                rule.rule_id, rule.category, raw, rule.clip(raw), len(counted)
            )
        return result


def _activity_sort_key(activity: Mapping[str, Any]) -> tuple:
    return (activity["occurred_at"], str(activity["activity_id"]))


def score_lead(
    lead: Mapping[str, Any],
    activities: Sequence[Mapping[str, Any]],
    status_changes: Sequence[Mapping[str, Any]],
    rules: Sequence[Rule],
    scoring_vars: ScoringVars,
) -> LeadResult:
    """Scores at as_of and MQL events of one lead (inputs already for this lead)."""
    as_of = scoring_vars.as_of
    active_rules = [rule for rule in rules if rule.is_active]
    valid = sorted(
        (activity for activity in activities if activity["occurred_at"] <= as_of),
        key=_activity_sort_key,
    )
    changes = sorted(
        (change for change in status_changes
         if change["changed_at"] is not None and change["changed_at"] <= as_of),
        key=lambda change: (change["changed_at"], str(change["status_change_id"])),
    )
    scorer = _LeadScorer(lead, valid, active_rules)
    fast_track = {norm_text(kind) for kind in scoring_vars.fast_track_activity_types}
    fast_track.discard(None)

    # One timeline: status changes sort before activities of the same instant.
    timeline: list[tuple[datetime, int, str, Mapping[str, Any]]] = [
        (change["changed_at"], 0, str(change["status_change_id"]), change) for change in changes
    ] + [
        (activity["occurred_at"], 1, str(activity["activity_id"]), activity) for activity in valid
    ]
    timeline.sort(key=lambda item: item[:3])

    lead_id = str(lead["lead_id"])
    state = NURTURE
    reset_at: datetime | None = None
    resets: list[datetime] = []
    events: list[MqlEvent] = []
    at_mql: list[dict[str, Contribution]] = []
    capped: set[str] = set()

    for at, kind, _, item in timeline:
        if kind == 0:
            status = norm_text(item["status"])
            if status == "sales_accepted" and state == MQL:
                state = SQL
            elif status in RESET_STATUSES and state in (MQL, SQL):
                state = NURTURE
                reset_at = at
                resets.append(at)
            elif status == "disqualified":
                state = DISQUALIFIED
            continue
        if state != NURTURE:
            continue
        # Both paths need the fit: compute it first and skip the rest when it fails.
        fit_only = scorer.contributions_at(at, reset_at, categories=("fit",))
        if not round(_category_totals(fit_only.values()).fit_score, 6) >= scoring_vars.mql_min_fit_score:
            continue
        contributions = scorer.contributions_at(at, reset_at)
        capped.update(c.rule_id for c in contributions.values() if c.capped)
        scores = _category_totals(contributions.values())
        fit_ok = round(scores.fit_score, 6) >= scoring_vars.mql_min_fit_score
        path = None
        if fit_ok and round(scores.lead_score, 6) >= scoring_vars.mql_score_threshold:
            path = "threshold"
        elif fit_ok and norm_text(item["activity_type"]) in fast_track:
            path = "fast_track"
        if path is not None:
            state = MQL
            at_mql.append(contributions)
            events.append(
                MqlEvent(lead_id, at, path, str(item["activity_id"]),
                         scores.lead_score, scores.fit_score)
            )

    final = scorer.contributions_at(as_of, reset_at)
    capped.update(c.rule_id for c in final.values() if c.capped)
    return LeadResult(
        lead_id=lead_id,
        scores=_category_totals(final.values()),
        contributions=final,
        mql_events=events,
        effective_resets=resets,
        final_state=state,
        capped_rule_ids=capped,
        contributions_at_mql=at_mql,
    )


def score_leads(
    leads: Iterable[Mapping[str, Any]],
    activities: Iterable[Mapping[str, Any]],
    status_changes: Iterable[Mapping[str, Any]],
    rules: Sequence[Rule] | Iterable[Mapping[str, Any]],
    scoring_vars: ScoringVars,
) -> dict[str, LeadResult]:
    """Every lead's scores at as_of and MQL events. Rules may be Rule objects or seed rows."""
    rules = [rule if isinstance(rule, Rule) else parse_rule(rule) for rule in rules]
    by_lead_activities: dict[str, list[Mapping[str, Any]]] = {}
    for activity in activities:
        by_lead_activities.setdefault(str(activity["lead_id"]), []).append(activity)
    by_lead_changes: dict[str, list[Mapping[str, Any]]] = {}
    for change in status_changes:
        by_lead_changes.setdefault(str(change["lead_id"]), []).append(change)
    results: dict[str, LeadResult] = {}
    for lead in leads:
        lead_id = str(lead["lead_id"])
        results[lead_id] = score_lead(
            lead,
            by_lead_activities.get(lead_id, []),
            by_lead_changes.get(lead_id, []),
            rules,
            scoring_vars,
        )
    return results


# --------------------------------------------------------------------------
# Reading the staged inputs back from a built DuckDB warehouse
# --------------------------------------------------------------------------

LEAD_COLUMNS: tuple[str, ...] = ("lead_id", *ATTRIBUTE_FIELDS)
ACTIVITY_COLUMNS: tuple[str, ...] = ("activity_id", "lead_id", "activity_type", "occurred_at")
STATUS_CHANGE_COLUMNS: tuple[str, ...] = ("status_change_id", "lead_id", "status", "changed_at")


def _rows(connection: Any, relation: str, columns: Sequence[str]) -> list[dict[str, Any]]:
    sql = f"select {', '.join(columns)} from {relation}"
    return [dict(zip(columns, row)) for row in connection.execute(sql).fetchall()]


def connect(path: Any) -> Any:
    """A DuckDB connection to the warehouse file, read-only when possible."""
    from lead_scoring.warehouse.load import connect_read_only

    return connect_read_only(path)


def _with_connection(warehouse: Any, read: Any) -> Any:
    if hasattr(warehouse, "execute"):
        return read(warehouse)
    with connect(warehouse) as connection:
        return read(connection)


def _clean_lead(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["lead_id"] = str(row["lead_id"])
    for name in NUMERIC_FIELDS:
        value = row.get(name)
        row[name] = None if value is None else float(value)
    return row


def read_staged_leads(
    warehouse: Any, schema: str = "analytics_restricted"
) -> list[dict[str, Any]]:
    """Rows of stg_crm__leads with the attributes scoring rules compare against.

    `warehouse` is a DuckDB path or an open connection. The model holds
    personal data, so it lives in the restricted schema.
    """
    return _with_connection(
        warehouse,
        lambda c: [_clean_lead(r) for r in _rows(c, f"{schema}.stg_crm__leads", LEAD_COLUMNS)],
    )


def read_staged_activities(warehouse: Any, schema: str = "analytics") -> list[dict[str, Any]]:
    def read(connection: Any) -> list[dict[str, Any]]:
        rows = _rows(connection, f"{schema}.int_activities_valid", ACTIVITY_COLUMNS)
        for row in rows:
            row["activity_id"] = str(row["activity_id"])
            row["lead_id"] = str(row["lead_id"])
            row["occurred_at"] = to_naive_utc(row["occurred_at"])
        return rows

    return _with_connection(warehouse, read)


def read_staged_status_changes(warehouse: Any, schema: str = "analytics") -> list[dict[str, Any]]:
    def read(connection: Any) -> list[dict[str, Any]]:
        rows = _rows(connection, f"{schema}.stg_crm__lead_status_changes", STATUS_CHANGE_COLUMNS)
        for row in rows:
            row["status_change_id"] = str(row["status_change_id"])
            row["lead_id"] = str(row["lead_id"])
            row["changed_at"] = to_naive_utc(row["changed_at"])
        return rows

    return _with_connection(warehouse, read)


@dataclass(frozen=True)
class StagedInputs:
    leads: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    status_changes: list[dict[str, Any]]


def read_staged_inputs(
    warehouse: Any,
    schema: str = "analytics",
    restricted_schema: str = "analytics_restricted",
) -> StagedInputs:
    """The three staged relations the scoring reads, as plain Python rows.

    Leads (personal data) come from the restricted schema.
    """
    def read(connection: Any) -> StagedInputs:
        return StagedInputs(
            read_staged_leads(connection, restricted_schema),
            read_staged_activities(connection, schema),
            read_staged_status_changes(connection, schema),
        )

    return _with_connection(warehouse, read)
