"""`lead-scoring calibrate`: rules measured against outcomes, new points proposed.

The generator plants the conversion propensity (seniority, pricing-page views
and demo requests; e-mail opens and clicks play no part; hand-raises -- demo,
contact and trial requests -- are what sales follows up, and no lead converts
without a follow-up). The proposal must find those drivers and beat the
default rules on held-out leads; the machinery (features, model, AUC, the
proposed seed) is checked against independent computations.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import PROJECT_DIR, Warehouse
from lead_scoring.analysis import calibrate as cal
from lead_scoring.cli import main
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import load

AS_OF = "2026-06-30 23:59:59"
SEED_PATH = PROJECT_DIR / "seeds" / "scoring_rules.csv"
# Rules whose firing the generator draws independently of conversion.
NON_DRIVERS = (
    "eng_email_open",
    "eng_email_click",
    "fit_target_industry",
    "fit_target_country",
    "fit_revenue",
    "fit_mid_market",
    "fit_enterprise",
    "fit_small_business",
    "fit_buying_soon",
)
DRIVERS = ("eng_demo_request", "eng_pricing_page", "fit_exec_title", "fit_director_title")
HAND_RAISES = ("eng_demo_request", "eng_contact_request", "eng_trial_signup")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """6,000 generated leads over a year, built with the default rules."""
    root = Path(tmp_path_factory.mktemp("calibrate"))
    warehouse = Warehouse(root)
    generate(root / "raw", leads=6000, seed=11, dirty_rate=0.02, as_of=AS_OF)
    load(root / "raw", duckdb_path=str(warehouse.path))
    warehouse.dbt("build", vars={"as_of": AS_OF})
    return warehouse


@pytest.fixture(scope="module")
def result(planted: Warehouse) -> cal.Calibration:
    rules = cal.read_rules(SEED_PATH)
    settings = cal.settings_from_project(PROJECT_DIR)
    return cal.calibrate(cal.duckdb_query(planted.path), "analytics", rules, settings)


def ranks(calibration: cal.Calibration) -> dict[str, int]:
    return {r.rule.rule_id: rank for rank, r in enumerate(calibration.ranked(), 1)}


def test_proposal_ranks_the_planted_drivers_first(result: cal.Calibration) -> None:
    rank = ranks(result)
    # the strongest planted driver leads
    assert result.ranked()[0].rule.rule_id == "eng_demo_request"
    # only hand-raises (which trigger the sales follow-up) come before pricing
    above_pricing = {r for r, position in rank.items() if position < rank["eng_pricing_page"]}
    assert above_pricing <= set(HAND_RAISES)
    # every planted driver ranks above every rule that plays no part
    worst_driver = max(rank[rule] for rule in DRIVERS)
    best_non_driver = min(rank[rule] for rule in NON_DRIVERS)
    assert worst_driver < best_non_driver, (rank, worst_driver, best_non_driver)
    by_id = {r.rule.rule_id: r for r in result.results}
    for rule in DRIVERS:
        assert by_id[rule].coef > 0 and by_id[rule].proposed_points > 0, rule
    for rule in ("eng_demo_request", "eng_pricing_page", "fit_exec_title"):
        assert by_id[rule].is_clear, rule  # 95% interval above zero
    # e-mail engagement earns no points
    for rule in ("eng_email_open", "eng_email_click"):
        assert by_id[rule].proposed_points <= 0 < by_id[rule].rule.points


def test_proposal_beats_the_default_rules_on_held_out_leads(
    result: cal.Calibration,
) -> None:
    assert result.split.method.startswith("time-based")
    assert result.conversions_train >= 100 and result.conversions_test >= 30
    assert result.proposed.auc > result.current.auc + 0.02
    assert result.proposed.lift_top > result.current.lift_top
    # rules a person can read, at least as good as a free model on the same
    # inputs (to 0.01; here better: the free model overfits the rare rules)
    assert result.proposed.auc >= result.free_auc - 0.01
    assert f"held-out AUC of {result.free_auc:.3f}" in cal.report(result)


def test_held_out_figures_are_recomputed_from_the_marts(
    planted: Warehouse, result: cal.Calibration
) -> None:
    """Held-out leads are the latest-created 30% with a full 90-day horizon."""
    [(eligible, converted)] = planted.query(
        """
        with firsts as (
            select lead_id, min(transitioned_at) as converted_at
            from analytics.fct_lifecycle_transitions
            where to_stage in ('sql', 'opportunity', 'customer')
            group by lead_id
        )
        select
            count(*),
            count(case when firsts.converted_at
                <= leads.created_at + interval 90 day then 1 end)
        from analytics.dim_leads as leads
        left join firsts on leads.lead_id = firsts.lead_id
        where leads.created_at + interval 90 day <= timestamp '2026-06-30 23:59:59'
        """
    )
    assert result.leads_train + result.leads_test == eligible
    assert result.leads_test == round(0.3 * eligible)
    assert result.conversions_train + result.conversions_test == converted


def test_features_at_as_of_rebuild_the_scores_of_leads_without_resets(
    planted: Warehouse,
) -> None:
    """points x features at as_of == dim_leads.lead_score (no reset to honour)."""
    rules = cal.read_rules(SEED_PATH)
    data = cal.read_warehouse(cal.duckdb_query(planted.path), "analytics", rules, "sql")
    x = cal.features_at(data, rules, data.as_of)
    points = np.array([rule.points for rule in rules.active], dtype=float)
    engine = dict(
        planted.query(
            """
            select lead_id, lead_score from analytics.dim_leads
            where lead_id not in (
                select lead_id from analytics.fct_lifecycle_transitions
                where transition_cause = 'reset'
            )
            """
        )
    )
    assert len(engine) > 4000
    mine = dict(zip(data.lead_ids, x @ points))
    worst = max(abs(mine[lead] - score) for lead, score in engine.items())
    assert worst < 1e-6


def test_proposed_seed_keeps_the_file_and_moves_only_points(
    result: cal.Calibration,
) -> None:
    text = cal.proposed_seed(result)
    with SEED_PATH.open(newline="") as handle:
        live = list(csv.DictReader(handle))
    proposed = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == SEED_PATH.read_text().splitlines()[0]
    # the file's rows in its order, then the new rules
    new = [r.rule.rule_id for r in result.results if r.is_new]
    assert [row["rule_id"] for row in proposed] == [row["rule_id"] for row in live] + new
    by_id = {r.rule.rule_id: r for r in result.results}
    for old, new in zip(live, proposed):
        moved = {"points", "max_points"}
        assert {k: v for k, v in old.items() if k not in moved} == {
            k: v for k, v in new.items() if k not in moved
        }
        verdict = by_id[old["rule_id"]]
        assert int(new["points"]) == verdict.proposed_points
        if old["max_points"] and int(new["points"]) != 0:
            # the cap keeps its number of firings
            firings = float(old["max_points"]) / abs(int(old["points"]))
            assert float(new["max_points"]) == pytest.approx(
                firings * abs(int(new["points"])), abs=0.006
            )
    # rules that never fired are rescaled with the rest and say why
    for rule in ("neg_competitor_domain", "neg_wrong_geography"):
        assert not by_id[rule].fitted and "no evidence" in by_id[rule].notes[0]


def test_the_proposal_is_refitted_on_every_lead_on_one_scale(
    planted: Warehouse, result: cal.Calibration
) -> None:
    """Held-out figures come from a fit on the training leads; the proposed
    points from the same fit on every lead, every rule on one scale: a rule
    without evidence converts its current points at the current rules'
    exchange rate (log-odds per point) instead of keeping them."""
    rules = cal.read_rules(SEED_PATH)
    settings = cal.settings_from_project(PROJECT_DIR)
    data = cal.read_warehouse(cal.duckdb_query(planted.path), "analytics", rules, "sql")
    design = cal.build_design(data, rules, settings)
    assert result.leads_fit == len(design.y) == result.leads_train + result.leads_test
    # the rules discovery proposes (activity types no rule scores, here) are
    # columns of their own: whether the lead did such an activity by its
    # cut-off, counted here from the activities themselves
    new = [r for r in result.results if r.is_new]
    assert new and all(r.rule.parsed.is_activity_rule for r in new)
    types = data.activity_types[data.act_type]
    columns = []
    for rule in new:
        hit = np.isin(types, rule.rule.parsed.value.split("|"))
        first = np.full(len(data.lead_ids), np.inf)
        np.minimum.at(first, data.act_lead[hit], data.act_time[hit])
        columns.append((first[design.lead] <= design.cutoff).astype(float))
    x = np.column_stack([design.x, *columns])
    current = np.array([rule.points for rule in rules.active] + [0] * len(new), dtype=float)
    # the final fit: every lead, the rules fired for enough of them
    fired = (x != 0).sum(axis=0)
    fitted = fired >= settings.min_rule_leads
    assert list(result.final.fitted) == list(fitted) and 0 < fitted.sum() < len(fitted)
    assert list(result.final.leads_fired) == list(fired)
    refit = cal.fit_logistic(x[:, fitted], design.y, result.fit.l2)
    assert refit.coef == pytest.approx(result.final.coef[fitted], abs=1e-9)
    active = len(rules.active)
    assert np.abs(result.final.coef[:active] - result.validation.coef[:active]).max() > 1e-3
    # the exchange rate: slope of the outcome on the current score
    slope = cal.fit_logistic((x @ current)[:, None], design.y, 1e-6).coef[0]
    assert slope > 0 and result.final.exchange == pytest.approx(slope, rel=1e-9)
    coef = np.zeros(len(fitted))
    coef[fitted] = refit.coef
    log_odds = np.where(fitted, coef, slope * current)
    proposed = np.array([r.proposed_points for r in result.results])
    assert [r.rule.rule_id for r in result.results] == [
        rule.rule_id for rule in rules.active] + [r.rule.rule_id for r in new]
    assert list(proposed) == list(np.round(result.scale * log_odds).astype(int))
    # the scale: as many leads at the threshold as under the current rules
    threshold = settings.mql_score_threshold
    now = int((np.round(x @ current, 6) >= threshold).sum())
    then = int((np.round(x @ proposed, 6) >= threshold).sum())
    assert abs(then - now) <= 0.02 * now
    # the report says so
    text = cal.report(result)
    assert f"the same fit repeated on all {len(design.y):,} leads" in text
    review = text.split("## Calls for review")[1].split("##")[0]
    for rule_id in ("neg_competitor_domain", "neg_wrong_geography"):
        [line] = [line for line in review.splitlines() if line.startswith(f"- {rule_id} (")]
        assert "no evidence of its own (fired for 0 leads)" in line


def test_rebuilding_with_the_proposal_rescores_history(
    planted: Warehouse, result: cal.Calibration, tmp_path: Path
) -> None:
    """The proposal is a valid seed: dbt builds with it and every firing moves."""
    rebuilt = Warehouse(tmp_path)
    load(planted.root / "raw", duckdb_path=str(rebuilt.path))
    rebuilt.with_seed("scoring_rules", cal.proposed_seed(result))
    rebuilt.dbt("build", vars={"as_of": AS_OF})
    ledger = dict(
        rebuilt.query(
            "select rule_id, max(points) from analytics.fct_score_ledger group by rule_id"
        )
    )
    proposed = {r.rule.rule_id: r.proposed_points for r in result.results}
    assert len(ledger) >= 25
    assert ledger == {rule: proposed[rule] for rule in ledger}
    old_scores = planted.root / "old_scores.parquet"
    planted.query(
        f"copy (select lead_id, lead_score from analytics.dim_leads) "
        f"to '{old_scores}' (format parquet)"
    )
    [(moved, total)] = rebuilt.query(
        f"""
        select count(case when abs(new.lead_score - old.lead_score) > 1e-9 then 1 end),
            count(*)
        from analytics.dim_leads as new
        inner join read_parquet('{old_scores}') as old
            on new.lead_id = old.lead_id
        """
    )
    assert total > 5000 and moved > 0.9 * total


def test_calibration_is_deterministic(planted: Warehouse, result: cal.Calibration) -> None:
    again = cal.calibrate(
        cal.duckdb_query(planted.path),
        "analytics",
        cal.read_rules(SEED_PATH),
        cal.settings_from_project(PROJECT_DIR),
    )
    assert cal.proposed_seed(again) == cal.proposed_seed(result)
    assert cal.report(again) == cal.report(result)


def test_sign_flips_are_called_out(result: cal.Calibration) -> None:
    flipped = [r for r in result.results if r.sign_flipped]
    assert "eng_email_click" in {r.rule.rule_id for r in flipped}
    text = cal.report(result)
    review = text.split("## Calls for review")[1].split("##")[0]
    for r in flipped:
        [line] = [line for line in review.splitlines()
                  if line.startswith(f"- {r.rule.rule_id} (")]
        assert line.startswith(
            f"- {r.rule.rule_id} ({r.rule.category}): "
            f"{r.rule.points:+d} -> {r.proposed_points:+d}: "
        )
        assert "sign flips" in line


def test_cli_writes_proposal_and_report_never_the_live_seed(
    planted: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = hashlib.sha256(SEED_PATH.read_bytes()).hexdigest()
    out = tmp_path / "calibration"
    status = main(
        ["calibrate", "--duckdb-path", str(planted.path), "--project-dir",
         str(PROJECT_DIR), "--out", str(out)]
    )
    printed = capsys.readouterr()
    assert status == 0, printed.err
    assert "held-out AUC: current" in printed.out
    assert (out / "scoring_rules.csv").is_file()
    report = (out / "calibration_report.md").read_text()
    assert "## Held-out performance" in report and "## Threshold for sales capacity" in report
    assert "calibrate: reading" in printed.err  # progress on stderr

    status = main(
        ["calibrate", "--duckdb-path", str(planted.path), "--project-dir",
         str(PROJECT_DIR), "--out", str(SEED_PATH.parent)]
    )
    printed = capsys.readouterr()
    assert status == 2
    assert "calibrate never overwrites it" in printed.err
    assert "hint: pass --out" in printed.err
    assert hashlib.sha256(SEED_PATH.read_bytes()).hexdigest() == before


def test_too_few_outcomes_are_refused_with_the_numbers(
    planted: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["calibrate", "--duckdb-path", str(planted.path), "--project-dir",
         str(PROJECT_DIR), "--out", str(tmp_path / "out"), "--outcome", "customer",
         "--window-days", "30"]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "error: too few outcomes to calibrate:" in err
    assert "at least 100 are needed" in err
    assert "training leads reached customer within 30 days" in err
    assert "use --outcome sql" in err
    assert not (tmp_path / "out").exists()
    # with the SQL outcome already, the hint does not suggest it
    status = main(
        ["calibrate", "--duckdb-path", str(planted.path), "--project-dir",
         str(PROJECT_DIR), "--out", str(tmp_path / "out"), "--outcome", "sql",
         "--min-conversions", "100000"]
    )
    err = capsys.readouterr().err
    assert status == 2 and "too few outcomes to calibrate" in err
    assert "--outcome sql" not in err and "widen --window-days" in err


def test_a_seed_that_differs_from_the_build_is_refused(
    planted: Warehouse, tmp_path: Path
) -> None:
    changed = SEED_PATH.read_text().replace(
        "eng_pricing_page,engagement,activity_type,equals,pricing_page_view,10,",
        "eng_pricing_page,engagement,activity_type,equals,pricing_page_view,15,",
    )
    assert changed != SEED_PATH.read_text()
    path = tmp_path / "scoring_rules.csv"
    path.write_text(changed)
    with pytest.raises(cal.CalibrationError, match="eng_pricing_page: 15 points in the file, 10 in fct_score_ledger"):
        cal.calibrate(
            cal.duckdb_query(planted.path), "analytics", cal.read_rules(path),
            cal.settings_from_project(PROJECT_DIR),
        )


# ------------------------------------------------------------ the machinery


def test_auc_counts_ties_as_one_half() -> None:
    assert cal.auc(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 1, 1.0])) == 1.0
    assert cal.auc(np.array([4.0, 3.0, 2.0, 1.0]), np.array([0, 0, 1, 1.0])) == 0.0
    assert cal.auc(np.array([1.0, 1.0, 1.0, 1.0]), np.array([0, 1, 0, 1.0])) == 0.5
    # one positive above two negatives and tied with a third
    assert cal.auc(np.array([2.0, 1.0, 1.0, 2.0]), np.array([1, 0, 0, 0.0])) == 2.5 / 3
    assert math.isnan(cal.auc(np.array([1.0, 2.0]), np.array([1, 1.0])))


def test_logistic_fit_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.integers(0, 2, 40_000), rng.poisson(2.0, 40_000)]).astype(float)
    truth = np.array([1.2, -0.6])
    prob = 1 / (1 + np.exp(-(-0.5 + x @ truth)))
    y = (rng.random(40_000) < prob).astype(float)
    fit = cal.fit_logistic(x, y, l2=1e-6)
    assert fit.coef == pytest.approx(truth, abs=0.05)
    assert fit.intercept == pytest.approx(-0.5, abs=0.05)
    low, high = fit.coef - 1.96 * fit.se, fit.coef + 1.96 * fit.se
    assert np.all((low < truth) & (truth < high))
    # a strong penalty shrinks towards zero
    shrunk = cal.fit_logistic(x, y, l2=50_000.0)
    assert np.all(np.abs(shrunk.coef) < np.abs(fit.coef))


def test_logistic_fit_stays_finite_on_separable_data() -> None:
    x = np.array([[0.0], [0.0], [1.0], [1.0]] * 50)
    y = np.array([0.0, 0.0, 1.0, 1.0] * 50)
    fit = cal.fit_logistic(x, y, l2=1.0)
    assert np.isfinite(fit.coef).all() and fit.coef[0] > 3


def test_every_move_is_reported_with_its_evidence(result: cal.Calibration) -> None:
    """The report leads with what to do and the calls for review; each rule's
    row gives points before and after, the interval, leads and conversions."""
    text = cal.report(result)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[0].startswith("## What to do: ")
    assert headings[1] == "## Calls for review"
    decision, _ = cal.verdict(result)
    assert headings[0] == f"## What to do: {decision}"
    review = text.split("## Calls for review")[1].split("##")[0]
    for line in cal.warnings(result):
        assert line in review
    table = text.split("## Rules by effect")[1].split("##")[0]
    rows = {
        cells[1]: cells
        for cells in (
            [cell.strip() for cell in line.strip("|").split("|")]
            for line in table.splitlines() if line.startswith("| ")
        )
    }
    for verdict_ in result.results:
        cells = rows[verdict_.rule.rule_id]
        assert cells[3:5] == [str(verdict_.rule.points), str(verdict_.proposed_points)]
        assert cells[8:10] == [f"{verdict_.leads_fired:,}", f"{verdict_.leads_converted:,}"]
        if verdict_.fitted:
            low, high = verdict_.interval
            assert cells[5] == f"{result.scale * low:+.0f} .. {result.scale * high:+.0f}"
    # leads and conversions behind each rule, counted from the design
    rules = cal.read_rules(SEED_PATH)
    by_id = {r.rule.rule_id: r for r in result.results}
    fired = result.final.leads_fired
    assert [by_id[rule.rule_id].leads_fired for rule in rules.active] == list(
        fired[:len(rules.active)])
    assert all(0 <= r.leads_converted <= r.leads_fired for r in result.results)
    assert cal.summary_lines(result)[0].startswith(f"what to do: {decision} (")


def test_warnings_name_the_moves_to_check(
    planted: Warehouse, result: cal.Calibration
) -> None:
    """Sign flips, rules without evidence, fast-tracked types proposed at no
    points, fit rules turned negative, wide intervals and grade edges."""
    from dataclasses import replace

    found = cal.warnings(result)
    flipped = [r for r in result.results if r.sign_flipped]
    assert flipped and all(
        any(line.startswith(f"- {r.rule.rule_id} (") and "sign flips" in line
            for line in found) for r in flipped
    )
    assert any(line.startswith("- neg_competitor_domain (") for line in found)
    # e-mail clicks are proposed at <= 0: fast-tracking them must be flagged
    assert result.results[[r.rule.rule_id for r in result.results].index(
        "eng_email_click")].proposed_points <= 0
    assert not any("fast-tracked" in line for line in found)
    fast = replace(result, settings=replace(
        result.settings, fast_track_activity_types=("email_click", "demo_request")))
    [line] = [line for line in cal.warnings(fast) if "fast-tracked" in line]
    assert line.startswith("- eng_email_click (engagement): ")
    assert "email_click is fast-tracked" in line
    # a tighter threshold makes more intervals wide
    tight = replace(result, settings=replace(result.settings, mql_score_threshold=5.0))
    wide = [line for line in cal.warnings(tight) if "95% interval is" in line]
    assert len(wide) > len([line for line in found if "95% interval is" in line])
    # grade edges: flagged when a share moves by more than 10 points
    shifted = replace(result, grade_shares_proposed=tuple(
        share + 0.2 for share in result.grade_shares_current))
    [line] = [line for line in cal.warnings(shifted) if "lead_grade_fit_edges" in line]
    assert "keeps today's shares" in line
    # the proposed edges: the lowest that let no more leads through than today
    rules = cal.read_rules(SEED_PATH)
    data = cal.read_warehouse(cal.duckdb_query(planted.path), "analytics", rules, "sql")
    design = cal.build_design(data, rules, result.settings)
    is_fit = np.array([rule.category == "fit" for rule in rules.active])
    points = np.array(
        [r.proposed_points for r in result.results[:len(rules.active)]], dtype=float
    )
    now = np.array([rule.points for rule in rules.active], dtype=float)
    fit_now = design.x[:, is_fit] @ now[is_fit]
    fit_then = design.x[:, is_fit] @ points[is_fit]
    edges = result.settings.lead_grade_fit_edges
    assert len(result.proposed_grade_edges) == len(edges) == 3
    for edge, old_edge, share in zip(
        result.proposed_grade_edges, edges, result.grade_shares_current
    ):
        assert share == pytest.approx((fit_now >= old_edge).mean())
        assert (fit_then >= edge).sum() <= (fit_now >= old_edge).sum()
        assert (fit_then >= edge - 1).sum() > (fit_now >= old_edge).sum()
    # too few held-out conversions: not enough data, whatever the AUC
    thin = replace(result, conversions_test=5)
    assert cal.verdict(thin)[0] == "not enough data"
    worse = replace(result, proposed=replace(result.proposed, auc=result.current.auc))
    assert cal.verdict(worse)[0] == "review"


def assert_replay_is_the_backtest(
    warehouse: Warehouse,
    data,
    rules: cal.RuleFile,
    settings: cal.Settings,
    points: np.ndarray,
    min_fit: float,
    threshold: float,
) -> np.ndarray:
    """calibrate's replay of first qualifications (leads x the backtest's
    thresholds, returned) counts, in every month either has (at least 12),
    exactly what rpt_threshold_backtest counts; and at the build's
    `threshold` each lead's time is its first MQL event in fct_mql_events."""
    from lead_scoring.analysis import calibrate_volume as volume

    thresholds = np.array(sorted(data.backtest), dtype=float)
    times = volume.first_qualifications(data, rules, settings, points, thresholds, min_fit)
    replayed = times[~np.isnan(times)].astype("int64").astype("datetime64[s]")
    every_month = tuple(sorted(
        {m for counts in data.backtest.values() for m in counts}
        | {str(m) + "-01" for m in replayed.astype("datetime64[M]")}
    ))
    assert len(every_month) >= 12
    for month in every_month:
        counts = volume.monthly(times, thresholds, (month,)).per_month
        assert list(counts) == [
            data.backtest[t].get(month, 0) for t in thresholds
        ], month
    first_mql = dict(warehouse.query(
        "select lead_id, min(extract(epoch from mql_at)) from analytics.fct_mql_events "
        "group by lead_id"
    ))
    column = list(thresholds).index(threshold)
    assert len(first_mql) > 100
    assert {
        lead_id: float(at) for lead_id, at in zip(data.lead_ids, times[:, column])
        if not math.isnan(at)
    } == {lead_id: float(at) for lead_id, at in first_mql.items()}
    return times


