"""`credbank issue-batch FILE --issuer SLUG [--output FILE]`, the installed script.

Exit 0 when every row was issued (now or before), 1 when some row was refused (each
listed on stderr), 2 with one line for input it cannot use at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services import Services
from credentials import credential_digest, verify_vc_jwt
from issuers.batch import MAX_ROWS
from tests.api.conftest import RunCLI, assert_one_line_error
from tests.conftest import Caller, issuer_keys, rows_in, tree_size

HEADER = "achievement,learner_email,learner_name,score,formats,idempotency_key\n"


def csv_text(achievement: str, count: int, *, bad: dict[int, str] | None = None) -> str:
    """`count` rows; `bad` maps a row number to the score that spoils it."""
    lines = [HEADER]
    for number in range(count):
        score = (bad or {}).get(number, str(60 + number))
        key = f"cli-{number}" if number % 2 else ""
        lines.append(
            f"{achievement},p{number}@example.com,学员{number},{score},vc+jwt,{key}\n"
        )
    return "".join(lines)


def json_rows(achievement: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "achievement": achievement,
            "learner": {"email": f"j{number}@example.com", "name": f"学员{number}"},
            "formats": ["vc+jwt"],
        }
        for number in range(count)
    ]


@pytest.fixture
def issue(cli: RunCLI, env: dict[str, str], tmp_path: Path) -> Any:
    """Write `content` to a file named `name` and run issue-batch on it."""

    def run(name: str, content: str | bytes, *options: str) -> Any:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return cli("issue-batch", str(path), *options, env=env)

    return run


@pytest.mark.parametrize("name", ["class.csv", "class.json", "class-json.txt"])
def test_a_file_is_issued_then_found_issued(
    issue: Any, services: Services, issuer: Caller, approved_achievement: str, name: str
) -> None:
    if name == "class.csv":
        content = csv_text(approved_achievement, 5)
    else:
        content = json.dumps(json_rows(approved_achievement, 5), ensure_ascii=False)
    size = tree_size(services)

    first = issue(name, content, "--issuer", "centre-1")
    again = issue(name, content, "--issuer", "centre-1")

    assert first.returncode == 0, first.stderr
    assert first.stdout == "5 issued, 0 already issued, 0 refused of 5 rows\n"
    assert "issuing" in first.stderr  # the progress bar
    assert "row " not in first.stderr
    assert again.returncode == 0, again.stderr
    assert again.stdout == "0 issued, 5 already issued, 0 refused of 5 rows\n"
    # Each credential's entry and its credit deposit's.
    assert tree_size(services) == size + 10
    assert rows_in(services, "credentials") == 5
    assert rows_in(services, "credit_deposits") == 5


def test_refused_rows_are_listed_and_exit_1(
    issue: Any, services: Services, issuer: Caller, approved_achievement: str
) -> None:
    content = csv_text(approved_achievement, 6, bad={1: "101", 4: "high"})

    result = issue("class.csv", content, "--issuer", "centre-1")

    assert result.returncode == 1, result.stderr
    assert result.stdout == "4 issued, 0 already issued, 2 refused of 6 rows\n"
    refusals = [line for line in result.stderr.splitlines() if line.startswith("row")]
    assert refusals == [
        "row 1: score: Must be greater than or equal to 0 and less than or equal to "
        "100.",
        "row 4: score: Not a valid number.",
    ]
    assert "Traceback" not in result.stderr
    assert rows_in(services, "credentials") == 4


def test_a_json_file_writes_the_mapping_to_output(
    issue: Any,
    client: FlaskClient,
    tmp_path: Path,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    rows: list[Any] = json_rows(approved_achievement, 3)
    rows.insert(1, {"achievement": approved_achievement, "learner": {}})
    output = tmp_path / "issued.json"

    result = issue(
        "class.json", json.dumps(rows), "--issuer", "centre-1", "--output", str(output)
    )

    assert result.returncode == 1, result.stderr
    assert result.stdout == "3 issued, 0 already issued, 1 refused of 4 rows\n"
    mapping = json.loads(output.read_text())
    assert [entry["row"] for entry in mapping] == [0, 1, 2, 3]
    assert mapping[1] == {
        "row": 1,
        "error": "learner.did: expected a DID, or an e-mail address and a name",
    }
    keys = issuer_keys(client, "centre-1")
    for entry in (mapping[0], mapping[2], mapping[3]):
        assert set(entry) == {"row", "id", "digest"}
        served = client.get(f"/credentials/{entry['id']}?format=vc%2Bjwt")
        payload = verify_vc_jwt(served.get_data(as_text=True), keys.__getitem__)
        assert credential_digest(payload) == entry["digest"]


def test_a_suspended_issuer_s_rows_are_all_refused(
    issue: Any,
    client: FlaskClient,
    services: Services,
    admin: Caller,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    client.post(
        "/issuers/centre-1/suspend", json={"reason": "audit"}, headers=admin.headers
    )
    size = tree_size(services)

    result = issue(
        "class.csv", csv_text(approved_achievement, 2), "--issuer", "centre-1"
    )

    assert result.returncode == 1
    assert result.stdout == "0 issued, 0 already issued, 2 refused of 2 rows\n"
    assert "row 0: issuer centre-1 is suspended; it cannot issue" in result.stderr
    assert tree_size(services) == size


def test_a_csv_saved_with_a_byte_order_mark_is_read(
    issue: Any, services: Services, issuer: Caller, approved_achievement: str
) -> None:
    content = "\ufeff" + csv_text(approved_achievement, 2)

    result = issue("excel.csv", content, "--issuer", "centre-1")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "2 issued, 0 already issued, 0 refused of 2 rows\n"


def test_a_missing_file_is_one_line(
    cli: RunCLI, env: dict[str, str], tmp_path: Path, issuer: Caller
) -> None:
    missing = tmp_path / "missing.csv"

    result = cli("issue-batch", str(missing), "--issuer", "centre-1", env=env)

    line = assert_one_line_error(result)
    assert line == (
        f"credbank: error: cannot read {missing}: No such file or directory"
    )
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("class.json", '[{"achievement": ', "class.json: not JSON (Expecting value)"),
        (
            "class.json",
            '{"achievement": "x"}',
            "class.json: expected a JSON list of awards, got an object",
        ),
        (
            "class.csv",
            "achievement,learner_phone\nx,110\n",
            "csv: expected a header with 'achievement' and only",
        ),
        ("class.csv", "achievement,learner_name\nx,王芳\n".encode("gbk"), "not UTF-8"),
        (
            "class.csv",
            "achievement\n" + "x\n" * (MAX_ROWS + 1),
            f"rows: expected at most {MAX_ROWS} rows, got {MAX_ROWS + 1}",
        ),
    ],
    ids=["malformed json", "json object", "unknown column", "gbk", "too many rows"],
)
def test_a_file_that_cannot_be_used_is_one_line_and_issues_nothing(
    issue: Any,
    services: Services,
    issuer: Caller,
    name: str,
    content: str | bytes,
    message: str,
) -> None:
    size = tree_size(services)

    result = issue(name, content, "--issuer", "centre-1")

    line = assert_one_line_error(result)
    assert message in line
    assert tree_size(services) == size


def test_an_unknown_issuer_is_one_line(
    issue: Any, services: Services, approved_achievement: str
) -> None:
    size = tree_size(services)

    result = issue("class.csv", csv_text(approved_achievement, 1), "--issuer", "nope")

    assert assert_one_line_error(result) == "credbank: error: no issuer 'nope'"
    assert tree_size(services) == size


def test_an_output_that_cannot_be_written_is_refused_before_issuing(
    issue: Any,
    tmp_path: Path,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    content = csv_text(approved_achievement, 2)
    unwritable = tmp_path / "no-such-dir" / "out.json"
    size = tree_size(services)

    failed = issue(
        "class.csv", content, "--issuer", "centre-1", "--output", str(unwritable)
    )

    assert assert_one_line_error(failed) == (
        f"credbank: error: cannot write {unwritable}: No such file or directory"
    )
    assert tree_size(services) == size
    rerun = issue(
        "class.csv", content, "--issuer", "centre-1", "--output", str(tmp_path / "o")
    )
    assert rerun.stdout == "2 issued, 0 already issued, 0 refused of 2 rows\n"
    assert len(json.loads((tmp_path / "o").read_text())) == 2
