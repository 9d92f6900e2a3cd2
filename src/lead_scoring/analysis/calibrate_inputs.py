"""Calibration inputs: the settings, the scoring-rule seed and the warehouse.

The shared constants and helpers of `lead_scoring.analysis.calibrate` (the
design is described there), its Settings, the seed as read (Rule, RuleFile,
read_rules) and what it reads from the marts of a built warehouse
(WarehouseData, read_warehouse, the query functions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lead_scoring.errors import CalibrationError, WarehouseError
from lead_scoring.rules import (
    COLUMNS,
    RuleFileError,
    ScoringRule,
    problems,
    read_rule_file,
)
from lead_scoring.warehouse.readers import Reader

DAY_SECONDS = 86_400.0
MONTH_DAYS = 30.4375
OUTCOMES = {
    "sql": ("sql", "opportunity", "customer"),
    "customer": ("customer",),
}
SEED_COLUMNS = COLUMNS
PROPOSED_RULES_FILE = "scoring_rules.csv"
REPORT_FILE = "calibration_report.md"
_TOP_SHARE = 0.10
# dim_leads columns that are rule fields with text values (rule discovery).
ATTRIBUTE_FIELDS = ("seniority", "industry", "country_code", "email_domain", "lead_source")

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


def _day(epoch: float) -> str:
    """An epoch second as YYYY-MM-DD (UTC)."""
    return np.datetime64(int(epoch), "s").astype("datetime64[D]").astype(str)


# ------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """How to calibrate; the defaults are the documented ones."""

    outcome: str = "sql"
    window_days: float = 90.0
    l2: float | None = None  # None: chosen by validation (L2_GRID)
    min_conversions: int = 100
    min_rule_leads: int = 30
    min_test_conversions: int = 30
    test_share: float = 0.3
    capacity_months: int = 6
    mql_score_threshold: float = 70.0
    mql_min_fit_score: float = 30.0
    sales_capacity_mqls_per_month: float = 100.0
    # vars of dbt_project.yml the review of a proposal checks against
    fast_track_activity_types: tuple[str, ...] = ("demo_request", "contact_request")
    lead_grade_fit_edges: tuple[float, ...] = (60.0, 40.0, 20.0)

    def problems(self) -> list[str]:
        """What is wrong with these settings, one line each."""
        found = []
        if self.outcome not in OUTCOMES:
            found.append(f"outcome {self.outcome!r} is not one of {sorted(OUTCOMES)}")
        positive = {
            "window_days": self.window_days,
            "min_conversions": self.min_conversions,
            "capacity_months": self.capacity_months,
            "sales_capacity_mqls_per_month": self.sales_capacity_mqls_per_month,
            "mql_score_threshold": self.mql_score_threshold,
        }
        for name, value in positive.items():
            if not value > 0:
                found.append(f"{name} must be > 0 (got {value})")
        if not (isinstance(self.min_rule_leads, int) and self.min_rule_leads >= 1):
            found.append(
                f"min_rule_leads (var calibrate_min_rule_leads) must be a whole "
                f"number >= 1 (got {self.min_rule_leads!r})"
            )
        if self.l2 is not None and not self.l2 >= 0:
            found.append(f"l2 must be >= 0 (got {self.l2})")
        if not 0 < self.test_share < 1:
            found.append(f"test_share must be between 0 and 1 (got {self.test_share})")
        return found


# ---------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One row of the scoring-rule seed: the text as written (`row`, which
    the proposal rewrites) and its values as the build reads them
    (`parsed`, lead_scoring.rules)."""

    parsed: ScoringRule

    @property
    def row(self) -> dict[str, str]:
        return {key: value or "" for key, value in self.parsed.row.items()}

    @property
    def rule_id(self) -> str:
        return self.parsed.rule_id or ""

    @property
    def category(self) -> str:
        return self.parsed.category or ""

    @property
    def is_active(self) -> bool:
        return bool(self.parsed.is_active)

    @property
    def is_activity_rule(self) -> bool:
        return self.parsed.is_activity_rule

    @property
    def points(self) -> int:
        return int(self.parsed.points or 0)

    @property
    def max_points(self) -> float | None:
        return self.parsed.max_points

    @property
    def half_life_days(self) -> float:
        """Half-life in days; infinity for no decay."""
        return self.parsed.decay_half_life_days or math.inf

    @property
    def unit(self) -> float:
        """Points of one fresh firing (1 for a rule worth 0 points)."""
        return float(abs(self.points)) or 1.0

    @property
    def cap_in_firings(self) -> float:
        """The cap as a number of fresh firings (infinity when uncapped)."""
        cap = self.max_points
        if cap is None or self.points == 0:
            return math.inf
        return cap / self.unit


@dataclass(frozen=True)
class RuleFile:
    """The seed as read: its header and rows in order."""

    header: tuple[str, ...]
    rules: tuple[Rule, ...]

    @property
    def active(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.is_active)


