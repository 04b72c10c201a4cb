"""Verifying a wallet with only what it carries: no database, no network."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.services import Services
from tests.api.conftest import (
    CREDBANK,
    RunCLI,
    assert_one_line_error,
    serve_in_thread,
)
from tests.conftest import Caller
from tests.verify.test_page import set_status
from tests.wallet.conftest import ALL_FORMS, Holder, fetch_wallet
from verify.result import FAILED, INVALID, VALID_WITH_WARNINGS
from wallet import WalletFormatError, verify_wallet


def offline_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which no database can be found: a fresh data directory,
    and a database URL that points nowhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDBANK_")}
    env["CREDBANK_DATA_DIR"] = str(tmp_path / "nowhere")
    env["CREDBANK_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    return env


def codes(result: Any, item: int, form: str) -> dict[str, str]:
    """check name -> code of one form of one item."""
    verified = dict(result.items[item].forms)[form]
    return {check.check: check.code for check in verified.checks}


# Loaded first by every Python started with it on PYTHONPATH: any connection the
# process tries, or any name it looks up, is written down and refused.
_NETWORK_GUARD = """
import os
import socket

def _refuse(*args, **kwargs):
    with open(os.environ["NETWORK_GUARD_LOG"], "a") as log:
        log.write(f"refused {args!r}\\n")
    raise OSError("network use refused by the offline wallet test")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
with open(os.environ["NETWORK_GUARD_LOG"], "a") as log:
    log.write("guard loaded\\n")
