"""What docs/wallet-format.md says a reader must refuse, and the page's limits:
one spelling of the base64 the format defines, every proof under the wallet's own
checkpoint, the order of the items, and wallets uploaded up to 32 MiB."""

from __future__ import annotations

import base64
import copy
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.routes.verification import MAX_VERIFY_BYTES
from tests.conftest import Caller, award, award_request
from tests.wallet.conftest import Holder
from tests.wallet.test_example_wallet import EXAMPLE, aged
from verify.result import FAILED, INVALID
from wallet import WalletFormatError, verify_wallet
from wallet.format import MAX_WALLET_BYTES

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def example() -> dict[str, Any]:
    wallet: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return wallet


def later(wallet: dict[str, Any]) -> datetime:
    exported = datetime.fromisoformat(wallet["exportedAt"].replace("Z", "+00:00"))
    return exported + timedelta(days=1)


def respelled(encoded: str) -> str:
    """The same bytes in base64 with a non-zero bit where RFC 4648 §3.5 wants
    zeros: the last character before the padding, its lowest bit flipped."""
    assert encoded.endswith("="), "no unused bits to set"
    at = len(encoded.rstrip("=")) - 1
    other = _ALPHABET[_ALPHABET.index(encoded[at]) ^ 1]
    changed = encoded[:at] + other + encoded[at + 1 :]
    assert base64.b64decode(changed) == base64.b64decode(encoded)
    return changed


def log_line(result: Any, item: int) -> Any:
    _, verified = result.items[item].forms[0]
    return next(check for check in verified.checks if check.check == "log")


def test_a_log_entry_in_another_base64_spelling_fails_its_item() -> None:
    wallet = example()
    item = wallet["credentials"][0]
    item["logEntry"] = respelled(item["logEntry"])

    result = verify_wallet(wallet, now=later(wallet))

    assert result.items[0].verdict == INVALID
    assert "logEntry: expected base64 whose unused bits are zero" in (
        log_line(result, 0).detail
    )
    assert result.items[1].verdict != INVALID


def test_a_proof_hash_in_another_base64_spelling_fails_its_item() -> None:
    wallet = example()
    item = wallet["statements"][0]
    lines = item["tlogProof"].split("\n")
    hash_at = next(n for n, line in enumerate(lines) if line.endswith("="))
    lines[hash_at] = respelled(lines[hash_at])
    item["tlogProof"] = "\n".join(lines)

    result = verify_wallet(wallet, now=later(wallet))

    assert result.items[1].verdict == INVALID
    assert "tlogProof: expected base64" in log_line(result, 1).detail
    assert result.items[0].verdict != INVALID


def test_a_checkpoint_signature_in_another_spelling_fails_the_wallet() -> None:
    wallet = example()
    note = wallet["log"]["checkpoint"]
    body, _, signatures = note.rpartition("\n\n")
    name, _, encoded = signatures.rstrip("\n").rpartition(" ")
    respelled_note = f"{body}\n\n{name} {respelled(encoded)}\n"
    wallet["log"]["checkpoint"] = respelled_note
    for item in wallet["credentials"] + wallet["statements"]:
        item["tlogProof"] = item["tlogProof"].replace(note, respelled_note)

    result = verify_wallet(wallet, now=later(wallet))

    assert result.checks[0].outcome == FAILED
    assert "unused bits are zero" in result.checks[0].detail
    assert not result.verified


