"""The funnel report (`lead-scoring report`): numbers, rendering, errors.

The report of the shared generated build is read twice: as HTML (the figure
JSON and the captions it embeds, compared with SQL over the marts) and as a
page rendered by headless Chromium (SVG charts in the DOM, and a screenshot
that must not be blank). The Chromium part skips without Debian's `chromium`
package unless LEAD_SCORING_REQUIRE_ALL=1 (as in CI, which installs it).
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from conftest import GENERATED_AS_OF, PROJECT_DIR, Warehouse
from lead_scoring.contract import RAW_TABLES
from lead_scoring.cli import main
from lead_scoring.warehouse.publish import published_path

STAGES = ("leads", "mqls", "sqls", "opportunities", "customers")
CHARTS = ("funnel", "cohorts", "conversion", "scores", "calibration", "backtest",
          "spend", "speed", "feedback", "rules")
WINDOW = (1280, 3600)


def _figures(page: str) -> dict[str, dict[str, Any]]:
    """The figure JSON embedded per chart id."""
    found = re.findall(
        r'<script type="application/json" class="figure-data" '
        r'data-chart="(\w+)" data-target="[\w-]+">(.*?)</script>',
        page,
        flags=re.DOTALL,
    )
    return {chart: json.loads(text) for chart, text in found}


def _captions(page: str) -> dict[str, str]:
    """The caption text per chart id."""
    found = re.findall(
        r'<p class="caption" id="caption-(\w+)">(.*?)</p>', page, flags=re.DOTALL
    )
    return {chart: html.unescape(text) for chart, text in found}


def _run(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; return (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def report(generated, tmp_path_factory) -> dict[str, Any]:
    """The report of the generated build, with the command's output."""
    warehouse, _ = generated
    out = Path(tmp_path_factory.mktemp("report")) / "funnel_report.html"
    status, stdout, stderr = _run(
        ["report", "--out", str(out), "--duckdb-path", str(warehouse.path),
         "--project-dir", str(PROJECT_DIR)]
    )
    assert status == 0, stderr
    page = out.read_text(encoding="utf-8")
    return {
        "warehouse": warehouse,
        "path": out,
        "page": page,
        "figures": _figures(page),
        "captions": _captions(page),
        "stdout": stdout,
        "stderr": stderr,
    }


def test_command_reports_progress_and_writes_one_file(report):
    assert f"wrote {report['path']}" in report["stdout"]
    lines = report["stderr"].splitlines()
    assert lines[0] == (
        f"report: read the marts of {published_path(report['warehouse'].path)} "
        "(schema analytics)"
    )
    assert [line.split(":")[1].strip() for line in lines if ": chart " in line] == [
        f"chart {chart}" for chart in CHARTS
    ]
    assert lines[-1].startswith(f"report: wrote {report['path']} (")
    assert sorted(report["figures"]) == sorted(CHARTS)
    assert sorted(report["captions"]) == sorted(CHARTS)
    for chart, figure in report["figures"].items():
        assert figure["layout"]["title"]["text"], chart
        assert figure["data"], chart


def test_header_states_the_as_of_of_the_scores(report):
    assert (
        f"<p>Scores as of {GENERATED_AS_OF}: marts of "
        f"{published_path(report['warehouse'].path)} "
        "(schema analytics)" in report["page"]
    )


def test_page_is_self_contained(report):
    page = report["page"]
    assert re.search(r"plotly\.js v\d", page), "plotly.js is not embedded"
    assert len(page) > 1_000_000
    # outside the inline scripts (plotly.js carries URLs in its strings),
    # nothing to fetch: no external script, stylesheet or image
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.DOTALL)
    assert "<script" not in markup and "<link" not in markup
    assert not re.search(r'\b(src|href)="(https?:)?//', markup)
    assert markup.count('class="caption"') == len(CHARTS)


def test_funnel_shows_the_mql_path_and_what_is_off_it(report):
    warehouse = report["warehouse"]
    (totals,) = warehouse.query(
        "select " + ", ".join(f"sum({stage})" for stage in STAGES)
        + " from analytics.rpt_funnel_conversion"
    )
    leads, mqls, sqls, opportunities, customers = (int(t) for t in totals)
    # each stage of the path inside the one above: leads of a cohort whose
    # MQL event sales accepted, with an opportunity, and a won one
    (path_opportunities, path_customers), = warehouse.query(
        "select count(distinct events.lead_id) filter (where opportunity_id is "
        "not null), count(distinct events.lead_id) filter (where won_at is not "
        "null) from analytics.fct_mql_events as events "
        "inner join analytics.dim_leads as leads using (lead_id) "
        "where events.sql_at is not null and leads.created_at is not null"
    )
    (trace,) = report["figures"]["funnel"]["data"]
    assert trace["type"] == "funnel"
    assert trace["y"] == ["Leads", "MQLs", "SQLs", "Opportunities from an SQL",
                          "Customers from an SQL"]
    assert trace["x"] == [leads, mqls, sqls, path_opportunities, path_customers]
    assert leads > mqls > sqls > path_opportunities > path_customers > 0
    assert opportunities > path_opportunities and customers >= path_customers
    caption = report["captions"]["funnel"]
    assert caption.startswith(
        f"Leads {leads:,} → MQLs {mqls:,} ({100 * mqls / leads:.1f}% of leads) "
        f"→ SQLs {sqls:,} ({100 * sqls / mqls:.1f}% of MQLs) → opportunities "
        f"from an SQL {path_opportunities:,}"
    )
    assert (
        f"Off this path: {opportunities - path_opportunities:,} more leads have "
        f"an opportunity ({opportunities:,} in all) and "
        f"{customers - path_customers:,} more are customers ({customers:,} in all)"
    ) in caption


