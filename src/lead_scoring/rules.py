"""The scoring-rule file (seeds/scoring_rules.csv) read and checked in Python.

The build checks the rules in SQL (models/intermediate/scoring/
int_scoring_rules_checked.sql): every value is read as text, cleaned
(trimmed; blank is missing), parsed, and each active rule gets the first
problem found in it, in a fixed order. This module does the same, with the
same messages, for the tools that read a rule file without a build
(`calibrate`, the test oracle); python_tests/test_rules.py runs both on the
same bad files and requires the same verdict for every row.

    rules = read_rule_file("seeds/scoring_rules.csv")
    [rule.problem for rule in rules if rule.problem]   # [] for a valid file
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The columns of the file, in the contract's order (description is optional).
COLUMNS = (
    "rule_id", "category", "field", "operator", "value", "points",
    "max_points", "decay_half_life_days", "is_active",
)
CATEGORIES = ("fit", "engagement", "negative")
OPERATORS = ("equals", "in", "contains", "between", "gte", "lt")
ACTIVITY_FIELD = "activity_type"
# The fields a rule may name: the staged lead attributes, and activity_type
# (macro scoring_fields, which the SQL reads; test_rules.py compares them).
FIELDS = (
    "job_title", "seniority", "employee_count", "industry", "country_code",
    "email_domain", "lead_source", "is_decision_maker", "purchase_timeframe",
    "annual_revenue", ACTIVITY_FIELD,
)
TRUE_TEXT = ("true", "t", "1", "yes", "y")
FALSE_TEXT = ("false", "f", "0", "no", "n")
# The text forms read as numbers (macro number_pattern).
_NUMBER = re.compile(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,4})?")
# Points fit the marts' integer columns.
_POINTS_LIMIT = 1e9


def clean_text(value: object) -> str | None:
    """Trimmed text (spaces, as SQL's trim), None when blank or missing."""
    if value is None:
        return None
    text = str(value).strip(" ")
    return text or None


def to_number(value: object) -> float | None:
    """A finite number from its text (macro to_number), else None."""
    text = clean_text(value)
    if text is None or not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def to_boolean(value: object) -> bool | None:
    """true/t/1/yes/y or false/f/0/no/n in any case (macro to_boolean)."""
    text = clean_text(value)
    lowered = text.lower() if text is not None else None
    if lowered in TRUE_TEXT:
        return True
    if lowered in FALSE_TEXT:
        return False
    return None


@dataclass(frozen=True)
class ScoringRule:
    """One row of the rule file, parsed, with the first problem found in it
    (None when it is valid or inactive). `row` keeps the text as written."""

    row: Mapping[str, str]
    rule_id: str | None
    category: str | None
    field: str | None
    operator: str | None
    value: str | None
    points: float | None
    max_points: float | None
    decay_half_life_days: float | None
    is_active: bool | None
    range_low: float | None
    range_high: float | None
    problem: str | None

    @property
    def is_activity_rule(self) -> bool:
        return self.field == ACTIVITY_FIELD


def parse_rules(rows: Iterable[Mapping[str, str | None]]) -> list[ScoringRule]:
    """Every row parsed and checked, in order (see the module docstring)."""
    rows = list(rows)
    ids = Counter(clean_text(row.get("rule_id")) for row in rows)
    return [_parse(row, ids) for row in rows]


def _lower(value: object) -> str | None:
    text = clean_text(value)
    return text.lower() if text is not None else None


def _parse(row: Mapping[str, str | None], ids: Counter) -> ScoringRule:
    value = clean_text(row.get("value"))
    parts = (value or "").split("|")
    parsed = {
        "rule_id": clean_text(row.get("rule_id")),
        "category": _lower(row.get("category")),
        "field": _lower(row.get("field")),
        "operator": _lower(row.get("operator")),
        "value": value,
        "points": to_number(row.get("points")),
        "max_points": to_number(row.get("max_points")),
        "decay_half_life_days": to_number(row.get("decay_half_life_days")),
        "is_active": to_boolean(row.get("is_active")),
        "range_low": to_number(parts[0]),
        "range_high": to_number(parts[1] if len(parts) > 1 else None),
    }
    return ScoringRule(
        row=dict(row), problem=_problem(row, parsed, ids, len(parts) - 1), **parsed
    )


def _shown(text: str | None) -> str:
    return "(blank)" if text is None else text


def _problem(
    row: Mapping[str, str | None], rule: dict, ids: Counter, separators: int
) -> str | None:
    """The first problem of a row, in the SQL's order and words."""
    is_active_text = clean_text(row.get("is_active"))
    points_text = clean_text(row.get("points"))
    max_points_text = clean_text(row.get("max_points"))
    half_life_text = clean_text(row.get("decay_half_life_days"))
    points, max_points = rule["points"], rule["max_points"]
    half_life, operator, value = rule["decay_half_life_days"], rule["operator"], rule["value"]
    if rule["is_active"] is None:
        return f"is_active {_shown(is_active_text)} is not true or false"
    if not rule["is_active"]:
        return None
    if rule["rule_id"] is None:
        return "rule_id is blank"
    if ids[rule["rule_id"]] > 1:
        return "rule_id is used by more than one rule"
    if rule["category"] not in CATEGORIES:
        return f"category {_shown(rule['category'])} is not fit, engagement or negative"
    if rule["field"] not in FIELDS:
        return f"unknown field {_shown(rule['field'])}"
    if operator not in OPERATORS:
        return (
            f"unknown operator {_shown(operator)} "
            "(use equals, in, contains, between, gte or lt)"
        )
    if value is None:
        return "value is blank"
    if points is None or points != math.floor(points) or abs(points) > _POINTS_LIMIT:
        return f"points {_shown(points_text)} is not an integer between -10^9 and 10^9"
    if max_points_text is not None and (max_points is None or max_points < 0):
        return f"max_points {max_points_text} is not a number >= 0"
    if half_life_text is not None and (half_life is None or half_life <= 0):
        return f"decay_half_life_days {half_life_text} is not a number > 0"
    if half_life_text is not None and rule["field"] != ACTIVITY_FIELD:
        return "decay_half_life_days is only for activity_type rules"
    low, high = rule["range_low"], rule["range_high"]
    if operator == "between" and (
        separators != 1 or low is None or high is None or low > high
    ):
        return f"between value {value} is not lo|hi with numbers lo <= hi"
    if operator in ("gte", "lt") and to_number(value) is None:
        return f"value {value} is not a number, as {operator} needs"
    return None


class RuleFileError(ValueError):
    """The file cannot be read as a rule file (missing, or columns missing)."""


def read_rule_file(path: str | os.PathLike[str]) -> tuple[tuple[str, ...], list[ScoringRule]]:
    """The header and the parsed rows of a rule file (comma-separated, as
    dbt reads the seed); RuleFileError when it is missing or lacks columns."""
    path = Path(path)
    if not path.is_file():
        raise RuleFileError(f"scoring-rule file {path} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        missing = [column for column in COLUMNS if column not in header]
        if missing:
            raise RuleFileError(f"{path} lacks the columns {', '.join(missing)}")
        rows = [
            {key: value for key, value in row.items() if key is not None}
            for row in reader
        ]
    return header, parse_rules(rows)


def problems(rules: Iterable[ScoringRule]) -> list[str]:
    """One line per rule with a problem, as the build's message
    (int_scoring_rules_validated) names it, ordered by rule_id."""
    found = [rule for rule in rules if rule.problem]
    found.sort(key=lambda rule: (rule.rule_id is None, rule.rule_id or ""))
    return [
        f"rule {rule.rule_id or '(blank rule_id)'}: {rule.problem}" for rule in found
    ]
