"""What the funnel report shows, read from the built marts.

`read_marts` runs plain SQL over the marts through
lead_scoring.warehouse.readers (the same queries on DuckDB and PostgreSQL)
and returns a ReportData; the chart modules and the page read only that.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lead_scoring.errors import ReportError
from lead_scoring.warehouse.load import quote_identifier
from lead_scoring.warehouse.readers import Reader, open_reader
from lead_scoring.warehouse.summary import (
    BuildFreshness,
    build_freshness,
    open_raw_reader,
)


Progress = Callable[[str], None]

STAGES: tuple[tuple[str, str], ...] = (
    ("leads", "Leads"),
    ("mqls", "MQLs"),
    ("sqls", "SQLs"),
    ("opportunities", "Opportunities"),
    ("customers", "Customers"),
)

MARTS: tuple[str, ...] = (
    "rpt_funnel_conversion",
    "rpt_score_calibration",
    "dim_leads",
    "fct_mql_events",
    "rpt_threshold_backtest",
    "rpt_sales_feedback",
    "rpt_rule_effectiveness",
)

FIVE_MINUTES = 5.0

# calibration: bands with fewer leads are drawn as too small to read, and
# the caption's best band is chosen among the others
MIN_BAND_LEADS = 20

# a cohort month is still maturing while fewer days than this share of the
# leads that reached SQL needed (from creation) have passed since it ended
MATURE_SHARE = 0.8

# rows of the action tables
HOT_LEADS = 25

ACTION_ROWS = 25


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, read from the marts."""

    source: str
    as_of: str
    funnel: dict[str, int]
    cohorts: list[dict[str, Any]]
    calibration: list[dict[str, Any]]
    scores_sql: list[float]
    scores_not_sql: list[float]
    mql_events: int
    speed_to_lead_minutes: list[float]
    touched_within_5_minutes: int
    # what the build read (rpt_build_inputs) and the freshness warnings
    built_at: str | None = None
    warnings: list[str] = field(default_factory=list)
    raw_rows: dict[str, int] = field(default_factory=dict)
    # the MQL path of the funnel: opportunities and customers of leads
    # whose MQL event sales accepted (fct_mql_events)
    path_opportunities: int = 0
    path_customers: int = 0
    # days from lead creation to SQL of the leads that reached SQL
    days_to_sql: list[float] = field(default_factory=list)
    threshold: float | None = None
    backtest: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)
    hot: list[dict[str, Any]] = field(default_factory=list)


