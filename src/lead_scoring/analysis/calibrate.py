"""Propose new points for the scoring rules from what sales actually closed.

`lead-scoring calibrate` reads the score ledger and the lifecycle outcomes of a
built warehouse, fits a regularised logistic model of conversion on the rule
firings, checks it on held-out data and writes a proposed `scoring_rules.csv`
(same columns and rule order as the live seed) plus a report. It never writes
the live seed: the user reviews the diff and commits it.

Design (the report repeats the figures of each run)
---------------------------------------------------
- Population and label. Every live lead gets the same observation horizon:
  the leads created at least `window_days` before as_of; the label is whether
  the lead converted (reached SQL, or became a customer with
  `--outcome customer`) within `window_days` of its creation.
- Cut-off. A lead's features are taken just before it converted, or at the end
  of its horizon when it did not: what the score knew when sales decided.
- Features, one per active rule, in "firings" (fresh, uncapped firings of the
  rule): an attribute rule is 1 when it matches the lead (its current
  attributes, as the scores use them); an activity rule is the lead's points
  from it at the cut-off (firings up to then, decayed to it, clipped to
  +-max_points), divided by |points|. So `points x feature` summed over the rules
  is the engine's lead_score at the cut-off (ignoring resets, which depend on
  sales' reactions).
- Split. Time-based when the dates allow: held out are the latest-created
  `test_share` of the leads. Otherwise (too few held-out conversions) a
  deterministic split by a hash of lead_id.
- Model. Logistic regression on standardised features with an L2 penalty
  (`l2`, on the summed log-likelihood; the intercept is not penalised), fitted
  by damped Newton steps. Rules that fired for fewer than `min_rule_leads`
  training leads keep their points: there is no evidence to move them.
- Points. A rule's proposed points are k x its coefficient (log-odds per
  firing), rounded to integers, with one k for all rules chosen so that as many
  training leads reach `mql_score_threshold` as under the current rules: the
  threshold keeps its meaning and MQL volume stays where sales sized it. Caps
  keep the same number of firings (max_points scaled with the points).
- Guard rails. Fewer than `min_conversions` converted training leads: refused
  with the numbers. A proposed sign that differs from the current one is called
  out. The same warehouse and settings always give the same proposal.
- Capacity. For var `sales_capacity_mqls_per_month`, the proposed threshold is
  the lowest score at which, with the proposed points and the minimum fit, no
  more leads a month newly reach it (measured at 30-day snapshots over the
  last `capacity_months` months) than sales can work.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lead_scoring.errors import CalibrationError, WarehouseError
from lead_scoring.warehouse.readers import Reader

DAY_SECONDS = 86_400.0
MONTH_DAYS = 30.4375
OUTCOMES = {
    "sql": ("sql", "opportunity", "customer"),
    "customer": ("customer",),
}
SEED_COLUMNS = (
    "rule_id",
    "category",
    "field",
    "operator",
    "value",
    "points",
    "max_points",
    "decay_half_life_days",
    "is_active",
)
PROPOSED_RULES_FILE = "scoring_rules.csv"
REPORT_FILE = "calibration_report.md"
_TOP_SHARE = 0.10

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


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
        if self.l2 is not None and not self.l2 >= 0:
            found.append(f"l2 must be >= 0 (got {self.l2})")
        if not 0 < self.test_share < 1:
            found.append(f"test_share must be between 0 and 1 (got {self.test_share})")
        return found


# ---------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One row of the scoring-rule seed, as written in the file."""

    row: dict[str, str]

    @property
    def rule_id(self) -> str:
        return self.row["rule_id"].strip()

    @property
    def category(self) -> str:
        return self.row["category"].strip().lower()

    @property
    def is_active(self) -> bool:
        return self.row["is_active"].strip().lower() in ("true", "t", "1", "yes", "y")

    @property
    def is_activity_rule(self) -> bool:
        return self.row["field"].strip().lower() == "activity_type"

    @property
    def points(self) -> int:
        return int(float(self.row["points"]))

    @property
    def max_points(self) -> float | None:
        text = self.row["max_points"].strip()
        return float(text) if text else None

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
    """Read the scoring-rule seed; errors name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(
            f"scoring-rule file {path} does not exist",
            "pass --rules with the seed the warehouse was built with "
            "(default seeds/scoring_rules.csv of the project)",
        )
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        missing = [column for column in SEED_COLUMNS if column not in header]
        if missing:
            raise CalibrationError(
                f"{path} lacks the columns {', '.join(missing)}",
                "the seed needs the columns of the contract (docs/contract.md, section 2)",
            )
        rules = tuple(
            Rule({key: (value or "") for key, value in row.items() if key})
            for row in reader
        )
    for rule in rules:
        if rule.is_active:
            try:
                rule.points  # noqa: B018 - validates the number
            except ValueError:
                raise CalibrationError(
                    f"rule {rule.rule_id}: points {rule.row['points']!r} is not a number",
                    "fix the seed and run dbt build before calibrating",
                ) from None
    return RuleFile(header, rules)


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
    mql_events_per_month: float = 0.0


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
                "fct_lifecycle_transitions and fct_mql_events)",
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
    leads = query(
        f"select lead_id, {_epoch('created_at')} as created, "
        f"{_epoch('scores_as_of')} as as_of "
        f"from {relation}.dim_leads order by lead_id"
    )
    if len(leads["lead_id"]) == 0:
        raise CalibrationError(
            f"{schema}.dim_leads is empty", "load raw data and run dbt build first"
        )
    lead_ids = _as_text(leads["lead_id"])
    as_of = float(_as_float(leads["as_of"])[0])
    stages = ", ".join(f"'{stage}'" for stage in OUTCOMES[outcome])
    firsts = query(
        f"select lead_id, min({_epoch('transitioned_at')}) as converted "
        f"from {relation}.fct_lifecycle_transitions where to_stage in ({stages}) "
        "group by lead_id"
    )
    converted = np.full(len(lead_ids), np.nan)
    where = np.searchsorted(lead_ids, _as_text(firsts["lead_id"]))
    known = (where < len(lead_ids)) & (
        lead_ids[np.minimum(where, len(lead_ids) - 1)] == _as_text(firsts["lead_id"])
    )
    converted[where[known]] = _as_float(firsts["converted"])[known]

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

    events = query(f"select count(*) as events from {relation}.fct_mql_events")
    span_days = _span_days(leads, as_of)
    return WarehouseData(
        as_of=as_of,
        lead_ids=lead_ids,
        created=_as_float(leads["created"]),
        converted=converted,
        fire_rule=fire_rule[live],
        fire_lead=fire_lead[live],
        fire_time=_as_float(ledger["occurred"])[live],
        mql_events_per_month=float(events["events"][0])
        / max(span_days, 1.0)
        * MONTH_DAYS,
    )


def _span_days(leads: dict[str, np.ndarray], as_of: float) -> float:
    """Days from the first lead to as_of."""
    created = _as_float(leads["created"])
    if np.all(np.isnan(created)):
        return 0.0
    return (as_of - float(np.nanmin(created))) / DAY_SECONDS


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


# ------------------------------------------------------------------- features


def features_at(
    data: WarehouseData, rules: RuleFile, cutoff: float | np.ndarray
) -> np.ndarray:
    """Leads x active rules: each rule's points at the cut-off in fresh firings.

    `cutoff` is one instant or one per lead. Firings up to the cut-off, decayed
    to it, summed per lead and rule, then capped at the rule's cap in firings;
    an attribute rule counts once. So points x feature is exactly the rule's
    clipped points at the cut-off.
    """
    active = rules.active
    count, width = len(data.lead_ids), len(active)
    half_life = np.array([_half_life(rule) for rule in active])
    cap = np.array([rule.cap_in_firings for rule in active])
    lead_cutoff = np.broadcast_to(np.asarray(cutoff, dtype=float), (count,))
    fire_cutoff = lead_cutoff[data.fire_lead]
    is_attribute = np.isnan(data.fire_time)
    happened = is_attribute | (data.fire_time <= fire_cutoff)
    rule = data.fire_rule[happened]
    age_days = np.where(
        is_attribute[happened],
        0.0,
        (fire_cutoff[happened] - data.fire_time[happened]) / DAY_SECONDS,
    )
    decayed = np.power(0.5, age_days / half_life[rule])
    sums = np.bincount(
        data.fire_lead[happened] * width + rule,
        weights=decayed,
        minlength=count * width,
    ).reshape(count, width)
    attribute = np.array([not rule.is_activity_rule for rule in active], dtype=bool)
    sums[:, attribute] = np.minimum(sums[:, attribute], 1.0)
    return np.minimum(sums, cap)


def _half_life(rule: Rule) -> float:
    """Half-life in days; infinity for no decay."""
    text = rule.row.get("decay_half_life_days", "").strip()
    return float(text) if text and rule.is_activity_rule else math.inf


@dataclass
class Design:
    """One row per eligible lead: features at its cut-off and its label."""

    lead: np.ndarray  # index into WarehouseData.lead_ids
    x: np.ndarray
    y: np.ndarray


def build_design(data: WarehouseData, rules: RuleFile, settings: Settings) -> Design:
    """Eligible leads (a full horizon before as_of), their features and labels."""
    window = settings.window_days * DAY_SECONDS
    horizon_end = data.created + window
    eligible = np.flatnonzero(horizon_end <= data.as_of)
    if len(eligible) == 0:
        raise CalibrationError(
            f"no lead was created at least {settings.window_days:g} days before "
            f"as_of ({_day(data.as_of)}), so no outcome can be judged",
            "lower --window-days, or calibrate once more history is loaded",
        )
    converted = data.converted <= horizon_end
    cutoff = np.where(converted, data.converted - 1.0, horizon_end)
    # Non-converted leads are looked at after as long as converted ones were
    # (a hash-chosen quantile of the converted leads' times to convert), so
    # time alone (more e-mails opened in 90 days than in 3) does not count.
    waits = np.sort((cutoff - data.created)[eligible][converted[eligible]])
    if len(waits):
        quantile = lead_hash_share(data.lead_ids)
        matched = data.created + np.quantile(waits, quantile, method="inverted_cdf")
        cutoff = np.where(converted, cutoff, matched)
    x = features_at(data, rules, cutoff)[eligible]
    return Design(lead=eligible, x=x, y=converted[eligible].astype(float))


# ---------------------------------------------------------------------- split


@dataclass
class Split:
    """Which design rows train the model and which are held out, and why."""

    train: np.ndarray
    test: np.ndarray
    method: str


def lead_hash_share(lead_ids: np.ndarray) -> np.ndarray:
    """A stable number in [0, 1) per lead id (md5 of the id)."""
    return np.array(
        [
            int.from_bytes(hashlib.md5(lead_id.encode("utf-8")).digest()[:8], "big")
            / 2.0**64
            for lead_id in lead_ids
        ]
    )


def split_design(design: Design, data: WarehouseData, settings: Settings) -> Split:
    """Latest-created leads held out when that gives enough conversions, else a hash split."""
    created = data.created[design.lead]
    order = np.lexsort((data.lead_ids[design.lead], created))
    held = int(round(settings.test_share * len(order)))
    test = np.zeros(len(order), dtype=bool)
    test[order[len(order) - held :]] = True
    if held and (~test).any() and design.y[test].sum() >= settings.min_test_conversions:
        first = float(created[order[len(order) - held]])
        return Split(
            ~test,
            test,
            f"time-based: held out the {held:,} leads created from {_day(first)} "
            f"on (the latest {settings.test_share:.0%})",
        )
    test = lead_hash_share(data.lead_ids[design.lead]) < settings.test_share
    return Split(
        ~test,
        test,
        f"hash split: {settings.test_share:.0%} of the leads held out by md5 of "
        "lead_id (the latest-created leads hold fewer than "
        f"{settings.min_test_conversions} conversions)",
    )


# ---------------------------------------------------------------------- model


@dataclass
class Fit:
    """A fitted logistic model on the raw feature scale."""

    intercept: float
    coef: np.ndarray  # log-odds per firing
    coef_std: np.ndarray  # log-odds per standard deviation of the feature
    iterations: int
    se: np.ndarray  # standard error of coef (from the penalised Hessian)
    l2: float = 0.0


def _penalised_loss(
    design: np.ndarray, y: np.ndarray, beta: np.ndarray, penalty: np.ndarray
) -> float:
    """Negative log-likelihood plus the L2 penalty (numerically stable)."""
    eta = design @ beta
    return float(
        np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(penalty * beta**2)
    )


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> Fit:
    """L2-regularised logistic regression by damped Newton steps (deterministic)."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    usable = std > 0
    z = np.zeros_like(x)
    z[:, usable] = (x[:, usable] - mean[usable]) / std[usable]
    design = np.column_stack([np.ones(len(z)), z])
    penalty = np.full(design.shape[1], max(l2, 1e-6))
    penalty[0] = 0.0
    beta = np.zeros(design.shape[1])
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    beta[0] = math.log(rate / (1 - rate))
    loss = _penalised_loss(design, y, beta, penalty)
    iterations = 0
    for iterations in range(1, 201):
        prob = 0.5 * (1.0 + np.tanh(0.5 * (design @ beta)))
        gradient = design.T @ (prob - y) + penalty * beta
        weight = prob * (1 - prob) + 1e-12
        hessian = design.T @ (design * weight[:, None]) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while True:
            candidate = beta - size * step
            candidate_loss = _penalised_loss(design, y, candidate, penalty)
            if candidate_loss <= loss or size < 1e-8:
                break
            size /= 2.0
        converged = loss - candidate_loss < 1e-12 * max(1.0, abs(loss))
        beta, loss = candidate, min(candidate_loss, loss)
        if converged or np.max(np.abs(size * step)) < 1e-10:
            break
    prob = 0.5 * (1.0 + np.tanh(0.5 * (design @ beta)))
    weight = prob * (1 - prob) + 1e-12
    hessian = design.T @ (design * weight[:, None]) + np.diag(penalty)
    se_std = np.sqrt(np.clip(np.diag(np.linalg.inv(hessian))[1:], 0.0, None))
    coef_std = np.where(usable, beta[1:], 0.0)
    coef = np.zeros(x.shape[1])
    se = np.zeros(x.shape[1])
    coef[usable] = coef_std[usable] / std[usable]
    se[usable] = se_std[usable] / std[usable]
    intercept = beta[0] - float(np.sum(coef[usable] * mean[usable]))
    return Fit(intercept, coef, coef_std, iterations, se, l2)


