"""Seed files read as dbt reads them, with every malformed row named by line.

dbt parses a seed file with agate before any SQL runs. A row with more
fields than the header stops it with "Row N has ..." (N counted from 0 after
the header, not a line of the file); on PostgreSQL and Spark a row with
fewer fields is padded with nulls, and a blank line becomes a row of nulls,
both loaded without a word (on DuckDB the project's `duckdb__load_csv_rows`
refuses the short row and DuckDB skips the blank line). A seed is
a rule file people edit by hand, so `lead-scoring check-seeds`, `make demo`,
`preview` and the Dagster job read every seed file first and stop on the
first build that would load a malformed one.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from lead_scoring.errors import LeadScoringError

BYTE_ORDER_MARK = "\ufeff"


class SeedFileError(LeadScoringError):
    """A seed file dbt would load wrongly or not at all."""


@dataclass(frozen=True)
class SeedProblem:
    """One malformed row of a seed file: its path (from the project
    directory), the line it starts on (the header is line 1) and what is
    wrong with it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path} line {self.line}: {self.message}"


def _seed_folders(project: Path) -> list[Path]:
    """The folders of the project's `seed-paths`."""
    settings = yaml.safe_load((project / "dbt_project.yml").read_text()) or {}
    return [project / folder for folder in settings.get("seed-paths", ["seeds"])]


def seed_files(project_dir: str | os.PathLike[str] = ".") -> list[Path]:
    """The seed files of the dbt project."""
    return [
        path
        for folder in _seed_folders(Path(project_dir))
        for path in sorted(folder.rglob("*.csv"))
    ]


def seed_delimiters(project_dir: str | os.PathLike[str] = ".") -> dict[str, str]:
    """The `delimiter` configured for a seed in its properties file, by seed
    name (seeds without one use a comma, as dbt does)."""
    delimiters: dict[str, str] = {}
    for folder in _seed_folders(Path(project_dir)):
        for properties in sorted(folder.rglob("*.yml")):
            document = yaml.safe_load(properties.read_text()) or {}
            for seed in document.get("seeds") or []:
                delimiter = (seed.get("config") or {}).get("delimiter")
                if delimiter:
                    delimiters[seed["name"]] = delimiter
    return delimiters


def file_problems(path: Path, shown_as: str, delimiter: str = ",") -> list[SeedProblem]:
    """The rows of one seed file whose number of fields differs from the
    header's, and blank lines (which dbt loads as a row of nulls on
    PostgreSQL and Spark)."""
    problems: list[SeedProblem] = []
    with open(path, encoding="utf-8", newline="") as handle:
        if handle.read(1) != BYTE_ORDER_MARK:
            handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return [SeedProblem(shown_as, 1, "the file is empty: a seed needs a header row")]
        except csv.Error as exc:
            return [SeedProblem(shown_as, 1, f"the header cannot be read ({exc})")]
        columns = ", ".join(header)
        previous_end = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.append(SeedProblem(shown_as, previous_end + 1, f"cannot be read ({exc})"))
                break
            line, previous_end = previous_end + 1, reader.line_num
            if not row:
                problems.append(SeedProblem(
                    shown_as, line,
                    "blank line (dbt on PostgreSQL and Spark would load it as a "
                    "row of nulls); delete it",
                ))
            elif len(row) != len(header):
                what = "missing" if len(row) < len(header) else "extra"
                problems.append(SeedProblem(
                    shown_as, line,
                    f"{len(row)} value{'' if len(row) == 1 else 's'} where "
                    f"the header has {len(header)} "
                    f"columns ({columns}): {what} values",
                ))
    return problems


def seed_problems(project_dir: str | os.PathLike[str] = ".") -> list[SeedProblem]:
    """Every malformed row of every seed file of the project, in file order."""
    project = Path(project_dir)
    delimiters = seed_delimiters(project)
    problems: list[SeedProblem] = []
    for path in seed_files(project):
        problems.extend(file_problems(
            path, path.relative_to(project).as_posix(), delimiters.get(path.stem, ",")
        ))
    return problems


def check_seeds(project_dir: str | os.PathLike[str] = ".") -> int:
    """Raise SeedFileError naming the malformed rows of the project's seed
    files (the first ten); return how many seed files were read."""
    problems = seed_problems(project_dir)
    if problems:
        shown = "\n".join(f"  {problem}" for problem in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise SeedFileError(
            f"{len(problems)} malformed row(s) in the seed files; dbt would "
            f"load them wrongly or not at all:\n{shown}{more}",
            hint="every row needs one value per header column; quote a value "
            'holding the delimiter with double quotes ("a, b")',
        )
    return len(seed_files(project_dir))