def _queries(schema: str) -> dict[str, str]:
    """The report's queries: plain SQL over the marts of a schema."""

    def mart(name: str) -> str:
        return f"{quote_identifier(schema)}.{quote_identifier(name)}"

    accepted_events = (
        f"from {mart('fct_mql_events')} as events "
        f"inner join {mart('dim_leads')} as leads "
        "on events.lead_id = leads.lead_id "
        "where events.sql_at is not null and leads.created_at is not null"
    )
    return {
        "cohorts": (
            "select cohort_month, lead_source, leads, mqls, sqls, "
            "opportunities, customers, spend, mql_to_sql_rate "
            f"from {mart('rpt_funnel_conversion')} "
            "order by cohort_month, lead_source"
        ),
        "calibration": (
            "select score_band, band_min, band_max, leads, mqls, sqls, "
            "customers, conversion_rate, lift, auc "
            f"from {mart('rpt_score_calibration')} order by band_min"
        ),
        "scores": (
            "select leads.lead_score, "
            "leads.lead_id in ("
            f"select events.lead_id from {mart('fct_mql_events')} as events "
            "where events.sql_at is not null"
            ") as has_reached_sql "
            f"from {mart('dim_leads')} as leads "
            "where leads.lead_score is not null"
        ),
        "speed": (
            "select speed_to_lead_minutes, is_touched_within_5_minutes "
            f"from {mart('fct_mql_events')}"
        ),
        "as_of": f"select max(scores_as_of) from {mart('dim_leads')}",
        "path": (
            "select count(distinct case when events.opportunity_id is not null "
            "then events.lead_id end), count(distinct case when "
            "events.won_at is not null then events.lead_id end) "
            + accepted_events
        ),
        "days_to_sql": (
            "select leads.created_at, min(events.sql_at) "
            + accepted_events + " group by leads.lead_id, leads.created_at"
        ),
        "backtest": (
            "select mql_score_threshold, mql_month, mqls, sqls, customers, "
            "sales_capacity, is_current_threshold "
            f"from {mart('rpt_threshold_backtest')} order by 1, 2"
        ),
        "feedback": (
            "select outcome, outcome_reason, sum(mql_events) "
            f"from {mart('rpt_sales_feedback')} "
            "group by outcome, outcome_reason order by 3 desc, 1, 2"
        ),
        "rules": (
            "select rule_id, category, points, leads_fired, sqls_fired, "
            "sql_rate_fired, sql_rate_not_fired, log_odds_ratio, "
            "log_odds_ratio_ci_low, log_odds_ratio_ci_high, never_fires, "
            "fires_for_almost_all "
            f"from {mart('rpt_rule_effectiveness')} order by category, rule_id"
        ),
        "overdue": (
            "select events.lead_id, leads.owner_id, events.mql_at, "
            "events.sla_due_at, events.qualification_path, leads.lead_score "
            f"from {mart('fct_mql_events')} as events "
            f"inner join {mart('dim_leads')} as leads "
            "on events.lead_id = leads.lead_id "
            "where events.first_sales_touch_at is null "
            "and events.outcome = 'pending' "
            "and events.sla_due_at < leads.scores_as_of "
            "order by events.mql_at desc, events.lead_id"
        ),
        "hot": (
            "select lead_id, owner_id, lifecycle_stage, lead_grade, lead_score, "
            "fit_score, engagement_score "
            f"from {mart('dim_leads')} "
            "where lifecycle_stage = 'mql' and lead_score is not null "
            f"order by lead_score desc, lead_id limit {HOT_LEADS}"
        ),
    }


def _month_text(value: Any) -> str:
    """A date or timestamp as YYYY-MM."""
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y-%m")
    return str(value)[:7]