def test_mqls_per_month_and_source(report):
    rows = report["warehouse"].query(
        "select strftime(cohort_month, '%Y-%m'), lead_source, mqls, sqls "
        "from analytics.rpt_funnel_conversion"
    )
    mqls = {(month, source): int(n) for month, source, n, _ in rows}
    months = sorted({month for month, _ in mqls})
    sources = {source for _, source in mqls}
    figure = report["figures"]["cohorts"]
    bars = [trace for trace in figure["data"] if trace["type"] == "bar"]
    (line,) = [trace for trace in figure["data"] if trace["type"] == "scatter"]
    assert {bar["name"] for bar in bars} == sources
    for bar in bars:
        assert bar["x"] == months
        assert bar["y"] == [mqls.get((month, bar["name"]), 0) for month in months]
    per_month = {m: sum(mqls.get((m, s), 0) for s in sources) for m in months}
    sqls_month = {m: 0 for m in months}
    for month, _, _, n in rows:
        sqls_month[month] += int(n)
    for month, rate in zip(line["x"], line["y"]):
        if per_month[month]:
            assert rate == pytest.approx(100 * sqls_month[month] / per_month[month],
                                         abs=0.01)
        else:
            assert rate is None
    caption = report["captions"]["cohorts"]
    assert caption.startswith(
        f"{sum(per_month.values()):,} MQLs in {len(months)} cohort months "
        f"({months[0]} to {months[-1]}) from {len(sources)} lead sources"
    )
    assert "MQLs per month: " + ", ".join(
        f"{m} {per_month[m]:,}" for m in months
    ) in caption


def test_conversion_heat_map_matches_the_cells(report):
    rows = report["warehouse"].query(
        "select strftime(cohort_month, '%Y-%m'), lead_source, mqls, sqls "
        "from analytics.rpt_funnel_conversion"
    )
    cells = {(m, s): (int(mq), int(sq)) for m, s, mq, sq in rows}
    (heat,) = report["figures"]["conversion"]["data"]
    assert heat["type"] == "heatmap"
    checked = 0
    for source, z_row, text_row in zip(heat["y"], heat["z"], heat["text"]):
        for month, rate, text in zip(heat["x"], z_row, text_row):
            mqls, sqls = cells.get((month, source), (0, 0))
            if mqls:
                assert text == f"{sqls}/{mqls}"
                assert rate == pytest.approx(100 * sqls / mqls, abs=0.01)
                checked += 1
            else:
                assert rate is None and text == ""
    assert checked == sum(1 for mqls, _ in cells.values() if mqls) > 10


def test_score_distribution_splits_leads_by_reaching_sql(report):
    warehouse = report["warehouse"]
    width = warehouse.query(
        "select any_value(band_max - band_min) from analytics.rpt_score_calibration"
    )[0][0]
    rows = warehouse.query(
        f"""
        select
            exists (
                select 1 from analytics.fct_mql_events as events
                where events.lead_id = leads.lead_id and events.sql_at is not null
            ) as has_reached_sql,
            floor(lead_score / {width}) * {width} + {width} / 2 as band_center,
            count(*)
        from analytics.dim_leads as leads
        where lead_score is not null
        group by all
        """
    )
    expected: dict[bool, dict[float, int]] = {True: {}, False: {}}
    for reached, center, count in rows:
        expected[reached][float(center)] = int(count)
    traces = {trace["name"].split(" (")[0]: trace
              for trace in report["figures"]["scores"]["data"]}
    assert set(traces) == {"reached SQL", "not reached SQL"}
    for name, reached in (("reached SQL", True), ("not reached SQL", False)):
        trace = traces[name]
        total = sum(expected[reached].values())
        assert trace["name"] == f"{name} ({total:,} leads)"
        shown = {x: n for x, n in zip(trace["x"], trace["customdata"]) if n}
        assert shown == expected[reached]
        assert sum(trace["y"]) == pytest.approx(100, abs=0.01)
    reached_total = sum(expected[True].values())
    sqls = warehouse.query("select sum(sqls) from analytics.rpt_score_calibration")
    assert reached_total == int(sqls[0][0]) > 0
    assert report["captions"]["scores"].startswith(f"{reached_total:,} leads reached SQL")


