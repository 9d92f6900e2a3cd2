"""`lead-scoring explain`: every lead's explanation adds up to dim_leads.

On the generated warehouse shared by the suites (1,500 leads with dirt):
for every lead, the explanation's category totals and lead score equal
dim_leads to 1e-6, each rule's points equal the per-rule state the build
stored (int_lead_rule_states, decayed to as_of and clipped: another path to
the same number), and its MQL events are the lead's rows of fct_mql_events.
The command line prints the same in text and JSON and refuses unknown leads
and an as_of before the build's.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from conftest import GENERATED_AS_OF, Warehouse
from lead_scoring.cli import main
from lead_scoring.analysis.explain import clip, decay, explain_leads
from lead_scoring.warehouse.publish import published_path
from lead_scoring.warehouse.readers import open_reader


def close(left: float, right: float) -> bool:
    return math.isclose(left, right, rel_tol=0, abs_tol=1e-6)


@pytest.fixture(scope="module")
def explained(generated: tuple[Warehouse, dict]) -> tuple[Warehouse, dict[str, Any]]:
    warehouse, _ = generated
    with open_reader("duckdb", warehouse.path) as reader:
        return warehouse, explain_leads(reader, "analytics")


def test_every_lead_adds_up_to_dim_leads(explained) -> None:
    warehouse, explanations = explained
    leads = warehouse.query(
        "select lead_id, fit_score, engagement_score, negative_score, lead_score "
        "from analytics.dim_leads"
    )
    assert len(explanations) == len(leads) > 1000
    wrong = []
    for lead_id, *scores in leads:
        found = explanations[lead_id]
        mine = (found.fit_score, found.engagement_score, found.negative_score,
                found.lead_score)
        if not all(map(close, mine, scores)):
            wrong.append((lead_id, mine, scores))
    assert not wrong, wrong[:5]
    # the data set exercises caps, resets and every category
    rules = [rule for found in explanations.values() for rule in found.rules]
    assert any(rule.points_at_as_of != rule.uncapped_points for rule in rules)
    assert any(not firing.is_counted for rule in rules for firing in rule.firings)
    assert {rule.category for rule in rules} == {"fit", "engagement", "negative"}


def test_every_rule_equals_the_stored_rule_state(explained) -> None:
    warehouse, explanations = explained
    (as_of,) = warehouse.query("select max(scores_as_of) from analytics.dim_leads")[0]
    states = warehouse.query(
        "select lead_id, rule_id, points_at_reference, reference_at, "
        "decay_half_life_days, max_points from analytics.int_lead_rule_states "
        "where counted_firings > 0"
    )
    expected = {
        (lead_id, rule_id): clip(
            decay(points, (as_of - reference).total_seconds(), half_life)
            if reference is not None else points,
            cap,
        )
        for lead_id, rule_id, points, reference, half_life, cap in states
    }
    found = {
        (lead_id, rule.rule_id): rule.points_at_as_of
        for lead_id, explanation in explanations.items()
        for rule in explanation.rules
        if any(firing.is_counted for firing in rule.firings)
    }
    assert set(found) == set(expected)
    wrong = [key for key in found if not close(found[key], expected[key])]
    assert not wrong, [(key, found[key], expected[key]) for key in wrong[:5]]


def test_mql_events_are_the_leads_rows(explained) -> None:
    warehouse, explanations = explained
    events = warehouse.query(
        "select lead_id, mql_event_id, trigger_activity_id, outcome "
        "from analytics.fct_mql_events"
    )
    listed = sorted(
        (lead_id, event["mql_event_id"], event["trigger_activity_id"], event["outcome"])
        for lead_id, explanation in explanations.items()
        for event in explanation.mql_events
    )
    assert listed == sorted(events) and len(listed) > 100


def test_cli_text_and_json(generated, capsys) -> None:
    warehouse, _ = generated
    lead_id, lead_score, events = warehouse.query(
        "select leads.lead_id, leads.lead_score, count(*) "
        "from analytics.dim_leads as leads "
        "inner join analytics.fct_mql_events as events on leads.lead_id = events.lead_id "
        "group by all order by count(*) desc, leads.lead_id limit 1"
    )[0]
    path = ["--target", "duckdb", "--duckdb-path", str(warehouse.path)]
    assert main(["explain", lead_id, *path]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"lead {lead_id} at {GENERATED_AS_OF}\n")
    assert f"= lead_score {lead_score:,.2f}" in text
    assert text.count("  MQL #") == events
    assert main(["explain", lead_id, "--format", "json", *path]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {"lead_id", "as_of", "fit_score", "engagement_score", "negative_score",
            "lead_score", "rules", "mql_events"} <= set(document)
    assert document["lead_id"] == lead_id and close(document["lead_score"], lead_score)
    assert all({"rule_id", "category", "points_at_as_of", "firings"} <= set(rule)
               for rule in document["rules"])
    assert close(
        sum(rule["points_at_as_of"] for rule in document["rules"]), lead_score
    )
    assert len(document["mql_events"]) == events
    # a later as_of decays the same firings further; engagement only shrinks
    assert main(["explain", lead_id, "--format", "json", "--as-of",
                 "2027-06-30 23:59:59", *path]) == 0
    later = json.loads(capsys.readouterr().out)
    assert later["as_of"] == "2027-06-30 23:59:59"
    # an offset is turned into UTC, as the loader does
    assert main(["explain", lead_id, "--format", "json", "--as-of",
                 "2027-07-01T01:59:59+02:00", *path]) == 0
    assert json.loads(capsys.readouterr().out) == later
    assert abs(later["engagement_score"]) <= abs(document["engagement_score"])
    assert close(later["fit_score"], document["fit_score"])


def test_cli_refuses_unknown_leads_and_earlier_as_of(generated, capsys) -> None:
    warehouse, _ = generated
    path = ["--target", "duckdb", "--duckdb-path", str(warehouse.path)]
    assert main(["explain", "no-such-lead", *path]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no lead 'no-such-lead' in analytics.dim_leads of ")
    (lead_id,) = warehouse.query("select min(lead_id) from analytics.dim_leads")[0]
    assert main(["explain", lead_id, "--as-of", "2020-01-01", *path]) == 2
    error = capsys.readouterr().err
    assert "is before the build's as_of" in error and "hint: " in error


def test_summary_names_the_warehouse_and_the_as_of_of_its_marts(generated, capsys) -> None:
    warehouse, _ = generated
    assert main(["summary", "--target", "duckdb", "--duckdb-path",
                 str(warehouse.path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # What BI reads: the file the build published.
    assert lines[0] == f"warehouse {published_path(warehouse.path)}"
    ((built_at, build_id, published_at),) = warehouse.query(
        "select distinct strftime(_built_at, '%Y-%m-%d %H:%M:%S'), _invocation_id, "
        "strftime(publication.published_at, '%Y-%m-%d %H:%M:%S') "
        "from analytics.rpt_build_inputs, analytics.publication"
    )
    assert lines[1] == f"marts as of {GENERATED_AS_OF}, built {built_at} UTC"
    assert lines[2] == f"published {published_at} UTC by build {build_id}"
    # nothing was loaded after the build
    assert not any(line.startswith("warning") for line in lines)