def test_mqls_a_month_are_counted_as_the_backtest_mart_counts_them(
    planted: Warehouse, result: cal.Calibration
) -> None:
    """One definition of MQLs a month (rpt_threshold_backtest's): the replay
    calibrate uses for any points gives, for the current points, the mart's
    count at every backtest threshold in every month; the report states
    both figures."""
    from lead_scoring.analysis import calibrate_volume as volume

    rules = cal.read_rules(SEED_PATH)
    settings = result.settings
    data = cal.read_warehouse(cal.duckdb_query(planted.path), "analytics", rules, "sql")
    current = np.array([rule.points for rule in rules.active], dtype=float)
    thresholds = np.array(sorted(data.backtest), dtype=float)
    assert len(thresholds) == 8
    # the months averaged over: the last complete ones before as_of
    assert result.volume_months == (
        "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01",
        "2026-06-01",
    )
    times = assert_replay_is_the_backtest(
        planted, data, rules, settings, current, settings.mql_min_fit_score,
        settings.mql_score_threshold,
    )
    replayed = volume.monthly(times, thresholds, result.volume_months).per_month
    mart = {t: sum(c.get(m, 0) for m in result.volume_months) / 6
            for t, c in data.backtest.items()}
    assert result.mart_rates == mart
    assert list(replayed) == [mart[threshold] for threshold in thresholds]
    # fast-track counts: without it fewer leads qualify at the top threshold
    slower = cal.Settings(**{**settings.__dict__, "fast_track_activity_types": ()})
    without = volume.monthly(volume.first_qualifications(
        data, rules, slower, current, thresholds, settings.mql_min_fit_score
    ), thresholds, result.volume_months).per_month
    assert without[-1] < replayed[-1]
    assert result.current_rate_at_threshold == replayed[
        list(thresholds).index(settings.mql_score_threshold)]
    text = cal.report(result)
    assert (
        f"rpt_threshold_backtest counts {mart[settings.mql_score_threshold]:.1f} "
        f"at it; replayed from the score ledger and fct_activities: "
        f"{result.current_rate_at_threshold:.1f}."
    ) in text
    assert "the mean over the 6 complete months 2026-01 to 2026-06" in text