def test_calibration_curve_and_auc(report):
    bands = report["warehouse"].query(
        "select score_band, leads, sqls, conversion_rate, auc "
        "from analytics.rpt_score_calibration order by band_min"
    )
    auc = bands[0][4]
    assert 0.5 < auc <= 1
    figure = report["figures"]["calibration"]
    assert figure["layout"]["title"]["text"].endswith(f"(AUC {auc:.3f})")
    assert report["captions"]["calibration"].startswith(f"AUC {auc:.3f} ")
    bar, curve = figure["data"]
    assert bar["x"] == curve["x"] == [band for band, *_ in bands]
    assert bar["y"] == [leads for _, leads, *_ in bands]
    assert curve["y"] == pytest.approx([100 * rate for *_, rate, _ in bands], abs=1e-3)
    leads = sum(row[1] for row in bands)
    sqls = sum(row[2] for row in bands)
    assert f"{sqls:,} of {leads:,} leads reached SQL" in report["captions"]["calibration"]
    assert figure["layout"]["shapes"][0]["y0"] == pytest.approx(100 * sqls / leads)
    band, band_leads, band_sqls = report["warehouse"].query(
        "select score_band, leads, sqls from analytics.rpt_score_calibration "
        "where leads >= 20 order by conversion_rate desc, band_min limit 1"
    )[0]
    assert (
        f"the best band of at least 20 leads is {band} with "
        f"{100 * band_sqls / band_leads:.1f}% ({band_sqls} of {band_leads} leads)"
    ) in report["captions"]["calibration"]


def test_speed_to_lead_histogram_and_five_minute_line(report):
    warehouse = report["warehouse"]
    events, touched, within = warehouse.query(
        "select count(*), count(speed_to_lead_minutes), "
        "count(*) filter (where is_touched_within_5_minutes) "
        "from analytics.fct_mql_events"
    )[0]
    assert touched > within > 0
    figure = report["figures"]["speed"]
    (bars,) = figure["data"]
    assert sum(bars["y"]) == touched
    # every bin against the mart: (low, high] minutes, the first one from 0
    for index, ((low, high, *_), count) in enumerate(zip(bars["customdata"], bars["y"])):
        lower = "" if index == 0 else f"speed_to_lead_minutes > {low} and "
        (expected,) = warehouse.query(
            f"select count(*) from analytics.fct_mql_events "
            f"where {lower}speed_to_lead_minutes <= {high}"
        )[0]
        assert count == expected, (low, high)
    # the bins left of the line hold exactly the events touched within 5 minutes
    assert sum(n for (_, high, *_), n in zip(bars["customdata"], bars["y"])
               if high <= 5 + 1e-9) == within
    (line,) = figure["layout"]["shapes"]
    assert line["type"] == "line" and line["xref"] == "x"
    assert line["x0"] == line["x1"] == pytest.approx(math.log10(5))
    assert figure["layout"]["annotations"][0]["text"] == f"5 minutes: {within:,} within"
    assert report["captions"]["speed"].startswith(
        f"{touched:,} of {events:,} MQL events were touched by sales "
        f"({events - touched:,} not yet); {within:,} within 5 minutes"
    )


def test_threshold_is_drawn_on_the_score_charts(report):
    warehouse = report["warehouse"]
    ((threshold,),) = warehouse.query(
        "select mql_score_threshold from analytics.rpt_threshold_backtest "
        "where is_current_threshold limit 1"
    )
    assert threshold == 70  # var mql_score_threshold's default
    scores = report["figures"]["scores"]["layout"]
    assert scores["meta"]["mql_score_threshold"] == threshold
    (line,) = scores["shapes"]
    assert line["x0"] == line["x1"] == threshold
    (above_sql, sql_total, above_other, other_total), = warehouse.query(
        f"""
        select
            count(*) filter (where reached and round(lead_score, 6) >= {threshold}),
            count(*) filter (where reached),
            count(*) filter (where not reached and round(lead_score, 6) >= {threshold}),
            count(*) filter (where not reached)
        from (
            select lead_score, lead_id in (
                select lead_id from analytics.fct_mql_events
                where sql_at is not null
            ) as reached
            from analytics.dim_leads where lead_score is not null
        )
        """
    )
    assert (
        f"at or above it now: {above_sql:,} ({100 * above_sql / sql_total:.1f}%) "
        f"of the leads that reached SQL and {above_other:,} "
        f"({100 * above_other / other_total:.1f}%) of the others"
    ) in report["captions"]["scores"]
    # on the calibration chart's category axis: inside the band holding it
    calibration = report["figures"]["calibration"]
    bands = calibration["data"][0]["x"]
    (mark,) = [shape for shape in calibration["layout"]["shapes"]
               if shape.get("name") == "MQL threshold"]
    index = round(mark["x0"])
    band_min, band_max = (float(edge) for edge in
                          bands[index].strip("[)").split(","))
    assert band_min <= threshold < band_max
    # bands too small to read are hollow
    leads = calibration["data"][0]["y"]
    colours = calibration["data"][1]["marker"]["color"]
    assert [colour == "#ffffff" for colour in colours] == [n < 20 for n in leads]
    assert any(n < 20 for n in leads)


