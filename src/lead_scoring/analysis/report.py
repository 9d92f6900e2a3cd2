"""A self-contained HTML picture of the funnel, drawn from the built marts.

`write_report` reads four marts (rpt_funnel_conversion, rpt_score_calibration,
dim_leads, fct_mql_events) and writes one HTML file with six charts:

1. the funnel by stage (leads -> MQLs -> SQLs -> opportunities -> customers),
   summed over every cohort of rpt_funnel_conversion;
2. MQLs by cohort month, stacked by lead source, with the month's MQL->SQL
   conversion;
3. MQL->SQL conversion by cohort month and lead source (a heat map);
4. the lead_score distribution of leads that reached SQL against the others
   (reaching SQL as in rpt_score_calibration: an MQL event accepted by sales);
5. the calibration curve: conversion to SQL per score band, with the AUC;
6. speed to lead: a histogram of fct_mql_events.speed_to_lead_minutes on a
   log scale, with a line at 5 minutes.

Each chart carries a title and a caption that states the figures it shows.
The plotting library (plotly) and its JavaScript are embedded inline, so the
file opens in a browser with no server and no internet. Every figure is also
embedded as plain JSON (`<script type="application/json"
class="figure-data">`), which is what the page draws and what tests read.

The marts are read with plain SQL through lead_scoring.warehouse.readers, so the
same queries run on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from lead_scoring.errors import ReportError
from lead_scoring.warehouse.load import quote_identifier
from lead_scoring.warehouse.summary import BUILD_INPUTS, build_freshness
from lead_scoring.warehouse.readers import open_reader

__all__ = ["ReportData", "ReportError", "build_charts", "read_marts",
           "render_html", "write_report"]

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
_MIN_BAND_LEADS = 20
# a cohort month is still maturing while fewer days than this share of the
# leads that reached SQL needed (from creation) have passed since it ended
_MATURE_SHARE = 0.8
# rows of the action tables
_HOT_LEADS = 25
_ACTION_ROWS = 25
# speed-to-lead bins: 4 per decade, with 5 minutes as an edge
_SPEED_BINS_PER_DECADE = 4
_SPEED_FLOOR_MINUTES = 0.05
_TICKS_MINUTES: tuple[tuple[float, str], ...] = (
    (0.5, "30 s"),
    (1, "1 min"),
    (5, "5 min"),
    (15, "15 min"),
    (60, "1 h"),
    (240, "4 h"),
    (1440, "1 day"),
    (10080, "1 week"),
    (43200, "30 days"),
    (525600, "1 year"),
)


# ---------------------------------------------------------------------- reading


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
            "opportunities, customers, spend "
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
            f"order by lead_score desc, lead_id limit {_HOT_LEADS}"
        ),
    }


def _month_text(value: Any) -> str:
    """A date or timestamp as YYYY-MM."""
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y-%m")
    return str(value)[:7]


def _time_text(value: Any) -> str:
    """A timestamp as YYYY-MM-DD HH:MM."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)[:16] if value is not None else ""


def _named(columns: Sequence[str], rows: list[tuple]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row)) for row in rows]


def _report_data(
    source: str, rows: dict[str, list[tuple]], freshness: Any = None,
    raw_rows: dict[str, int] | None = None,
) -> ReportData:
    """A ReportData from the rows of the `_queries` (any engine)."""
    cohorts = []
    for row in rows["cohorts"]:
        month, lead_source, *counts, spend = row
        cohort: dict[str, Any] = {
            "cohort_month": _month_text(month), "lead_source": lead_source,
        }
        cohort.update({
            column: int(value or 0) for (column, _), value in zip(STAGES, counts)
        })
        cohort["spend"] = float(spend or 0)
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
        built_at=getattr(freshness, "built_at", None),
        warnings=list(getattr(freshness, "warnings", []) or []),
        raw_rows=dict(raw_rows or {}),
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
    raw_schema: str = "raw",
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
        freshness = build_freshness(reader, schema, raw_schema)
        raw_rows = {}
        if BUILD_INPUTS in present:
            raw_rows = {
                table: int(count) for table, count in reader.rows(
                    "select source_table, raw_rows from "
                    f"{quote_identifier(schema)}.{quote_identifier(BUILD_INPUTS)}"
                )
            }
        return _report_data(
            f"{reader.description} (schema {schema})", rows, freshness, raw_rows
        )


# ---------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Chart:
    """One chart of the report: an id, its plotly figure and its caption."""

    chart_id: str
    title: str
    figure: Any
    caption: str


def _pct(numerator: float, denominator: float, digits: int = 1) -> str:
    """A share as a percentage, or 'n/a' when the denominator is 0."""
    if not denominator:
        return "n/a"
    return f"{100 * numerator / denominator:.{digits}f}%"


def _layout(go: Any, title: str, **extra: Any) -> Any:
    """The common layout of every chart."""
    return go.Layout(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 18}},
        template="plotly_white",
        height=extra.pop("height", 440),
        margin=extra.pop("margin", {"l": 70, "r": 30, "t": 70, "b": 60}),
        legend=extra.pop("legend", {"orientation": "h", "y": -0.18, "x": 0.0}),
        font={"family": "Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
        **extra,
    )


def _source_empty(data: ReportData, table: str) -> bool:
    """Whether the raw table held no row when the marts were built (unknown
    counts as not empty)."""
    return data.raw_rows.get(table) == 0


def _empty_source_text(table: str, what: str) -> str:
    return (
        f"n/a: no {what} were loaded (raw.{table} was empty when the marts "
        "were built)."
    )