"""


def without_network(tmp_path: Path) -> tuple[list[str], dict[str, str], Path]:
    """A command prefix and environment in which the `credbank` script can reach
    no network and no database, and the file that records what it tried.

    Python's sockets refuse every connection and name lookup (and say so in the
    record). Where the system allows it, the process also runs in a network
    namespace of its own, with no interface up, so that nothing in C (libpq)
    gets through either; in any case the database URL names a closed port.
    """
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(_NETWORK_GUARD)
    record = tmp_path / "network.log"
    env = offline_env(tmp_path)
    env["PYTHONPATH"] = str(guard)
    env["NETWORK_GUARD_LOG"] = str(record)
    unshare = shutil.which("unshare")
    isolate = [unshare, "--net", "--map-root-user"] if unshare else []
    if isolate:
        trial = subprocess.run([*isolate, "true"], capture_output=True, check=False)
        isolate = isolate if trial.returncode == 0 else []
    return [*isolate, str(CREDBANK)], env, record


def test_the_network_guard_refuses_a_connection(tmp_path: Path) -> None:
    prefix, env, record = without_network(tmp_path)
    script = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9')"

    run = subprocess.run(
        [*prefix[:-1], sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 1
    assert "network use refused" in run.stderr
    assert record.read_text().splitlines()[0] == "guard loaded"
    assert "refused" in record.read_text().splitlines()[1]


def test_export_then_verify_offline_with_the_server_stopped(
    app: Flask, services: Services, holder: Holder, tmp_path: Path
) -> None:
    server = serve_in_thread(app)
    base = next(server)
    asked = urllib.request.Request(
        f"{base}/learners/{holder.id}/wallet", headers=holder.caller.headers
    )
    with urllib.request.urlopen(asked, timeout=30) as answer:
        assert answer.status == 200
        exported = answer.read()
    with urllib.request.urlopen(f"{base}/log/key", timeout=30) as answer:
        log_key = answer.read().decode().strip()
    path = tmp_path / "wallet.json"
    path.write_bytes(exported)
    server.close()
    services.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base}/healthz", timeout=5)
    prefix, env, record = without_network(tmp_path)

    carried, pinned = (
        subprocess.run(
            [*prefix, "verify", str(path), "--offline", "--lang", "en", *pin],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        for pin in ([], ["--log-key", log_key])
    )

    # The guard ran in both processes and nothing tried the network.
    assert record.read_text().splitlines() == ["guard loaded", "guard loaded"]
    for run in (carried, pinned):
        assert run.returncode == 0, run.stdout + run.stderr
        out = run.stdout
        assert out.count("\n[") == 4  # three credentials and one statement
        assert "VALID, WITH WARNINGS" in out
        assert "NOT VALID" not in out
        # Every line of each item's first form; of its other forms, the verdict
        # and what differs (here, the status line's warning).
        assert out.count("log.included") == 4
        assert out.count("status.stale") == 5
        assert "  vc+jwt: VALID, WITH WARNINGS" in out
        assert "wallet.checkpoint-valid" in out
    assert "pin it with --log-key" in carried.stdout
    assert f"log key (pinned): {log_key}" in pinned.stdout


def test_every_form_verifies_and_says_how_old_its_status_is(
    wallet: dict[str, Any],
) -> None:
    result = verify_wallet(wallet, now=datetime.now(UTC))

    assert result.verified
    day = wallet["statusAsOf"][:10]
    for index, item in enumerate(result.items):
        for form, verified in item.forms:
            found = codes(result, index, form)
            assert found["signature"] == "signature.valid", (item.id, form)
            assert found["log"] == "log.included"
            assert found["issuer"] == "issuer.external"
            if item.kind == "credential":
                status = next(c for c in verified.checks if c.check == "status")
                assert status.code == "status.stale"
                assert status.warning
                assert status.values["date"] == day
                assert day in status.message("en")
                assert verified.verdict == VALID_WITH_WARNINGS


@pytest.mark.parametrize(
    ("item", "form"),
    [
        (0, "eddsa-rdfc-2022"),
        (0, "eddsa-jcs-2022"),
        (0, "vc+jwt"),
        (1, "eddsa-rdfc-2022"),
        (2, "vc+jwt"),
    ],
)
def test_a_changed_byte_in_one_credential_fails_that_item_only(
    wallet: dict[str, Any], item: int, form: str
) -> None:
    changed = copy.deepcopy(wallet)
    secured = changed["credentials"][item]["secured"]
    secured[form] = _flip_one_byte(secured[form])

    result = verify_wallet(changed, now=datetime.now(UTC))

    assert result.items[item].verdict == INVALID
    assert dict(result.items[item].forms)[form].verdict == INVALID
    others = [r for n, r in enumerate(result.items) if n != item]
    assert all(r.verdict != INVALID for r in others)
    for other_form, verified in result.items[item].forms:
        if other_form != form:
            assert verified.verdict != INVALID


# Pure verification of what the file carries: one database backend is enough.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_any_value_changed_in_any_credential_fails_that_item_alone(
    wallet: dict[str, Any],
) -> None:
    now = datetime.now(UTC)
    tried: list[str] = []

    for index, where, changed in _every_change(wallet):
        result = verify_wallet(changed, now=now)
        tried.append(where.split(":", 1)[0])

        assert result.items[index].verdict == INVALID, where
        others = [r for n, r in enumerate(result.items) if n != index]
        assert all(r.verdict != INVALID for r in others), where
        form = where.split(":", 1)[0]
        if form in dict(result.items[index].forms):
            # The other forms are documents of their own: they still hold.
            assert dict(result.items[index].forms)[form].verdict == INVALID, where
            for other_form, verified in result.items[index].forms:
                if other_form != form:
                    assert verified.verdict != INVALID, where
    # Not a token check: every scalar of three Data Integrity documents, and
    # hundreds of characters of the rest.
    assert set(tried) == {*ALL_FORMS, "id", "logEntry", "tlogProof"}
    assert len(tried) > 500


def test_a_changed_byte_in_the_statement_fails_it_only(
    wallet: dict[str, Any],
) -> None:
    changed = copy.deepcopy(wallet)
    statement = changed["statements"][0]["secured"]["eddsa-jcs-2022"]
    statement["credentialSubject"]["total"] = "30"

    result = verify_wallet(changed, now=datetime.now(UTC))

    assert [item.verdict == INVALID for item in result.items] == [
        False,
        False,
        False,
        True,
    ]
    assert codes(result, 3, "eddsa-jcs-2022")["log"] == "log.missing"


def test_a_byte_changed_in_the_file_fails_one_item_on_the_command_line(
    wallet: dict[str, Any], run_main: RunCLI, tmp_path: Path
) -> None:
    text = json.dumps(wallet, ensure_ascii=False)
    second = wallet["credentials"][1]
    name = second["secured"]["eddsa-rdfc-2022"]["name"]
    # Every credential has this name: the byte changed is in the second one.
    at = text.index(name, text.index(second["id"])) + len(name) - 1
    path = tmp_path / "wallet.json"
    path.write_text(text[:at] + "X" + text[at + 1 :])

    run = run_main("verify", str(path), "--offline", "--lang", "en")

    assert run.returncode == 1
    blocks = run.stdout.split("\n[")[1:]
    verdicts = [block.splitlines()[0].rsplit(": ", 1)[1] for block in blocks]
    assert verdicts == [
        "VALID, WITH WARNINGS",
        "NOT VALID",
        "VALID, WITH WARNINGS",
        "VALID",
    ]
    assert "signature.invalid" in blocks[1]


def test_a_revoked_credential_shows_revoked_offline(
    client: FlaskClient, holder: Holder, issuer: Caller
) -> None:
    set_status(client, issuer, holder.credentials[1]["id"], "revoke")
    wallet = fetch_wallet(client, holder)

    result = verify_wallet(wallet, now=datetime.now(UTC))

    assert codes(result, 1, "eddsa-rdfc-2022")["status"] == "status.revoked"
    assert result.items[1].verdict == INVALID
    assert codes(result, 0, "eddsa-rdfc-2022")["status"] == "status.stale"
    assert result.items[0].verdict != INVALID


def test_a_suspended_credential_shows_suspended_offline(
    client: FlaskClient, holder: Holder, issuer: Caller
) -> None:
    set_status(client, issuer, holder.credentials[0]["id"], "suspend")
    wallet = fetch_wallet(client, holder, holder.credentials[0]["id"])

    result = verify_wallet(wallet, now=datetime.now(UTC))

    for form in ("eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"):
        assert codes(result, 0, form)["status"] == "status.suspended"


def test_a_tampered_status_list_is_never_read_as_not_revoked(
    wallet: dict[str, Any],
) -> None:
    changed = copy.deepcopy(wallet)
    for status_list in changed["statusLists"].values():
        status_list["validFrom"] = "2020-01-01T00:00:00Z"

    result = verify_wallet(changed, now=datetime.now(UTC))

    status = codes(result, 0, "eddsa-rdfc-2022")["status"]
    assert status == "status.unreadable"
    assert result.items[0].verdict == VALID_WITH_WARNINGS


def test_a_status_list_signed_by_another_issuer_does_not_count(
    wallet: dict[str, Any],
) -> None:
    changed = copy.deepcopy(wallet)
    for status_list in changed["statusLists"].values():
        status_list["issuer"] = "did:web:credbank.test"

    result = verify_wallet(changed, now=datetime.now(UTC))

    assert codes(result, 0, "eddsa-rdfc-2022")["status"] == "status.unreadable"


def test_a_pinned_log_key_that_is_not_the_wallet_s_fails_every_log_line(
    wallet: dict[str, Any],
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from keys.signers import LocalSigner
    from ledger import NoteVerifier

    stranger = LocalSigner("x", Ed25519PrivateKey.generate())
    other = str(NoteVerifier.from_public_key("credbank.test/log", stranger.public_key))

    result = verify_wallet(wallet, now=datetime.now(UTC), log_key=other)

    assert not result.verified
    assert result.checks[0].outcome == FAILED
    for index in range(len(result.items)):
        assert codes(result, index, result.items[index].forms[0][0])["log"] == (
            "log.missing"
        )


def test_an_entry_for_another_credential_does_not_vouch_for_this_one(
    wallet: dict[str, Any],
) -> None:
    changed = copy.deepcopy(wallet)
    first, second = changed["credentials"][:2]
    first["logEntry"], first["tlogProof"] = second["logEntry"], second["tlogProof"]

    result = verify_wallet(changed, now=datetime.now(UTC))

    assert codes(result, 0, "eddsa-rdfc-2022")["log"] == "log.missing"
    assert result.items[0].verdict == INVALID
    assert result.items[1].verdict != INVALID


def test_the_presentation_must_hold_the_wallet_s_credentials(
    wallet: dict[str, Any],
) -> None:
    changed = copy.deepcopy(wallet)
    changed["presentation"]["verifiableCredential"].pop()

    result = verify_wallet(changed, now=datetime.now(UTC))

    assert result.checks[-1].code == "wallet.presentation-invalid"
    assert not result.verified


def test_the_holder_signs_the_presentation_locally(
    holder: Holder, env: dict[str, str], cli: RunCLI, tmp_path: Path
) -> None:
    key = tmp_path / "holder.pem"
    key.write_bytes(holder.key_pem())
    path = tmp_path / "wallet.json"

    exported = cli(
        "wallet", "export", "--learner", holder.id, "--output", str(path),
        "--holder-key", str(key), env=env,
    )  # fmt: skip

    assert exported.returncode == 0, exported.stderr
    assert "signed by the holder" in exported.stderr
    wallet = json.loads(path.read_text())
    proof = wallet["presentation"]["proof"]
    assert proof["proofPurpose"] == "authentication"
    assert proof["verificationMethod"].startswith(holder.did + "#")
    result = verify_wallet(wallet, now=datetime.now(UTC))
    assert result.checks[-1].code == "wallet.presentation-valid"
    assert result.verified

    changed = copy.deepcopy(wallet)
    changed["presentation"]["id"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    tampered = verify_wallet(changed, now=datetime.now(UTC))
    assert tampered.checks[-1].code == "wallet.presentation-invalid"
    assert not tampered.verified


def test_someone_else_s_key_cannot_sign_the_presentation(
    holder: Holder, env: dict[str, str], cli: RunCLI, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = tmp_path / "other.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    run = cli(
        "wallet", "export", "--learner", holder.id, "--holder-key", str(key), env=env
    )

    line = assert_one_line_error(run)
    assert f"expected the key of {holder.did}" in line


def test_a_subset_export_on_the_command_line(
    holder: Holder, env: dict[str, str], cli: RunCLI
) -> None:
    chosen = holder.credentials[2]["id"]

    run = cli(
        "wallet", "export", "--learner", holder.id, "--credential", chosen, env=env
    )

    assert run.returncode == 0, run.stderr
    wallet = json.loads(run.stdout)
    assert [item["id"] for item in wallet["credentials"]] == [chosen]
    assert holder.credentials[0]["id"] not in run.stdout


def test_an_unknown_learner_is_bad_input(
    services: Services, env: dict[str, str], cli: RunCLI
) -> None:
    run = cli("wallet", "export", "--learner", "nobody", env=env)

    assert "no learner 'nobody'" in assert_one_line_error(run)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda w: w.pop("log"), "log: required, missing"),
        (
            lambda w: w.update(format="credbank-wallet/v9"),
            "expected 'credbank-wallet/v1'",
        ),
        (lambda w: w["credentials"][0].pop("tlogProof"), "tlogProof: required"),
        (lambda w: w["credentials"][0].update(logEntry="%%%"), "expected base64"),
        (lambda w: w.update(statusAsOf="yesterday"), "statusAsOf: expected a UTC"),
        (lambda w: w["credentials"].append(w["credentials"][0]), "appears twice"),
        (
            lambda w: w["credentials"][0]["secured"].update({"ldp_vc": {}}),
            "expected one of",
        ),
    ],
)
def test_a_malformed_wallet_is_refused_with_the_member_named(
    wallet: dict[str, Any],
    change: Any,
    message: str,
    run_main: RunCLI,
    tmp_path: Path,
) -> None:
    changed = copy.deepcopy(wallet)
    change(changed)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(changed))

    with pytest.raises(WalletFormatError, match=message):
        verify_wallet(changed, now=datetime.now(UTC))
    run = run_main("verify", str(path), "--offline")

    line = assert_one_line_error(run)
    assert "not a credbank-wallet/v1 file" in line


def test_a_wallet_is_verified_on_the_page(
    client: FlaskClient, wallet: dict[str, Any]
) -> None:
    changed = copy.deepcopy(wallet)
    changed["credentials"][1]["secured"]["eddsa-rdfc-2022"]["name"] = "Forged"

    answer = client.post("/verify?lang=en", data={"credential": json.dumps(changed)})

    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Wallet verification" in html
    assert html.count('class="item"') == 4
    assert 'id="verdict" class="verdict big invalid"' in html
    assert "Credential 2: Not valid" in html
    assert "Credential 1: Valid, with warnings" in html
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_malformed_wallet_on_the_page_is_a_400(
    client: FlaskClient, wallet: dict[str, Any]
) -> None:
    changed = copy.deepcopy(wallet)
    del changed["didDocuments"]

    answer = client.post("/verify?lang=en", data={"credential": json.dumps(changed)})

    assert answer.status_code == 400
    assert "didDocuments: required, missing" in answer.get_data(as_text=True)


def _every_change(
    wallet: dict[str, Any],
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """Copies of `wallet`, each with one thing changed in one credential item:
    every scalar (key names aside) of each Data Integrity form; a character in
    every stretch of each vc+jwt segment, its last included (base64url padding
    bits); and a character in every stretch of the item's id, log entry and
    tlog-proof. Each comes with its item's index and where the change is."""
    for index, item in enumerate(wallet["credentials"]):
        for form, secured in item["secured"].items():
            if isinstance(secured, str):
                for at in _stretches(secured, per_segment=True):
                    changed = copy.deepcopy(wallet)
                    changed["credentials"][index]["secured"][form] = _flipped(
                        secured, at
                    )
                    yield index, f"{form}:{at}", changed
                continue
            for path in _scalar_paths(secured):
                changed = copy.deepcopy(wallet)
                target = changed["credentials"][index]["secured"][form]
                for step in path[:-1]:
                    target = target[step]
                target[path[-1]] = _other_value(target[path[-1]])
                yield index, f"{form}:{'.'.join(map(str, path))}", changed
        for member in ("id", "logEntry", "tlogProof"):
            text = item[member]
            for at in _stretches(text, per_segment=False):
                changed = copy.deepcopy(wallet)
                changed["credentials"][index][member] = _flipped(text, at)
                yield index, f"{member}:{at}", changed


