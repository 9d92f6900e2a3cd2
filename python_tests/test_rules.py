"""One verdict on a rule file: the Python reader (lead_scoring.rules, used by
calibrate and the test oracle) and the build's SQL check
(int_scoring_rules_checked) parse the same bad file alike, row for row:
every parsed value and the first problem of each row."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from conftest import Warehouse
from lead_scoring import rules

HEADER = (
    "rule_id,category,field,operator,value,points,max_points,"
    "decay_half_life_days,is_active,description"
)
# One row per way a rule can be wrong (and a few right ones), each problem
# alone in its row so the order of the checks shows too.
ROWS = [
    "fit_ok,fit,seniority,in,c_level|vp,20,,,true,valid",
    "eng_ok, Engagement ,Activity_Type,EQUALS, pricing_page_view ,10,30,30,TRUE,mixed case and blanks",
    "neg_ok,negative,email_domain,contains,gmail,-10,,,yes,valid",
    "range_ok,fit,employee_count,between,51|200,6,,,1,valid",
    "lt_ok,fit,annual_revenue,lt,1e6,+5,,,y,valid",
    "off,nonsense,nowhere,like,,abc,-1,0,false,inactive: never checked",
    "maybe,fit,seniority,equals,vp,5,,,maybe,bad is_active",
    "blank_active,fit,seniority,equals,vp,5,,,,blank is_active",
    ",fit,seniority,equals,vp,5,,,true,blank rule_id",
    "dup,fit,seniority,equals,vp,5,,,true,repeated rule_id",
    "dup,fit,seniority,equals,director,5,,,false,repeated (inactive)",
    "bad_category,fitness,seniority,equals,vp,5,,,true,",
    "blank_category,,seniority,equals,vp,5,,,true,",
    "bad_field,fit,salary,equals,vp,5,,,true,",
    "bad_operator,fit,seniority,like,vp,5,,,true,",
    "blank_value,fit,seniority,equals,  ,5,,,true,",
    "half_points,fit,seniority,equals,vp,2.5,,,true,",
    "text_points,fit,seniority,equals,vp,lots,,,true,",
    "huge_points,fit,seniority,equals,vp,1e13,,,true,",
    "blank_points,fit,seniority,equals,vp,,,,true,",
    "underscore_points,fit,seniority,equals,vp,1_000,,,true,",
    "double_sign,fit,seniority,equals,vp,+-1,,,true,",
    "exp_points,fit,seniority,equals,vp,1.5e3,,,true,",
    "int32_points,fit,seniority,equals,vp,3000000000,,,true,beyond an integer",
    "off_huge,fit,seniority,equals,vp,1e13,,,false,inactive and too big to cast",
    "negative_cap,engagement,activity_type,equals,email_open,1,-5,,true,",
    "text_cap,engagement,activity_type,equals,email_open,1,five,,true,",
    "zero_half_life,engagement,activity_type,equals,email_open,1,5,0,true,",
    "negative_half_life,engagement,activity_type,equals,email_open,1,5,-3,true,",
    "tiny_half_life,engagement,activity_type,equals,email_open,1,5,0.05,true,",
    "half_life_on_fit,fit,seniority,equals,vp,5,,30,true,",
    "between_one,fit,employee_count,between,51,5,,,true,",
    "between_three,fit,employee_count,between,1|2|3,5,,,true,",
    "between_reversed,fit,employee_count,between,200|51,5,,,true,",
    "between_text,fit,employee_count,between,a|b,5,,,true,",
    "gte_text,fit,employee_count,gte,many,5,,,true,",
    "lt_text,fit,annual_revenue,lt,1_000,5,,,true,",
    "quote_o'reilly,fit,seniority,equals,it's,5,,,true,quotes",
]


def _python_rows(text: str) -> list[tuple]:
    parsed = rules.parse_rules(csv.DictReader(io.StringIO(text)))
    return sorted(
        (_key(rule.rule_id), rule.category, rule.field, rule.operator, rule.value,
         _number(rule.points if rule.problem is None and rule.is_active else None),
         _number(rule.max_points), _number(rule.decay_half_life_days),
         _number(rule.range_low), _number(rule.range_high), rule.is_active, rule.problem)
        for rule in parsed
    )


def _key(text: str | None) -> str:
    return "" if text is None else text


def _number(value: float | None) -> float | None:
    return None if value is None else round(float(value), 9)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[tuple]]:
    """The rule file above through the build's own check."""
    text = "\n".join([HEADER, *ROWS]) + "\n"
    warehouse = Warehouse(Path(tmp_path_factory.mktemp("rules")))
    warehouse.with_seed("scoring_rules", text)
    warehouse.write_raw({})
    warehouse.dbt("seed", "--select", "scoring_rules")
    warehouse.dbt("run", "--select", "int_scoring_rules_checked")
    rows = warehouse.query(
        "select rule_id, category, field, operator, rule_value, "
        "case when is_active and problem is null then points end, max_points, "
        "decay_half_life_days, range_low, range_high, is_active, problem "
        "from analytics.int_scoring_rules_checked"
    )
    return text, sorted(
        (_key(row[0]), *row[1:5], *(_number(value) for value in row[5:10]), *row[10:])
        for row in rows
    )


