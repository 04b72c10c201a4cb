"""`credbank verify`: the same checks on the command line, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.api.conftest import RunCLI, assert_one_line_error
from tests.conftest import Caller
from tests.verify.test_security import did_key_signed

RDFC, JWT = "eddsa-rdfc-2022", "vc+jwt"


def write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return str(path)


def test_a_valid_credential_prints_every_check_and_exits_0(
    cli: RunCLI, env: dict[str, str], tmp_path: Path, issued: dict[str, Any]
) -> None:
    for form in (RDFC, JWT):
        path = write(tmp_path, f"credential-{form}", issued["credential"][form])

        result = cli("verify", path, "--lang", "en", env=env)

        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "VALID"
        assert [line.split()[0] for line in lines[1:]] == [str(n) for n in range(1, 11)]
        assert all(line.split()[1] == "ok" for line in lines[1:])
        assert "log.included" in result.stdout


def test_a_revoked_credential_exits_1_in_chinese(
    cli: RunCLI,
    env: dict[str, str],
    tmp_path: Path,
    client: FlaskClient,
    issuer: Caller,
    issued: dict[str, Any],
) -> None:
    client.post(
        "/credentials/status",
        json={"credentialId": issued["id"], "action": "revoke", "reason": "test"},
        headers=issuer.headers,
    )
    path = write(tmp_path, "credential.json", issued["credential"][RDFC])

    result = cli("verify", path, "--lang", "zh", "--json", env=env)

    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["verdict"] == "invalid"
    assert [p["type"].rsplit("/", 1)[1] for p in body["problemDetails"]] == [
        "status.revoked"
    ]
    text = cli("verify", path, "--lang", "zh", env=env)
    assert text.stdout.splitlines()[0] == "无效"
    assert "已被颁发机构撤销" in text.stdout


def test_a_verification_url_is_checked_by_its_server(
    cli: RunCLI, live_server: str, issued: dict[str, Any]
) -> None:
    result = cli("verify", f"{live_server}/v/{issued['id']}", "--lang", "en")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("VALID\n")
    assert "Recorded in the public transparency log" in result.stdout


def test_offline_uses_only_the_file(run_main: RunCLI, tmp_path: Path) -> None:
    path = write(tmp_path, "did-key.json", did_key_signed(RDFC))

    result = run_main("verify", path, "--offline", "--lang", "en")

    assert result.returncode == 0, result.stderr
    assert "log.external" in result.stdout


def test_offline_cannot_vouch_for_an_issuer_it_cannot_resolve(
    run_main: RunCLI, tmp_path: Path, issued: dict[str, Any]
) -> None:
    path = write(tmp_path, "credential.json", issued["credential"][RDFC])

    result = run_main("verify", path, "--offline", "--lang", "en")

    assert result.returncode == 1
    assert "method.not-allowed" in result.stdout
    assert result.stdout.startswith("NOT VALID")


def test_standard_input_is_read_with_a_dash(
    run_main: RunCLI, monkeypatch: Any, tmp_path: Path
) -> None:
    import io
    import sys

    token = did_key_signed(JWT)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(token.encode())))

    result = run_main("verify", "-", "--offline", "--lang", "en")

    assert result.returncode == 0, result.stderr
    assert "format.vc-jwt" in result.stdout


def test_bad_input_is_one_line_and_exit_2(run_main: RunCLI, tmp_path: Path) -> None:
    cases = [
        ["verify", str(tmp_path / "missing.json"), "--offline"],
        ["verify", write(tmp_path, "garbage", "not json {"), "--offline"],
        ["verify", write(tmp_path, "list.json", [1, 2]), "--offline"],
        ["verify", "http://127.0.0.1:9/v/urn:uuid:x", "--offline"],
        ["verify", write(tmp_path, "big", "x" * (1024 * 1024 + 1)), "--offline"],
    ]
    for args in cases:
        result = run_main(*args)

        message = assert_one_line_error(result)
        assert message.startswith("credbank: error:"), args


def test_a_crafted_detail_cannot_forge_terminal_lines(
    run_main: RunCLI, tmp_path: Path
) -> None:
    credential = did_key_signed(RDFC)
    credential["proof"]["verificationMethod"] = "did:web:evil.example\n 1 ok   forged"
    path = write(tmp_path, "crafted.json", credential)

    result = run_main("verify", path, "--offline", "--lang", "en")

    assert result.returncode == 1
    assert "\n 1 ok   forged" not in result.stdout