L2_GRID = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)


def choose_l2(
    x: np.ndarray, y: np.ndarray, created: np.ndarray, lead_ids: np.ndarray
) -> tuple[float, dict[float, float]]:
    """The L2 penalty with the best AUC on the latest quarter of the training leads.

    Fitted on the earlier three quarters; ties go to the larger penalty (the
    simpler model). Falls back to 1 when the validation part has one class.
    """
    order = np.lexsort((lead_ids, created))
    cut = len(order) - len(order) // 4
    early, late = order[:cut], order[cut:]
    scores: dict[float, float] = {}
    if len(late) == 0 or y[late].min() == y[late].max() or y[early].min() == y[early].max():
        return 1.0, scores
    for l2 in L2_GRID:
        fit = fit_logistic(x[early], y[early], l2)
        scores[l2] = auc(x[late] @ fit.coef, y[late])
    best = max(scores.values())
    chosen = max(l2 for l2, value in scores.items() if value >= best - 1e-12)
    return chosen, scores


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve by ranks (ties count one half); nan if one class."""
    positives = labels > 0.5
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def top_share_lift(scores: np.ndarray, labels: np.ndarray, share: float) -> float:
    """Conversion rate of the top `share` by score over the overall rate."""
    overall = labels.mean() if len(labels) else 0.0
    if overall == 0:
        return math.nan
    take = max(1, math.ceil(share * len(scores)))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return float(labels[order[:take]].mean() / overall)


# ------------------------------------------------------------------- proposal


@dataclass
class RuleResult:
    """The verdict on one active rule."""

    rule: Rule
    proposed_points: int
    proposed_max_points: float | None
    coef: float
    coef_std: float
    se: float
    train_leads: int
    fitted: bool
    notes: list[str] = field(default_factory=list)

    @property
    def interval(self) -> tuple[float, float]:
        """95% interval of the log-odds per firing."""
        return (self.coef - 1.96 * self.se, self.coef + 1.96 * self.se)

    @property
    def is_clear(self) -> bool:
        """Whether the 95% interval excludes zero."""
        low, high = self.interval
        return low > 0 or high < 0

    @property
    def sign_flipped(self) -> bool:
        current = self.rule.points
        return (
            self.fitted
            and self.proposed_points != 0
            and current != 0
            and (self.proposed_points > 0) != (current > 0)
        )


@dataclass
class Evaluation:
    """Held-out performance of one set of points."""

    auc: float
    lift_top: float
    at_threshold: int
    converted_at_threshold: int


@dataclass
class Calibration:
    """Everything a calibration run found."""

    settings: Settings
    as_of: float
    split: Split
    leads_train: int
    leads_test: int
    conversions_train: int
    conversions_test: int
    fit: Fit
    l2_scores: dict[float, float]
    scale: float
    scale_reason: str
    results: list[RuleResult]
    current: Evaluation
    proposed: Evaluation
    current_rate_at_threshold: float
    proposed_threshold: int | None
    proposed_min_fit: int
    proposed_rate_at_threshold: float
    mql_events_per_month: float
    rules: RuleFile

    def ranked(self) -> list[RuleResult]:
        """Fitted rules by standardised effect, strongest positive first."""
        fitted = [result for result in self.results if result.fitted]
        return sorted(fitted, key=lambda result: (-result.coef_std, result.rule.rule_id))


def _choose_scale(
    x: np.ndarray,
    coef: np.ndarray,
    fitted: np.ndarray,
    current_points: np.ndarray,
    threshold: float,
    converted: int,
) -> tuple[float, str]:
    """One multiplier for all coefficients: as many leads reach the threshold.

    As many as under the current rules, or as many as converted when no lead
    reaches it under the current rules.
    """
    current = x @ current_points
    target = int((np.round(current, 6) >= threshold).sum())
    matched_current = target > 0
    if target == 0:
        # no lead reaches the threshold today: let as many reach it as converted
        target = max(1, converted)
    kept = x[:, ~fitted] @ current_points[~fitted]
    learned = x[:, fitted] @ coef[fitted]
    best_scale, best_gap, best_reached = 1.0, math.inf, 0
    for scale in np.geomspace(1e-2, 1e4, 3001):
        reached = int((np.round(kept + scale * learned, 6) >= threshold).sum())
        gap = abs(reached - target)
        if gap < best_gap:
            best_scale, best_gap, best_reached = float(scale), gap, reached
    if best_reached == 0 and learned.std() > 0:
        # No lead can reach the threshold (every fitted rule lowers the odds
        # against leads no rule fires for): keep the current points' spread.
        return float(current.std() / learned.std()), (
            "no lead can reach the threshold with any positive scale (the fitted "
            "rules lower the odds against leads none of them fires for), so the "
            "points keep the spread of the current scores"
        )
    return best_scale, (
        f"so that as many training leads reach the threshold {threshold:g} as "
        + ("under the current rules" if matched_current else "converted (none "
           "reaches it under the current rules)")
    )


def _scaled_cap(rule: Rule, points: int) -> float | None:
    """The rule's cap with the same number of firings at the new points."""
    if rule.max_points is None:
        return None
    if rule.points == 0:
        return rule.max_points
    return round(rule.cap_in_firings * abs(points), 2)