def test_backtest_lines_match_the_mart(report):
    rows = report["warehouse"].query(
        "select mql_score_threshold, strftime(mql_month, '%Y-%m'), mqls, "
        "sales_capacity, is_current_threshold "
        "from analytics.rpt_threshold_backtest"
    )
    months = sorted({month for _, month, *_ in rows})
    figure = report["figures"]["backtest"]
    thresholds = sorted({float(t) for t, *_ in rows})
    assert len(figure["data"]) == len(thresholds) > 3
    for threshold, trace in zip(thresholds, figure["data"]):
        counts = {month: n for t, month, n, *_ in rows if float(t) == threshold}
        assert trace["x"] == months
        assert trace["y"] == [counts.get(month, 0) for month in months]
        current = any(c for t, *_, c in rows if float(t) == threshold)
        assert trace["name"] == f"{threshold:g}" + (" (in force)" if current else "")
    capacity = rows[0][3]
    assert figure["layout"]["shapes"][0]["y0"] == capacity
    current_rows = [n for t, _, n, _, c in rows if c]
    assert (
        f"70 (in force): {sum(current_rows) / len(months):.1f} a month"
        in report["captions"]["backtest"]
    )


def test_spend_cost_per_mql_and_cac_add_up_to_the_mart(report):
    rows = report["warehouse"].query(
        "select strftime(cohort_month, '%Y-%m'), sum(spend), sum(mqls), "
        "sum(customers) from analytics.rpt_funnel_conversion group by 1 order by 1"
    )
    bars, per_mql, cac = report["figures"]["spend"]["data"]
    assert bars["x"] == [month for month, *_ in rows]
    assert bars["y"] == pytest.approx([float(spend) for _, spend, *_ in rows],
                                      abs=0.006)
    for (_, spend, mqls, customers), shown_mql, shown_cac in zip(
        rows, per_mql["y"], cac["y"]
    ):
        assert shown_mql == (pytest.approx(spend / mqls, abs=0.006) if mqls else None)
        assert shown_cac == (
            pytest.approx(spend / customers, abs=0.006) if customers else None
        )
    spend = sum(float(row[1]) for row in rows)
    mqls = sum(int(row[2]) for row in rows)
    customers = sum(int(row[3]) for row in rows)
    assert report["captions"]["spend"].startswith(
        f"Spend {spend:,.2f} over {len(rows)} cohort months; {mqls:,} MQLs, "
        f"cost per MQL {spend / mqls:,.2f}; {customers:,} customers, CAC "
        f"{spend / customers:,.2f}."
    )


def test_sales_feedback_bars_sum_the_mart(report):
    rows = report["warehouse"].query(
        "select outcome, outcome_reason, sum(mql_events) "
        "from analytics.rpt_sales_feedback group by 1, 2"
    )
    (bars,) = report["figures"]["feedback"]["data"]
    shown = dict(zip(bars["y"], bars["x"]))
    assert shown == {f"{outcome}: {reason}": int(n) for outcome, reason, n in rows}
    assert bars["x"] == sorted(bars["x"])  # the most frequent on top
    (events,) = report["warehouse"].query(
        "select count(*) from analytics.fct_mql_events"
    )[0]
    rejected = sum(int(n) for outcome, _, n in rows if outcome == "rejected")
    assert (
        f"Of {events:,} MQL events, sales turned back" in report["captions"]["feedback"]
    )
    assert f"{rejected:,} rejected ({100 * rejected / events:.1f}%)" in \
        report["captions"]["feedback"]


def test_rule_effectiveness_shows_every_measured_rule(report):
    rows = report["warehouse"].query(
        "select rule_id, log_odds_ratio, log_odds_ratio_ci_low, "
        "log_odds_ratio_ci_high, never_fires from analytics.rpt_rule_effectiveness"
    )
    (dots,) = report["figures"]["rules"]["data"]
    measured = {rule: (ratio, low, high) for rule, ratio, low, high, _ in rows
                if ratio is not None}
    assert sorted(dots["y"]) == sorted(measured)
    for rule, x, plus, minus in zip(dots["y"], dots["x"], dots["error_x"]["array"],
                                    dots["error_x"]["arrayminus"]):
        ratio, low, high = measured[rule]
        assert x == pytest.approx(ratio, abs=1e-4)
        assert x + plus == pytest.approx(high, abs=2e-4)
        assert x - minus == pytest.approx(low, abs=2e-4)
    caption = report["captions"]["rules"]
    assert caption.startswith(f"{len(rows)} active rules: ")
    more = sum(1 for ratio, low, high in measured.values() if low > 0)
    assert f"{more} converts more" in caption
    never = sorted(rule for rule, *_, never_fires in rows if never_fires)
    if never:
        assert f"Never fire: {', '.join(never)}." in caption
    else:
        assert "Never fire" not in caption


