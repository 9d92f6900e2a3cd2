"""Charts of the funnel report about the funnel and sales' follow-up: the
MQL path, MQLs and conversion by cohort (maturing cohorts marked), spend,
speed to lead and sales feedback. Also the pieces every chart shares: the
Chart record, the common layout and the plotly import."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from lead_scoring.analysis.report_data import (
    MATURE_SHARE, FIVE_MINUTES, ReportData, empty_source_text, pct,
    source_empty,
)
from lead_scoring.errors import ReportError


@dataclass(frozen=True)
class Chart:
    """One chart of the report: an id, its plotly figure and its caption."""

    chart_id: str
    title: str
    figure: Any
    caption: str


def chart_layout(go: Any, title: str, **extra: Any) -> Any:
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


def load_plotly() -> Any:
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


def funnel_chart(go: Any, data: ReportData) -> Chart:
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
        layout=chart_layout(go, title, height=420, showlegend=False,
                       margin={"l": 170, "r": 30, "t": 70, "b": 40}),
    )
    off_opportunities = funnel["opportunities"] - data.path_opportunities
    off_customers = funnel["customers"] - data.path_customers
    caption = (
        f"Leads {funnel['leads']:,} → MQLs {funnel['mqls']:,} "
        f"({pct(funnel['mqls'], funnel['leads'])} of leads) → SQLs "
        f"{funnel['sqls']:,} ({pct(funnel['sqls'], funnel['mqls'])} of MQLs) → "
        f"opportunities from an SQL {data.path_opportunities:,} "
        f"({pct(data.path_opportunities, funnel['sqls'])} of SQLs) → "
        f"customers from an SQL {data.path_customers:,} "
        f"({pct(data.path_customers, funnel['leads'], 2)} of leads). "
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
    MATURE_SHARE of the leads that reached SQL needed from creation to
    SQL. None when no lead reached SQL (nothing to tell by)."""
    if not data.days_to_sql or data.as_of == "unknown":
        return [], None
    lag = float(np.quantile(data.days_to_sql, MATURE_SHARE))
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
        f"{MATURE_SHARE:.0%} of the leads that reached SQL did so within "
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


def _mart_rate(data: ReportData, month: str, source: str) -> float | None:
    """rpt_funnel_conversion.mql_to_sql_rate of a cell (None without MQLs or
    without a row): the rate as the mart defines it."""
    for cohort in data.cohorts:
        if cohort["cohort_month"] == month and cohort["lead_source"] == source:
            return cohort["mql_to_sql_rate"]
    return None


def cohort_chart(go: Any, data: ReportData) -> Chart:
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
        layout=chart_layout(
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
        f"MQL→SQL {pct(total_sqls, total_mqls)} overall."
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


def conversion_chart(go: Any, data: ReportData) -> Chart:
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
            rate = _mart_rate(data, month, source)
            row_z.append(None if rate is None else round(100 * rate, 2))
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
        layout=chart_layout(
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
        per_source.append(f"{source} {pct(sqls, mqls)} ({sqls:,} of {mqls:,})")
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


def spend_chart(go: Any, data: ReportData) -> Chart:
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
    empty = source_empty(data, "marketing_spend")
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
        layout=chart_layout(
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
        caption = empty_source_text("marketing_spend", "marketing spend rows")
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


def _histogram(values: Sequence[float], edges: np.ndarray) -> list[int]:
    """Counts of values per bin (lower edge excluded, upper edge included)."""
    if not len(values):
        return [0] * (len(edges) - 1)
    index = np.searchsorted(edges, np.asarray(values, dtype=float), side="left") - 1
    index = np.clip(index, 0, len(edges) - 2)
    return np.bincount(index, minlength=len(edges) - 1).astype(int).tolist()


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


def speed_chart(go: Any, data: ReportData) -> Chart:
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
        layout=chart_layout(
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
    if source_empty(data, "sales_activities"):
        return Chart("speed", title, figure, empty_source_text(
            "sales_activities", "sales activities (calls, e-mails, meetings)"
        ) + f" Speed to lead cannot be told for the {data.mql_events:,} MQL "
            "events.")
    caption = (
        f"{touched:,} of {data.mql_events:,} MQL events were touched by sales "
        f"({data.mql_events - touched:,} not yet); "
        f"{data.touched_within_5_minutes:,} within 5 minutes "
        f"({pct(data.touched_within_5_minutes, touched)} of touched, "
        f"{pct(data.touched_within_5_minutes, data.mql_events)} of all MQL "
        f"events); median speed to lead {median}. Green bars end at or "
        "before the 5-minute line."
    )
    return Chart("speed", title, figure, caption)


def feedback_chart(go: Any, data: ReportData) -> Chart:
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
        layout=chart_layout(
            go, title, height=max(320, 110 + 24 * len(rows)), showlegend=False,
            margin={"l": 260, "r": 30, "t": 70, "b": 50},
            xaxis={"title": {"text": "MQL events"}},
            yaxis={"type": "category", "automargin": True},
        ),
    )
    if source_empty(data, "lead_status_changes"):
        caption = empty_source_text("lead_status_changes", "status changes")
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
                f"{count:,} {outcome} ({pct(count, data.mql_events)})"
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