# The rule file of the `unnamed` build: the default one with these edits.
UNNAMED_EDITS = {
    # executives named by no active rule: a planted effect on attribute values
    "fit_exec_title,fit,seniority,in,c_level|vp,20,,,true,":
        "fit_exec_title,fit,seniority,in,c_level|vp,20,,,false,",
    # pricing-page views scored by no active rule: a planted effect on an
    # activity type
    "eng_pricing_page,engagement,activity_type,equals,pricing_page_view,10,30,30,true,":
        "eng_pricing_page,engagement,activity_type,equals,pricing_page_view,10,30,30,false,",
    # a bounce costs 40 points that come back within days: scores rise
    # between firings and cross the threshold at activities no rule fires for
    "neg_email_bounce,negative,activity_type,equals,email_bounce,-10,20,,true,":
        "neg_email_bounce,negative,activity_type,equals,email_bounce,-40,,0.5,true,",
}


@pytest.fixture(scope="module")
def unnamed(planted: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> tuple[
    Warehouse, Path
]:
    """The planted data built with a rule file that no longer names the
    executives nor scores pricing-page views (planted effects no active rule
    covers), and whose bounces cost many points for a short while."""
    root = Path(tmp_path_factory.mktemp("unnamed"))
    warehouse = Warehouse(root)
    load(planted.root / "raw", duckdb_path=str(warehouse.path))
    edited = SEED_PATH.read_text()
    for old, new in UNNAMED_EDITS.items():
        assert edited.count(old) == 1, old
        edited = edited.replace(old, new)
    warehouse.with_seed("scoring_rules", edited)
    warehouse.dbt("build", vars={"as_of": AS_OF})
    rules_path = root / "scoring_rules.csv"
    rules_path.write_text(edited)
    return warehouse, rules_path


@pytest.fixture(scope="module")
def unnamed_result(unnamed) -> cal.Calibration:
    warehouse, rules_path = unnamed
    return cal.calibrate(
        cal.duckdb_query(warehouse.path), "analytics", cal.read_rules(rules_path),
        cal.settings_from_project(PROJECT_DIR),
    )


def test_discovery_finds_a_planted_effect_no_rule_names(
    unnamed, unnamed_result: cal.Calibration
) -> None:
    """Executives convert more (planted): with no active rule naming them,
    calibrate proposes one `in` rule for c_level and vp, as an ordinary rule
    row with its evidence; the proposed file is one the build accepts."""
    warehouse, rules_path = unnamed
    result = unnamed_result
    new = [r for r in result.results if r.is_new]
    seniority = [r for r in new if r.rule.parsed.field == "seniority"]
    assert len(seniority) == 1, [r.rule.row for r in new]
    [found] = seniority
    assert found.rule.parsed.operator == "in"
    assert set(found.rule.parsed.value.split("|")) >= {"c_level", "vp"}
    assert found.rule.category == "fit" and found.proposed_points > 0
    assert found.is_clear and found.leads_fired >= 30
    # every new rule rests on a clear interval, on values no rule covers
    for rule in new:
        assert rule.is_clear and rule.rule.points == 0
        assert rule.rule.row["is_active"] == "true"
        assert rule.rule.row["description"].startswith("Proposed by calibrate: ")
    # the proposed file: the live rows, then the new ones; valid for the build
    text = cal.proposed_seed(result)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["rule_id"] for row in rows[-len(new):]] == [r.rule.rule_id for r in new]
    path = warehouse.root / "proposed.csv"
    path.write_text(text)
    again = cal.read_rules(path)
    assert len(again.active) == len(cal.read_rules(rules_path).active) + len(new)
    # named in the report's calls for review, with the evidence
    review = cal.report(result).split("## Calls for review")[1].split("##")[0]
    assert f"- {found.rule.rule_id} (fit): +0 -> +{found.proposed_points}: a new rule" in review
    # and it helps: better than the rules without it on held-out leads
    assert result.proposed.auc > result.current.auc


