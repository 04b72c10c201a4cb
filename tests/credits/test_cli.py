"""`credbank credits evaluate`: the output on stdout, or one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import RunCLI, assert_one_line_error
from tests.credits.test_normalise import credbank_credential
from tests.credits.test_vectors import CASES, VECTORS

A01 = next(case for case in CASES if case["id"] == "A01")


def write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return str(path)


def test_yaml_rules_and_normalised_credentials_print_the_output(
    run_main: RunCLI, tmp_path: Path
) -> None:
    credentials = write(tmp_path, "credentials.json", A01["credentials"])

    result = run_main(
        "credits",
        "evaluate",
        "--rules",
        str(VECTORS / "logistics.yaml"),
        "--credentials",
        credentials,
        "--on",
        A01["evaluation_date"],
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == json.dumps(A01["expected"]) + "\n"
    assert result.stderr == ""


def test_installed_script_with_json_rules_and_open_badges(
    cli: RunCLI, tmp_path: Path
) -> None:
    rules = dict(A01["ruleset"])
    rules["accepted_issuers"] = ["did:web:issuer.example"]
    rules["rules"] = [
        {
            "id": "R1",
            "target": {"course": "LOG-ELEC", "slot": "elective"},
            "convert": True,
            "any_of": [{"achievement": "https://credbank.example/achievements/7"}],
        }
    ]

    result = cli(
        "credits",
        "evaluate",
        "--rules",
        write(tmp_path, "rules.json", rules),
        "--credentials",
        write(tmp_path, "badges.json", [credbank_credential(score=80)]),
        "--on",
        "2026-03-01",
    )

    assert result.returncode == 0, result.stderr
    # 2.5 SCH at "1" SCH per SCH, floored to the 0.5 step.
    assert json.loads(result.stdout)["grants"][0]["credits"] == 2.5


RULES_TEXT = (VECTORS / "logistics.yaml").read_text()
# R1, the first rule, is also the first to grant 3 credits.
BOTH_BUNDLES = RULES_TEXT.replace("  credits: 3\n", "  credits: 3\n    any_of: []\n", 1)


@pytest.mark.parametrize(
    ("rules", "credentials", "on", "expected"),
    [
        (
            RULES_TEXT.replace("id: R5", "id: R5\n    colour: red"),
            A01["credentials"],
            "2026-03-01",
            "rules.yaml: rules[4].colour: unknown field",
        ),
        (
            BOTH_BUNDLES,
            A01["credentials"],
            "2026-03-01",
            "rules.yaml: rules[0]: expected all_of or any_of, got both",
        ),
        (
            RULES_TEXT.replace('HOURS: "1/45"', "HOURS: one/45"),
            A01["credentials"],
            "2026-03-01",
            "rules.yaml: conversion.HOURS: expected a positive number or fraction",
        ),
        (
            RULES_TEXT.replace("target_unit: SCH", ""),
            A01["credentials"],
            "2026-03-01",
            "rules.yaml: target_unit: missing field",
        ),
        (
            "rules: [unclosed",
            A01["credentials"],
            "2026-03-01",
            "rules.yaml: not YAML or JSON",
        ),
        (
            RULES_TEXT,
            [{**A01["credentials"][0], "issued": "2025-06-31"}],
            "2026-03-01",
            "credentials.json: credentials[0].issued: expected a date YYYY-MM-DD",
        ),
        (
            RULES_TEXT,
            "not json",
            "2026-03-01",
            "credentials.json: not JSON",
        ),
        (
            RULES_TEXT,
            A01["credentials"],
            "1 March 2026",
            "--on: expected a date YYYY-MM-DD, got '1 March 2026'",
        ),
        (
            RULES_TEXT,
            A01["credentials"],
            "2026-W09-1",
            "--on: expected a date YYYY-MM-DD",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_the_field_and_exit_2(
    run_main: RunCLI,
    tmp_path: Path,
    rules: str,
    credentials: Any,
    on: str,
    expected: str,
) -> None:
    rules_path = write(tmp_path, "rules.yaml", rules)
    credentials_path = write(tmp_path, "credentials.json", credentials)

    result = run_main(
        "credits",
        "evaluate",
        "--rules",
        rules_path,
        "--credentials",
        credentials_path,
        "--on",
        on,
    )

    line = assert_one_line_error(result)
    assert expected in line.replace(str(tmp_path) + "/", "")
    assert result.stdout == ""


def test_missing_file_and_missing_option_exit_2(
    run_main: RunCLI, tmp_path: Path
) -> None:
    credentials = write(tmp_path, "credentials.json", [])
    missing = str(tmp_path / "absent.yaml")

    unreadable = run_main(
        "credits", "evaluate", "--rules", missing, "--credentials", credentials,
        "--on", "2026-03-01",
    )  # fmt: skip
    no_date = run_main(
        "credits", "evaluate", "--rules", missing, "--credentials", credentials
    )

    assert f"cannot read {missing}" in assert_one_line_error(unreadable)
    assert "--on" in assert_one_line_error(no_date)
