"""`lead-scoring preview`: a proposed rule file's effect, before committing it.

On a copy of the generated warehouse shared by the suites, a rule file with
changed points is previewed; the same file is then built for real from the
same raw rows. Every figure of the preview equals what the two builds'
marts say (MQL events per month, stage and grade moves, AUC, the rules
whose points change), and the live warehouse file is not modified.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections import Counter
from pathlib import Path

import pytest

from conftest import GENERATED_AS_OF, PROJECT_DIR, Warehouse
from lead_scoring.cli import main
from lead_scoring.warehouse.load import load
from lead_scoring.analysis.preview import PreviewError, preview

CHANGED = {"eng_pricing_page": "25", "fit_director_title": "30"}


def proposed_rules() -> str:
    """The project's rule file with the CHANGED points."""
    text = (PROJECT_DIR / "seeds" / "scoring_rules.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert set(CHANGED) <= {row["rule_id"] for row in rows}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row["points"] = CHANGED.get(row["rule_id"], row["points"])
        writer.writerow(row)
    return out.getvalue()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def live(generated, tmp_path_factory) -> Path:
    """A copy of the generated warehouse (its file is held open by dbt in
    this process)."""
    warehouse, _ = generated
    warehouse.query("checkpoint")  # everything written into the file itself
    copy = Path(tmp_path_factory.mktemp("preview_live")) / "live.duckdb"
    shutil.copyfile(warehouse.path, copy)
    return copy


@pytest.fixture(scope="module")
def rebuilt(generated, tmp_path_factory) -> Warehouse:
    """The proposed rules built for real from the same raw rows."""
    warehouse, _ = generated
    again = Warehouse(Path(tmp_path_factory.mktemp("preview_rebuilt")))
    again.with_seed("scoring_rules", proposed_rules())
    load(warehouse.raw_dir, duckdb_path=str(again.path))
    again.dbt("build", "--resource-type", "model", "--resource-type", "seed",
              vars={"as_of": GENERATED_AS_OF})
    return again


def test_preview_equals_a_build_with_the_proposed_rules(
    generated, live, rebuilt, tmp_path,
) -> None:
    warehouse, _ = generated
    rules = tmp_path / "proposed.csv"
    rules.write_text(proposed_rules())
    before = digest(live)
    found = preview(rules, target="duckdb", duckdb_path=live, project_dir=PROJECT_DIR)
    assert digest(live) == before
    assert found.as_of == GENERATED_AS_OF

    def monthly(source: Warehouse) -> Counter:
        return Counter(
            str(month)[:7] for (month,) in source.query(
                "select mql_at from analytics.fct_mql_events"
            )
        )

    was, now = monthly(warehouse), monthly(rebuilt)
    assert found.mqls_by_month == {
        month: (was[month], now[month]) for month in set(was) | set(now)
    }
    assert was != now  # the change moves MQLs

    def leads(source: Warehouse) -> dict[str, tuple]:
        return {
            row[0]: row[1:] for row in source.query(
                "select lead_id, lifecycle_stage, lead_grade from analytics.dim_leads"
            )
        }

    old, new = leads(warehouse), leads(rebuilt)
    assert found.leads == len(old)
    assert found.stage_moves == Counter(
        (old[lead][0], new[lead][0]) for lead in old if old[lead][0] != new[lead][0]
    )
    assert found.grade_moves == Counter(
        (old[lead][1], new[lead][1]) for lead in old if old[lead][1] != new[lead][1]
    )
    assert sum(found.grade_moves.values()) > 0
    (auc,) = rebuilt.query("select max(auc) from analytics.rpt_score_calibration")[0]
    assert found.auc[1] == pytest.approx(auc, abs=1e-12)
    changed_rules = dict(found.rules_by_leads_changed)
    assert set(CHANGED) <= set(changed_rules)
    (fired,) = rebuilt.query(
        "select count(*) from analytics.int_lead_rule_states "
        "where rule_id = 'fit_director_title' and counted_firings > 0"
    )[0]
    assert changed_rules["fit_director_title"] == fired
    text = found.markdown()
    assert f"| total | {sum(was.values()):,} | {sum(now.values()):,} |" in text


def test_cli_writes_markdown_and_refuses_a_bad_file(live, tmp_path, capsys) -> None:
    rules = tmp_path / "proposed.csv"
    rules.write_text(proposed_rules())
    out = tmp_path / "preview.md"
    assert main(["preview", "--rules", str(rules), "--target", "duckdb",
                 "--duckdb-path", str(live), "--project-dir", str(PROJECT_DIR),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed == out.read_text() and printed.startswith("# Preview of ")
    broken = tmp_path / "broken.csv"
    broken.write_text("rule_id,points\nx,1\n")
    assert main(["preview", "--rules", str(broken), "--target", "duckdb",
                 "--duckdb-path", str(live), "--project-dir", str(PROJECT_DIR)]) == 2
    assert "does not have the columns of" in capsys.readouterr().err
    with pytest.raises(PreviewError, match="no rule file"):
        preview(tmp_path / "missing.csv", target="duckdb", duckdb_path=live,
                project_dir=PROJECT_DIR)