def _scalar_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _scalar_paths(inner, (*path, key))
    elif isinstance(value, list):
        for position, inner in enumerate(value):
            yield from _scalar_paths(inner, (*path, position))
    elif value is not None and value != "":
        yield path


def _other_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return value[:-1] + ("X" if value[-1] != "X" else "Y")


def _stretches(text: str, *, per_segment: bool) -> list[int]:
    """About 24 positions spread over `text`, or over each segment of a JWT with
    the last character of each segment included; never a ".", "=" or newline.

    NOTE: in base64 text with "=" padding, the character before the "=" is left
    out: changing it by one digit changes only unused bits, which RFC 4648 §3.5
    lets a decoder ignore (Go's does, and C2SP notes are written with it), so
    the decoded bytes, and what is checked, stay the same.
    """
    bounds: list[tuple[int, int]] = []
    start = 0
    for part in text.split(".") if per_segment else [text]:
        bounds.append((start, start + len(part)))
        start += len(part) + 1
    positions: set[int] = set()
    for first, end in bounds:
        positions.update(range(first, end, max(1, (end - first) // 24)))
        if per_segment:
            positions.add(end - 1)
    return sorted(
        at
        for at in positions
        if text[at] not in ".=\n" and text[at + 1 : at + 2] != "="
    )


_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _flipped(text: str, at: int) -> str:
    """`text` with the character at `at` replaced by the next letter or digit
    (valid in base64 and base64url alike), or a letter for anything else."""
    found = text[at]
    if found in _DIGITS:
        other = _DIGITS[(_DIGITS.index(found) + 1) % len(_DIGITS)]
    else:
        other = "X"
    return text[:at] + other + text[at + 1 :]


def _flip_one_byte(value: Any) -> Any:
    """The same credential with one character of its name (or its JWT payload)
    changed."""
    if isinstance(value, str):
        header, payload, signature = value.split(".")
        middle = len(payload) // 2
        swapped = "B" if payload[middle] != "B" else "C"
        return (
            f"{header}.{payload[:middle]}{swapped}{payload[middle + 1 :]}.{signature}"
        )
    changed = copy.deepcopy(value)
    changed["name"] = changed["name"][:-1] + "X"
    return changed
