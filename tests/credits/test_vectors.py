"""The worked cases of credit-rules.md (tests/vectors/credit-rules/), byte for byte."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from credits import evaluate, load_credentials, load_rule_set

VECTORS = Path(__file__).parent.parent / "vectors" / "credit-rules"
CASES: list[dict[str, Any]] = json.loads((VECTORS / "cases.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_worked_case_output_is_byte_for_byte(case: dict[str, Any]) -> None:
    rule_set = load_rule_set(case["ruleset"])
    credentials = load_credentials(json.dumps(case["credentials"]))

    output = evaluate(
        rule_set, credentials, date.fromisoformat(case["evaluation_date"])
    ).to_json()

    # The expected document in the same serialisation: members in the spec's
    # order, ", " and ": " separators, ASCII.
    assert output == json.dumps(case["expected"])


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_worked_case_rule_set_read_from_json_text_is_the_same(
    case: dict[str, Any],
) -> None:
    assert load_rule_set(json.dumps(case["ruleset"])) == load_rule_set(case["ruleset"])


@pytest.mark.parametrize(
    ("name", "rule_set_id"),
    [
        ("logistics.yaml", "lec-logistics-2025"),
        ("mechatronics.yaml", "rtc-mechatronics-2026"),
    ],
)
def test_example_yaml_equals_its_json_form_in_the_cases(
    name: str, rule_set_id: str
) -> None:
    from_yaml = load_rule_set((VECTORS / name).read_text())
    json_forms = [
        case["ruleset"] for case in CASES if case["ruleset"]["id"] == rule_set_id
    ]

    assert json_forms, f"no case uses {rule_set_id}"
    for form in json_forms:
        assert load_rule_set(form) == from_yaml


def test_example_caps_are_those_their_comments_state() -> None:
    logistics = load_rule_set((VECTORS / "logistics.yaml").read_text())
    mechatronics = load_rule_set((VECTORS / "mechatronics.yaml").read_text())

    assert logistics.cap == 15  # min(15, 1/4 x 120)
    assert mechatronics.cap == 20  # 1/3 x 60
