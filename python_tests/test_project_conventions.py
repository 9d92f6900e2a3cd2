"""The project follows its own conventions and dbt-project-evaluator's rules.

The dbt-project-evaluator package cannot be installed here (no dbt hub), so
its rules that apply to this project are checked on the manifest of a
`dbt parse`: documentation, primary-key tests, governance of the marts,
the shape of the DAG (sources, layers, fan-out, joins, chains of views) and
naming and file placement. Each test fails with the list of offenders.
Exceptions are allowed only through the allow-lists below, each with the
reason it is justified. docs/development.md ("Conventions, checked") lists
the rules.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from conftest import PROJECT_DIR, Warehouse

PACKAGE = "lead_scoring"
LAYERS = ("staging", "intermediate", "marts", "publication")
PREFIXES = {
    "staging": ("stg_", "base_"),
    "intermediate": ("int_",),
    "marts": ("dim_", "fct_", "rpt_"),
    # The last step of a DuckDB build (models/publication/publication.py):
    # copies every mart into the file readers use.
    "publication": ("publication",),
}
# dbt-project-evaluator's thresholds.
MAX_LEAF_CHILDREN = 3  # model fan-out: more direct leaf children is flagged
MAX_JOINS = 6  # "models with 7 or more joins"
MAX_PARENTS = 6  # the evaluator counts references to models and sources
MAX_VIEW_CHAIN = 5  # chained view dependencies

# Views that count the rows and newest load marker of every raw table of
# their source when a build runs (rpt_build_inputs keeps what they saw, so
# the tools can warn about rows loaded after the build): reading each raw
# table beside its base model is their job. They union, never join. The
# evaluator would report "source fanout" and "multiple sources joined".
RAW_LOAD_COUNTERS = {"stg_crm__raw_loads", "stg_marketing__raw_loads"}
# More `join` keywords than MAX_JOINS (or more parents than MAX_PARENTS),
# with the reason it is fine.
MANY_JOINS_ALLOWED = {
    "int_lead_stage_events": (
        "7 parents, unioned rather than joined: one event stream per thing "
        "that moves a stage (creation, first engagement, acceptance, "
        "reset, first disqualification, opportunity) and the stages seed "
        "that orders them"
    ),
    "int_lead_rule_states": (
        "7 parents: the rule matches (attribute and activity), the "
        "qualification epochs and the MQL event windows it aggregates, and "
        "what picks the leads an incremental build recomputes (the two "
        "change logs, and the live leads that filter the activity matches)"
    ),
    "stg_marketing__activities": (
        "10 `join` words, five of them Jinja's join filter and one in a comment: "
        "the SQL joins are lookups on small relations (the page types of the "
        "URLs; the erased leads; the copies already numbered; the known "
        "types); splitting them out would write every raw activity twice"
    ),
    "int_activity_group_scores": (
        "the one sorted pass over every activity (joins of the starts, the "
        "leads, the activities and their types' slot points before the "
        "window; the chunk carries and the slot groups after it), reading 7 "
        "relations (the two change logs of the incremental scope among "
        "them): splitting it would write every activity's evaluation more "
        "than once"
    ),
    "fct_rejected_rows": (
        "7 parents, unioned rather than joined: one branch per raw table, "
        "each deciding that table's outcome from its base model with the "
        "macro its staging model uses (the lead_statuses seed for unknown "
        "statuses), so the rejected rows and the used ones cannot disagree"
    ),
    "publication": (
        "reads every mart, and only reads them: it copies them into the "
        "published file, so it must run after all of them"
    ),
    "rpt_rule_effectiveness": (
        "9 join keywords over 5 parents: per-rule aggregates joined 1:1 on "
        "rule_id, plus cross joins to two one-row totals; splitting them "
        "into models nothing else reads would only rejoin them"
    ),
}
# "Rejoining of upstream concepts": a model read only by one child that
# also reads the model's parent. Allowed (middle model: reason).
REJOIN_ALLOWED = {
    "int_activity_group_scores": (
        "the sorted pass over every activity is a model of its own so that "
        "each query stays small enough for Spark's optimizer (one query "
        "holding it and the threshold search ran its 2 GB driver out of "
        "memory); int_lead_score_trajectories reads the slot groups and the "
        "leads' attribute points beside it, and the change logs of the "
        "incremental scope as every lead-keyed incremental model does"
    ),
    "stg_marketing__page_urls": (
        "the page type of each distinct URL is a table of its own so that "
        "stg_marketing__activities reads the typed raw activities once: "
        "DuckDB holds whole a relation one query reads twice, which at 100 "
        "million activities cost that query a quarter of its time"
    ),
    "int_score_auc": (
        "the AUC is its own computation, unit-tested against known answers "
        "(perfect, random and reversed orderings); folded into "
        "rpt_score_calibration it could only be tested through the mart"
    ),
    "int_lead_stages_current": (
        "the lifecycle area's summary (current stage, first MQL) stays in "
        "intermediate/lifecycle beside the events it reads; dim_leads only "
        "assembles attributes, scores and stage by lead_id"
    ),
}
# A staging model read by another, with the reason.
_ERASED_LEADS_READ = (
    "the erased leads are decided once per build (a table of their hashes): "
    "the activity tables find their rows by them, and "
    "stg_marketing__activities' rebuild_check compares the leads it stores "
    "masked with them"
)
STAGING_READS_ALLOWED = {
    ("stg_marketing__activities", "stg_marketing__page_urls"): REJOIN_ALLOWED[
        "stg_marketing__page_urls"
    ],
    ("stg_marketing__activities", "stg_crm__erased_leads"): _ERASED_LEADS_READ,
    ("stg_marketing__page_urls", "stg_crm__erased_leads"): _ERASED_LEADS_READ,
}
# Models without a primary-key test, with the reason.
_VIEW_OVER_KEYED_MATCHES = (
    "a view over int_activity_rules_matched (key activity_id x rule_id, "
    "see above) and "
    "int_lead_attribute_rules_matched (key lead_id x rule_id), both tested: "
    "its key lead_id x rule_id x activity_id follows from theirs, and a "
    "unique test on the view would aggregate every firing (100 million at "
    "scale) in every build"
)
NO_PRIMARY_KEY_ALLOWED = {
    "int_activities_valid": (
        "a view over stg_marketing__activities (whose row identity is "
        "tested): the copy ranked 1 of each activity_id, of a live lead, "
        "dated by as_of; a key test on the view would join and aggregate "
        "every activity in every build"
    ),
    "int_activity_rules_matched": (
        "a view joining int_activities_valid (key activity_id) to "
        "int_activity_type_rules (key activity_type x rule_id), both tested: "
        "its key activity_id x rule_id follows from theirs, and a unique test "
        "on the view would aggregate every firing in every build"
    ),
    "int_rule_firings_weighted": _VIEW_OVER_KEYED_MATCHES,
    "fct_activities": (
        "a view over int_activities_valid, the copy ranked 1 of each "
        "activity_id (stg_marketing__activities' row identity is tested): "
        "its key activity_id follows, and a unique test on the view would "
        "aggregate every activity in every build"
    ),
    "fct_score_ledger": _VIEW_OVER_KEYED_MATCHES,
    "int_scoring_rules_checked": (
        "one row per row of the scoring_rules seed as edited, blank and "
        "repeated rule_ids included: reporting them in one message is its "
        "job, so a key test must not stop the build first"
    ),
}
# Parts of a unique_combination_of_columns key that may be null (the test
# counts null as a value), with the reason.
NULLABLE_KEY_PARTS = {
    **{
        ("stg_marketing__activities", part): (
            "a raw row's identity: key and copy rank for the rows of live or "
            "unknown leads (activity_id blank, then lead_id), content hash "
            "and copy number for an erased lead's masked rows; each part is "
            "null in the rows the others identify"
        )
        for part in ("activity_id", "lead_id", "copy_rank",
                     "erased_content_hash", "erased_copy_number")
    },
    ("int_rule_firings_weighted", "activity_id"): (
        "an attribute rule fires once per lead, with no activity"
    ),
}
# Singular tests over values lists must cover these macros.
MACROS_TESTED_BY_VALUES = (
    "clean_text", "clean_label", "clean_category", "to_number",
    "to_timestamp_utc", "to_boolean", "clip_points", "decay_factor",
    "safe_ratio", "round_to",
)
# The prefix of an engine-specific implementation of a dispatched macro.
DISPATCH_PREFIX = re.compile(r"^(default|[a-z]+)__(?P<macro>.+)$")


class Project:
    """The project's own resources in a manifest, and the DAG between them."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.manifest = manifest
        nodes = manifest["nodes"]
        self.models = self._own(nodes, "model")
        self.seeds = self._own(nodes, "seed")
        self.tests = self._own(nodes, "test")
        self.sources = {
            key: node for key, node in manifest["sources"].items()
            if node["package_name"] == PACKAGE
        }
        self.macros = {
            key: node for key, node in manifest["macros"].items()
            if node["package_name"] == PACKAGE
        }
        self.exposures = manifest.get("exposures", {})
        self.children: dict[str, set[str]] = defaultdict(set)
        for key, node in [*nodes.items(), *self.exposures.items()]:
            for parent in node["depends_on"].get("nodes", []):
                self.children[parent].add(key)

    @staticmethod
    def _own(nodes: dict[str, Any], resource_type: str) -> dict[str, Any]:
        return {
            key: node for key, node in nodes.items()
            if node["resource_type"] == resource_type
            and node["package_name"] == PACKAGE
        }

    def layer(self, model: dict[str, Any]) -> str | None:
        parts = PurePosixPath(model["original_file_path"]).parts
        return parts[1] if len(parts) > 2 and parts[1] in LAYERS else None

    def parents(self, model: dict[str, Any]) -> list[str]:
        return model["depends_on"]["nodes"]

    def name(self, unique_id: str) -> str:
        if unique_id.startswith("source."):
            return ".".join(unique_id.split(".")[-2:])
        return unique_id.split(".")[-1]

    def model_children(self, unique_id: str) -> set[str]:
        return {child for child in self.children[unique_id] if child in self.models}

    def is_leaf(self, unique_id: str) -> bool:
        return not any(
            child in self.models or child in self.exposures
            for child in self.children[unique_id]
        )

    def is_time_spine(self, model: dict[str, Any]) -> bool:
        return bool(model.get("time_spine"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A `dbt parse` of the project (deprecations are errors) into a tmp target."""
    previous = os.environ.get("LEAD_SCORING_DUCKDB_PATH")
    warehouse = Warehouse(Path(tmp_path_factory.mktemp("conventions")))
    try:
        warehouse.dbt(
            "parse", "--warn-error-options", '{"error": ["Deprecations"]}',
        )
    finally:
        if previous is None:
            os.environ.pop("LEAD_SCORING_DUCKDB_PATH", None)
        else:
            os.environ["LEAD_SCORING_DUCKDB_PATH"] = previous
    manifest_path = warehouse.root / "target" / "manifest.json"
    return Project(json.loads(manifest_path.read_text()))


def described(spec: dict[str, Any]) -> bool:
    return bool((spec.get("description") or "").strip())


def macro_signature(macro: dict[str, Any]) -> list[str]:
    """Argument names of a macro (or generic test) as its SQL declares them;
    none for a materialization."""
    if re.match(r"\s*\{%-?\s*materialization\b", macro["macro_sql"]):
        return []
    match = re.search(
        r"\{%-?\s*(?:macro|test)\s+\w+\s*\((.*?)\)\s*-?%\}",
        macro["macro_sql"], re.S,
    )
    assert match, f"cannot read the signature of {macro['name']}"
    names = []
    for argument in match.group(1).split(","):
        argument = argument.strip()
        if argument:
            names.append(argument.split("=")[0].strip())
    return names


def strip_comments(sql: str) -> str:
    sql = re.sub(r"\{#.*?#\}", "", sql, flags=re.S)
    return re.sub(r"--[^\n]*", "", sql)


# ---------------------------------------------------------------- docs


def test_every_resource_is_described(project: Project) -> None:
    offenders = []
    for kind, resources in (("model", project.models), ("seed", project.seeds)):
        for node in resources.values():
            if not described(node):
                offenders.append(f"{kind} {node['name']}")
            offenders += [
                f"{kind} column {node['name']}.{column}"
                for column, spec in node["columns"].items()
                if not described(spec)
            ]
    for node in project.sources.values():
        if not (node.get("source_description") or "").strip():
            offenders.append(f"source {node['source_name']}")
        if not described(node):
            offenders.append(f"source table {project.name(node['unique_id'])}")
        offenders += [
            f"source column {project.name(node['unique_id'])}.{column}"
            for column, spec in node["columns"].items()
            if not described(spec)
        ]
    offenders += [
        f"exposure {node['name']}" for node in project.exposures.values()
        if not described(node)
    ]
    assert offenders == [], "undescribed: " + ", ".join(sorted(offenders))


def test_every_seed_column_is_documented(project: Project) -> None:
    """Seed columns are read from the CSV header: each one is in _seeds.yml."""
    offenders = []
    for node in project.seeds.values():
        header = (PROJECT_DIR / node["original_file_path"]).read_text()
        header = header.splitlines()[0]
        for column in header.split(","):
            if column.strip() not in node["columns"]:
                offenders.append(f"{node['name']}.{column.strip()}")
    assert offenders == [], "seed columns missing from _seeds.yml: " + ", ".join(
        offenders
    )


def test_every_macro_and_argument_is_described(project: Project) -> None:
    documented = {node["name"] for node in project.macros.values() if described(node)}
    offenders = []
    for node in project.macros.values():
        name = node["name"]
        dispatched = DISPATCH_PREFIX.match(name)
        if not described(node):
            # An engine implementation of a dispatched macro shares the
            # documentation of its entry point.
            if not (dispatched and dispatched.group("macro") in documented):
                offenders.append(f"macro {name}: no description")
            continue
        if dispatched and dispatched.group("macro") in documented:
            continue
        declared = macro_signature(node)
        written = [argument["name"] for argument in node["arguments"]]
        if written != declared:
            offenders.append(
                f"macro {name}: arguments documented {written}, declared {declared}"
            )
        offenders += [
            f"macro {name}: argument {argument['name']} lacks a type or description"
            for argument in node["arguments"]
            if not (argument.get("type") and (argument.get("description") or "").strip())
        ]
    assert offenders == [], "\n".join(sorted(offenders))


def project_vars() -> tuple[dict[str, Any], list[str]]:
    """The vars block of dbt_project.yml, and its lines."""
    text = (PROJECT_DIR / "dbt_project.yml").read_text()
    return yaml.safe_load(text)["vars"], text.splitlines()


def used_vars() -> set[str]:
    names = set()
    for folder in ("models", "macros", "tests"):
        for path in (PROJECT_DIR / folder).rglob("*.sql"):
            names |= set(re.findall(r"\bvar\(\s*['\"](\w+)['\"]", path.read_text()))
    names |= set(re.findall(
        r"\bvar\(\s*['\"](\w+)['\"]", (PROJECT_DIR / "dbt_project.yml").read_text()
    ))
    return names


def test_every_var_is_explained(project: Project) -> None:
    declared, lines = project_vars()
    operations = (PROJECT_DIR / "docs" / "operations.md").read_text()
    configuration = operations.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    in_table = set(re.findall(r"^\| `(\w+)` \| dbt var \|", configuration, re.M))
    offenders = [
        f"var {name} is not in the configuration table of docs/operations.md"
        for name in sorted((set(declared) | used_vars()) - in_table)
    ]
    for name in declared:
        index = next(
            i for i, line in enumerate(lines) if re.match(rf"^  {name}:", line)
        )
        if not lines[index - 1].strip().startswith("#"):
            offenders.append(f"var {name} has no comment above it in dbt_project.yml")
    offenders += [
        f"var {name} is used but neither declared in dbt_project.yml nor "
        "given a default where it is read"
        for name in sorted(used_vars() - set(declared))
        if not re.search(
            rf"var\(\s*['\"]{name}['\"]\s*,",
            "\n".join(
                path.read_text()
                for folder in ("models", "macros", "tests")
                for path in (PROJECT_DIR / folder).rglob("*.sql")
            ) + (PROJECT_DIR / "dbt_project.yml").read_text(),
        )
    ]
    assert offenders == [], "\n".join(offenders)


# ---------------------------------------------------------------- tests


def generic_tests_of(test: dict[str, Any]) -> set[str]:
    """The generic test macros a test node runs, as `project.test_name`."""
    return {
        macro.removeprefix("macro.") for macro in test["depends_on"]["macros"]
        if macro.split(".")[-1].startswith("test_")
    }


def primary_key_test_sets(project: Project) -> list[set[str]]:
    """var primary_key_test_macros (dbt-project-evaluator's): each set of
    tests that together make a primary-key test. Every macro it names
    exists, so renaming the project's own test cannot pass unnoticed."""
    sets = [set(entry) for entry in project_vars()[0]["primary_key_test_macros"]]
    known = {key.removeprefix("macro.") for key in project.manifest["macros"]}
    missing = sorted(name for entry in sets for name in entry if name not in known)
    assert not missing, f"primary_key_test_macros names unknown tests {missing}"
    return sets


def primary_key_problem(
    project: Project, unique_id: str, key_sets: list[set[str]]
) -> str | None:
    """None when the model has a primary-key test (a set of
    primary_key_test_macros, on one column; a combination of columns needs
    not_null on its parts too), else what is missing."""
    columns: dict[str, set[str]] = defaultdict(set)
    combinations = []
    for test in project.tests.values():
        metadata = test.get("test_metadata") or {}
        if test.get("attached_node") != unique_id or not metadata:
            continue
        column = test.get("column_name") or metadata["kwargs"].get("column_name")
        for macro in generic_tests_of(test):
            columns[macro].add(column)
            if "combination_of_columns" in metadata["kwargs"]:
                combinations.append((macro, metadata["kwargs"]["combination_of_columns"]))
    not_null = columns["dbt.test_not_null"]
    model = project.models[unique_id]["name"]
    for key_set in key_sets:
        combined = [parts for macro, parts in combinations if macro in key_set]
        if len(key_set) == 1 and combined:
            for parts in combined:
                nullable = [
                    part for part in parts
                    if part not in not_null and (model, part) not in NULLABLE_KEY_PARTS
                ]
                if not nullable:
                    return None
                return f"{model}: key part(s) {nullable} lack a not_null test"
        elif set.intersection(*(columns[macro] for macro in key_set)) - {None}:
            return None
    return f"{model}: no primary-key test (var primary_key_test_macros)"


def is_typing_base_model(model: dict[str, Any]) -> bool:
    """A base model that only types and renames its raw table: raw rows as
    loaded have no key, and nothing is kept to test (ephemeral); what
    staging makes of them is tested there and in fct_rejected_rows."""
    return (
        model["name"].startswith("base_")
        and model["config"]["materialized"] == "ephemeral"
    )


def test_base_models_only_type_and_rename(project: Project) -> None:
    offenders = []
    for model in project.models.values():
        name = model["name"]
        if not name.startswith("base_"):
            continue
        if model["config"]["materialized"] != "ephemeral":
            offenders.append(f"{name} is {model['config']['materialized']}, not ephemeral")
        parents = project.parents(model)
        if len(parents) != 1 or not parents[0].startswith("source."):
            offenders.append(f"{name} reads {sorted(map(project.name, parents))}")
        code = strip_comments(model["raw_code"]).lower()
        for word in (r"\bjoin\b", r"\bover\s*\(", r"\bgroup\s+by\b", r"\bunion\b",
                     r"\bdistinct\b", r"\bwhere\b"):
            if re.search(word, code):
                offenders.append(f"{name} does more than type and rename: {word}")
    assert offenders == [], "\n".join(offenders)


def test_every_model_has_a_primary_key_test(project: Project) -> None:
    key_sets = primary_key_test_sets(project)
    offenders = [
        problem for unique_id, model in project.models.items()
        if model["name"] not in NO_PRIMARY_KEY_ALLOWED
        and not is_typing_base_model(model)
        and (problem := primary_key_problem(project, unique_id, key_sets))
    ]
    assert offenders == [], "\n".join(sorted(offenders))


def test_every_model_is_tested(project: Project) -> None:
    """Test coverage 100%: even a model allowed no key test has a data test
    (a base model that only types its raw table has nothing to test)."""
    tested = {
        parent for test in project.tests.values()
        for parent in test["depends_on"]["nodes"]
    }
    offenders = [
        model["name"] for key, model in project.models.items()
        if key not in tested and not is_typing_base_model(model)
    ]
    assert offenders == [], "models without any data test: " + ", ".join(sorted(offenders))


def test_cleaning_macros_are_tested_over_values_lists(project: Project) -> None:
    tested = set()
    for test in project.tests.values():
        if test.get("test_metadata"):
            continue
        if re.search(r"\bvalues\b", test["raw_code"]):
            tested |= {
                macro.split(".")[-1] for macro in test["depends_on"]["macros"]
            }
    missing = [name for name in MACROS_TESTED_BY_VALUES if name not in tested]
    assert missing == [], "no singular values-list test calls: " + ", ".join(missing)


# ---------------------------------------------------------------- governance


def test_marts_are_public_contracted_and_typed(project: Project) -> None:
    offenders = []
    for model in project.models.values():
        if project.layer(model) != "marts":
            continue
        if model["access"] != "public":
            offenders.append(f"{model['name']}: access {model['access']}")
        if not model["config"]["contract"]["enforced"]:
            offenders.append(f"{model['name']}: contract not enforced")
        offenders += [
            f"{model['name']}.{column}: no data_type"
            for column, spec in model["columns"].items()
            if not spec.get("data_type")
        ]
    assert offenders == [], "\n".join(offenders)


# Public marts exposures may read as views, and why.
VIEW_MARTS = {
    "fct_score_ledger": "its points decay to as_of when read; as a table every "
    "build would rewrite every firing of every lead",
    "fct_activities": "the staged activities as they are; as a table every "
    "build would write every activity again (readers on DuckDB get a table "
    "in the published file)",
}


def test_exposures_read_public_tables(project: Project) -> None:
    offenders = []
    for exposure in project.exposures.values():
        for parent in exposure["depends_on"]["nodes"]:
            model = project.models.get(parent)
            if model is None:
                offenders.append(f"{exposure['name']} reads {parent}, not a model")
            elif model["access"] != "public" or (
                model["config"]["materialized"] not in ("table", "incremental")
                and model["name"] not in VIEW_MARTS
            ):
                offenders.append(
                    f"{exposure['name']} reads {model['name']} "
                    f"({model['access']}, {model['config']['materialized']})"
                )
    assert offenders == [], "\n".join(offenders)


# ---------------------------------------------------------------- the DAG


def test_sources_are_read_once_and_only_by_staging(project: Project) -> None:
    offenders = []
    for model in project.models.values():
        sources = [p for p in project.parents(model) if p.startswith("source.")]
        if sources and project.layer(model) != "staging":
            offenders.append(f"{model['name']} ({project.layer(model)}) reads a source")
        if len(sources) > 1 and model["name"] not in RAW_LOAD_COUNTERS:
            offenders.append(f"{model['name']} reads {len(sources)} sources")
        other_models = [p for p in project.parents(model) if p in project.models]
        if sources and other_models:
            offenders.append(
                f"{model['name']} joins a source to {sorted(map(project.name, other_models))}"
            )
    locations: dict[tuple, list[str]] = defaultdict(list)
    for unique_id, source in project.sources.items():
        readers = [
            reader for reader in project.model_children(unique_id)
            if project.name(reader) not in RAW_LOAD_COUNTERS
        ]
        if len(readers) != 1:
            offenders.append(
                f"source {project.name(unique_id)} is read by {len(readers)} models"
            )
        locations[(source["database"], source["schema"], source["identifier"])].append(
            project.name(unique_id)
        )
    offenders += [
        f"sources {names} point at the same table"
        for names in locations.values() if len(names) > 1
    ]
    assert offenders == [], "\n".join(offenders)


def test_layers_only_read_upstream(project: Project) -> None:
    offenders = []
    for model in project.models.values():
        layer, name = project.layer(model), model["name"]
        parents = project.parents(model)
        if not parents and not project.is_time_spine(model):
            offenders.append(f"{name} is a root model (no ref, source or seed)")
        for parent in parents:
            if parent not in project.models:
                continue
            parent_model = project.models[parent]
            parent_layer, parent_name = project.layer(parent_model), parent_model["name"]
            if layer in ("staging", "intermediate") and parent_layer == "marts":
                offenders.append(f"{name} ({layer}) reads the mart {parent_name}")
            if layer == "staging" and parent_layer != "staging":
                offenders.append(f"{name} (staging) reads {parent_name} ({parent_layer})")
            if (
                name.startswith("stg_") and parent_name.startswith("stg_")
                and (name, parent_name) not in STAGING_READS_ALLOWED
            ):
                offenders.append(f"{name} reads another staging model {parent_name}")
            if name.startswith("base_"):
                offenders.append(f"{name} (base) reads the model {parent_name}")
    assert offenders == [], "\n".join(offenders)


# The intermediate folders in the order data flows through them: scores,
# then the lifecycle they drive, then what reports on both.
INTERMEDIATE_AREAS = ("scoring", "lifecycle", "reporting")


def test_intermediate_folders_follow_the_data(project: Project) -> None:
    """No intermediate model reads one in a folder that comes after its own,
    so the path to any mart walks the folders in one direction."""
    def area(model: dict[str, Any]) -> str | None:
        parts = PurePosixPath(model["original_file_path"]).parts
        return parts[2] if len(parts) > 3 and parts[1] == "intermediate" else None

    areas = {area(model) for model in project.models.values()} - {None}
    assert areas == set(INTERMEDIATE_AREAS), "name every intermediate folder"
    offenders = []
    for model in project.models.values():
        if area(model) is None:
            continue
        for parent in project.parents(model):
            upstream = project.models.get(parent)
            if upstream is None or area(upstream) is None:
                continue
            if INTERMEDIATE_AREAS.index(area(upstream)) > INTERMEDIATE_AREAS.index(
                area(model)
            ):
                offenders.append(
                    f"{model['name']} ({area(model)}) reads {upstream['name']} "
                    f"({area(upstream)})"
                )
    assert offenders == [], "\n".join(offenders)


def test_model_fanout(project: Project) -> None:
    offenders = []
    for unique_id, model in project.models.items():
        leaves = [
            project.name(child) for child in project.model_children(unique_id)
            if project.is_leaf(child)
        ]
        if len(leaves) > MAX_LEAF_CHILDREN:
            offenders.append(f"{model['name']} has {len(leaves)} leaf children {leaves}")
    assert offenders == [], "\n".join(offenders)


def test_no_rejoining_of_upstream_concepts(project: Project) -> None:
    offenders = []
    for parent in [*project.models, *project.sources, *project.seeds]:
        for middle in project.model_children(parent):
            children = project.model_children(middle)
            only_child = next(iter(children)) if len(children) == 1 else None
            if (
                only_child in project.model_children(parent)
                and project.name(middle) not in REJOIN_ALLOWED
                # It copies every mart as it is: it reads both, joins none.
                and project.layer(project.models[only_child]) != "publication"
            ):
                offenders.append(
                    f"{project.name(parent)} -> {project.name(middle)} -> "
                    f"{project.name(only_child)}"
                )
    assert offenders == [], "\n".join(offenders)


def hard_coded_references(sql: str) -> list[str]:
    """Relations named by hand in SQL text, as dbt-project-evaluator finds
    them: a qualified name (schema.table, database.schema.table) after
    `from` or `join`, with the Jinja and comments taken out (a ref(),
    source() or {{ this }} is Jinja). Unqualified names are CTEs."""
    text = re.sub(r"\{\{.*?\}\}", "jinja_expression", strip_comments(sql), flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    return re.findall(r"\b(?:from|join)\s+([a-z_]\w*\.[\w.]+)", text, re.I)


def test_no_hard_coded_references(project: Project) -> None:
    """Every relation is read through ref(), source() or {{ this }}: no SQL
    model, macro or singular test names one by hand."""
    offenders = [
        f"{node['name']} reads {name}"
        for node in [*project.models.values(), *project.macros.values(),
                     *project.tests.values()]
        if node.get("language", "sql") == "sql"
        for name in hard_coded_references(
            node.get("raw_code") or node.get("macro_sql") or ""
        )
    ]
    assert hard_coded_references("select 1 from raw.leads join {{ ref('x') }}") == [
        "raw.leads"
    ]
    assert offenders == [], "\n".join(sorted(set(offenders)))


def test_joins_per_model(project: Project) -> None:
    offenders = []
    for model in project.models.values():
        joins = len(re.findall(r"\bjoin\b", strip_comments(model["raw_code"]), re.I))
        if joins > MAX_JOINS and model["name"] not in MANY_JOINS_ALLOWED:
            offenders.append(f"{model['name']}: {joins} joins")
        references = len(set(project.parents(model)))
        if references > MAX_PARENTS and model["name"] not in MANY_JOINS_ALLOWED:
            offenders.append(f"{model['name']}: reads {references} models/sources/seeds")
    assert offenders == [], "\n".join(offenders)


def test_chains_of_views(project: Project) -> None:
    depth: dict[str, int] = {}

    def views_above(unique_id: str) -> int:
        """Length of the longest chain of views/ephemerals feeding a model."""
        if unique_id not in depth:
            depth[unique_id] = max(
                (
                    views_above(parent) + 1
                    for parent in project.parents(project.models[unique_id])
                    if parent in project.models
                    and project.models[parent]["config"]["materialized"]
                    in ("view", "ephemeral")
                ),
                default=0,
            )
        return depth[unique_id]

    # The publication reads the view fct_score_ledger (5 views deep) once,
    # to copy it as a table into the published file: one view more.
    offenders = [
        f"{model['name']} sits on {views_above(key)} chained views"
        for key, model in project.models.items()
        if views_above(key) > MAX_VIEW_CHAIN + (project.layer(model) == "publication")
    ]
    assert offenders == [], "\n".join(offenders)


# ---------------------------------------------------------------- structure


def test_model_names_and_folders(project: Project) -> None:
    offenders = []
    for model in project.models.values():
        name, layer = model["name"], project.layer(model)
        path = PurePosixPath(model["original_file_path"])
        if layer is None:
            offenders.append(f"{name}: not under models/staging|intermediate|marts")
            continue
        if not name.startswith(PREFIXES[layer]) and not project.is_time_spine(model):
            offenders.append(f"{name}: a {layer} model is named {PREFIXES[layer]}*")
        if layer == "staging":
            # models/staging/<source>/[base/]<prefix><source>__<entities>.sql
            source_folder = path.parts[2]
            expected = (
                f"base_{source_folder}__" if name.startswith("base_")
                else f"stg_{source_folder}__"
            )
            in_base = path.parent.name == "base"
            if not name.startswith(expected) or in_base != name.startswith("base_"):
                offenders.append(f"{name}: misplaced in {path.parent}")
            for parent in project.parents(model):
                if parent.startswith("source.") and project.sources[parent][
                    "source_name"
                ] != source_folder:
                    offenders.append(f"{name}: reads {project.name(parent)} from {path.parent}")
        if layer == "intermediate" and len(path.parts) != 4:
            offenders.append(f"{name}: intermediate models live in intermediate/<area>/")
        if layer in ("marts", "publication") and len(path.parts) != 3:
            offenders.append(f"{name}: {layer} models live directly in models/{layer}/")
    assert offenders == [], "\n".join(offenders)


# Marts published as the views they are (publication.py `views`): the
# publication copies what they read besides marts.
PUBLISHED_AS_VIEWS = {"fct_score_ledger"}


def test_publication_reads_every_mart_and_nothing_else(project: Project) -> None:
    """The publication model's refs are listed by hand (dbt reads a Python
    model's refs as literals): they must be exactly the marts and what the
    marts published as views read besides marts, so a new mart is published,
    a view finds its inputs in the published file, and the publication runs
    after all of them."""
    [publication] = [
        model for model in project.models.values()
        if project.layer(model) == "publication"
    ]
    marts = {
        key for key, model in project.models.items()
        if project.layer(model) == "marts"
    }
    view_inputs = set()
    for name in PUBLISHED_AS_VIEWS:
        [view] = [model for model in project.models.values() if model["name"] == name]
        assert view["config"]["materialized"] == "view", name
        view_inputs |= {
            parent for parent in project.parents(view)
            if parent not in marts
        }
    assert set(project.parents(publication)) == marts | view_inputs
    source = (PROJECT_DIR / publication["original_file_path"]).read_text()
    assert re.search(
        r"views = \[" + ", ".join(f'"{name}"' for name in sorted(PUBLISHED_AS_VIEWS)) + r"\]",
        source,
    ), "publication.py publishes exactly PUBLISHED_AS_VIEWS as views"


def test_yml_files_are_named_for_their_folder(project: Project) -> None:
    offenders = []
    for model in project.models.values():
        folder = PurePosixPath(model["original_file_path"]).parent
        patch = (model.get("patch_path") or "").split("://")[-1]
        expected = folder / f"_{folder.name}__models.yml"
        if PurePosixPath(patch) != expected:
            offenders.append(f"{model['name']}: described in {patch or 'no file'}, not {expected}")
    for test in project.tests.values():
        attached = project.models.get(test.get("attached_node") or "")
        if attached and test.get("test_metadata"):
            folder = PurePosixPath(attached["original_file_path"]).parent
            if PurePosixPath(test["original_file_path"]).parent != folder:
                offenders.append(f"{test['name']}: defined outside {folder}")
    for unique_id, source in project.sources.items():
        expected = PurePosixPath(
            f"models/staging/{source['source_name']}/_{source['source_name']}__sources.yml"
        )
        if PurePosixPath(source["original_file_path"]) != expected:
            offenders.append(f"source {project.name(unique_id)}: not in {expected}")
    for seed in project.seeds.values():
        if (seed.get("patch_path") or "").split("://")[-1] != "seeds/_seeds.yml":
            offenders.append(f"seed {seed['name']}: not described in seeds/_seeds.yml")
    for macro in project.macros.values():
        path = PurePosixPath(macro["original_file_path"])
        if path.parts[0] == "tests" and path.parent.name != "generic":
            offenders.append(f"generic test {macro['name']}: not in tests/generic/")
        if described(macro) and (macro.get("patch_path") or "").split("://")[-1] != (
            "macros/_macros.yml"
        ):
            offenders.append(f"macro {macro['name']}: not described in macros/_macros.yml")
    for unit_test in project.manifest.get("unit_tests", {}).values():
        path = PurePosixPath(unit_test["original_file_path"])
        if path.name != f"_{path.parent.name}__unit_tests.yml":
            offenders.append(f"unit test {unit_test['name']}: in {path}")
    for test in project.tests.values():
        if not test.get("test_metadata") and not test["original_file_path"].startswith(
            "tests/"
        ):
            offenders.append(f"singular test {test['name']}: not in tests/")
    assert offenders == [], "\n".join(offenders)


def test_every_source_is_counted_for_the_freshness_check(project: Project) -> None:
    """rpt_build_inputs reads the raw-load views; together they read every
    declared source, so a source added later is counted or this fails."""
    counted = {
        parent
        for model in project.models.values()
        if model["name"] in RAW_LOAD_COUNTERS
        for parent in project.parents(model)
        if parent.startswith("source.")
    }
    assert counted == set(project.sources)
    (build_inputs,) = [
        model for model in project.models.values()
        if model["name"] == "rpt_build_inputs"
    ]
    assert {project.name(parent) for parent in project.parents(build_inputs)} == \
        RAW_LOAD_COUNTERS
