"""The documentation says only what exists, and everything a user can set is
in it.

Read: README.md, BENCHMARKS.md and every Markdown file under docs/. Checked:
every relative link reaches a file and, with an anchor, a heading of it; every
model, seed, dbt var and environment variable the docs name exists; every dbt
var, environment variable, seed and mart that exists is named in the docs.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from conftest import PROJECT_DIR

DOCS = sorted(
    [PROJECT_DIR / "README.md", PROJECT_DIR / "BENCHMARKS.md",
     *(PROJECT_DIR / "docs").rglob("*.md")]
)
# Where code reads settings from: dbt's project and profile, the Python
# package, the Makefile, CI, the orchestration code location and the tests.
CODE = [
    PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / "profiles.yml",
    PROJECT_DIR / "Makefile", PROJECT_DIR / ".ci" / "run",
    *(PROJECT_DIR / "src").rglob("*.py"),
    *(PROJECT_DIR / "orchestration").rglob("*.py"),
    *(PROJECT_DIR / "orchestration").rglob("*.yaml"),
    *(PROJECT_DIR / "python_tests").glob("*.py"),
    *(PROJECT_DIR / "models").rglob("*.sql"),
    *(PROJECT_DIR / "macros").rglob("*.sql"),
    *(PROJECT_DIR / "tests").rglob("*.sql"),
]
MODEL_PREFIXES = ("stg_", "base_", "int_", "dim_", "fct_", "rpt_")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _docs_text() -> str:
    return "\n".join(_text(path) for path in DOCS)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but hyphens and
    underscores dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    in_code = False
    for line in _text(path).splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            base = slug(line.lstrip("#"))
            anchor, number = base, 1
            while anchor in found:
                anchor, number = f"{base}-{number}", number + 1
            found.add(anchor)
    return found


def links(path: Path) -> list[str]:
    """The relative link targets of a Markdown file (code blocks aside)."""
    text = re.sub(r"```.*?```", "", _text(path), flags=re.DOTALL)
    return [
        target for target in re.findall(r"\]\(([^)\s]+)\)", text)
        if not re.match(r"[a-z]+:", target)
    ]


def test_docs_exist() -> None:
    assert (PROJECT_DIR / "docs").is_dir()
    assert len(DOCS) >= 4, DOCS


def test_every_link_reaches_a_file_and_heading() -> None:
    broken = []
    for path in DOCS:
        for target in links(path):
            file_part, _, anchor = target.partition("#")
            destination = (path.parent / file_part).resolve() if file_part else path
            if not destination.exists():
                broken.append(f"{path.name}: {target} (no file {file_part})")
            elif anchor and (
                destination.suffix != ".md" or anchor not in anchors(destination)
            ):
                broken.append(f"{path.name}: {target} (no heading #{anchor})")
    assert broken == [], "\n".join(broken)


def test_link_check_catches_a_missing_heading(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Top\n\n## Run it: on a schedule\n\n[x](#run-it-on-a-schedule)\n")
    assert "run-it-on-a-schedule" in anchors(page)
    assert links(page) == ["#run-it-on-a-schedule"]
    assert "run-it" not in anchors(page)


def _models() -> set[str]:
    return {path.stem for path in (PROJECT_DIR / "models").rglob("*.sql")}


def _seeds() -> set[str]:
    return {path.stem for path in (PROJECT_DIR / "seeds").glob("*.csv")}


# Models of the first design of the scoring core, named where the docs give
# that design's benchmark figures (BENCHMARKS.md, docs/development.md).
FORMER_MODELS = {"int_activity_scores_evaluated", "int_lead_threshold_crossings"}


def test_models_and_seeds_named_in_the_docs_exist() -> None:
    models, seeds = _models() | FORMER_MODELS, _seeds()
    unknown = []
    for path in DOCS:
        text = _text(path)
        for name in set(re.findall(r"`([a-z][a-z0-9_]*[a-z0-9])", text)):
            if name.startswith(MODEL_PREFIXES) and name not in models:
                unknown.append(f"{path.name}: model {name}")
            elif name.startswith(("dim_", "fct_", "rpt_")) and name not in models:
                unknown.append(f"{path.name}: mart {name}")
        for name in set(re.findall(r"seeds/([a-z0-9_]+)\.csv", text)):
            if name not in seeds:
                unknown.append(f"{path.name}: seed {name}")
    assert unknown == [], "\n".join(sorted(unknown))


def _vars() -> set[str]:
    project = yaml.safe_load(_text(PROJECT_DIR / "dbt_project.yml"))
    found = set(project.get("vars", {}))
    for path in CODE:
        if path.suffix == ".sql" or path.name == "dbt_project.yml":
            found |= set(re.findall(r"var\(\s*['\"]([a-z0-9_]+)['\"]", _text(path)))
    return found


def _documented_vars() -> set[str]:
    """Names given as dbt vars in the docs' tables (`name` | dbt var |)."""
    return set(re.findall(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*dbt var\s*\|",
                          _docs_text(), flags=re.MULTILINE))


def test_every_var_is_documented_and_every_documented_var_exists() -> None:
    existing, documented = _vars(), _documented_vars()
    assert existing - documented == set(), "vars not in a docs table"
    assert documented - existing == set(), "documented vars nothing reads"


def _env_vars_read() -> set[str]:
    """Environment variables the code reads (full names)."""
    pattern = re.compile(
        r"""(?:env_var\(\s*|environ(?:\.get)?[\[(]\s*|getenv\(\s*|setdefault\(\s*)"""
        r"""['"](LEAD_SCORING_[A-Z0-9_]+)['"]"""
        r"""|\b(LEAD_SCORING_[A-Z0-9_]*[A-Z0-9])\s*[:?]?="""
        r"""|\$\{?(LEAD_SCORING_[A-Z0-9_]*[A-Z0-9])"""
    )
    found = set()
    for path in CODE:
        for groups in pattern.findall(_text(path)):
            found |= {name for name in groups if name}
    # constants naming a variable (ENV_DUCKDB_PATH = "LEAD_SCORING_...")
    for path in (PROJECT_DIR / "src").rglob("*.py"):
        found |= set(re.findall(r'^[A-Z_]+ = "(LEAD_SCORING_[A-Z0-9_]+)"',
                                _text(path), flags=re.MULTILINE))
    return found


def test_every_environment_variable_is_documented_and_exists() -> None:
    read = _env_vars_read()
    assert {"LEAD_SCORING_TARGET", "LEAD_SCORING_DUCKDB_PATH"} <= read
    docs = _docs_text()
    named = set(re.findall(r"\b(LEAD_SCORING_[A-Z0-9_]*[A-Z0-9])\b", docs))
    assert read - named == set(), "read by the code, documented nowhere"
    everything = "\n".join(_text(path) for path in CODE)
    assert {name for name in named if name not in everything} == set(), (
        "named in the docs, read nowhere"
    )


def test_every_seed_and_mart_is_named_in_the_docs() -> None:
    docs = _docs_text()
    marts = {path.stem for path in (PROJECT_DIR / "models" / "marts").glob("*.sql")}
    missing = sorted(
        name for name in _seeds() | marts if not re.search(rf"\b{name}\b", docs)
    )
    assert missing == [], "documented nowhere"