def _evaluate(
    x: np.ndarray, y: np.ndarray, points: np.ndarray, threshold: float
) -> Evaluation:
    """AUC, top-decile lift and the rows at or above the threshold."""
    scores = np.round(x @ points, 6)
    above = scores >= threshold
    return Evaluation(
        auc=auc(scores, y),
        lift_top=top_share_lift(scores, y, _TOP_SHARE),
        at_threshold=int(above.sum()),
        converted_at_threshold=int(y[above].sum()),
    )


def _matching_min_fit(
    fit_x: np.ndarray,
    current_points: np.ndarray,
    proposed_points: np.ndarray,
    min_fit: float,
) -> int:
    """The minimum fit under the proposed points that as many leads pass as now."""
    passing = int((np.round(fit_x @ current_points, 6) >= min_fit).sum())
    proposed = np.round(fit_x @ proposed_points, 6)
    if min_fit <= 0 or passing >= len(proposed):
        return int(min(min_fit, 0))
    # the smallest integer gate that lets at most as many leads through
    ordered = np.sort(proposed)[::-1]
    if passing == 0:
        return int(math.floor(ordered[0])) + 1
    gate = math.floor(ordered[passing - 1])
    while (proposed >= gate).sum() > passing:
        gate += 1
    return int(gate)


