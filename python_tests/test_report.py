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

from conftest import GENERATED_AS_OF, PROJECT_DIR
from lead_scoring.cli import main

STAGES = ("leads", "mqls", "sqls", "opportunities", "customers")
CHARTS = ("funnel", "cohorts", "conversion", "scores", "calibration", "speed")
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
        ["report", "--out", str(out), "--duckdb-path", str(warehouse.path)]
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
        f"report: read the marts of {report['warehouse'].path} (schema analytics)"
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
        f"<p>Scores as of {GENERATED_AS_OF}: marts of {report['warehouse'].path} "
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


def test_funnel_shows_the_stage_totals(report):
    (totals,) = report["warehouse"].query(
        "select " + ", ".join(f"sum({stage})" for stage in STAGES)
        + " from analytics.rpt_funnel_conversion"
    )
    (trace,) = report["figures"]["funnel"]["data"]
    assert trace["type"] == "funnel"
    assert trace["y"] == ["Leads", "MQLs", "SQLs", "Opportunities", "Customers"]
    assert trace["x"] == [int(total) for total in totals]
    leads, mqls, sqls, opportunities, customers = (int(t) for t in totals)
    assert leads > mqls > sqls > customers > 0
    caption = report["captions"]["funnel"]
    assert caption.startswith(
        f"Leads {leads:,} → MQLs {mqls:,} ({100 * mqls / leads:.1f}% of leads) "
        f"→ SQLs {sqls:,} ({100 * sqls / mqls:.1f}% of MQLs) → opportunities "
        f"{opportunities:,} → customers {customers:,}"
    )


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