def time_text(value: Any) -> str:
    """A timestamp as YYYY-MM-DD HH:MM."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)[:16] if value is not None else ""


def _named(columns: Sequence[str], rows: list[tuple]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row)) for row in rows]


def _report_data(
    source: str, rows: dict[str, list[tuple]],
    freshness: BuildFreshness | None = None,
) -> ReportData:
    """A ReportData from the rows of the `_queries` (any engine)."""
    cohorts = []
    for row in rows["cohorts"]:
        month, lead_source, *counts, spend, mql_to_sql_rate = row
        cohort: dict[str, Any] = {
            "cohort_month": _month_text(month), "lead_source": lead_source,
        }
        cohort.update({
            column: int(value or 0) for (column, _), value in zip(STAGES, counts)
        })
        cohort["spend"] = float(spend or 0)
        cohort["mql_to_sql_rate"] = (
            None if mql_to_sql_rate is None else float(mql_to_sql_rate)
        )
        cohorts.append(cohort)
    funnel = {
        column: sum(cohort[column] for cohort in cohorts) for column, _ in STAGES
    }
    calibration_columns = (
        "score_band", "band_min", "band_max", "leads", "mqls", "sqls",
        "customers", "conversion_rate", "lift", "auc",
    )
    calibration = _named(calibration_columns, rows["calibration"])
    speeds = [float(value) for value, _ in rows["speed"] if value is not None]
    as_of = rows["as_of"][0][0] if rows["as_of"] else None
    backtest = _named(
        ("threshold", "month", "mqls", "sqls", "customers", "sales_capacity",
         "is_current"),
        rows["backtest"],
    )
    for row in backtest:
        row["threshold"] = float(row["threshold"])
        row["month"] = _month_text(row["month"])
        row["is_current"] = bool(row["is_current"])
        for column in ("mqls", "sqls", "customers"):
            row[column] = int(row[column])
    current = [row["threshold"] for row in backtest if row["is_current"]]
    ((path_opportunities, path_customers),) = rows["path"] or [(0, 0)]
    days_to_sql = sorted(
        (sql_at - created_at).total_seconds() / 86400
        for created_at, sql_at in rows["days_to_sql"]
    )
    return ReportData(
        source=source,
        as_of=str(as_of)[:19] if as_of is not None else "unknown",
        funnel=funnel,
        cohorts=cohorts,
        calibration=calibration,
        scores_sql=[float(score) for score, reached in rows["scores"] if reached],
        scores_not_sql=[
            float(score) for score, reached in rows["scores"] if not reached
        ],
        mql_events=len(rows["speed"]),
        speed_to_lead_minutes=speeds,
        touched_within_5_minutes=sum(1 for _, within in rows["speed"] if within),
        built_at=freshness.built_at if freshness else None,
        warnings=list(freshness.warnings) if freshness else [],
        raw_rows=dict(freshness.raw_rows) if freshness else {},
        path_opportunities=int(path_opportunities or 0),
        path_customers=int(path_customers or 0),
        days_to_sql=days_to_sql,
        threshold=current[0] if current else None,
        backtest=backtest,
        feedback=[
            {"outcome": outcome, "reason": reason, "mql_events": int(events)}
            for outcome, reason, events in rows["feedback"]
        ],
        rules=_named(
            ("rule_id", "category", "points", "leads_fired", "sqls_fired",
             "sql_rate_fired", "sql_rate_not_fired", "log_odds_ratio",
             "ci_low", "ci_high", "never_fires", "fires_for_almost_all"),
            rows["rules"],
        ),
        overdue=_named(
            ("lead_id", "owner_id", "mql_at", "sla_due_at", "path", "lead_score"),
            rows["overdue"],
        ),
        hot=_named(
            ("lead_id", "owner_id", "lifecycle_stage", "lead_grade", "lead_score",
             "fit_score", "engagement_score"),
            rows["hot"],
        ),
    )


def read_marts(
    target: str | None = None,
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
) -> ReportData:
    """Read what the report shows from the marts of a built warehouse (DuckDB
    or PostgreSQL, lead_scoring.warehouse.readers; default $LEAD_SCORING_TARGET),
    with the freshness of the build against the raw tables (summary)."""
    with open_reader(target, duckdb_path) as reader:
        present = reader.relations(schema)
        missing = [name for name in MARTS if name not in present]
        if missing:
            raise ReportError(
                f"the marts are not built in schema {schema!r} of "
                f"{reader.description}: missing {', '.join(missing)}",
                hint="run dbt build first (`DBT_PROFILES_DIR=. .venv/bin/dbt "
                "build`), or pass the --schema it was built in",
            )
        rows = {name: reader.rows(sql) for name, sql in _queries(schema).items()}
        raw = open_raw_reader(target, duckdb_path)
        try:
            freshness = build_freshness(reader, schema, raw)
        finally:
            if isinstance(raw, Reader):
                raw.close()
        return _report_data(
            f"{reader.description} (schema {schema})", rows, freshness
        )


def pct(numerator: float, denominator: float, digits: int = 1) -> str:
    """A share as a percentage, or 'n/a' when the denominator is 0."""
    if not denominator:
        return "n/a"
    return f"{100 * numerator / denominator:.{digits}f}%"


def source_empty(data: ReportData, table: str) -> bool:
    """Whether the raw table held no row when the marts were built (unknown
    counts as not empty)."""
    return data.raw_rows.get(table) == 0


def empty_source_text(table: str, what: str) -> str:
    return (
        f"n/a: no {what} were loaded (raw.{table} was empty when the marts "
        "were built)."
    )