def _monthly_new_qualifiers(
    data: WarehouseData,
    rules: RuleFile,
    settings: Settings,
    points: np.ndarray,
    thresholds: np.ndarray,
    min_fit: float,
) -> np.ndarray:
    """Leads a month newly at or above each threshold (with the minimum fit)."""
    step = 30.0 * DAY_SECONDS
    # the last months with data: a warehouse evaluated long after its last
    # lead (a historical data set) would otherwise measure empty months
    latest = np.nanmax(np.concatenate([data.created, data.fire_time, [-np.inf]]))
    end = min(data.as_of, latest) if np.isfinite(latest) else data.as_of
    cutoffs = [end - k * step for k in range(settings.capacity_months + 1)]
    cutoffs = sorted(cutoff for cutoff in cutoffs if cutoff > np.nanmin(data.created))
    if len(cutoffs) < 2:
        return np.full(len(thresholds), math.nan)
    is_fit = np.array([rule.category == "fit" for rule in rules.active])
    before = None
    counts = np.zeros(len(thresholds))
    for cutoff in cutoffs:
        x = features_at(data, rules, cutoff)
        present = data.created <= cutoff
        score = np.round(x @ points, 6)
        fit_ok = np.round(x[:, is_fit] @ points[is_fit], 6) >= min_fit
        qualifies = (
            present[:, None] & fit_ok[:, None] & (score[:, None] >= thresholds[None, :])
        )
        if before is not None:
            counts += (qualifies & ~before).sum(axis=0)
        before = qualifies
    months = (cutoffs[-1] - cutoffs[0]) / DAY_SECONDS / MONTH_DAYS
    return counts / months


