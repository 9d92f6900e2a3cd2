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

The marts are read with plain SQL through lead_scoring.warehouse, so the
same queries run on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from lead_scoring.errors import ReportError
from lead_scoring.load import quote_identifier
from lead_scoring.warehouse import open_reader

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
)
FIVE_MINUTES = 5.0
# calibration caption: the best band among bands with at least this many leads
_MIN_BAND_LEADS = 20
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
    """Everything the charts show, read from the marts."""

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


def _queries(schema: str) -> dict[str, str]:
    """The report's queries: plain SQL over the marts of a schema."""

    def mart(name: str) -> str:
        return f"{quote_identifier(schema)}.{quote_identifier(name)}"

    return {
        "cohorts": (
            "select cohort_month, lead_source, leads, mqls, sqls, "
            "opportunities, customers "
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
    }


def _report_data(
    source: str, rows: dict[str, list[tuple]]
) -> ReportData:
    """A ReportData from the rows of the `_queries` (any engine)."""
    cohort_columns = ("cohort_month", "lead_source") + tuple(
        column for column, _ in STAGES
    )
    cohorts = [
        {
            column: (int(value or 0) if index >= 2 else value)
            for index, (column, value) in enumerate(zip(cohort_columns, row))
        }
        for row in rows["cohorts"]
    ]
    for cohort in cohorts:
        month = cohort["cohort_month"]
        cohort["cohort_month"] = (
            month.strftime("%Y-%m") if isinstance(month, (date, datetime))
            else str(month)[:7]
        )
    funnel = {
        column: sum(cohort[column] for cohort in cohorts) for column, _ in STAGES
    }
    calibration_columns = (
        "score_band", "band_min", "band_max", "leads", "mqls", "sqls",
        "customers", "conversion_rate", "lift", "auc",
    )
    calibration = [dict(zip(calibration_columns, row)) for row in rows["calibration"]]
    speeds = [float(value) for value, _ in rows["speed"] if value is not None]
    as_of = rows["as_of"][0][0] if rows["as_of"] else None
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
    )


def read_marts(
    target: str | None = None,
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
) -> ReportData:
    """Read what the report shows from the marts of a built warehouse (DuckDB
    or PostgreSQL, lead_scoring.warehouse; default $LEAD_SCORING_TARGET)."""
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
        return _report_data(f"{reader.description} (schema {schema})", rows)


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


def _funnel_chart(go: Any, data: ReportData) -> Chart:
    """Funnel by stage, over every cohort."""
    counts = [data.funnel[column] for column, _ in STAGES]
    labels = [label for _, label in STAGES]
    title = "Funnel by stage"
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
        layout=_layout(go, title, height=420, showlegend=False),
    )
    funnel = data.funnel
    caption = (
        f"Leads {funnel['leads']:,} → MQLs {funnel['mqls']:,} "
        f"({_pct(funnel['mqls'], funnel['leads'])} of leads) → SQLs "
        f"{funnel['sqls']:,} ({_pct(funnel['sqls'], funnel['mqls'])} of MQLs) → "
        f"opportunities {funnel['opportunities']:,} → customers "
        f"{funnel['customers']:,} ({_pct(funnel['customers'], funnel['leads'], 2)}"
        " of leads). Sums over every cohort month and lead source of "
        "rpt_funnel_conversion; opportunities count every lead with an "
        "opportunity, with or without an MQL."
    )
    return Chart("funnel", title, figure, caption)


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
    traces.append(
        go.Scatter(
            x=months,
            y=rates,
            name="MQL→SQL % (right axis)",
            yaxis="y2",
            mode="lines+markers",
            line={"color": "#222222", "width": 2},
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
    )
    return Chart("cohorts", title, figure, caption)


def _conversion_chart(go: Any, data: ReportData) -> Chart:
    """MQL->SQL conversion as a heat map of cohort month x lead source."""
    months, sources = _months_and_sources(data)
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
            xaxis={"type": "category", "title": {"text": "cohort month"}},
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
    )
    return Chart("scores", title, figure, caption)


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
                marker={"color": "#1f4e79", "size": [
                    round(5 + 17 * math.sqrt(int(band["leads"]) / biggest), 2)
                    for band in bands
                ]},
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
            }],
            annotations=[{
                "xref": "paper", "x": 0.01, "yref": "y", "y": overall,
                "text": f"overall {overall:.1f}%", "showarrow": False,
                "yanchor": "bottom", "xanchor": "left",
                "font": {"color": "#c0392b"},
            }],
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
    return Chart("calibration", title, figure, caption)


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
    """The six charts of the report, in page order."""
    go = _plotly().graph_objects
    return [
        _funnel_chart(go, data),
        _cohort_chart(go, data),
        _conversion_chart(go, data),
        _score_chart(go, data),
        _calibration_chart(go, data),
        _speed_chart(go, data),
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
.kpi { flex: 1 1 150px; background: #fff; border-radius: 6px;
       padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.kpi b { display: block; font-size: 24px; color: #1f4e79; }
.kpi span { font-size: 13px; color: #5b6b7a; }
section.chart { background: #fff; border-radius: 6px; margin: 0 0 18px;
                padding: 8px 12px 4px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
p.caption { margin: 0 8px 12px; font-size: 14px; line-height: 1.45;
            color: #34495e; }
footer { font-size: 12px; color: #6b7b8a; text-align: center; margin-top: 20px; }
"""

_DRAW = """
document.querySelectorAll("script.figure-data").forEach(function (node) {
  var figure = JSON.parse(node.textContent);
  Plotly.newPlot(node.getAttribute("data-target"), figure.data, figure.layout,
                 {displaylogo: false, responsive: true});
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
    items = [
        (f"{funnel['leads']:,}", "leads"),
        (f"{funnel['mqls']:,}", f"MQLs ({_pct(funnel['mqls'], funnel['leads'])})"),
        (f"{_pct(funnel['sqls'], funnel['mqls'])}", "MQL→SQL conversion"),
        (f"{funnel['customers']:,}", "customers"),
        (f"{auc:.3f}" if auc is not None else "n/a", "score AUC (SQL)"),
        (
            _pct(data.touched_within_5_minutes, data.mql_events),
            "MQL events touched within 5 minutes",
        ),
    ]
    return "\n".join(
        f'<div class="kpi"><b>{html.escape(value)}</b>'
        f"<span>{html.escape(label)}</span></div>"
        for value, label in items
    )


def render_html(data: ReportData, charts: Sequence[Chart]) -> str:
    """The whole report page, with plotly.js inline."""
    plotly_js = _plotly().offline.get_plotlyjs()
    made_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
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
<p>Scores as of {html.escape(data.as_of)}: marts of {html.escape(data.source)},
read {made_at}.</p>
</header>
<main>
<div class="kpis">
{_kpis(data)}
</div>
{body}
<footer>Made by <code>lead-scoring report</code> from rpt_funnel_conversion,
rpt_score_calibration, dim_leads and fct_mql_events. Self-contained: opens with
no server and no internet.</footer>
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
) -> Path:
    """Read the marts and write the HTML report to `out`; return its path."""
    report = progress or (lambda message: None)
    out_path = Path(out)
    if out_path.is_dir():
        raise ReportError(
            f"{out_path} is a folder", hint="pass a file name, e.g. --out report.html"
        )
    _plotly()
    data = read_marts(target, duckdb_path=duckdb_path, schema=schema)
    report(f"report: read the marts of {data.source}")
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