def test_discovery_finds_a_planted_activity_type_no_rule_scores(
    unnamed_result: cal.Calibration,
) -> None:
    """Pricing-page views drive conversion (planted): with their rule
    inactive, calibrate proposes an engagement rule on that activity type
    that counts once per lead (max_points = points, no decay), which is what
    its evidence measured; e-mail types, which play no part, get none."""
    result = unnamed_result
    new = [r for r in result.results if r.is_new and r.rule.parsed.is_activity_rule]
    pricing = [r for r in new if "pricing_page_view" in r.rule.parsed.value.split("|")]
    assert len(pricing) == 1, [r.rule.row for r in new]
    [found] = pricing
    assert found.rule.category == "engagement" and found.proposed_points > 0
    assert found.is_clear and found.leads_fired >= 30
    assert found.rule.row["description"].endswith("counts once per lead")
    for rule in new:
        assert not {"email_open", "email_click"} & set(rule.rule.parsed.value.split("|"))
    rows = {row["rule_id"]: row for row in csv.DictReader(io.StringIO(cal.proposed_seed(result)))}
    row = rows[found.rule.rule_id]
    assert (row["field"], row["is_active"]) == ("activity_type", "true")
    assert row["points"] == str(found.proposed_points)
    assert row["max_points"] == str(found.proposed_points)
    assert row["decay_half_life_days"] == ""
    assert result.proposed.auc > result.current.auc


