"""The funnel report: a self-contained HTML page drawn from the built marts.

`write_report` reads the marts (report_data.read_marts), draws the charts
(report_charts: the funnel and sales' follow-up; report_score_charts: the
score, the threshold and the rules) and writes one HTML file: the freshness
warnings, headline figures, the leads needing action, then each chart with a
caption stating the figures it shows. The plotting library (plotly) and its
JavaScript are embedded inline, so the file opens in a browser with no server
and no internet. Every figure is also embedded as plain JSON (`<script
type="application/json" class="figure-data">`), which is what the page draws
and what tests read.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lead_scoring.analysis.report_charts import (
    Chart, conversion_chart, cohort_chart, feedback_chart, funnel_chart,
    load_plotly, spend_chart, speed_chart,
)
from lead_scoring.analysis.report_data import (
    ACTION_ROWS, MARTS, Progress, ReportData, empty_source_text, pct,
    source_empty, time_text, read_marts,
)
from lead_scoring.analysis.report_score_charts import (
    backtest_chart, calibration_chart, rules_chart, score_chart,
)
from lead_scoring.errors import ReportError

__all__ = ["ReportData", "ReportError", "build_charts", "read_marts",
           "render_html", "write_report"]


def build_charts(data: ReportData) -> list[Chart]:
    """The charts of the report, in page order."""
    go = load_plotly().graph_objects
    return [
        funnel_chart(go, data),
        cohort_chart(go, data),
        conversion_chart(go, data),
        score_chart(go, data),
        calibration_chart(go, data),
        backtest_chart(go, data),
        spend_chart(go, data),
        speed_chart(go, data),
        feedback_chart(go, data),
        rules_chart(go, data),
    ]
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
    text = load_plotly().io.to_json(figure, validate=True, engine="json")
    return text.replace("</", "<\\/")
def _kpis(data: ReportData) -> str:
    """The row of headline figures above the charts."""
    funnel = data.funnel
    auc = next((b["auc"] for b in data.calibration if b["auc"] is not None), None)
    spend = sum(cohort["spend"] for cohort in data.cohorts)
    items = [
        (f"{funnel['leads']:,}", "leads"),
        (f"{funnel['mqls']:,}", f"MQLs ({pct(funnel['mqls'], funnel['leads'])})"),
        (f"{pct(funnel['sqls'], funnel['mqls'])}", "MQL→SQL conversion"),
        (f"{funnel['customers']:,}", "customers"),
        (f"{auc:.3f}" if auc is not None else "n/a", "score AUC (SQL)"),
        (
            "n/a" if source_empty(data, "sales_activities")
            else pct(data.touched_within_5_minutes, data.mql_events),
            "MQL events touched within 5 minutes",
        ),
        (
            "n/a" if source_empty(data, "marketing_spend") or not funnel["mqls"]
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
    if source_empty(data, "sales_activities"):
        parts.append(
            '<p class="note" id="note-overdue">'
            + html.escape(empty_source_text(
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
                + (f"; the {min(len(overdue), ACTION_ROWS)} newest:"
                   if overdue else ".")
            )
            + "</p>"
        )
        if overdue:
            parts.append(_table("overdue", (
                "lead", "owner", "MQL at", "touch due by", "path", "lead score",
            ), [
                (row["lead_id"], row["owner_id"] or "", time_text(row["mql_at"]),
                 time_text(row["sla_due_at"]), row["path"],
                 _score_text(row["lead_score"]))
                for row in overdue[:ACTION_ROWS]
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
def _rules_review(review: Any) -> str:
    """What calibrating the rules against outcomes says to do (a
    calibrate.RulesReview), with its calls for review."""
    parts = [
        '<section class="actions" id="rules-review">',
        f"<h2>Scoring rules against outcomes: {html.escape(review.decision)}</h2>",
        f'<p class="note" id="rules-verdict">'
        f"{html.escape(review.why[:1].upper() + review.why[1:])}.</p>",
    ]
    if review.calls:
        shown = review.calls[:ACTION_ROWS]
        parts.append(
            '<ul id="rules-calls">'
            + "".join(f"<li>{html.escape(call[2:])}</li>" for call in shown)
            + "</ul>"
        )
        if len(review.calls) > len(shown):
            parts.append(
                f'<p class="note">... and {len(review.calls) - len(shown)} more '
                "in the calibration report.</p>"
            )
    parts.append(
        '<p class="note">The proposal, the evidence of every rule and the '
        "thresholds for sales capacity: <code>lead-scoring calibrate --out "
        "calibration</code> (docs/calibration.md).</p></section>"
    )
    return "\n".join(parts)


def _warnings(data: ReportData) -> str:
    """The freshness warnings, one box each."""
    return "\n".join(
        f'<p class="warning">{html.escape(warning)}</p>'
        for warning in data.warnings
    )
def render_html(
    data: ReportData, charts: Sequence[Chart], review: Any = None
) -> str:
    """The whole report page, with plotly.js inline; `review` (a
    calibrate.RulesReview) adds what to do with the scoring rules."""
    plotly_js = load_plotly().offline.get_plotlyjs()
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
{_rules_review(review) if review is not None else ""}
{body}
<footer>Made by <code>lead-scoring report</code> from {", ".join(MARTS)} and
rpt_build_inputs. Self-contained: opens with no server and no internet.</footer>
</main>
<script type="text/javascript">{_DRAW}</script>
</body>
</html>
"""
def review_rules_of(
    target: str | None,
    duckdb_path: str | os.PathLike[str] | None,
    schema: str,
    project_dir: str | os.PathLike[str],
) -> Any:
    """Calibrate the project's rules on the published marts: what to do."""
    from lead_scoring.analysis import calibrate
    from lead_scoring.warehouse.readers import open_reader

    with open_reader(target, duckdb_path) as reader:
        return calibrate.review_rules(
            calibrate.warehouse_query(reader), schema, project_dir
        )


def write_report(
    out: str | os.PathLike[str],
    duckdb_path: str | os.PathLike[str] | None = None,
    schema: str = "analytics",
    target: str | None = None,
    progress: Progress | None = None,
    project_dir: str | os.PathLike[str] = ".",
) -> Path:
    """Read the marts and write the HTML report to `out`; return its path.

    The project's seed and vars (`project_dir`) are what the scoring rules
    are calibrated with for the section on them."""
    report = progress or (lambda message: None)
    out_path = Path(out)
    if out_path.is_dir():
        raise ReportError(
            f"{out_path} is a folder", hint="pass a file name, e.g. --out report.html"
        )
    load_plotly()
    data = read_marts(target, duckdb_path=duckdb_path, schema=schema)
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
    review = review_rules_of(target, duckdb_path, schema, project_dir)
    report(f"report: scoring rules against outcomes: {review.decision}")
    page = render_html(data, charts, review)
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