def calibrate(
    query: Query,
    schema: str,
    rules: RuleFile,
    settings: Settings,
    progress: Progress = _quiet,
) -> Calibration:
    """Fit, validate and propose; raises CalibrationError on too little evidence."""
    problems = settings.problems()
    if problems:
        raise CalibrationError("; ".join(problems), "fix the calibrate options")
    progress("calibrate: reading leads, outcomes and the score ledger")
    data = read_warehouse(query, schema, rules, settings.outcome)
    design = build_design(data, rules, settings)
    split = split_design(design, data, settings)
    x_train, y_train = design.x[split.train], design.y[split.train]
    converted_train = int(y_train.sum())
    outcome_text = " or ".join(OUTCOMES[settings.outcome])
    if converted_train < settings.min_conversions:
        raise CalibrationError(
            f"too few outcomes to calibrate: {converted_train} of "
            f"{len(y_train)} training leads reached {outcome_text} within "
            f"{settings.window_days:g} days of their creation "
            f"({int(design.y.sum())} of {len(design.y)} leads with a full "
            f"horizon in all); at least {settings.min_conversions} are needed",
            "wait for more outcomes, widen --window-days, use --outcome sql, or "
            "lower --min-conversions knowingly (estimates get noisy)",
        )
    active = rules.active
    current_points = np.array([rule.points for rule in active], dtype=float)
    leads_fired = (x_train != 0).sum(axis=0)
    fitted = leads_fired >= settings.min_rule_leads
    progress(
        f"calibrate: fitting {int(fitted.sum())} rules on {len(x_train):,} leads "
        f"({converted_train:,} converted)"
    )
    fit_x = x_train[:, fitted]
    l2, l2_scores = settings.l2, {}
    if l2 is None:
        l2, l2_scores = choose_l2(
            fit_x,
            y_train,
            data.created[design.lead[split.train]],
            data.lead_ids[design.lead[split.train]],
        )
    model = fit_logistic(fit_x, y_train, l2)
    se = np.zeros(len(active))
    se[fitted] = model.se
    coef = np.zeros(len(active))
    coef_std = np.zeros(len(active))
    coef[fitted] = model.coef
    coef_std[fitted] = model.coef_std
    scale, scale_reason = _choose_scale(
        x_train, coef, fitted, current_points, settings.mql_score_threshold,
        converted_train,
    )
    results = []
    for index, rule in enumerate(active):
        if fitted[index]:
            points = int(np.round(scale * coef[index]))
            notes = []
        else:
            points = rule.points
            notes = [
                f"fired for {leads_fired[index]} training leads "
                f"(< {settings.min_rule_leads}): points kept"
            ]
        result = RuleResult(
            rule=rule,
            proposed_points=points,
            proposed_max_points=_scaled_cap(rule, points),
            coef=float(coef[index]),
            coef_std=float(coef_std[index]),
            se=float(se[index]),
            train_leads=int(leads_fired[index]),
            fitted=bool(fitted[index]),
            notes=notes,
        )
        if result.sign_flipped:
            evidence = (
                "the 95% interval excludes 0"
                if result.is_clear
                else "weak evidence: the 95% interval includes 0"
            )
            result.notes.append(
                f"sign flips: {rule.points:+d} -> {points:+d} ({evidence})"
            )
        elif result.fitted and points == 0 and rule.points != 0:
            result.notes.append("no measurable effect: 0 points proposed")
        results.append(result)
    proposed_points = np.array([result.proposed_points for result in results], float)
    x_test, y_test = design.x[split.test], design.y[split.test]
    current_eval = _evaluate(x_test, y_test, current_points, settings.mql_score_threshold)
    proposed_eval = _evaluate(x_test, y_test, proposed_points, settings.mql_score_threshold)

    progress("calibrate: estimating monthly MQL volume per threshold")
    is_fit = np.array([rule.category == "fit" for rule in active])
    proposed_min_fit = _matching_min_fit(
        x_train[:, is_fit], current_points[is_fit], proposed_points[is_fit],
        settings.mql_min_fit_score,
    )
    candidates = np.arange(1, 1001, dtype=float)
    proposed_rates = _monthly_new_qualifiers(
        data, rules, settings, proposed_points, candidates, proposed_min_fit
    )
    current_rate = _monthly_new_qualifiers(
        data, rules, settings, current_points,
        np.array([settings.mql_score_threshold]), settings.mql_min_fit_score,
    )[0]
    within = np.flatnonzero(proposed_rates <= settings.sales_capacity_mqls_per_month)
    proposed_threshold = int(candidates[within[0]]) if len(within) else None
    proposed_rate = (
        float(proposed_rates[within[0]]) if len(within) else math.nan
    )
    return Calibration(
        settings=settings,
        as_of=data.as_of,
        split=split,
        leads_train=len(y_train),
        leads_test=int(split.test.sum()),
        conversions_train=converted_train,
        conversions_test=int(design.y[split.test].sum()),
        fit=model,
        l2_scores=l2_scores,
        scale=scale,
        scale_reason=scale_reason,
        results=results,
        current=current_eval,
        proposed=proposed_eval,
        current_rate_at_threshold=float(current_rate),
        proposed_threshold=proposed_threshold,
        proposed_min_fit=proposed_min_fit,
        proposed_rate_at_threshold=proposed_rate,
        mql_events_per_month=data.mql_events_per_month,
        rules=rules,
    )


