"""Seed files are read as dbt reads them, and every malformed row is named by
file and line before a build loads it (on PostgreSQL and Spark dbt would pad
a short row with nulls without a word)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import PROJECT_DIR
from lead_scoring.cli import main
from lead_scoring.seeds import SeedFileError, check_seeds, seed_problems


def project_copy(tmp_path: Path) -> Path:
    """dbt_project.yml and the seeds folder of the project, in tmp_path."""
    shutil.copy(PROJECT_DIR / "dbt_project.yml", tmp_path / "dbt_project.yml")
    shutil.copytree(PROJECT_DIR / "seeds", tmp_path / "seeds")
    return tmp_path


def insert_lines(path: Path, after_line: int, *lines: str) -> None:
    """Put `lines` into the file after its line `after_line` (1 = header)."""
    rows = path.read_text().split("\n")
    path.write_text("\n".join(rows[:after_line] + list(lines) + rows[after_line:]))


def test_the_projects_seed_files_are_well_formed() -> None:
    assert seed_problems(PROJECT_DIR) == []
    assert check_seeds(PROJECT_DIR) == len(list((PROJECT_DIR / "seeds").glob("*.csv")))


def test_every_malformed_row_is_named_by_file_and_line(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    # line 5: a quoted value over two lines (lines 5-6, well formed); then a
    # short row (7), a row with an extra value (8), a blank line (9).
    insert_lines(
        project / "seeds" / "country_codes.csv", 4,
        '"two', 'lines",XX', "af", "af,AF,extra", "",
    )
    statuses = project / "seeds" / "lead_statuses.csv"
    status_columns = statuses.read_text().split("\n")[0].split(",")
    insert_lines(statuses, 1, "new")
    problems = [str(problem) for problem in seed_problems(project)]
    header = "(country_alias, country_code)"
    assert problems == [
        f"seeds/country_codes.csv line 7: 1 value where the header has 2 columns "
        f"{header}: missing values",
        f"seeds/country_codes.csv line 8: 3 values where the header has 2 columns "
        f"{header}: extra values",
        "seeds/country_codes.csv line 9: blank line (dbt on PostgreSQL and Spark "
        "would load it as a row of nulls); delete it",
        f"seeds/lead_statuses.csv line 2: 1 value where the header has "
        f"{len(status_columns)} columns ({', '.join(status_columns)}): "
        "missing values",
    ]
    with pytest.raises(SeedFileError) as raised:
        check_seeds(project)
    assert str(raised.value).startswith("4 malformed row(s) in the seed files")
    assert "seeds/country_codes.csv line 8" in str(raised.value)


def test_a_seed_with_its_own_delimiter_is_read_with_it(tmp_path: Path) -> None:
    """The delimiter configured in the seeds' properties file is used, and a
    byte order mark before the header is ignored, as dbt does."""
    project = project_copy(tmp_path)
    (project / "seeds" / "regions.csv").write_text(
        "\ufeffregion;country_code\nEurope, Western;DE\nEurope;FR;extra\n",
        encoding="utf-8",
    )
    (project / "seeds" / "_regions.yml").write_text(
        "version: 2\nseeds:\n  - name: regions\n    config:\n      delimiter: ';'\n"
    )
    assert [str(problem) for problem in seed_problems(project)] == [
        "seeds/regions.csv line 3: 3 values where the header has 2 columns "
        "(region, country_code): extra values",
    ]


def test_check_seeds_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-seeds", "--project-dir", str(PROJECT_DIR)]) == 0
    assert "every row has one value per column" in capsys.readouterr().out
    project = project_copy(tmp_path)
    insert_lines(project / "seeds" / "scoring_rules.csv", 2, "e_broken,engagement")
    assert main(["check-seeds", "--project-dir", str(project)]) == 2
    error = capsys.readouterr().err
    assert "error: 1 malformed row(s) in the seed files" in error
    assert "seeds/scoring_rules.csv line 3: 2 values where the header has" in error
    assert "hint: every row needs one value per header column" in error