def test_a_proof_under_another_checkpoint_fails_its_item(
    client: FlaskClient,
    holder: Holder,
    issuer: Caller,
    approved_achievement: str,
    wallet: dict[str, Any],
) -> None:
    # A later checkpoint, signed by the same log: the proof holds under it, yet
    # it is not the one the wallet names.
    award(client, issuer, award_request(approved_achievement))
    item = wallet["credentials"][1]
    index = int(item["tlogProof"].split("\n")[1].removeprefix("index "))
    fresh = client.get(f"/log/proof/{index}")
    assert fresh.status_code == 200
    changed = copy.deepcopy(wallet)
    changed["credentials"][1]["tlogProof"] = fresh.get_data(as_text=True)
    assert changed["credentials"][1]["tlogProof"] != item["tlogProof"]

    result = verify_wallet(changed, now=datetime.now(UTC))

    assert result.items[1].verdict == INVALID
    assert "expected the checkpoint of log.checkpoint" in log_line(result, 1).detail
    assert all(result.items[n].verdict != INVALID for n in (0, 2, 3))


def test_items_are_in_the_order_of_their_log_indexes(
    wallet: dict[str, Any],
) -> None:
    def indexes(group: str) -> list[int]:
        return [
            int(item["tlogProof"].split("\n")[1].removeprefix("index "))
            for item in wallet[group]
        ]

    assert indexes("credentials") == sorted(indexes("credentials"))
    assert len(set(indexes("credentials"))) == len(wallet["credentials"]) == 3
    assert indexes("statements") == sorted(indexes("statements"))


def test_a_holder_that_is_no_did_key_is_not_a_wallet() -> None:
    wallet = example()
    wallet["holder"] = "did:web:learner.example"

    with pytest.raises(WalletFormatError, match="holder: expected a did:key or null"):
        verify_wallet(wallet, now=later(wallet))


@pytest.mark.parametrize(("lang", "words"), [("en", "12 days ago"), ("zh", "12 天前")])
def test_the_page_says_how_old_the_status_is(
    client: FlaskClient, lang: str, words: str
) -> None:
    wallet = aged(example(), 12)

    answer = client.post(
        f"/verify?lang={lang}", data={"credential": json.dumps(wallet)}
    )

    assert answer.status_code == 200, answer.get_data(as_text=True)
    html = answer.get_data(as_text=True)
    assert f'<dd id="status-as-of">{wallet["statusAsOf"]} ({words})</dd>' in html


def test_an_uploaded_wallet_may_be_larger_than_a_credential(
    client: FlaskClient,
) -> None:
    text = json.dumps(example())
    # Whitespace is JSON too: the same wallet, past the 1 MiB of a credential.
    padded = text[:-1] + " " * (MAX_VERIFY_BYTES + 1) + "}"

    answer = client.post(
        "/verify?lang=en",
        data={"file": (io.BytesIO(padded.encode()), "wallet.json")},
        content_type="multipart/form-data",
    )

    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert "Wallet verification" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "case",
    [
        "credential-upload",
        "pasted-wallet",
        "urlencoded-wallet",
        "names-the-format",
        "too-large",
    ],
)
def test_only_an_uploaded_wallet_may_pass_1_mib(
    client: FlaskClient, holder: Holder, case: str
) -> None:
    credential = json.dumps(holder.credentials[0]["credential"]["eddsa-jcs-2022"])
    wallet = json.dumps(example())
    size = MAX_VERIFY_BYTES + 1
    if case == "credential-upload":
        body = credential[:-1] + " " * size + "}"
    elif case == "names-the-format":
        body = credential[:-1] + ', "note": "credbank-wallet/v1"' + " " * size + "}"
    elif case == "too-large":
        body = wallet[:-1] + " " * MAX_WALLET_BYTES + "}"
    else:
        body = wallet[:-1] + " " * size + "}"
    if case.endswith("ed-wallet"):
        data: dict[str, Any] = {"credential": body}
    else:
        data = {"file": (io.BytesIO(body.encode()), "big.json")}
    kind = "urlencoded" in case and "application/x-www-form-urlencoded"

    answer = client.post(
        "/verify?lang=en", data=data, content_type=kind or "multipart/form-data"
    )

    assert answer.status_code == 413, answer.get_data(as_text=True)[:300]
    assert "larger than 1 MB" in answer.get_data(as_text=True)