# -------------------------------------------------------------------- outputs


def _number_text(value: float | None) -> str:
    """A seed number: blank for none, no trailing zeros."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def proposed_seed(calibration: Calibration) -> str:
    """The proposed seed as CSV text: same columns and rows, new points."""
    by_id = {result.rule.rule_id: result for result in calibration.results}
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(calibration.rules.header), lineterminator="\n"
    )
    writer.writeheader()
    for rule in calibration.rules.rules:
        row = dict(rule.row)
        result = by_id.get(rule.rule_id) if rule.is_active else None
        if result is not None and result.fitted:
            row["points"] = str(result.proposed_points)
            row["max_points"] = _number_text(result.proposed_max_points)
        writer.writerow(row)
    return out.getvalue()


def _day(epoch: float) -> str:
    """An epoch second as YYYY-MM-DD (UTC)."""
    return np.datetime64(int(epoch), "s").astype("datetime64[D]").astype(str)


def _fmt(value: float, digits: int = 3) -> str:
    """A number for the report; n/a for nan."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _l2_text(calibration: Calibration) -> str:
    """How the penalty was chosen."""
    if not calibration.l2_scores:
        return "as given" if calibration.settings.l2 is not None else "default"
    tried = ", ".join(
        f"{l2:g}: {_fmt(value)}" for l2, value in calibration.l2_scores.items()
    )
    return f"chosen by AUC on the latest quarter of the training leads: {tried}"


