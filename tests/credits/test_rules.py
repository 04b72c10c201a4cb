"""Reading and checking rule sets: every fault names its field by path."""

from __future__ import annotations

import copy
import re
from datetime import date
from fractions import Fraction
from typing import Any

import pytest

from credits import RuleSetError, load_rule_set
from tests.credits.builders import converting, document, fixed

GOOD = document(fixed("R1", 3, "a", "b"), converting("R2", "c", max=6, partial=True))


def changed(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the member at a dotted path (`rules.0.credits`) set, or deleted
    when `value` is `...`."""
    built = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    here: Any = built
    for part in parents:
        here = here[int(part)] if isinstance(here, list) else here[part]
    key: Any = int(last) if isinstance(here, list) else last
    if value is ...:
        del here[key]
    else:
        here[key] = value
    return built


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        ("format", "credit-rules/v2", None, r"expected 'credit-rules/v1'"),
        ("id", ..., None, r"missing field$"),
        ("bogus", 1, None, r"unknown field$"),
        ("program.total_credits", 0, None, r"expected a positive"),
        ("program.extra", "x", None, r"unknown field$"),
        (
            "effective.from",
            "2025-13-01",
            None,
            r"expected a date YYYY-MM-DD, got '2025-13-01'$",
        ),
        (
            "effective.until",
            "2024-12-31",
            None,
            r"expected a date on or after 2025-01-01",
        ),
        ("effective.until", "31/12/2027", None, r"expected a date"),
        ("accepted_issuers", "did:web:x", None, r"expected a list"),
        ("accepted_issuers.0", "", None, r"expected a non-empty string"),
        ("conversion.HOURS", "one", None, r"expected a positive number or fraction"),
        ("conversion.HOURS", "1/0", None, r"expected a positive"),
        ("conversion.HOURS", "-1", None, r"expected a positive"),
        ("conversion.HOURS", 0, None, r"expected a positive"),
        ("conversion.HOURS", True, None, r"expected a positive.* got true$"),
        ("conversion.HOURS", "1e3", None, r"expected a positive"),
        ("conversion.HOURS", float("nan"), None, r"expected a positive"),
        (
            "rounding",
            {"mode": "ceiling"},
            "rounding.mode",
            r"expected floor or half_up, got 'ceiling'$",
        ),
        ("rounding", {"step": 0}, "rounding.step", r"expected a positive number"),
        (
            "caps",
            {"max_share": "3/2"},
            "caps.max_share",
            r"expected a share 0-1, got '3/2'$",
        ),
        (
            "caps",
            {"max_credits": -1},
            "caps.max_credits",
            r"expected a number of at least 0",
        ),
        (
            "defaults",
            {"min_eqf": 9},
            "defaults.min_eqf",
            r"expected an integer 1-8, got 9$",
        ),
        (
            "defaults",
            {"max_age_years": 2.5},
            "defaults.max_age_years",
            r"expected an integer",
        ),
        (
            "defaults",
            {"min_score": 101},
            "defaults.min_score",
            r"expected a number 0-100, got 101$",
        ),
        ("rules", [], None, r"expected a non-empty list"),
        ("rules.0.id", ..., None, r"missing field$"),
        ("rules.1.id", "R1", None, r"expected a rule id not used before, got 'R1'$"),
        ("rules.0.target", {"course": "X"}, "rules[0].target.slot", r"missing field$"),
        (
            "rules.0.any_of",
            [{"achievement": "a"}],
            "rules[0]",
            r"expected all_of or any_of, got both$",
        ),
        ("rules.0.all_of", ..., "rules[0]", r"expected all_of or any_of, got neither$"),
        (
            "rules.0.convert",
            True,
            "rules[0]",
            r"expected credits or convert, got both$",
        ),
        (
            "rules.0.credits",
            ...,
            "rules[0]",
            r"expected credits or convert, got neither$",
        ),
        ("rules.0.credits", "3 credits", None, r"expected a positive number"),
        ("rules.0.max", 4, None, r"expected only in a convert rule$"),
        ("rules.1.convert", False, None, r"expected true, got false$"),
        ("rules.1.max", 0, None, r"expected a positive number"),
        ("rules.1.partial", "yes", None, r"expected true or false"),
        ("rules.1.min_count", 2, None, r"expected an integer 1-1, got 2$"),
        ("rules.1.min_count", 0, None, r"expected an integer 1-1, got 0$"),
        ("rules.0.min_count", 1, None, r"expected only with any_of$"),
        ("rules.0.all_of", [], None, r"expected a non-empty list"),
        (
            "rules.0.all_of.1",
            {"achievement": "a"},
            "rules[0].all_of[1].achievement",
            r"expected an achievement not listed before",
        ),
        ("rules.0.all_of.0.min_score", "x", None, r"expected a number 0-100, got 'x'$"),
        ("rules.0.all_of.0.score_required", 1, None, r"expected true or false, got 1$"),
        ("rules.0.all_of.0.weight", 1, None, r"unknown field$"),
        ("rules.0.min_eqf", 0, None, r"expected an integer 1-8, got 0$"),
        ("rules.0.max_age_years", 0, None, r"expected an integer 1-100"),
    ],
)
def test_bad_rule_set_names_the_field(
    path: str, value: Any, field: str | None, message: str
) -> None:
    # `field` None: the field is the changed member itself.
    field = field or re.sub(r"\.(\d+)", r"[\1]", path)

    with pytest.raises(RuleSetError, match=message) as raised:
        load_rule_set(changed(path, value))

    assert raised.value.field == field
    assert str(raised.value) == f"{field}: {raised.value.message}"


def test_good_rule_set_reads_exact_numbers() -> None:
    rule_set = load_rule_set(GOOD)

    assert rule_set.conversion["HOURS"] == Fraction(1, 25)
    assert rule_set.rules[1].max == 6
    assert rule_set.rules[1].partial is True
    assert rule_set.rules[0].min_count == 2
    assert rule_set.rounding.mode == "floor"
    assert rule_set.rounding.step == 1
    assert rule_set.cap is None


YAML = """\
format: credit-rules/v1
id: y
school: did:web:school.example
program: {code: P, total_credits: 60}
target_unit: ECTS
effective: {from: 2025-01-01, until: "2027-12-31"}
accepted_issuers: [did:web:a.example]
conversion: {ECTS: 1, HOURS: 0.04, SCH: 1.45000000000000000001}
rules:
  - id: R1
    target: {course: X, slot: required}
    credits: 2.5
    all_of: [{achievement: a}]
"""


def test_yaml_floats_are_read_from_their_decimal_text() -> None:
    rule_set = load_rule_set(YAML)

    assert rule_set.conversion["HOURS"] == Fraction(1, 25)
    # More digits than a binary float holds, kept exactly.
    assert rule_set.conversion["SCH"] == Fraction("1.45000000000000000001")
    assert rule_set.rules[0].credits == Fraction(5, 2)


def test_yaml_dates_and_quoted_dates_read_alike() -> None:
    rule_set = load_rule_set(YAML)

    assert rule_set.effective.first_day == date(2025, 1, 1)
    assert rule_set.effective.last_day == date(2027, 12, 31)
    assert rule_set.accepted_issuers == frozenset({"did:web:a.example"})


def test_parsed_floats_go_through_their_shortest_decimal_text() -> None:
    rule_set = load_rule_set(changed("conversion.HOURS", 0.1))

    assert rule_set.conversion["HOURS"] == Fraction(1, 10)


def test_json_text_keeps_decimals_exact() -> None:
    rule_set = load_rule_set(
        '{"format": "credit-rules/v1", "id": "j", "school": "s",'
        ' "program": {"code": "P", "total_credits": 60}, "target_unit": "ECTS",'
        ' "effective": {"from": "2025-01-01", "until": "2025-12-31"},'
        ' "accepted_issuers": [], "conversion": {"ECTS": 0.30000000000000000001},'
        ' "rules": [{"id": "R", "target": {"course": "X", "slot": "s"},'
        ' "convert": true, "any_of": [{"achievement": "a"}]}]}'
    )

    assert rule_set.conversion["ECTS"] == Fraction("0.30000000000000000001")


def test_yaml_with_a_datetime_instead_of_a_date_is_refused() -> None:
    text = YAML.replace("from: 2025-01-01,", "from: 2025-01-01 10:00:00,")

    with pytest.raises(RuleSetError, match=r"^effective.from: expected a date"):
        load_rule_set(text)


def test_yaml_aliases_are_refused() -> None:
    text = (
        YAML
        + "  - &r {id: R2, target: {course: Y, slot: s}, credits: 1,"
        + (" all_of: [{achievement: b}]}\n  - *r\n")
    )

    with pytest.raises(RuleSetError, match=r"aliases are not allowed"):
        load_rule_set(text)


def test_duplicate_keys_are_refused_in_yaml_and_json() -> None:
    with pytest.raises(RuleSetError, match=r"^duplicate key 'id'$"):
        load_rule_set(YAML + "id: again\n")
    with pytest.raises(RuleSetError, match=r"^duplicate key 'a'$"):
        load_rule_set('{"a": 1, "a": 2}')


def test_text_that_is_neither_yaml_nor_json_is_refused() -> None:
    with pytest.raises(RuleSetError, match=r"^not YAML or JSON"):
        load_rule_set("rules: [unclosed")
    with pytest.raises(
        RuleSetError, match=r"^: expected an object|^expected an object"
    ):
        load_rule_set("- just\n- a list\n")


def test_yaml_infinity_is_not_a_number() -> None:
    with pytest.raises(RuleSetError, match=r"^conversion.SCH: expected a positive"):
        load_rule_set(YAML.replace("1.45000000000000000001", ".inf"))


def test_huge_exponent_is_refused_not_computed() -> None:
    with pytest.raises(RuleSetError, match=r"^conversion.ECTS: expected a positive"):
        load_rule_set(YAML.replace("ECTS: 1,", "ECTS: 1e999999999,"))