def _action_rows(page: str, table_id: str) -> list[list[str]]:
    """The body rows of an action table of the page, as text."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.DOTALL)
    assert table, table_id
    return [
        [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1).split("<tbody>")[1])
    ]


def test_leads_needing_action_match_the_marts(report):
    warehouse = report["warehouse"]
    overdue = warehouse.query(
        "select events.lead_id from analytics.fct_mql_events as events "
        "inner join analytics.dim_leads as leads using (lead_id) "
        "where events.first_sales_touch_at is null and outcome = 'pending' "
        "and events.sla_due_at < leads.scores_as_of "
        "order by events.mql_at desc, events.lead_id"
    )
    assert len(overdue) > 25
    ((sla,),) = warehouse.query(
        "select distinct datediff('minute', mql_at, sla_due_at) "
        "from analytics.fct_mql_events"
    )
    assert sla == 60
    caption = re.search(
        r'<p class="note" id="note-overdue">(.*?)</p>', report["page"]
    ).group(1)
    assert html.unescape(caption).startswith(
        f"{len(overdue):,} MQL events are past the speed-to-lead SLA (60 minutes) "
        "with no sales touch"
    )
    shown = _action_rows(report["page"], "overdue")
    assert [row[0] for row in shown] == [lead for (lead,) in overdue[:25]]
    hot = warehouse.query(
        "select lead_id, round(lead_score, 1) from analytics.dim_leads "
        "where lifecycle_stage = 'mql' order by lead_score desc, lead_id limit 25"
    )
    shown = _action_rows(report["page"], "hot")
    assert [(row[0], float(row[4])) for row in shown] == [
        (lead, float(score)) for lead, score in hot
    ]
    assert all(row[2] == "mql" for row in shown)


def test_young_cohorts_are_marked_as_maturing(report):
    warehouse = report["warehouse"]
    lags = [float(days) for (days,) in warehouse.query(
        "select epoch(min(events.sql_at) - leads.created_at) / 86400 "
        "from analytics.fct_mql_events as events "
        "inner join analytics.dim_leads as leads using (lead_id) "
        "where events.sql_at is not null and leads.created_at is not null "
        "group by leads.lead_id, leads.created_at"
    )]
    lag = float(np.quantile(lags, 0.8))
    as_of = np.datetime64(GENERATED_AS_OF.replace(" ", "T"))
    figure = report["figures"]["cohorts"]
    (line,) = [t for t in figure["data"] if t["type"] == "scatter"]
    maturing = []
    for month, colour in zip(line["x"], line["marker"]["color"]):
        ended = np.datetime64(month, "M") + np.timedelta64(1, "M")
        young = (as_of - ended.astype("datetime64[s]")) / np.timedelta64(1, "D") < lag
        assert (colour == "#ffffff") == young, month
        if young:
            maturing.append(month)
    assert 0 < len(maturing) < len(line["x"])
    assert (
        f"Still maturing (hollow): {maturing[0]} to {maturing[-1]}; 80% of the "
        f"leads that reached SQL did so within {lag:.0f} days"
    ) in report["captions"]["cohorts"]
    ticks = report["figures"]["conversion"]["layout"]["xaxis"]["ticktext"]
    assert [tick for tick in ticks if tick.endswith("*")] == [
        f"{month}*" for month in maturing
    ]


@pytest.fixture(scope="module")
def sparse(tmp_path_factory) -> Warehouse:
    """A small build with no sales activities, status changes,
    opportunities or spend: the report says n/a where they are needed."""
    root = Path(tmp_path_factory.mktemp("sparse"))
    warehouse = Warehouse(root)
    leads = [
        {"lead_id": f"L{index}", "email": f"p{index}@acme.com",
         "job_title": "VP Marketing", "employee_count": "500",
         "lead_source": "webinar", "created_at": "2025-01-05 10:00:00",
         "updated_at": "2025-01-05 10:00:00"}
        for index in range(6)
    ]
    activities = [
        {"activity_id": f"A{index}-{step}", "lead_id": f"L{index}",
         "activity_type": kind, "occurred_at": f"2025-01-{10 + step:02d} 09:00:00"}
        for index in range(6)
        for step, kind in enumerate(["demo_request", "pricing_page_view",
                                     "webinar_attendance"])
    ]
    warehouse.write_raw({"leads": leads, "activities": activities})
    warehouse.dbt("build", vars={"as_of": "2025-02-01 00:00:00"})
    return warehouse


def test_empty_sources_read_n_a_not_zero(sparse, tmp_path):
    out = tmp_path / "sparse.html"
    status, _, err = _run(["report", "--out", str(out),
                           "--duckdb-path", str(sparse.path)])
    assert status == 0, err
    page = out.read_text(encoding="utf-8")
    captions = _captions(page)
    assert captions["speed"].startswith(
        "n/a: no sales activities (calls, e-mails, meetings) were loaded "
        "(raw.sales_activities was empty when the marts were built)."
    )
    assert captions["spend"].startswith("n/a: no marketing spend rows were loaded")
    assert captions["feedback"].startswith("n/a: no status changes were loaded")
    assert not _figures(page)["spend"]["data"]
    kpis = dict(
        (label, value) for value, label in re.findall(
            r'<div class="kpi"><b>(.*?)</b><span>(.*?)</span>', page
        )
    )
    assert kpis["MQL events touched within 5 minutes"] == "n/a"
    assert kpis["cost per MQL"] == "n/a"
    assert "Which MQLs are past the speed-to-lead SLA cannot be told" in page
    assert '<p class="warning">' not in page


def test_rows_loaded_after_the_build_are_warned_about(sparse, tmp_path):
    from lead_scoring.warehouse.load import load
    from lead_scoring.warehouse.summary import summary

    before = summary(sparse.path)
    assert "warning" not in before
    assert "marts as of 2025-02-01 00:00:00, built " in before
    extra = tmp_path / "extra"
    extra.mkdir()
    for table, columns in RAW_TABLES.items():
        rows = [",".join(columns)]
        if table == "activities":
            rows.append("A-late,L1,email_open,,,,2025-01-20 09:00:00")
        (extra / f"{table}.csv").write_text("\n".join(rows) + "\n")
    load(extra, duckdb_path=str(sparse.path), mode="append", allow_empty=True)
    after = summary(sparse.path)
    warnings = [line for line in after.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, after
    assert warnings[0].startswith(
        "warning: raw table activities changed after the build: 19 rows now "
        "against 18 then, newest load "
    )
    out = tmp_path / "stale.html"
    status, _, err = _run(["report", "--out", str(out),
                           "--duckdb-path", str(sparse.path)])
    assert status == 0
    assert "report: warning: raw table activities changed after the build" in err
    assert '<p class="warning">raw table activities changed after the build' in \
        out.read_text(encoding="utf-8")
    sparse.dbt("build", vars={"as_of": "2025-02-01 00:00:00"})
    assert "warning" not in summary(sparse.path)
    # Built without a load marker column (var raw_loaded_at_column null), the
    # comparison uses none either: no warning, and one after a new row.
    no_marker = {"as_of": "2025-02-01 00:00:00", "raw_loaded_at_column": None}
    sparse.dbt("build", vars=no_marker)
    assert "warning" not in summary(sparse.path)
    load(extra, duckdb_path=str(sparse.path), mode="append", allow_empty=True)
    (warning,) = [line for line in summary(sparse.path).splitlines()
                  if line.startswith("warning:")]
    assert warning.startswith(
        "warning: raw table activities changed after the build: 20 rows now "
        "against 19 then, newest load none against none"
    ), warning
    sparse.dbt("build", vars={"as_of": "2025-02-01 00:00:00"})
    assert "warning" not in summary(sparse.path)


# ------------------------------------------------------------------ errors


def test_missing_warehouse_says_what_to_do(tmp_path):
    status, _, err = _run(
        ["report", "--out", str(tmp_path / "r.html"),
         "--duckdb-path", str(tmp_path / "none.duckdb")]
    )
    assert status == 2
    assert err.splitlines() == [
        f"error: no DuckDB warehouse at {tmp_path / 'none.duckdb'}",
        "hint: run `lead-scoring load --from DIR` and `dbt build` first, pass "
        "--duckdb-path, or --target postgres for a PostgreSQL build",
    ]
    assert "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_unbuilt_marts_say_run_dbt_build(tmp_path):
    path = tmp_path / "raw_only.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema raw; create table raw.leads (lead_id text)")
    status, _, err = _run(
        ["report", "--out", str(tmp_path / "r.html"), "--duckdb-path", str(path)]
    )
    assert status == 2
    assert err.splitlines() == [
        f"error: no published marts at {published_path(path)} (the build "
        f"warehouse {path} has not published any)",
        "hint: run `dbt build` of the whole project: it publishes the marts "
        "when every model and test passed",
    ]
    # Published, but without the marts the report needs.
    with duckdb.connect(str(published_path(path))) as connection:
        connection.execute("create schema analytics")
    status, _, err = _run(
        ["report", "--out", str(tmp_path / "r.html"), "--duckdb-path", str(path)]
    )
    assert status == 2
    assert "error: the marts are not built in schema 'analytics'" in err
    assert "missing rpt_funnel_conversion, rpt_score_calibration, dim_leads, " \
        "fct_mql_events" in err
    assert "hint: run dbt build first" in err
    assert not (tmp_path / "r.html").exists()


def test_wrong_schema_and_folder_as_output(report, tmp_path):
    warehouse = str(report["warehouse"].path)
    status, _, err = _run(
        ["report", "--out", str(tmp_path / "r.html"), "--duckdb-path", warehouse,
         "--schema", "nope"]
    )
    assert status == 2 and "schema 'nope'" in err and "--schema" in err
    status, _, err = _run(["report", "--out", str(tmp_path), "--duckdb-path", warehouse])
    assert status == 2
    assert err.startswith(f"error: {tmp_path} is a folder")
    assert "hint: pass a file name" in err


def test_without_plotly_the_hint_names_the_extra(report, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "plotly", None)
    status, _, err = _run(["report", "--out", str(tmp_path / "r.html"),
                           "--duckdb-path", str(report["warehouse"].path)])
    assert status == 2
    assert err.splitlines() == [
        "error: the report needs the plotly package, which is not installed",
        "hint: install the report extra: pip install -e '.[report]' "
        "(make setup does)",
    ]


# ------------------------------------------------------------------ Chromium


@pytest.fixture(scope="module")
def chromium() -> str:
    """Path of Debian's chromium (or $LEAD_SCORING_CHROMIUM), else skip.

    Without it the rendering tests skip, or fail when
    LEAD_SCORING_REQUIRE_ALL=1 (CI).
    """
    wanted = os.environ.get("LEAD_SCORING_CHROMIUM", "").strip()
    if wanted:
        found = shutil.which(wanted)
    else:
        found = shutil.which("chromium") or (
            "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
        )
    if found:
        return found
    message = (
        f"headless Chromium is not installed ({wanted or 'chromium'} not found): "
        "`apt-get install -y chromium` (Debian) enables the rendering tests, "
        "or set LEAD_SCORING_CHROMIUM to a Chromium or Chrome binary; "
        ".ci/run installs it"
    )
    if os.environ.get("LEAD_SCORING_REQUIRE_ALL") == "1":
        pytest.fail(message + " (LEAD_SCORING_REQUIRE_ALL=1 makes it mandatory)")
    pytest.skip(message)


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium with no network (a dead proxy) on the report."""
    command = [
        binary, "--headless", "--disable-gpu", "--no-sandbox",
        "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
        f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9",
        "--virtual-time-budget=20000", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def dom(report, chromium, tmp_path_factory) -> str:
    """The report's DOM after headless Chromium has run its scripts."""
    profile = Path(tmp_path_factory.mktemp("chromium-dom"))
    result = _chromium(chromium, profile, "--dump-dom", report["path"].as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _section(dom: str, chart: str) -> str:
    """The rendered DOM of one chart's section."""
    start = dom.index(f'<section class="chart" id="chart-{chart}">')
    return dom[start:dom.index("</section>", start)]


def _texts(fragment: str) -> list[str]:
    """The SVG text of a fragment."""
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", fragment)]


def test_every_chart_renders_to_svg(report, dom):
    for chart in CHARTS:
        section = _section(dom, chart)
        assert section.count('class="main-svg"') >= 2, f"{chart} did not render"
        title = report["figures"][chart]["layout"]["title"]["text"]
        assert title in _texts(section), chart


def test_rendered_charts_carry_the_marts_numbers(report, dom):
    figures = report["figures"]
    funnel = _section(dom, "funnel")
    assert len(re.findall(r'class="trace bars\b', funnel)) == 1
    counts = figures["funnel"]["data"][0]["x"]
    texts = _texts(funnel)
    for count in counts:
        assert any(text.startswith(f"{count:,} (") for text in texts), count

    cohorts = _section(dom, "cohorts")
    sources = sum(1 for t in figures["cohorts"]["data"] if t["type"] == "bar")
    assert len(re.findall(r'class="trace bars\b', cohorts)) == sources
    assert len(re.findall(r'class="trace scatter\b', cohorts)) == 1
    assert [t for t in _texts(cohorts) if re.fullmatch(r"\d{4}-\d{2}", t)][:3] == \
        figures["cohorts"]["data"][0]["x"][:3]

    conversion = _section(dom, "conversion")
    assert 'class="hm"' in conversion
    heat = figures["conversion"]["data"][0]
    cells = [text for row in heat["text"] for text in row if text]
    shown = [t for t in _texts(conversion) if re.fullmatch(r"\d+/\d+", t)]
    assert sorted(shown) == sorted(cells)

    scores = _section(dom, "scores")
    assert len(re.findall(r'class="trace bars\b', scores)) == 2
    assert any(t.startswith("reached SQL (") for t in _texts(scores))

    calibration = _section(dom, "calibration")
    assert len(re.findall(r'class="trace bars\b', calibration)) == 1
    assert len(re.findall(r'class="trace scatter\b', calibration)) == 1
    bands = figures["calibration"]["data"][0]["x"]
    assert [t for t in _texts(calibration) if t in bands] == bands

    speed = _section(dom, "speed")
    bars = figures["speed"]["data"][0]
    assert len(re.findall(r'class="trace bars\b', speed)) == 1
    # bar heights in pixels are proportional to the counts
    drawn = [
        tuple(float(value) for value in match)
        for match in re.findall(
            r'<g class="point"><path d="M([\d.]+),([\d.]+)V([\d.]+)H([\d.]+)V',
            speed,
        )
    ]
    assert len(drawn) == len(bars["y"])
    heights = [bottom - top for _, bottom, top, _ in drawn]
    scale = max(heights) / max(bars["y"])
    assert heights == pytest.approx([scale * count for count in bars["y"]], abs=1.5)
    annotation = figures["speed"]["layout"]["annotations"][0]["text"]
    assert annotation in _texts(speed)
    # the dashed 5-minute line is drawn between the last bin ending at 5
    # minutes and the next one (shapes are placed from the page's left edge,
    # bars from the plot area's)
    (line_x,) = re.findall(
        r'<g class="shape-group"[^>]*><path [^>]*d="M([\d.]+),[\d.]+L\1,', speed
    )
    last_within = max(
        index for index, (_, high, *_) in enumerate(bars["customdata"])
        if high <= 5 + 1e-9
    )
    x_in_plot = float(line_x) - figures["speed"]["layout"]["margin"]["l"]
    assert drawn[last_within][3] <= x_in_plot <= drawn[last_within + 1][0]


def test_screenshot_is_a_real_picture(report, chromium, tmp_path_factory, capsys):
    from PIL import Image

    folder = Path(tmp_path_factory.mktemp("report-screenshot"))
    shot = folder / "funnel_report.png"
    result = _chromium(
        chromium, folder / "profile", f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}", report["path"].as_uri(),
    )
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    # pytest's temporary folders are rotated (and shared by every pytest run
    # of the user), so the screenshot and the page it shows are also kept in
    # the project's ignored warehouse/ folder, where the path printed stays
    # valid after the run
    kept = Path(os.environ.get("LEAD_SCORING_ARTIFACTS_DIR", "")
                or PROJECT_DIR / "warehouse" / "test_artifacts")
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, kept / shot.name)
    shutil.copyfile(report["path"], kept / report["path"].name)
    with capsys.disabled():
        print(f"\nreport screenshot: {kept / shot.name} (of {kept / report['path'].name})")
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.size == WINDOW
        pixels = image.convert("RGB")
        small = pixels.resize((WINDOW[0] // 4, WINDOW[1] // 4))
        colours = small.getcolors(maxcolors=1_000_000)
        assert len(colours) > 200, "the screenshot has almost no colours"
        # every slice of the page holds drawing, not only background
        array = np.asarray(small).astype(int)
        is_background = np.zeros(array.shape[:2], dtype=bool)
        for colour in ((244, 246, 248), (255, 255, 255)):
            is_background |= (array == colour).all(axis=2)
        height = array.shape[0]
        for top in range(0, height - height // 6, height // 6):
            inked = 1 - is_background[top:top + height // 6].mean()
            assert inked > 0.02, f"blank band at y={top * 4}px"


def test_phone_width_fits_the_screen(report, chromium, tmp_path_factory, capsys):
    """At a phone's width every chart fits the screen, and a screenshot
    of the page in a 390-pixel frame (headless Chromium's own windows are
    at least 500 wide) is kept beside the desktop one."""
    from PIL import Image

    folder = Path(tmp_path_factory.mktemp("report-phone"))
    result = _chromium(chromium, folder / "dom", "--window-size=500,3000",
                       "--dump-dom", report["path"].as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    widths = [int(width) for width in re.findall(
        r'<svg class="main-svg"[^>]*? width="(\d+)"', result.stdout
    )]
    assert len(widths) >= 2 * len(CHARTS)
    assert max(widths) <= 500 - 2 * 8 - 2 * 4, widths
    assert 'class="modebar-group' not in result.stdout  # no toolbar on a phone
    frame = folder / "phone.html"
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe src="{report["path"].as_uri()}" '
        'style="width:390px;height:11000px;border:0"></iframe></body></html>'
    )
    shot = folder / "funnel_report_phone.png"
    result = _chromium(chromium, folder / "profile", f"--screenshot={shot}",
                       "--window-size=600,11000", frame.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    with Image.open(shot) as image:
        phone = image.convert("RGB").crop((0, 0, 390, 11000))
        kept = Path(os.environ.get("LEAD_SCORING_ARTIFACTS_DIR", "")
                    or PROJECT_DIR / "warehouse" / "test_artifacts")
        kept.mkdir(parents=True, exist_ok=True)
        phone.save(kept / shot.name)
        with capsys.disabled():
            print(f"\nreport screenshot at phone width: {kept / shot.name}")
        array = np.asarray(phone.resize((390 // 2, 11000 // 4))).astype(int)
        background = np.zeros(array.shape[:2], dtype=bool)
        for colour in ((244, 246, 248), (255, 255, 255)):
            background |= (array == colour).all(axis=2)
        # the page is long at this width: its first 9,000 pixels hold drawing
        # in every slice
        rows = 9000 // 4
        for top in range(0, rows, rows // 9):
            inked = 1 - background[top:top + rows // 9].mean()
            assert inked > 0.02, f"blank band at y={top * 4}px"


def test_rules_section_says_what_calibration_says(report):
    """The page says what to do with the scoring rules: the verdict and the
    calls for review of a calibration with the project's seed and vars."""
    from lead_scoring.analysis import calibrate
    from lead_scoring.analysis.report_data import ACTION_ROWS

    review = calibrate.review_rules(
        calibrate.duckdb_query(report["warehouse"].path),
        "analytics", PROJECT_DIR,
    )
    assert review.decision in (calibrate.ACCEPT, calibrate.REVIEW,
                               calibrate.NOT_ENOUGH_DATA)
    page = report["page"]
    section = page.split('<section class="actions" id="rules-review">')[1]
    section = section.split("</section>")[0]
    assert f"<h2>Scoring rules against outcomes: {review.decision}</h2>" in section
    verdict = re.search(r'<p class="note" id="rules-verdict">(.*?)</p>', section)
    assert html.unescape(verdict.group(1)).lower() == review.why.lower() + "."
    shown = [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", section)]
    assert shown == [call[2:] for call in review.calls[:len(shown)]]
    assert len(shown) == min(len(review.calls), ACTION_ROWS)
    assert "lead-scoring calibrate --out calibration" in section
    assert (
        f"report: scoring rules against outcomes: {review.decision}"
        in report["stderr"]
    )


def test_too_few_outcomes_say_not_enough_data(sparse, tmp_path):
    out = tmp_path / "sparse.html"
    status, _, err = _run(["report", "--out", str(out), "--duckdb-path",
                           str(sparse.path), "--project-dir", str(PROJECT_DIR)])
    assert status == 0, err
    page = out.read_text(encoding="utf-8")
    assert "<h2>Scoring rules against outcomes: not enough data</h2>" in page
    assert "No lead was created at least 90 days before as_of (2025-02-01)" in page