def report(
    calibration: Calibration,
    rules_path: str | Path = "seeds/scoring_rules.csv",
    proposed_path: str | Path = f"calibration/{PROPOSED_RULES_FILE}",
) -> str:
    """The Markdown report of a calibration run."""
    c = calibration
    s = c.settings
    outcome_text = " or ".join(OUTCOMES[s.outcome])
    lines = [
        "# Scoring calibration report",
        "",
        f"- Scores as of {np.datetime64(int(c.as_of), 's')} (UTC). Outcome: the "
        f"lead reached {outcome_text} within {s.window_days:g} days of its "
        "creation; features are taken just before it did, or at the end of "
        f"those {s.window_days:g} days.",
        f"- Split: {c.split.method}.",
        f"- Training: {c.leads_train:,} leads, {c.conversions_train:,} converted. "
        f"Held out: {c.leads_test:,} leads, {c.conversions_test:,} converted.",
        f"- Model: logistic regression, L2 penalty {c.fit.l2:g} on standardised "
        f"features ({_l2_text(c)}), {sum(r.fitted for r in c.results)} rules fitted "
        f"({c.fit.iterations} Newton steps); points = {c.scale:.3f} x log-odds "
        f"per firing, {c.scale_reason}.",
        "",
        "## Held-out performance",
        "",
        f"| rules | AUC | lift of the top {_TOP_SHARE:.0%} | leads >= {s.mql_score_threshold:g} "
        "| of them converted |",
        "|---|---|---|---|---|",
    ]
    for name, evaluation in (("current", c.current), ("proposed", c.proposed)):
        lines.append(
            f"| {name} | {_fmt(evaluation.auc)} | {_fmt(evaluation.lift_top, 2)} "
            f"| {evaluation.at_threshold:,} | {evaluation.converted_at_threshold:,} |"
        )
    lines += [
        "",
        "## Rules by effect (strongest first)",
        "",
        "| rank | rule_id | category | points now | proposed | log-odds per firing "
        "(95% interval) | per std. dev. | training leads fired | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ranked = c.ranked()
    for rank, result in enumerate(ranked, start=1):
        lines.append(
            f"| {rank} | {result.rule.rule_id} | {result.rule.category} "
            f"| {result.rule.points} | {result.proposed_points} "
            f"| {result.coef:+.3f} ({result.interval[0]:+.3f} .. "
            f"{result.interval[1]:+.3f}) | {result.coef_std:+.3f} | {result.train_leads:,} "
            f"| {'; '.join(result.notes)} |"
        )
    unfitted = [result for result in c.results if not result.fitted]
    if unfitted:
        lines += ["", "Not fitted (points kept):", ""]
        lines += [f"- {r.rule.rule_id}: {'; '.join(r.notes)}" for r in unfitted]
    flips = [result for result in c.results if result.sign_flipped]
    lines += ["", "## Calls for review", ""]
    if flips:
        lines += [
            f"- {r.rule.rule_id} ({r.rule.category}): sign flips "
            f"{r.rule.points:+d} -> {r.proposed_points:+d}"
            + ("" if r.is_clear else " (weak evidence: 95% interval includes 0)")
            for r in flips
        ]
    else:
        lines.append("- No rule changes sign.")
    lines += [
        "",
        "## Threshold for sales capacity",
        "",
        f"- Sales capacity (var sales_capacity_mqls_per_month): "
        f"{s.sales_capacity_mqls_per_month:g} MQLs a month.",
        f"- Current rules at {s.mql_score_threshold:g}: "
        f"{_fmt(c.current_rate_at_threshold, 1)} leads a month newly reach it "
        f"(30-day snapshots over the last {s.capacity_months} months with data, "
        "minimum fit "
        f"{s.mql_min_fit_score:g}); fct_mql_events averages "
        f"{_fmt(c.mql_events_per_month, 1)} MQL events a month.",
    ]
    lines.append(
        f"- Minimum fit: {s.mql_min_fit_score:g} now; {c.proposed_min_fit} with the "
        "proposed points lets as many training leads through (var "
        "mql_min_fit_score)."
    )
    if c.proposed_threshold is None:
        lines.append(
            "- Proposed rules: no threshold up to 1000 keeps within capacity."
        )
    elif c.proposed_threshold == 1:
        lines.append(
            f"- Proposed rules: any threshold from 1 up keeps within capacity: "
            f"only {_fmt(c.proposed_rate_at_threshold, 1)} leads a month newly "
            f"reach 1 point with minimum fit {c.proposed_min_fit}."
        )
    else:
        lines.append(
            f"- Proposed rules: threshold {c.proposed_threshold} "
            f"({_fmt(c.proposed_rate_at_threshold, 1)} leads a month, with minimum "
            f"fit {c.proposed_min_fit}): set var mql_score_threshold to it if "
            "sales should work no more than capacity."
        )
    lines += [
        "",
        "## Next steps",
        "",
        f"1. Review the proposal: `diff -u {rules_path} {proposed_path}`.",
        f"2. Copy the rows you accept into {rules_path} and commit them.",
        "3. `dbt build` (with the thresholds above if you take them): history "
        "is re-scored with the new rules.",
        "",
    ]
    return "\n".join(lines)


def check_out_dir(out_dir: str | Path, live_seed: str | Path | None) -> Path:
    """The proposed seed's path; refuses the live seed's folder."""
    target = Path(out_dir) / PROPOSED_RULES_FILE
    if live_seed is not None and target.resolve() == Path(live_seed).resolve():
        raise CalibrationError(
            f"{target} is the live seed; calibrate never overwrites it",
            "pass --out with another folder (default calibration/) and review "
            "the diff",
        )
    return target


def write_outputs(
    calibration: Calibration, out_dir: str | Path, live_seed: str | Path | None
) -> tuple[Path, Path]:
    """Write the proposed seed and the report; never over the live seed."""
    out = Path(out_dir)
    target = check_out_dir(out, live_seed)
    out.mkdir(parents=True, exist_ok=True)
    target.write_text(proposed_seed(calibration), encoding="utf-8")
    report_path = out / REPORT_FILE
    report_path.write_text(
        report(calibration, live_seed or "seeds/scoring_rules.csv", target),
        encoding="utf-8",
    )
    return target, report_path


def settings_from_project(project_dir: str | Path, **overrides: object) -> Settings:
    """Settings with the threshold, minimum fit and capacity from dbt_project.yml."""
    import yaml

    path = Path(project_dir) / "dbt_project.yml"
    values: dict[str, object] = {}
    if path.is_file():
        project = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        project_vars = project.get("vars") or {}
        for name in (
            "mql_score_threshold",
            "mql_min_fit_score",
            "sales_capacity_mqls_per_month",
        ):
            if name in project_vars:
                values[name] = float(project_vars[name])
    values.update({key: value for key, value in overrides.items() if value is not None})
    return Settings(**values)  # type: ignore[arg-type]


def summary_lines(calibration: Calibration) -> Sequence[str]:
    """A few lines for the terminal."""
    c = calibration
    top = ", ".join(result.rule.rule_id for result in c.ranked()[:5])
    return (
        f"held-out AUC: current {_fmt(c.current.auc)}, proposed {_fmt(c.proposed.auc)}",
        f"held-out lift of the top {_TOP_SHARE:.0%}: current "
        f"{_fmt(c.current.lift_top, 2)}, proposed {_fmt(c.proposed.lift_top, 2)}",
        f"strongest rules: {top}",
        f"sign flips: {', '.join(r.rule.rule_id for r in c.results if r.sign_flipped) or 'none'}",
        "proposed threshold for capacity: "
        + (str(c.proposed_threshold) if c.proposed_threshold is not None else "none"),
    )
