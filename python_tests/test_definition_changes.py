"""An edited seed, var or macro reaches an incremental build by construction.

One small warehouse is built; then each seed of the project is edited in
turn (the rule file and every mapping seed: activity types, URL patterns,
seniority patterns, country codes, size bands, statuses, lifecycle stages),
then a var and a macro. After each edit an incremental build runs and every
mart must hold exactly the rows a full refresh of the same inputs gives.
Nothing tells the build which edit was made: the incremental models find it
in their definition fingerprint (macros/incremental/lead_incremental.sql).
Models and seeds are built (`--resource-type model --resource-type seed`):
the data tests run in the other suites.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from conftest import MARTS, Warehouse, contents, copy_project, same_value
from lead_scoring.synthetic.generate import generate
from lead_scoring.warehouse.load import load

pytestmark = pytest.mark.slow

AS_OF = "2026-06-30 23:59:59"
BUILD = ("build", "--resource-type", "model", "--resource-type", "seed")


def replace_text(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"{old!r} not found: the edit would change nothing"
        return text.replace(old, new, 1)
    return edit


# (file in the project, edit, whether the edit must change some mart)
EDITS: list[tuple[str, Callable[[str], str], bool]] = [
    ("seeds/job_title_seniority_patterns.csv", replace_text("vp,vp,10", "vp,director,10"), True),
    ("seeds/country_codes.csv", replace_text("us,US", "us,CA"), True),
    ("seeds/company_size_bands.csv", replace_text("51-200,51,200", "51-200,31,200"), True),
    ("seeds/url_page_patterns.csv", replace_text("/features,product_page_view,30", "/features,pricing_page_view,30"), True),
    ("seeds/activity_types.csv", replace_text("email_click,email,false,Clicked a link in a marketing e-mail\n", ""), True),
    ("seeds/scoring_rules.csv", replace_text(
        "eng_pricing_page,engagement,activity_type,equals,pricing_page_view,10,30,30",
        "eng_pricing_page,engagement,activity_type,equals,pricing_page_view,25,60,7",
    ), True),
    ("seeds/lead_statuses.csv", replace_text("recycled,recycled,false,true,false,The lead went cold and returns to nurture.\n", ""), True),
    ("seeds/lifecycle_stages.csv", replace_text("In an active sales process", "In an active sales cycle"), False),
    ("dbt_project.yml", replace_text("mql_min_fit_score: 30", "mql_min_fit_score: 25"), True),
    ("macros/scoring/fast_track_types_sql.sql", replace_text(
        "{%- set configured = var('fast_track_activity_types') -%}",
        "{%- set configured = ['demo_request'] -%}",
    ), True),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = Path(tmp_path_factory.mktemp("definitions"))
    warehouse = Warehouse(root)
    warehouse.project_dir = copy_project(root / "project")
    generate(
        warehouse.raw_dir, leads=150, seed=13, dirty_rate=0.05, fmt="csv",
        as_of=AS_OF, activities_per_lead=15,
    )
    load(warehouse.raw_dir, duckdb_path=str(warehouse.path), loaded_at=AS_OF)
    # The first build writes the manifest, whose DAG tells which models an
    # edit must rebuild (the edits change no dependency); the later builds
    # write no artifacts.
    warehouse.write_artifacts = True
    warehouse.dbt(*BUILD, vars={"as_of": AS_OF})
    warehouse.write_artifacts = False
    return warehouse


def snapshot(warehouse: Warehouse) -> dict[str, list[tuple]]:
    return {mart: contents(warehouse, mart) for mart in MARTS}


def same(left: list[tuple], right: list[tuple]) -> bool:
    return len(left) == len(right) and all(
        len(a) == len(b) and all(map(same_value, a, b)) for a, b in zip(left, right)
    )


@pytest.mark.parametrize("path, edit, changes_marts", EDITS, ids=[e[0] for e in EDITS])
def test_an_edit_reaches_the_incremental_build(small, path, edit, changes_marts) -> None:
    before = snapshot(small)
    target = small.project_dir / path
    target.write_text(edit(target.read_text()))
    result = small.dbt(*BUILD, vars={"as_of": AS_OF})
    incremental = snapshot(small)
    rebuilt_models = {
        line.split(" rebuilt: ")[0].split()[-1]
        for line in small.log_lines()
        if " rebuilt: its definition or an upstream one changed" in line
    }
    small.dbt(*BUILD, "--full-refresh", vars={"as_of": AS_OF})
    full = snapshot(small)
    for mart in MARTS:
        assert same(incremental[mart], full[mart]), (
            f"after editing {path}, {mart} differs from a full refresh"
        )
    if changes_marts:
        assert any(not same(before[mart], full[mart]) for mart in MARTS), (
            f"editing {path} changed no mart: the test would prove nothing"
        )
    # Every incremental model that reads the edited file rebuilt itself
    # (lifecycle_stages is read by none: its edit only reaches tables).
    expected = _incremental_models_reading(small, path)
    assert bool(expected) == changes_marts
    assert expected <= rebuilt_models, (
        f"editing {path} did not rebuild {sorted(expected - rebuilt_models)}"
    )


def _incremental_models_reading(warehouse: Warehouse, path: str) -> set[str]:
    """The lead_incremental models an edit of `path` must rebuild: for a
    seed, those downstream of it in the manifest; for the var and the macro,
    the score trajectories (which read both)."""
    if not path.startswith("seeds/"):
        return {"int_lead_score_trajectories"}
    manifest = json.loads((warehouse.root / "target" / "manifest.json").read_text())
    seed = "seed.lead_scoring." + Path(path).stem
    children = manifest["child_map"]
    found, queue = set(), [seed]
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in found:
                found.add(child)
                queue.append(child)
    return {
        manifest["nodes"][node]["name"] for node in found
        if node in manifest["nodes"]
        and manifest["nodes"][node]["config"]["materialized"] == "lead_incremental"
    }
