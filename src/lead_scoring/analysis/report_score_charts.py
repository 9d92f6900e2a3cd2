"""Charts of the funnel report about the score itself: the score
distribution and calibration against the MQL threshold, the threshold
back-test against sales capacity, and each rule's effectiveness."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lead_scoring.analysis.report_charts import Chart, chart_layout
from lead_scoring.analysis.report_data import (
    MIN_BAND_LEADS, ReportData, pct,
)


def _band_width(data: ReportData) -> float:
    """The score band width of rpt_score_calibration (20 when unknown)."""
    for band in data.calibration:
        if band["band_min"] is not None and band["band_max"] is not None:
            return float(band["band_max"]) - float(band["band_min"])
    return 20.0


def score_chart(go: Any, data: ReportData) -> Chart:
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
        layout=chart_layout(
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
        return f"{count:,} ({pct(count, len(scores))})"

    return (
        f" Dashed line: the MQL threshold {data.threshold:g}; at or above it "
        f"now: {above(data.scores_sql)} of the leads that reached SQL and "
        f"{above(data.scores_not_sql)} of the others."
    )


def calibration_chart(go: Any, data: ReportData) -> Chart:
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
                        "#1f4e79" if int(band["leads"]) >= MIN_BAND_LEADS
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
        layout=chart_layout(
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
    sizable = [band for band in bands if int(band["leads"]) >= MIN_BAND_LEADS]
    best = max(sizable, key=lambda band: band["conversion_rate"] or 0, default=None)
    caption = (
        f"AUC {auc_text} (rank-based AUC of lead_score against reaching SQL: "
        "1 = every SQL outscored every other lead, 0.5 = chance). "
        f"{sqls:,} of {leads:,} leads reached SQL ({pct(sqls, leads)} overall, "
        f"dashed line) in {len(bands)} bands of {_band_width(data):g} points"
        + (
            f"; the best band of at least {MIN_BAND_LEADS} leads is "
            f"{best['score_band']} with "
            f"{pct(best['sqls'], best['leads'])} ({best['sqls']} of "
            f"{best['leads']} leads)."
            if best is not None else "."
        )
    )
    caption += " Dot size follows the band's leads."
    small = [band for band in bands if int(band["leads"]) < MIN_BAND_LEADS]
    if small:
        caption += (
            f" Hollow dots: {len(small)} bands of fewer than {MIN_BAND_LEADS} "
            f"leads ({sum(int(band['leads']) for band in small):,} leads in all), "
            "too few to read a rate from."
        )
    if position is not None:
        caption += f" Dashed line: the MQL threshold {data.threshold:g}."
    return Chart("calibration", title, figure, caption)


def backtest_chart(go: Any, data: ReportData) -> Chart:
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
            f"{total / len(months):.1f} a month, {pct(sqls, total)} reached "
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
        layout=chart_layout(
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


def rules_chart(go: Any, data: ReportData) -> Chart:
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
        layout=chart_layout(
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