def read_rules(path: str | Path) -> RuleFile:
    """Read and check the scoring-rule seed as the build does
    (lead_scoring.rules); errors name the file and every problem."""
    path = Path(path)
    try:
        header, parsed = read_rule_file(path)
    except RuleFileError as exc:
        raise CalibrationError(
            str(exc),
            "pass --rules with the seed the warehouse was built with (default "
            "seeds/scoring_rules.csv of the project); the seed needs the "
            "columns of the contract (docs/contract.md, section 2)",
        ) from None
    found = problems(parsed)
    if found:
        raise CalibrationError(
            f"{path} has {len(found)} invalid active rule(s):\n  "
            + "\n  ".join(found),
            "fix them or set is_active to false (dbt build stops on the same "
            "rules), then build and calibrate",
        )
    return RuleFile(header, tuple(Rule(rule) for rule in parsed))


# ------------------------------------------------------------------ warehouse


@dataclass
class WarehouseData:
    """What calibration needs from the marts, as arrays (times in epoch seconds)."""

    as_of: float
    lead_ids: np.ndarray  # str, sorted
    created: np.ndarray  # float, nan when unknown
    converted: np.ndarray  # float, first conversion time, nan when none
    fire_rule: np.ndarray  # per ledger row: index into the active rules
    fire_lead: np.ndarray  # per ledger row: index into lead_ids
    fire_time: np.ndarray  # per ledger row: occurred_at, nan for attribute rules
    disqualified: np.ndarray  # float, first disqualification time, nan when none
    # fct_activities: every valid activity, scored or not, per lead in the
    # contract's order (occurred_at, activity_id)
    act_lead: np.ndarray  # per activity: index into lead_ids
    act_time: np.ndarray  # per activity: occurred_at
    act_type: np.ndarray  # per activity: index into activity_types
    activity_types: np.ndarray  # str, sorted: the normalised types seen
    known_types: np.ndarray  # per activity type: in seeds/activity_types.csv
    # dim_leads text attributes a rule may name, per lead: lower-cased and
    # trimmed as the rules compare them, "" when missing
    attributes: dict[str, np.ndarray]
    # rpt_threshold_backtest: MQLs per threshold and month (YYYY-MM-01)
    backtest: dict[float, dict[str, int]]


Query = Callable[[str], dict[str, np.ndarray]]


def duckdb_query(path: str | Path | None) -> Query:
    """A query function over a DuckDB warehouse file (read-only)."""
    from lead_scoring.warehouse.readers import open_reader

    return warehouse_query(open_reader("duckdb", path))


def warehouse_query(reader: Reader) -> Query:
    """A query function over a warehouse reader (lead_scoring.warehouse.readers):
    DuckDB or PostgreSQL, read-only."""
    def run(sql: str) -> dict[str, np.ndarray]:
        try:
            return reader.columns(sql)
        except WarehouseError as exc:
            raise CalibrationError(
                f"{exc} (calibrate reads dim_leads, fct_score_ledger, "
                "fct_activities, fct_lifecycle_transitions and "
                "rpt_threshold_backtest)",
                exc.hint,
            ) from None

    return run


def _epoch(column: str) -> str:
    """SQL for a timestamp column in epoch seconds (portable enough: standard SQL)."""
    return f"extract(epoch from {column})"


def _as_float(values: np.ndarray) -> np.ndarray:
    """A (possibly masked) numeric array as floats with nan for nulls."""
    if isinstance(values, np.ma.MaskedArray):
        return values.astype(float).filled(np.nan)
    return np.asarray(values, dtype=float)


def _as_text(values: np.ndarray) -> np.ndarray:
    """A (possibly masked) text array as str objects."""
    if isinstance(values, np.ma.MaskedArray):
        values = values.filled("")
    return np.asarray(values, dtype=object).astype(str)