def _funnel_chart(go: Any, data: ReportData) -> Chart:
    """The MQL path of the funnel, each stage inside the one above, over
    every cohort."""
    funnel = data.funnel
    counts = [funnel["leads"], funnel["mqls"], funnel["sqls"],
              data.path_opportunities, data.path_customers]
    labels = ["Leads", "MQLs", "SQLs", "Opportunities from an SQL",
              "Customers from an SQL"]
    title = "Funnel by stage: the MQL path"
    figure = go.Figure(
        data=[
            go.Funnel(
                y=labels,
                x=counts,
                texttemplate="%{value:,} (%{percentInitial:.1%} of leads)",
                # big bars hold their figure, narrow ones show it beside them
                textposition=[
                    "inside" if count >= 0.4 * max(counts + [1]) else "outside"
                    for count in counts
                ],
                insidetextfont={"color": "#ffffff"},
                outsidetextfont={"color": "#1d2935"},
                cliponaxis=False,
                marker={"color": ["#1f4e79", "#2e75b6", "#4a9bd6", "#7fb8e6",
                                  "#2ca02c"]},
                connector={"line": {"color": "#bbbbbb", "width": 1}},
                name="leads",
            )
        ],
        layout=_layout(go, title, height=420, showlegend=False,
                       margin={"l": 170, "r": 30, "t": 70, "b": 40}),
    )
    off_opportunities = funnel["opportunities"] - data.path_opportunities
    off_customers = funnel["customers"] - data.path_customers
    caption = (
        f"Leads {funnel['leads']:,} → MQLs {funnel['mqls']:,} "
        f"({_pct(funnel['mqls'], funnel['leads'])} of leads) → SQLs "
        f"{funnel['sqls']:,} ({_pct(funnel['sqls'], funnel['mqls'])} of MQLs) → "
        f"opportunities from an SQL {data.path_opportunities:,} "
        f"({_pct(data.path_opportunities, funnel['sqls'])} of SQLs) → "
        f"customers from an SQL {data.path_customers:,} "
        f"({_pct(data.path_customers, funnel['leads'], 2)} of leads). "
        f"Off this path: {off_opportunities:,} more leads have an opportunity "
        f"({funnel['opportunities']:,} in all) and {off_customers:,} more are "
        f"customers ({funnel['customers']:,} in all), opened without an MQL "
        "that sales accepted (sales-sourced, or before the lead qualified). "
        "Leads, MQLs, SQLs and the totals in all are sums of "
        "rpt_funnel_conversion over every cohort; the path's opportunities "
        "and customers are leads whose accepted MQL event in fct_mql_events "
        "has an opportunity, and a won one."
    )
    return Chart("funnel", title, figure, caption)