def test_volume_replay_evaluates_every_activity(unnamed) -> None:
    """With bounces that cost 40 points with a half-life of half a day, scores rise between
    firings and first cross thresholds at activities no rule fires for: the
    replay evaluates every activity of fct_activities, as the build does, so
    it still equals rpt_threshold_backtest at every threshold in every month."""
    warehouse, rules_path = unnamed
    rules = cal.read_rules(rules_path)
    settings = cal.settings_from_project(PROJECT_DIR)
    data = cal.read_warehouse(cal.duckdb_query(warehouse.path), "analytics", rules, "sql")
    current = np.array([rule.points for rule in rules.active], dtype=float)
    times = assert_replay_is_the_backtest(
        warehouse, data, rules, settings, current, settings.mql_min_fit_score,
        settings.mql_score_threshold,
    )
    # the case arises: first qualifications at activities that fire no rule
    fired = set(zip(data.fire_lead.tolist(), data.fire_time.tolist()))
    crossed = [
        (lead, float(at)) for lead, row in enumerate(times) for at in row
        if not math.isnan(at)
    ]
    unfired = [item for item in crossed if item not in fired]
    assert len(unfired) >= 10, len(unfired)


def test_the_proposal_built_gives_the_volume_it_promised(
    planted: Warehouse,
    unnamed_result: cal.Calibration,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The proposed file, new rules included, built on the same raw rows with
    the proposed threshold and minimum fit: rpt_threshold_backtest's MQLs a
    month at that threshold are the figure calibrate promised (replayed on
    the old build with the new rules beside it), and the replay on the new
    build equals the mart at every threshold in every month."""
    from lead_scoring.analysis import calibrate_volume as volume

    result = unnamed_result
    assert any(r.is_new and r.rule.parsed.is_activity_rule for r in result.results)
    threshold = result.proposed_threshold
    assert threshold is not None
    root = Path(tmp_path_factory.mktemp("proposed"))
    warehouse = Warehouse(root)
    load(planted.root / "raw", duckdb_path=str(warehouse.path))
    proposed = cal.proposed_seed(result)
    warehouse.with_seed("scoring_rules", proposed)
    warehouse.dbt("build", vars={
        "as_of": AS_OF,
        "mql_score_threshold": threshold,
        "mql_min_fit_score": result.proposed_min_fit,
        "backtest_thresholds": [threshold],
    })
    path = root / "proposed.csv"
    path.write_text(proposed)
    rules = cal.read_rules(path)
    data = cal.read_warehouse(cal.duckdb_query(warehouse.path), "analytics", rules, "sql")
    mart = volume.mart_volume(data.backtest, result.volume_months)
    assert mart[float(threshold)] == result.proposed_rate_at_threshold > 0
    points = np.array([rule.points for rule in rules.active], dtype=float)
    assert_replay_is_the_backtest(
        warehouse, data, rules, result.settings, points, result.proposed_min_fit,
        float(threshold),
    )


def test_rule_support_is_a_project_var(tmp_path: Path) -> None:
    """The support a rule needs (fitted on its own evidence, or proposed as a
    new rule) is var calibrate_min_rule_leads; --min-rule-leads overrides it."""
    (tmp_path / "dbt_project.yml").write_text(
        "vars:\n  calibrate_min_rule_leads: 12\n  mql_score_threshold: 55\n"
    )
    settings = cal.settings_from_project(tmp_path)
    assert (settings.min_rule_leads, settings.mql_score_threshold) == (12, 55.0)
    assert cal.settings_from_project(tmp_path, min_rule_leads=40).min_rule_leads == 40
    assert cal.settings_from_project(tmp_path, min_rule_leads=None).min_rule_leads == 12
    assert cal.settings_from_project(PROJECT_DIR).min_rule_leads == 30
    (tmp_path / "dbt_project.yml").write_text("vars:\n  calibrate_min_rule_leads: 0\n")
    with pytest.raises(cal.CalibrationError, match="min_rule_leads .* must be a whole number >= 1"):
        cal.calibrate(
            lambda sql: {}, "analytics", cal.read_rules(SEED_PATH),
            cal.settings_from_project(tmp_path),
        )
    (tmp_path / "dbt_project.yml").write_text("vars:\n  calibrate_min_rule_leads: null\n")
    assert cal.settings_from_project(tmp_path).min_rule_leads == 30


def test_first_qualifications_follow_the_contract_on_hand_made_leads(
    tmp_path: Path,
) -> None:
    """The replay on a few leads built by hand, each one case of the
    contract: a score that rises as a negative activity decays crosses at an
    activity no rule fires for; a fast-tracked type with no rule qualifies
    at its second (the activities of one second count together); nothing
    counts from the first disqualification on; attribute points alone need
    an activity to qualify at; a fast-track needs the minimum fit."""
    from lead_scoring.analysis import calibrate_volume as volume

    path = tmp_path / "scoring_rules.csv"
    path.write_text(
        SEED_PATH.read_text().splitlines()[0] + "\n"
        "fit_vp,fit,seniority,equals,vp,40,,,true,\n"
        "fit_manager,fit,seniority,equals,manager,20,,,true,\n"
        "eng_webinar,engagement,activity_type,equals,webinar_attendance,30,,,true,\n"
        "neg_bounce,negative,activity_type,equals,email_bounce,-50,,1,true,\n"
    )
    rules = cal.read_rules(path)
    fit_vp, fit_manager, webinar, bounce = range(4)
    day = 86_400.0
    types = np.array(["demo_request", "email_bounce", "page_view", "webinar_attendance"])
    demo, bounced, page, attended = range(4)
    # (lead, time, type) of every valid activity, and the rules they fire
    activities = [
        (0, 0.0, page), (0, day, bounced), (0, day, attended),
        (0, 3 * day, page), (0, 6 * day, page),           # lead a
        (1, 100.0, demo), (1, 100.0, page),               # lead b
        (2, day, bounced),                                # lead c, disqualified
        (2, 10 * day, attended), (2, 20 * day, demo),     # on day 5
        (4, 50.0, demo),                                  # lead e, fit 20
    ]
    firings = [
        (0, fit_vp, math.nan), (0, bounce, day), (0, webinar, day),
        (1, fit_vp, math.nan),
        (2, fit_vp, math.nan), (2, bounce, day), (2, webinar, 10 * day),
        (3, fit_vp, math.nan),                            # lead d, no activity
        (4, fit_manager, math.nan),
    ]
    leads = np.array(["a", "b", "c", "d", "e"])
    data = cal.WarehouseData(
        as_of=100 * day,
        lead_ids=leads,
        created=np.zeros(5),
        converted=np.full(5, math.nan),
        fire_lead=np.array([f[0] for f in firings]),
        fire_rule=np.array([f[1] for f in firings]),
        fire_time=np.array([f[2] for f in firings]),
        disqualified=np.array([math.nan, math.nan, 5 * day, math.nan, math.nan]),
        act_lead=np.array([a[0] for a in activities]),
        act_time=np.array([a[1] for a in activities]),
        act_type=np.array([a[2] for a in activities]),
        activity_types=types,
        known_types=np.ones(4, dtype=bool),
        attributes={},
        backtest={},
    )
    settings = cal.Settings(mql_min_fit_score=30.0, fast_track_activity_types=("demo_request",))
    points = np.array([rule.points for rule in rules.active], dtype=float)
    times = volume.first_qualifications(
        data, rules, settings, points, np.array([60.0, 40.0]), settings.mql_min_fit_score
    )
    # a: 40 at its first activity (>= 40); at 60 not on the bounce's day
    # (40 + 30 - 50 = 20), nor two days on (-12.5: 57.5), but five days on
    # (-1.56: 68.4), at a page view no rule fires for
    assert list(times[0]) == [6 * day, 0.0]
    # b: fast-tracked at its demo request, which shares its second
    assert list(times[1]) == [100.0, 100.0]
    # c: -10 before its disqualification; its webinar and demo request after
    # d: no activity; e: a demo request below the minimum fit
    assert np.isnan(times[2:]).all()