def read_warehouse(
    query: Query, schema: str, rules: RuleFile, outcome: str
) -> WarehouseData:
    """Read leads, outcomes and the ledger; check the ledger matches the seed."""
    relation = f'"{schema}"'
    attribute_sql = "".join(
        f", coalesce(lower(trim({field})), '') as {field}" for field in ATTRIBUTE_FIELDS
    )
    leads = query(
        f"select lead_id, {_epoch('created_at')} as created, "
        f"{_epoch('scores_as_of')} as as_of{attribute_sql} "
        f"from {relation}.dim_leads order by lead_id"
    )
    if len(leads["lead_id"]) == 0:
        raise CalibrationError(
            f"{schema}.dim_leads is empty", "load raw data and run dbt build first"
        )
    lead_ids = _as_text(leads["lead_id"])
    as_of = float(_as_float(leads["as_of"])[0])
    stages = ", ".join(f"'{stage}'" for stage in OUTCOMES[outcome])
    converted = _per_lead(lead_ids, query(
        f"select lead_id, min({_epoch('transitioned_at')}) as at "
        f"from {relation}.fct_lifecycle_transitions where to_stage in ({stages}) "
        "group by lead_id"
    ))
    disqualified = _per_lead(lead_ids, query(
        f"select lead_id, min({_epoch('transitioned_at')}) as at "
        f"from {relation}.fct_lifecycle_transitions "
        "where to_stage = 'disqualified' group by lead_id"
    ))

    ledger = query(
        f"select lead_id, rule_id, points, {_epoch('occurred_at')} as occurred "
        f"from {relation}.fct_score_ledger"
    )
    _check_ledger_matches(rules, ledger)
    active = {rule.rule_id: index for index, rule in enumerate(rules.active)}
    rule_ids = _as_text(ledger["rule_id"])
    fire_rule = np.array([active[rule_id] for rule_id in rule_ids], dtype=np.int64)
    fire_lead = np.searchsorted(lead_ids, _as_text(ledger["lead_id"]))
    fire_lead = np.minimum(fire_lead, len(lead_ids) - 1)
    live = lead_ids[fire_lead] == _as_text(ledger["lead_id"])

    activities = query(
        "select lead_id, activity_id, "
        "coalesce(lower(trim(activity_type)), '') as activity_type, "
        "case when is_known_type then 1 else 0 end as is_known_type, "
        f"{_epoch('occurred_at')} as occurred from {relation}.fct_activities"
    )
    act_leads = _as_text(activities["lead_id"])
    act_lead = np.minimum(np.searchsorted(lead_ids, act_leads), len(lead_ids) - 1)
    act_live = lead_ids[act_lead] == act_leads
    activity_types, first_of_type, act_type = np.unique(
        _as_text(activities["activity_type"])[act_live],
        return_index=True, return_inverse=True,
    )
    known = _as_float(activities["is_known_type"])[act_live][first_of_type] == 1
    act_lead, act_time = act_lead[act_live], _as_float(activities["occurred"])[act_live]
    # the contract's order: (occurred_at, activity_id) within each lead
    act_order = np.lexsort(
        (_as_text(activities["activity_id"])[act_live], act_time, act_lead)
    )

    rows = query(
        "select mql_score_threshold, cast(mql_month as varchar(10)) as mql_month, "
        f"mqls from {relation}.rpt_threshold_backtest"
    )
    backtest: dict[float, dict[str, int]] = {}
    for threshold, month, mqls in zip(
        _as_float(rows["mql_score_threshold"]), _as_text(rows["mql_month"]),
        _as_float(rows["mqls"]),
    ):
        backtest.setdefault(float(threshold), {})[month] = int(mqls)
    return WarehouseData(
        as_of=as_of,
        lead_ids=lead_ids,
        created=_as_float(leads["created"]),
        converted=converted,
        fire_rule=fire_rule[live],
        fire_lead=fire_lead[live],
        fire_time=_as_float(ledger["occurred"])[live],
        disqualified=disqualified,
        act_lead=act_lead[act_order],
        act_time=act_time[act_order],
        act_type=act_type.reshape(-1)[act_order].astype(np.int64),
        activity_types=activity_types,
        known_types=known,
        attributes={field: _as_text(leads[field]) for field in ATTRIBUTE_FIELDS},
        backtest=backtest,
    )


def _per_lead(lead_ids: np.ndarray, rows: dict[str, np.ndarray]) -> np.ndarray:
    """The `at` column of rows keyed by lead_id, per lead (nan for none)."""
    values = np.full(len(lead_ids), np.nan)
    keys = _as_text(rows["lead_id"])
    where = np.minimum(np.searchsorted(lead_ids, keys), len(lead_ids) - 1)
    known = lead_ids[where] == keys
    values[where[known]] = _as_float(rows["at"])[known]
    return values


def _check_ledger_matches(rules: RuleFile, ledger: dict[str, np.ndarray]) -> None:
    """The warehouse must have been built with this seed."""
    active = {rule.rule_id: rule for rule in rules.active}
    rule_ids = _as_text(ledger["rule_id"])
    points = _as_float(ledger["points"])
    seen: dict[str, float] = {}
    for rule_id, value in zip(rule_ids, points):
        seen.setdefault(rule_id, value)
    unknown = sorted(set(seen) - set(active))
    changed = sorted(
        rule_id
        for rule_id, value in seen.items()
        if rule_id in active and active[rule_id].points != value
    )
    if unknown or changed:
        details = [f"{rule_id} is not an active rule of the file" for rule_id in unknown]
        details += [
            f"{rule_id}: {active[rule_id].points} points in the file, "
            f"{seen[rule_id]:g} in fct_score_ledger"
            for rule_id in changed
        ]
        raise CalibrationError(
            "the scoring-rule file differs from the one the warehouse was built "
            "with: " + "; ".join(details[:5]) + (" ..." if len(details) > 5 else ""),
            "run dbt build with this seed first, or pass --rules with the seed "
            "the warehouse was built with",
        )