def test_python_and_sql_read_every_row_alike(checked) -> None:
    text, from_sql = checked
    from_python = _python_rows(text)
    assert len(from_sql) == len(ROWS)
    assert from_python == from_sql


def test_every_problem_is_found_once(checked) -> None:
    text, _ = checked
    parsed = rules.parse_rules(csv.DictReader(io.StringIO(text)))
    by_id = {rule.rule_id: rule.problem for rule in parsed if rule.is_active is not False}
    # The valid rules and the inactive ones have no problem; every other
    # row has one.
    valid = {
        "fit_ok", "eng_ok", "neg_ok", "range_ok", "lt_ok", "exp_points",
        "tiny_half_life", "quote_o'reilly",
    }
    assert {rule_id for rule_id, problem in by_id.items() if problem is None} == valid
    assert [rule.problem for rule in parsed if rule.is_active is False] == [None] * 3
    assert by_id["dup"] == "rule_id is used by more than one rule"
    assert by_id["int32_points"] == (
        "points 3000000000 is not an integer between -10^9 and 10^9"
    )
    assert by_id["maybe"] == "is_active maybe is not true or false"
    assert by_id["underscore_points"] == (
        "points 1_000 is not an integer between -10^9 and 10^9"
    )
    assert by_id["between_reversed"] == (
        "between value 200|51 is not lo|hi with numbers lo <= hi"
    )
    eng_ok = next(rule for rule in parsed if rule.rule_id == "eng_ok")
    assert (eng_ok.category, eng_ok.field, eng_ok.operator, eng_ok.value) == (
        "engagement", "activity_type", "equals", "pricing_page_view",
    )
    assert math.isclose(eng_ok.decay_half_life_days, 30)


def test_the_fields_are_the_sql_fields(tmp_path: Path) -> None:
    """lead_scoring.rules.FIELDS is the macro scoring_fields' list."""
    from conftest import PROJECT_DIR

    macro = (PROJECT_DIR / "macros" / "scoring" / "scoring_fields.sql").read_text()
    listed = macro[macro.index("return(["):macro.index("])")]
    named = [part.strip().strip("'") for part in listed.split("[", 1)[1].split(",")]
    assert tuple(name for name in named if name) == rules.FIELDS


def test_problems_read_as_the_build_says_them() -> None:
    parsed = rules.parse_rules(csv.DictReader(io.StringIO(
        "\n".join([HEADER, ROWS[0], ROWS[8], ROWS[12]]) + "\n"
    )))
    assert rules.problems(parsed) == [
        "rule blank_category: category (blank) is not fit, engagement or negative",
        "rule (blank rule_id): rule_id is blank",
    ]


def test_read_rule_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.csv"
    with pytest.raises(rules.RuleFileError, match="does not exist"):
        rules.read_rule_file(path)
    path.write_text("rule_id,points\nx,1\n")
    with pytest.raises(rules.RuleFileError, match="lacks the columns category, field"):
        rules.read_rule_file(path)
    path.write_text("\ufeff" + "\n".join([HEADER, ROWS[0], "", ROWS[6]]) + "\n")
    header, parsed = rules.read_rule_file(path)
    assert header[0] == "rule_id"
    assert [rule.rule_id for rule in parsed] == ["fit_ok", "maybe"]
    assert [rule.problem for rule in parsed] == [
        None, "is_active maybe is not true or false",
    ]