def _maturing_months(data: ReportData) -> tuple[list[str], float | None]:
    """Cohort months still maturing, and the days that decide it: a month
    is maturing while, since it ended, fewer days have passed than
    _MATURE_SHARE of the leads that reached SQL needed from creation to
    SQL. None when no lead reached SQL (nothing to tell by)."""
    if not data.days_to_sql or data.as_of == "unknown":
        return [], None
    lag = float(np.quantile(data.days_to_sql, _MATURE_SHARE))
    as_of = datetime.fromisoformat(data.as_of)
    maturing = []
    for month in sorted({cohort["cohort_month"] for cohort in data.cohorts}):
        year, number = int(month[:4]), int(month[5:7])
        ended = datetime(year + number // 12, number % 12 + 1, 1)
        if (as_of - ended).total_seconds() / 86400 < lag:
            maturing.append(month)
    return maturing, lag


def _maturing_text(data: ReportData) -> str:
    months, lag = _maturing_months(data)
    if not months:
        return ""
    return (
        f" Still maturing (hollow): {months[0]} to {months[-1]}; "
        f"{_MATURE_SHARE:.0%} of the leads that reached SQL did so within "
        f"{lag:.0f} days of creation, and these months ended less than that "
        "before as_of, so their rates will still rise."
    )


def _months_and_sources(data: ReportData) -> tuple[list[str], list[str]]:
    """Cohort months and lead sources in order (sources by MQLs, most first)."""
    months = sorted({cohort["cohort_month"] for cohort in data.cohorts})
    per_source: dict[str, int] = {}
    for cohort in data.cohorts:
        per_source[cohort["lead_source"]] = (
            per_source.get(cohort["lead_source"], 0) + cohort["mqls"]
        )
    sources = sorted(per_source, key=lambda source: (-per_source[source], source))
    return months, sources


def _cell(data: ReportData, month: str, source: str, column: str) -> int:
    """One count of rpt_funnel_conversion (0 for a missing row)."""
    return sum(
        cohort[column]
        for cohort in data.cohorts
        if cohort["cohort_month"] == month and cohort["lead_source"] == source
    )


def _cohort_chart(go: Any, data: ReportData) -> Chart:
    """MQLs by cohort month stacked by lead source, with MQL->SQL conversion."""
    months, sources = _months_and_sources(data)
    title = "MQLs by cohort month and lead source"
    traces = [
        go.Bar(
            x=months,
            y=[_cell(data, month, source, "mqls") for month in months],
            name=source,
            hovertemplate="%{x} " + source + ": %{y} MQLs<extra></extra>",
        )
        for source in sources
    ]
    month_mqls = [sum(_cell(data, m, s, "mqls") for s in sources) for m in months]
    month_sqls = [sum(_cell(data, m, s, "sqls") for s in sources) for m in months]
    rates = [
        round(100 * sqls / mqls, 2) if mqls else None
        for sqls, mqls in zip(month_sqls, month_mqls)
    ]
    maturing, _ = _maturing_months(data)
    traces.append(
        go.Scatter(
            x=months,
            y=rates,
            name="MQL→SQL % (right axis)",
            yaxis="y2",
            mode="lines+markers",
            line={"color": "#222222", "width": 2},
            marker={
                "size": 8, "color": [
                    "#ffffff" if month in maturing else "#222222"
                    for month in months
                ],
                "line": {"color": "#222222", "width": 2},
            },
            customdata=[[s, m] for s, m in zip(month_sqls, month_mqls)],
            hovertemplate="%{x}: %{y:.1f}% (%{customdata[0]} of "
            "%{customdata[1]} MQLs)<extra></extra>",
        )
    )
    figure = go.Figure(
        data=traces,
        layout=_layout(
            go,
            title,
            height=480,
            barmode="stack",
            xaxis={"title": {"text": "cohort month (lead created)"},
                   "type": "category"},
            yaxis={"title": {"text": "MQLs (leads with an MQL event)"}},
            yaxis2={"title": {"text": "MQL→SQL conversion"}, "overlaying": "y",
                    "side": "right", "rangemode": "tozero", "showgrid": False,
                    "tickmode": "auto", "ticksuffix": "%", "tickformat": ".0f"},
        ),
    )
    total_mqls = sum(month_mqls)
    total_sqls = sum(month_sqls)
    busiest = max(range(len(months)), key=lambda i: month_mqls[i]) if months else None
    caption = (
        f"{total_mqls:,} MQLs in {len(months)} cohort months"
        + (f" ({months[0]} to {months[-1]})" if months else "")
        + f" from {len(sources)} lead sources; {total_sqls:,} reached SQL, "
        f"MQL→SQL {_pct(total_sqls, total_mqls)} overall."
        + (
            f" Most MQLs: {months[busiest]} with {month_mqls[busiest]:,}."
            if busiest is not None else ""
        )
        + " MQLs per month: "
        + ", ".join(f"{m} {n:,}" for m, n in zip(months, month_mqls))
        + "."
        + _maturing_text(data)
    )
    return Chart("cohorts", title, figure, caption)


def _conversion_chart(go: Any, data: ReportData) -> Chart:
    """MQL->SQL conversion as a heat map of cohort month x lead source."""
    months, sources = _months_and_sources(data)
    maturing, _ = _maturing_months(data)
    title = "MQL→SQL conversion by cohort month and lead source"
    z, text = [], []
    for source in sources:
        row_z, row_text = [], []
        for month in months:
            mqls = _cell(data, month, source, "mqls")
            sqls = _cell(data, month, source, "sqls")
            row_z.append(round(100 * sqls / mqls, 2) if mqls else None)
            row_text.append(f"{sqls}/{mqls}" if mqls else "")
        z.append(row_z)
        text.append(row_text)
    figure = go.Figure(
        data=[
            go.Heatmap(
                x=months,
                y=sources,
                z=z,
                text=text,
                texttemplate="%{text}",
                colorscale="Blues",
                zmin=0,
                zmax=100,
                colorbar={"title": {"text": "MQL→SQL %"}},
                hovertemplate="%{y}, %{x}: %{z:.1f}% (%{text} SQLs/MQLs)"
                "<extra></extra>",
                xgap=2,
                ygap=2,
            )
        ],
        layout=_layout(
            go,
            title,
            height=max(360, 120 + 38 * len(sources)),
            xaxis={
                "type": "category", "title": {"text": "cohort month"},
                "tickvals": months,
                "ticktext": [
                    f"{month}*" if month in maturing else month
                    for month in months
                ],
            },
            yaxis={"type": "category", "autorange": "reversed"},
        ),
    )
    per_source = []
    for source in sources:
        mqls = sum(_cell(data, month, source, "mqls") for month in months)
        sqls = sum(_cell(data, month, source, "sqls") for month in months)
        per_source.append(f"{source} {_pct(sqls, mqls)} ({sqls:,} of {mqls:,})")
    caption = (
        "Cells show SQLs/MQLs of a cohort month and source, shaded by the "
        "rate (blank: no MQL). MQL→SQL by lead source: "
        + "; ".join(per_source)
        + "."
        + (
            f" Months marked * ({', '.join(maturing)}) are still maturing "
            "(see the chart above)." if maturing else ""
        )
    )
    return Chart("conversion", title, figure, caption)


def _band_width(data: ReportData) -> float:
    """The score band width of rpt_score_calibration (20 when unknown)."""
    for band in data.calibration:
        if band["band_min"] is not None and band["band_max"] is not None:
            return float(band["band_max"]) - float(band["band_min"])
    return 20.0


def _histogram(values: Sequence[float], edges: np.ndarray) -> list[int]:
    """Counts of values per bin (lower edge excluded, upper edge included)."""
    if not len(values):
        return [0] * (len(edges) - 1)
    index = np.searchsorted(edges, np.asarray(values, dtype=float), side="left") - 1
    index = np.clip(index, 0, len(edges) - 2)
    return np.bincount(index, minlength=len(edges) - 1).astype(int).tolist()


def _score_chart(go: Any, data: ReportData) -> Chart:
    """lead_score distribution of leads that reached SQL against the others."""
    width = _band_width(data)
    everything = data.scores_sql + data.scores_not_sql
    title = "Lead score: leads that reached SQL vs the others"
    low = math.floor(min(everything, default=0) / width) * width
    # bands [low, low + width) as in rpt_score_calibration: the top edge lies
    # above the highest score, so numpy's closed last bin changes nothing
    high = (math.floor(max(everything, default=0) / width) + 1) * width
    edges = np.arange(low, high + width / 2, width)
    traces = []
    groups = (
        ("reached SQL", data.scores_sql, "#2ca02c"),
        ("not reached SQL", data.scores_not_sql, "#9aa5b1"),
    )
    for name, scores, color in groups:
        counts = np.histogram(scores, bins=edges)[0].astype(int).tolist()
        total = len(scores)
        traces.append(
            go.Bar(
                x=[float(edge + width / 2) for edge in edges[:-1]],
                y=[round(100 * count / total, 3) if total else 0 for count in counts],
                width=width * 0.45,
                offsetgroup=name,
                name=f"{name} ({total:,} leads)",
                marker={"color": color},
                customdata=counts,
                hovertemplate="score %{x}: %{y:.1f}% (%{customdata} leads)"
                "<extra></extra>",
            )
        )
    figure = go.Figure(
        data=traces,
        layout=_layout(
            go,
            title,
            barmode="group",
            # ticks on band edges, at most about 25 of them
            xaxis={
                "title": {"text": f"lead_score at as_of (bands of {width:g})"},
                "tick0": float(low),
                "dtick": float(width * max(1, math.ceil((len(edges) - 1) / 25))),
            },
            yaxis={"title": {"text": "% of the group's leads"}},
            **_threshold_marks(data.threshold, "x", data.threshold),
        ),
    )

    def median(scores: list[float]) -> str:
        return f"{float(np.median(scores)):.1f}" if scores else "n/a"

    caption = (
        f"{len(data.scores_sql):,} leads reached SQL (an MQL event accepted by "
        f"sales), median lead_score {median(data.scores_sql)}; "
        f"{len(data.scores_not_sql):,} did not, median "
        f"{median(data.scores_not_sql)}. Each group sums to 100%; scores of "
        "dim_leads at as_of."
        + _threshold_text(data)
    )
    return Chart("scores", title, figure, caption)


def _threshold_marks(threshold: float | None, axis: str, x: float | None) -> dict:
    """Layout shapes and annotations of the MQL threshold: a dashed
    vertical line at x on the axis (nothing when the threshold is unknown)."""
    if threshold is None or x is None:
        return {}
    return {
        "shapes": [{
            "type": "line", "xref": axis, "x0": x, "x1": x,
            "yref": "paper", "y0": 0, "y1": 1,
            "line": {"color": "#c0392b", "width": 2, "dash": "dash"},
            "name": "MQL threshold",
        }],
        "annotations": [{
            "xref": axis, "x": x, "yref": "paper", "y": 1,
            "text": f"MQL threshold {threshold:g}", "showarrow": False,
            "xanchor": "left", "yanchor": "bottom", "font": {"color": "#c0392b"},
        }],
        "meta": {"mql_score_threshold": threshold},
    }


def _threshold_text(data: ReportData) -> str:
    """How each group of the score chart sits against the threshold."""
    if data.threshold is None:
        return (
            " The MQL threshold is not drawn: it is not among var "
            "backtest_thresholds, so rpt_threshold_backtest does not name it."
        )

    def above(scores: list[float]) -> str:
        count = sum(1 for score in scores if round(score, 6) >= data.threshold)
        return f"{count:,} ({_pct(count, len(scores))})"

    return (
        f" Dashed line: the MQL threshold {data.threshold:g}; at or above it "
        f"now: {above(data.scores_sql)} of the leads that reached SQL and "
        f"{above(data.scores_not_sql)} of the others."
    )


def _calibration_chart(go: Any, data: ReportData) -> Chart:
    """Conversion to SQL per score band, with lead counts and the AUC."""
    bands = data.calibration
    auc = next((band["auc"] for band in bands if band["auc"] is not None), None)
    auc_text = f"{auc:.3f}" if auc is not None else "n/a"
    title = f"Score calibration: conversion to SQL per score band (AUC {auc_text})"
    labels = [str(band["score_band"]) for band in bands]
    leads = sum(int(band["leads"]) for band in bands)
    sqls = sum(int(band["sqls"]) for band in bands)
    overall = 100 * sqls / leads if leads else 0.0
    biggest = max([int(band["leads"]) for band in bands] + [1])
    # the threshold's place on the category axis: band i spans i - 0.5 to
    # i + 0.5, its lower edge band_min on the left
    position = next(
        (
            index - 0.5 + (data.threshold - float(band["band_min"]))
            / (float(band["band_max"]) - float(band["band_min"]))
            for index, band in enumerate(bands)
            if data.threshold is not None and band["band_min"] is not None
            and band["band_max"] is not None
            and float(band["band_min"]) <= data.threshold < float(band["band_max"])
        ),
        None,
    )
    threshold_marks = _threshold_marks(data.threshold, "x", position)
    figure = go.Figure(
        data=[
            go.Bar(
                x=labels,
                y=[int(band["leads"]) for band in bands],
                name="leads in band (right axis)",
                yaxis="y2",
                marker={"color": "rgba(120, 144, 170, 0.35)"},
                hovertemplate="%{x}: %{y} leads<extra></extra>",
            ),
            go.Scatter(
                x=labels,
                y=[round(100 * float(band["conversion_rate"] or 0), 3)
                   for band in bands],
                name="conversion to SQL %",
                mode="lines+markers",
                line={"color": "rgba(31, 78, 121, 0.45)", "width": 1.5},
                # marker area follows the band's leads: a 100% band of one
                # lead shows as the dot it is
                marker={
                    "color": [
                        "#1f4e79" if int(band["leads"]) >= _MIN_BAND_LEADS
                        else "#ffffff" for band in bands
                    ],
                    "line": {"color": "#1f4e79", "width": 1.5},
                    "size": [
                        round(5 + 17 * math.sqrt(int(band["leads"]) / biggest), 2)
                        for band in bands
                    ],
                },
                customdata=[[int(band["sqls"]), int(band["leads"])] for band in bands],
                hovertemplate="%{x}: %{y:.1f}% (%{customdata[0]} of "
                "%{customdata[1]} leads)<extra></extra>",
            ),
        ],
        layout=_layout(
            go,
            title,
            height=500,
            margin={"l": 70, "r": 60, "t": 70, "b": 110},
            legend={"orientation": "h", "y": 1.0, "x": 1.0, "xanchor": "right",
                    "yanchor": "bottom"},
            xaxis={"title": {"text": "lead_score band at as_of"},
                   "type": "category", "tickangle": -45},
            yaxis={"title": {"text": "conversion to SQL"}, "rangemode": "tozero",
                   "ticksuffix": "%"},
            yaxis2={"title": {"text": "leads"}, "overlaying": "y", "side": "right",
                    "showgrid": False, "rangemode": "tozero", "tickmode": "auto"},
            shapes=[{
                "type": "line", "xref": "paper", "x0": 0, "x1": 1,
                "yref": "y", "y0": overall, "y1": overall,
                "line": {"color": "#c0392b", "dash": "dash", "width": 1.5},
            }] + threshold_marks.get("shapes", []),
            annotations=[{
                "xref": "paper", "x": 0.01, "yref": "y", "y": overall,
                "text": f"overall {overall:.1f}%", "showarrow": False,
                "yanchor": "bottom", "xanchor": "left",
                "font": {"color": "#c0392b"},
            }] + threshold_marks.get("annotations", []),
        ),
    )
    # the best band among those big enough to mean something
    sizable = [band for band in bands if int(band["leads"]) >= _MIN_BAND_LEADS]
    best = max(sizable, key=lambda band: band["conversion_rate"] or 0, default=None)
    caption = (
        f"AUC {auc_text} (rank-based AUC of lead_score against reaching SQL: "
        "1 = every SQL outscored every other lead, 0.5 = chance). "
        f"{sqls:,} of {leads:,} leads reached SQL ({_pct(sqls, leads)} overall, "
        f"dashed line) in {len(bands)} bands of {_band_width(data):g} points"
        + (
            f"; the best band of at least {_MIN_BAND_LEADS} leads is "
            f"{best['score_band']} with "
            f"{_pct(best['sqls'], best['leads'])} ({best['sqls']} of "
            f"{best['leads']} leads)."
            if best is not None else "."
        )
    )
    caption += " Dot size follows the band's leads."
    small = [band for band in bands if int(band["leads"]) < _MIN_BAND_LEADS]
    if small:
        caption += (
            f" Hollow dots: {len(small)} bands of fewer than {_MIN_BAND_LEADS} "
            f"leads ({sum(int(band['leads']) for band in small):,} leads in all), "
            "too few to read a rate from."
        )
    if position is not None:
        caption += f" Dashed line: the MQL threshold {data.threshold:g}."
    return Chart("calibration", title, figure, caption)


def _backtest_chart(go: Any, data: ReportData) -> Chart:
    """First MQLs per month under each candidate threshold, against the
    sales capacity (rpt_threshold_backtest)."""
    title = "Threshold back-test: first MQLs per month against sales capacity"
    months = sorted({row["month"] for row in data.backtest})
    thresholds = sorted({row["threshold"] for row in data.backtest})
    capacity = next((row["sales_capacity"] for row in data.backtest), None)
    traces, summaries = [], []
    for threshold in thresholds:
        rows = {row["month"]: row for row in data.backtest
                if row["threshold"] == threshold}
        current = any(row["is_current"] for row in rows.values())
        mqls = [rows[month]["mqls"] if month in rows else 0 for month in months]
        traces.append(go.Scatter(
            x=months, y=mqls, mode="lines+markers",
            name=f"{threshold:g}" + (" (in force)" if current else ""),
            line={"width": 4 if current else 1.5},
            hovertemplate=f"threshold {threshold:g}, " + "%{x}: %{y} MQLs"
            "<extra></extra>",
        ))
        total = sum(mqls)
        sqls = sum(row["sqls"] for row in rows.values())
        over = sum(1 for count in mqls if capacity and count > float(capacity))
        summaries.append(
            f"{threshold:g}{' (in force)' if current else ''}: "
            f"{total / len(months):.1f} a month, {_pct(sqls, total)} reached "
            f"SQL, over capacity in {over} of {len(months)} months"
        )
    shapes, annotations = [], []
    if capacity is not None:
        shapes.append({
            "type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
            "y0": float(capacity), "y1": float(capacity),
            "line": {"color": "#c0392b", "dash": "dash", "width": 2},
        })
        annotations.append({
            "xref": "paper", "x": 0.01, "yref": "y", "y": float(capacity),
            "text": f"sales capacity {float(capacity):g} a month",
            "showarrow": False, "xanchor": "left", "yanchor": "bottom",
            "font": {"color": "#c0392b"},
        })
    figure = go.Figure(
        data=traces,
        layout=_layout(
            go, title, height=460,
            xaxis={"type": "category", "title": {"text": "month of the first MQL"}},
            yaxis={"title": {"text": "leads newly MQL"}, "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.22, "x": 0.0,
                    "title": {"text": "threshold"}},
            shapes=shapes, annotations=annotations,
        ),
    )
    if not months:
        caption = "n/a: rpt_threshold_backtest is empty (no lead qualified)."
    else:
        caption = (
            f"Each line replays every lead's first qualification with another "
            f"threshold ({months[0]} to {months[-1]}, {len(months)} months; "
            "same rules, minimum fit and fast-track). Per threshold: "
            + "; ".join(summaries) + "."
        )
    return Chart("backtest", title, figure, caption)


def _spend_chart(go: Any, data: ReportData) -> Chart:
    """Spend, cost per MQL and CAC by cohort month (rpt_funnel_conversion)."""
    title = "Spend, cost per MQL and CAC by cohort month"
    months, sources = _months_and_sources(data)
    spend = [
        round(sum(c["spend"] for c in data.cohorts if c["cohort_month"] == m), 2)
        for m in months
    ]
    mqls = [sum(_cell(data, m, s, "mqls") for s in sources) for m in months]
    customers = [sum(_cell(data, m, s, "customers") for s in sources)
                 for m in months]
    maturing, _ = _maturing_months(data)
    per_mql = [round(a / b, 2) if b else None for a, b in zip(spend, mqls)]
    cac = [round(a / b, 2) if b else None for a, b in zip(spend, customers)]
    empty = _source_empty(data, "marketing_spend")
    # the right axis fits the mature months: a young cohort's CAC (few
    # customers yet) runs off the top, its value in the hover text
    top = max(
        [value for month, value in zip(months, cac)
         if value is not None and month not in maturing]
        + [value for value in per_mql if value is not None]
        + [0],
    )
    traces = [] if empty else [
        go.Bar(x=months, y=spend, name="spend", marker={"color": "#9fc5e8"},
               hovertemplate="%{x}: spend %{y:,.2f}<extra></extra>"),
        go.Scatter(x=months, y=per_mql, name="cost per MQL (right axis)",
                   yaxis="y2", mode="lines+markers", line={"color": "#1f4e79"},
                   hovertemplate="%{x}: %{y:,.2f} per MQL<extra></extra>"),
        go.Scatter(
            x=months, y=cac, name="CAC (right axis)", yaxis="y2",
            mode="lines+markers", line={"color": "#2ca02c", "dash": "dot"},
            marker={"color": ["#ffffff" if m in maturing else "#2ca02c"
                              for m in months],
                    "line": {"color": "#2ca02c", "width": 2}, "size": 8},
            hovertemplate="%{x}: CAC %{y:,.2f}<extra></extra>",
        ),
    ]
    figure = go.Figure(
        data=traces,
        layout=_layout(
            go, title, height=460,
            xaxis={"type": "category", "title": {"text": "cohort month"}},
            yaxis={"title": {"text": "spend"}, "rangemode": "tozero"},
            yaxis2={"title": {"text": "per MQL / per customer"},
                    "overlaying": "y", "side": "right", "showgrid": False,
                    **({"range": [0, 1.15 * top]} if top else
                       {"rangemode": "tozero"})},
        ),
    )
    if empty:
        caption = _empty_source_text("marketing_spend", "marketing spend rows")
    else:
        total, total_mqls, total_customers = sum(spend), sum(mqls), sum(customers)
        caption = (
            f"Spend {total:,.2f} over {len(months)} cohort months; "
            f"{total_mqls:,} MQLs, cost per MQL "
            + (f"{total / total_mqls:,.2f}" if total_mqls else "n/a")
            + f"; {total_customers:,} customers, CAC "
            + (f"{total / total_customers:,.2f}" if total_customers else "n/a")
            + ". Spend of a month and lead source is set against the leads "
            "created then from that source (rpt_funnel_conversion; months "
            "without spend count 0). Hollow CAC points: cohorts still "
            "maturing, whose customers are still coming."
        )
    return Chart("spend", title, figure, caption)


def _feedback_chart(go: Any, data: ReportData) -> Chart:
    """MQL events sales turned back, by outcome and reason."""
    title = "Sales feedback: MQL events rejected, recycled or disqualified"
    colours = {"rejected": "#c0392b", "recycled": "#e67e22",
               "disqualified": "#7f8c8d"}
    rows = list(reversed(data.feedback))  # the most frequent on top
    figure = go.Figure(
        data=[go.Bar(
            y=[f"{row['outcome']}: {row['reason']}" for row in rows],
            x=[row["mql_events"] for row in rows],
            orientation="h",
            marker={"color": [colours.get(row["outcome"], "#999999")
                              for row in rows]},
            hovertemplate="%{y}: %{x} MQL events<extra></extra>",
        )] if rows else [],
        layout=_layout(
            go, title, height=max(320, 110 + 24 * len(rows)), showlegend=False,
            margin={"l": 260, "r": 30, "t": 70, "b": 50},
            xaxis={"title": {"text": "MQL events"}},
            yaxis={"type": "category", "automargin": True},
        ),
    )
    if _source_empty(data, "lead_status_changes"):
        caption = _empty_source_text("lead_status_changes", "status changes")
    elif not rows:
        caption = "No MQL event was rejected, recycled or disqualified."
    else:
        per_outcome: dict[str, int] = {}
        for row in data.feedback:
            per_outcome[row["outcome"]] = (
                per_outcome.get(row["outcome"], 0) + row["mql_events"]
            )
        caption = (
            f"Of {data.mql_events:,} MQL events, sales turned back "
            + ", ".join(
                f"{count:,} {outcome} ({_pct(count, data.mql_events)})"
                for outcome, count in sorted(per_outcome.items())
            )
            + ". Most given reasons: "
            + "; ".join(
                f"{row['reason']} ({row['outcome']}, {row['mql_events']:,})"
                for row in data.feedback[:3]
            )
            + ". Sums of rpt_sales_feedback over months and lead sources; "
            "reasons as sales wrote them."
        )
    return Chart("feedback", title, figure, caption)


def _rules_chart(go: Any, data: ReportData) -> Chart:
    """Each active rule's log-odds ratio of reaching SQL, fired vs not, with
    its 95% interval (rpt_rule_effectiveness)."""
    title = "Rule effectiveness: does each rule pick leads that convert?"
    measured = [rule for rule in data.rules if rule["log_odds_ratio"] is not None]
    measured.sort(key=lambda rule: float(rule["log_odds_ratio"]))

    def verdict(rule: dict[str, Any]) -> str:
        if float(rule["ci_low"]) > 0:
            return "converts more"
        if float(rule["ci_high"]) < 0:
            return "converts less"
        return "no clear effect"

    colours = {"converts more": "#2ca02c", "converts less": "#c0392b",
               "no clear effect": "#9aa5b1"}
    figure = go.Figure(
        data=[go.Scatter(
            y=[rule["rule_id"] for rule in measured],
            x=[round(float(rule["log_odds_ratio"]), 4) for rule in measured],
            mode="markers",
            error_x={
                "type": "data", "symmetric": False,
                "array": [round(float(r["ci_high"]) - float(r["log_odds_ratio"]), 4)
                          for r in measured],
                "arrayminus": [
                    round(float(r["log_odds_ratio"]) - float(r["ci_low"]), 4)
                    for r in measured
                ],
                "color": "#5b6b7a",
            },
            marker={"size": 9, "color": [colours[verdict(r)] for r in measured]},
            customdata=[[r["category"], r["points"], r["leads_fired"], verdict(r)]
                        for r in measured],
            hovertemplate="%{y} (%{customdata[0]}, %{customdata[1]} points): "
            "log-odds %{x:.2f}, fired for %{customdata[2]} leads, "
            "%{customdata[3]}<extra></extra>",
        )] if measured else [],
        layout=_layout(
            go, title, height=max(360, 110 + 24 * len(measured)),
            showlegend=False, margin={"l": 200, "r": 30, "t": 70, "b": 60},
            xaxis={"title": {"text": "log-odds ratio of reaching SQL, fired vs "
                             "not (95% interval)"}},
            yaxis={"type": "category", "automargin": True},
            shapes=[{
                "type": "line", "xref": "x", "x0": 0, "x1": 0, "yref": "paper",
                "y0": 0, "y1": 1, "line": {"color": "#34495e", "width": 1.5},
            }],
        ),
    )
    counts: dict[str, int] = {}
    for rule in measured:
        counts[verdict(rule)] = counts.get(verdict(rule), 0) + 1
    never = [rule["rule_id"] for rule in data.rules if rule["never_fires"]]
    almost_all = [rule["rule_id"] for rule in data.rules
                  if rule["fires_for_almost_all"]]
    against = [
        rule["rule_id"] for rule in measured
        if (verdict(rule) == "converts less" and float(rule["points"]) > 0)
        or (verdict(rule) == "converts more" and float(rule["points"]) < 0)
    ]
    caption = (
        f"{len(data.rules)} active rules: "
        + ", ".join(f"{counts.get(v, 0)} {v}" for v in colours)
        + " (interval above 0, below 0, or across it). "
        + (f"Points against the evidence: {', '.join(against)}. "
           if against else "No rule's points go against the evidence. ")
        + (f"Never fire: {', '.join(never)}. " if never else "")
        + (f"Fire for almost every lead: {', '.join(almost_all)}. "
           if almost_all else "")
        + "From rpt_rule_effectiveness; calibrate proposes new points."
    )
    return Chart("rules", title, figure, caption)


def _speed_edges(values: Sequence[float]) -> np.ndarray:
    """Log-spaced bin edges in minutes with 5 minutes as an edge."""
    step = 1 / _SPEED_BINS_PER_DECADE
    low = min(min(values, default=1.0), 1.0)
    high = max(max(values, default=60.0), 60.0)
    first = math.floor(math.log10(max(low, _SPEED_FLOOR_MINUTES) / FIVE_MINUTES) / step)
    last = math.ceil(math.log10(high / FIVE_MINUTES) / step)
    return FIVE_MINUTES * 10 ** (np.arange(first, last + 1) * step)


def _minutes_text(minutes: float) -> str:
    """A duration in minutes as a short text."""
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes < 120:
        return f"{minutes:.1f} min"
    if minutes < 2880:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def _speed_chart(go: Any, data: ReportData) -> Chart:
    """Histogram of speed to lead on a log scale with the 5-minute line."""
    values = data.speed_to_lead_minutes
    edges = _speed_edges(values)
    counts = _histogram(values, edges)
    log_edges = np.log10(edges)
    title = "Speed to lead: minutes from MQL to the first sales touch"
    line_x = math.log10(FIVE_MINUTES)
    within = sum(count for count, upper in zip(counts, edges[1:])
                 if upper <= FIVE_MINUTES + 1e-9)
    # ticks inside the range, none on its left edge (the y axis labels are there)
    ticks = [(m, t) for m, t in _TICKS_MINUTES if edges[0] * 1.3 < m <= edges[-1]]
    top = max(counts, default=0)
    figure = go.Figure(
        data=[
            go.Bar(
                x=[float((a + b) / 2) for a, b in zip(log_edges[:-1], log_edges[1:])],
                y=counts,
                width=float(log_edges[1] - log_edges[0]) * 0.92,
                name="touched MQL events",
                marker={"color": [
                    "#2ca02c" if upper <= FIVE_MINUTES + 1e-9 else "#4a7fb0"
                    for upper in edges[1:]
                ]},
                # (low, high] in minutes, then as text; the first bin from 0
                customdata=[
                    [float(a), float(b), _minutes_text(a), _minutes_text(b)]
                    for a, b in zip(edges[:-1], edges[1:])
                ],
                hovertemplate="%{customdata[2]} to %{customdata[3]}: %{y} MQL "
                "events<extra></extra>",
            )
        ],
        layout=_layout(
            go,
            title,
            showlegend=False,
            bargap=0,
            xaxis={
                "title": {"text": "minutes from MQL to first sales touch (log scale)"},
                "tickvals": [math.log10(m) for m, _ in ticks],
                "ticktext": [t for _, t in ticks],
                "range": [float(log_edges[0]), float(log_edges[-1])],
            },
            yaxis={"title": {"text": "MQL events"}},
            shapes=[{
                "type": "line", "xref": "x", "x0": line_x, "x1": line_x,
                "yref": "paper", "y0": 0, "y1": 1,
                "line": {"color": "#c0392b", "width": 2, "dash": "dash"},
                "name": "5 minutes",
            }],
            annotations=[{
                "xref": "x", "x": line_x, "yref": "paper", "y": 1,
                "text": f"5 minutes: {within:,} within",
                "showarrow": False, "xanchor": "left", "yanchor": "bottom",
                "font": {"color": "#c0392b"},
            }],
            meta={"five_minute_line_minutes": FIVE_MINUTES, "max_count": top},
        ),
    )
    touched = len(values)
    median = _minutes_text(float(np.median(values))) if values else "n/a"
    if _source_empty(data, "sales_activities"):
        return Chart("speed", title, figure, _empty_source_text(
            "sales_activities", "sales activities (calls, e-mails, meetings)"
        ) + f" Speed to lead cannot be told for the {data.mql_events:,} MQL "
            "events.")
    caption = (
        f"{touched:,} of {data.mql_events:,} MQL events were touched by sales "
        f"({data.mql_events - touched:,} not yet); "
        f"{data.touched_within_5_minutes:,} within 5 minutes "
        f"({_pct(data.touched_within_5_minutes, touched)} of touched, "
        f"{_pct(data.touched_within_5_minutes, data.mql_events)} of all MQL "
        f"events); median speed to lead {median}. Green bars end at or "
        "before the 5-minute line."
    )
    return Chart("speed", title, figure, caption)


def build_charts(data: ReportData) -> list[Chart]:
    """The charts of the report, in page order."""
    go = _plotly().graph_objects
    return [
        _funnel_chart(go, data),
        _cohort_chart(go, data),
        _conversion_chart(go, data),
        _score_chart(go, data),
        _calibration_chart(go, data),
        _backtest_chart(go, data),
        _spend_chart(go, data),
        _speed_chart(go, data),
        _feedback_chart(go, data),
        _rules_chart(go, data),
    ]


def _plotly() -> Any:
    """The plotly package, or a ReportError saying how to install it."""
    try:
        import plotly
        import plotly.graph_objects  # noqa: F401
        import plotly.io  # noqa: F401
        import plotly.offline  # noqa: F401
    except ImportError as exc:
        raise ReportError(
            "the report needs the plotly package, which is not installed",
            hint="install the report extra: pip install -e '.[report]' "
            "(make setup does)",
        ) from exc
    return plotly


# ---------------------------------------------------------------------- page

_STYLE = """
body { margin: 0; background: #f4f6f8; color: #1d2935;
       font-family: "Segoe UI", Helvetica, Arial, sans-serif; }
header { background: #1f4e79; color: #fff; padding: 20px 40px; }
header h1 { margin: 0 0 6px; font-size: 26px; }
header p { margin: 0; opacity: 0.85; font-size: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 40px; }
.kpis { display: flex; gap: 12px; flex-wrap: wrap; margin: 8px 0 16px; }
.kpi { flex: 1 1 120px; background: #fff; border-radius: 6px;
       padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.kpi b { display: block; font-size: 24px; color: #1f4e79; }
.kpi span { font-size: 13px; color: #5b6b7a; }
section.chart { background: #fff; border-radius: 6px; margin: 0 0 18px;
                padding: 8px 12px 4px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
p.caption, p.note { margin: 0 8px 12px; font-size: 14px; line-height: 1.45;
            color: #34495e; }
footer { font-size: 12px; color: #6b7b8a; text-align: center; margin-top: 20px; }
p.warning { background: #fdecea; border-left: 4px solid #c0392b; margin: 8px 0;
            padding: 10px 14px; font-size: 14px; border-radius: 4px; }
section.actions { background: #fff; border-radius: 6px; margin: 0 0 18px;
                  padding: 8px 12px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
section.actions h2 { font-size: 18px; margin: 8px; }
div.table { overflow-x: auto; margin: 0 8px 12px; }
table { border-collapse: collapse; font-size: 13px; white-space: nowrap; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e3e8ee; }
th { color: #5b6b7a; font-weight: 600; }
@media (max-width: 700px) {
  header { padding: 14px 16px; }
  header h1 { font-size: 22px; }
  main { padding: 10px 8px 30px; }
  .kpi { flex: 1 1 40%; padding: 10px 12px; }
  .kpi b { font-size: 20px; }
  section.chart { padding: 6px 4px 2px; }
}
"""

_DRAW = """
// On a phone-sized screen: smaller type, margins that fit the labels, and
// heat-map cells without their figures (they stay in the hover text).
var narrow = window.innerWidth < 700;
document.querySelectorAll("script.figure-data").forEach(function (node) {
  var figure = JSON.parse(node.textContent);
  if (narrow) {
    var layout = figure.layout;
    layout.margin = {l: 10, r: 10, t: 60, b: 30, autoexpand: true};
    layout.font = Object.assign({}, layout.font, {size: 10});
    layout.title = Object.assign({}, layout.title, {font: {size: 14}});
    ["xaxis", "yaxis", "yaxis2"].forEach(function (axis) {
      if (layout[axis]) { layout[axis].automargin = true; }
    });
    figure.data.forEach(function (trace) {
      if (trace.type === "heatmap") { trace.texttemplate = ""; }
      if (trace.type === "funnel") { trace.textposition = "inside"; }
    });
    // a legend below the plot takes the place of the x axis title
    if (layout.showlegend !== false && layout.xaxis) {
      layout.xaxis.title = {text: ""};
    }
  }
  Plotly.newPlot(node.getAttribute("data-target"), figure.data, figure.layout,
                 {displaylogo: false, responsive: true,
                  displayModeBar: narrow ? false : "hover"});
});
"""


def _figure_json(figure: Any) -> str:
    """A figure as JSON that is safe inside a <script> element."""
    text = _plotly().io.to_json(figure, validate=True, engine="json")
    return text.replace("</", "<\\/")


def _kpis(data: ReportData) -> str:
    """The row of headline figures above the charts."""
    funnel = data.funnel
    auc = next((b["auc"] for b in data.calibration if b["auc"] is not None), None)
    spend = sum(cohort["spend"] for cohort in data.cohorts)
    items = [
        (f"{funnel['leads']:,}", "leads"),
        (f"{funnel['mqls']:,}", f"MQLs ({_pct(funnel['mqls'], funnel['leads'])})"),
        (f"{_pct(funnel['sqls'], funnel['mqls'])}", "MQL→SQL conversion"),
        (f"{funnel['customers']:,}", "customers"),
        (f"{auc:.3f}" if auc is not None else "n/a", "score AUC (SQL)"),
        (
            "n/a" if _source_empty(data, "sales_activities")
            else _pct(data.touched_within_5_minutes, data.mql_events),
            "MQL events touched within 5 minutes",
        ),
        (
            "n/a" if _source_empty(data, "marketing_spend") or not funnel["mqls"]
            else f"{spend / funnel['mqls']:,.2f}",
            "cost per MQL",
        ),
    ]
    return "\n".join(
        f'<div class="kpi"><b>{html.escape(value)}</b>'
        f"<span>{html.escape(label)}</span></div>"
        for value, label in items
    )


def _table(
    table_id: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> str:
    """An HTML table (scrolls sideways on a narrow screen)."""
    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row)
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table"><table id="{table_id}"><thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def _score_text(value: Any) -> str:
    return f"{float(value):.1f}" if value is not None else ""


def _actions(data: ReportData) -> str:
    """The leads needing action: MQLs past the speed-to-lead SLA with no
    sales touch, and the hottest leads sales has not accepted yet."""
    parts = ['<section class="actions" id="actions"><h2>Leads needing action</h2>']
    overdue = data.overdue
    if _source_empty(data, "sales_activities"):
        parts.append(
            '<p class="note" id="note-overdue">'
            + html.escape(_empty_source_text(
                "sales_activities", "sales activities"
            ) + " Which MQLs are past the speed-to-lead SLA cannot be told.")
            + "</p>"
        )
    else:
        sla = (
            (overdue[0]["sla_due_at"] - overdue[0]["mql_at"]).total_seconds() / 60
            if overdue and isinstance(overdue[0]["mql_at"], datetime) else None
        )
        parts.append(
            '<p class="note" id="note-overdue">'
            + html.escape(
                f"{len(overdue):,} MQL events are past the speed-to-lead SLA"
                + (f" ({sla:g} minutes)" if sla is not None else "")
                + " with no sales touch and no decision yet"
                + (f"; the {min(len(overdue), _ACTION_ROWS)} newest:"
                   if overdue else ".")
            )
            + "</p>"
        )
        if overdue:
            parts.append(_table("overdue", (
                "lead", "owner", "MQL at", "touch due by", "path", "lead score",
            ), [
                (row["lead_id"], row["owner_id"] or "", _time_text(row["mql_at"]),
                 _time_text(row["sla_due_at"]), row["path"],
                 _score_text(row["lead_score"]))
                for row in overdue[:_ACTION_ROWS]
            ]))
    parts.append(
        '<p class="note" id="note-hot">'
        + html.escape(
            f"Hot leads: the {len(data.hot)} open MQLs (stage mql: qualified, "
            "no sales decision yet) with the highest lead scores now."
            if data.hot else "No lead is waiting in stage mql."
        )
        + "</p>"
    )
    if data.hot:
        parts.append(_table("hot", (
            "lead", "owner", "stage", "grade", "lead score", "fit", "engagement",
        ), [
            (row["lead_id"], row["owner_id"] or "", row["lifecycle_stage"],
             row["lead_grade"] or "", _score_text(row["lead_score"]),
             _score_text(row["fit_score"]), _score_text(row["engagement_score"]))
            for row in data.hot
        ]))
    parts.append("</section>")
    return "\n".join(parts)


def _warnings(data: ReportData) -> str:
    """The freshness warnings, one box each."""
    return "\n".join(
        f'<p class="warning">{html.escape(warning)}</p>'
        for warning in data.warnings
    )


def render_html(data: ReportData, charts: Sequence[Chart]) -> str:
    """The whole report page, with plotly.js inline."""
    plotly_js = _plotly().offline.get_plotlyjs()
    made_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    built = f", built {data.built_at} UTC" if data.built_at else ""
    sections = []
    for chart in charts:
        sections.append(
            f'<section class="chart" id="chart-{chart.chart_id}">\n'
            f'<div id="figure-{chart.chart_id}" class="figure" '
            f'aria-label="{html.escape(chart.title)}"></div>\n'
            f'<script type="application/json" class="figure-data" '
            f'data-chart="{chart.chart_id}" data-target="figure-{chart.chart_id}">'
            f"{_figure_json(chart.figure)}</script>\n"
            f'<p class="caption" id="caption-{chart.chart_id}">'
            f"{html.escape(chart.caption)}</p>\n</section>"
        )
    body = "\n".join(sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lead funnel report</title>
<style>{_STYLE}</style>
<script type="text/javascript">{plotly_js}</script>
</head>
<body>
<header>
<h1>Lead funnel report</h1>
<p>Scores as of {html.escape(data.as_of)}: marts of {html.escape(data.source)}{built},
read {made_at}.</p>
</header>
<main>
{_warnings(data)}
<div class="kpis">
{_kpis(data)}
</div>
{_actions(data)}
{body}
<footer>Made by <code>lead-scoring report</code> from {", ".join(MARTS)} and
rpt_build_inputs. Self-contained: opens with no server and no internet.</footer>
</main>
<script type="text/javascript">{_DRAW}</script>
</body>
</html>
"""


def write_report(
    out: str | os.PathLike[str],
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
    target: str | None = None,
    progress: Progress | None = None,
    raw_schema: str = "raw",
) -> Path:
    """Read the marts and write the HTML report to `out`; return its path."""
    report = progress or (lambda message: None)
    out_path = Path(out)
    if out_path.is_dir():
        raise ReportError(
            f"{out_path} is a folder", hint="pass a file name, e.g. --out report.html"
        )
    _plotly()
    data = read_marts(
        target, duckdb_path=duckdb_path, schema=schema, raw_schema=raw_schema
    )
    report(f"report: read the marts of {data.source}")
    for warning in data.warnings:
        report(f"report: warning: {warning}")
    if not data.funnel["leads"]:
        raise ReportError(
            f"the marts in {data.source} hold no leads",
            hint="load raw data (`lead-scoring load --from DIR`) and run dbt "
            "build again",
        )
    report(
        f"report: {data.funnel['leads']:,} leads, {data.mql_events:,} MQL events, "
        f"{len(data.cohorts):,} cohort rows, {len(data.calibration):,} score bands"
    )
    charts = build_charts(data)
    for chart in charts:
        report(f"report: chart {chart.chart_id}: {chart.title}")
    page = render_html(data, charts)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=".report-", suffix=".html", dir=out_path.parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, out_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    report(f"report: wrote {out_path} ({out_path.stat().st_size / 1e6:.1f} MB)")
    return out_path
