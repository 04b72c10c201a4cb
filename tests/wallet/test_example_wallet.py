"""The example wallet of docs/wallet-format.md (tests/vectors/wallet/), what makes
it, and that it verifies with nothing but itself.

`make_example_wallet` builds it from a fresh service: one credential in the three
forms, one credit-transfer statement, and a presentation signed by a holder whose
key comes from a published seed. To write a new one over the vector:

    CREDBANK_WRITE_EXAMPLE_WALLET=1 pytest tests/wallet/test_example_wallet.py
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from sqlalchemy import select

from api.auth import LEARNER
from api.services import Services
from issuers.learners import Learner
from keys.multikey import encode_multikey
from keys.signers import ED25519, LocalSigner
from tests.api.conftest import RunCLI
from tests.conftest import VECTORS, Caller, award, award_request, make_token
from tests.wallet.conftest import ALL_FORMS, transfer_credits
from verify.result import INVALID, VALID, VALID_WITH_WARNINGS
from wallet import FORMAT, check_wallet, sign_presentation, verify_wallet

EXAMPLE = VECTORS / "wallet" / "example-wallet.json"
# NOTE: a published seed: this holder key signs the example and nothing else.
HOLDER_SEED = hashlib.sha256(b"credbank example wallet holder, test only").digest()


def example_holder() -> LocalSigner:
    return LocalSigner("holder", Ed25519PrivateKey.from_private_bytes(HOLDER_SEED))


def make_example_wallet(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    achievement: str,
) -> dict[str, Any]:
    """A wallet as a learner would carry it: exported over HTTP, then signed
    with the holder's key on the learner's machine."""
    holder = example_holder()
    did = "did:key:" + encode_multikey(ED25519, holder.public_key)
    award(
        client,
        issuer,
        award_request(achievement, learner={"did": did}, formats=ALL_FORMS),
    )
    with services.database.transaction() as session:
        learner_id = session.scalar(select(Learner.id).where(Learner.did == did))
    assert learner_id is not None
    learner = make_token(services, LEARNER, learner_id)
    transfer_credits(client, school, learner, achievement)
    answer = client.get(f"/learners/{learner_id}/wallet", headers=learner.headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    exported: dict[str, Any] = json.loads(answer.get_data())
    return sign_presentation(exported, holder, now=datetime.now(UTC))


def test_the_helper_makes_a_wallet_shaped_like_the_example(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
) -> None:
    made = make_example_wallet(client, services, issuer, school, approved_achievement)

    if os.environ.get("CREDBANK_WRITE_EXAMPLE_WALLET") == "1":
        EXAMPLE.parent.mkdir(exist_ok=True)
        EXAMPLE.write_text(json.dumps(made, ensure_ascii=False, indent=1) + "\n")
    stored = json.loads(EXAMPLE.read_text())
    assert _shape(made) == _shape(stored)
    result = verify_wallet(made, now=datetime.now(UTC))
    assert result.verified
    assert result.checks[-1].code == "wallet.presentation-valid"


def test_the_example_wallet_verifies_with_nothing_but_itself() -> None:
    wallet = json.loads(EXAMPLE.read_text())
    exported = _moment(wallet["exportedAt"])
    check_wallet(wallet)

    result = verify_wallet(wallet, now=exported + timedelta(days=12))

    assert result.verified
    assert [check.code for check in result.checks] == [
        "wallet.checkpoint-valid",
        "wallet.presentation-valid",
    ]
    assert [(item.kind, len(item.forms)) for item in result.items] == [
        ("credential", 3),
        ("statement", 1),
    ]
    # A status snapshot is a warning; a statement carries no status.
    assert [item.verdict for item in result.items] == [VALID_WITH_WARNINGS, VALID]
    assert result.status_age("en") == "12 days ago"
    assert result.status_age("zh") == "12 天前"
    # The holder is the one the published seed makes.
    holder = example_holder()
    assert wallet["holder"] == "did:key:" + encode_multikey(ED25519, holder.public_key)


def test_the_example_wallet_fails_where_it_is_changed() -> None:
    wallet = json.loads(EXAMPLE.read_text())
    now = _moment(wallet["exportedAt"]) + timedelta(days=1)
    credential = wallet["credentials"][0]["secured"]["eddsa-jcs-2022"]
    credential["validFrom"] = "2020-01-01T00:00:00Z"

    result = verify_wallet(wallet, now=now)

    assert result.items[0].verdict == INVALID
    assert result.items[1].verdict == VALID


def aged(wallet: dict[str, Any], days: int) -> dict[str, Any]:
    """The wallet as if exported `days` days (and an hour) ago: neither time is
    signed, they only date the status snapshot."""
    moment = datetime.now(UTC) - timedelta(days=days, hours=1)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**wallet, "exportedAt": stamp, "statusAsOf": stamp}


def test_the_command_line_says_how_old_the_status_is(
    run_main: RunCLI, tmp_path: Path
) -> None:
    wallet = aged(json.loads(EXAMPLE.read_text()), 12)
    path = tmp_path / "wallet.json"
    path.write_text(json.dumps(wallet))

    english = run_main("verify", str(path), "--offline", "--lang", "en")
    chinese = run_main("verify", str(path), "--offline", "--lang", "zh")

    assert english.returncode == 0, english.stderr
    first = english.stdout.splitlines()[0]
    assert f"status as of {wallet['statusAsOf']} (12 days ago)" in first
    assert chinese.returncode == 0, chinese.stderr
    assert f"状态信息截至 {wallet['statusAsOf']}（12 天前）" in chinese.stdout


def _shape(wallet: dict[str, Any]) -> Any:
    """What stays the same from one run of the helper to the next."""
    return {
        "members": sorted(wallet),
        "format": wallet["format"] == FORMAT,
        "holder": wallet["holder"],
        "forms": [sorted(item["secured"]) for item in wallet["credentials"]],
        "statements": [sorted(item["secured"]) for item in wallet["statements"]],
        "issuers": sorted(wallet["didDocuments"]),
        "lists": len(wallet["statusLists"]),
        "proof": sorted(wallet["presentation"]["proof"]),
        "log": re.sub(r"\d+", "N", wallet["log"]["checkpoint"].split("\n")[0]),
    }


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture(autouse=True)
def _example_exists() -> None:
    # Not a skip: a missing vector is a failure, with the way to make it.
    assert EXAMPLE.is_file() or os.environ.get("CREDBANK_WRITE_EXAMPLE_WALLET"), (
        f"{EXAMPLE} is missing: run this module with CREDBANK_WRITE_EXAMPLE_WALLET=1"
    )
