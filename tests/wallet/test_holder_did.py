"""A learner registers their did:key by signing a challenge; their wallet then
names it as holder, and they sign its presentation on their own machine."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.auth import LEARNER
from api.services import Services
from credentials.data_integrity import EDDSA_JCS_2022, EDDSA_RDFC_2022, add_proof
from issuers.errors import InvalidInputError
from issuers.learners import Learner
from keys.multikey import encode_multikey
from keys.signers import ED25519, P256, LocalSigner
from tests.api.conftest import RunCLI, assert_one_line_error
from tests.conftest import Caller, make_token
from tests.wallet.conftest import BASE, Holder, fetch_wallet
from tests.wallet.test_learner_page import learner_of
from tests.wallet.test_offline import without_network
from wallet import verify_wallet
from wallet.holder_did import CHALLENGE_TTL, register_holder_did

VC2 = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True)
class Key:
    """A learner's own Ed25519 key pair and its did:key."""

    private: Ed25519PrivateKey

    @property
    def signer(self) -> LocalSigner:
        return LocalSigner("learner", self.private)

    @property
    def did(self) -> str:
        return "did:key:" + encode_multikey(ED25519, self.signer.public_key)

    def pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def new_key() -> Key:
    return Key(Ed25519PrivateKey.generate())


def presentation(
    key: Key,
    challenge: str | None,
    *,
    holder: str | None = None,
    domain: str | None = BASE,
    purpose: str = "authentication",
    suite: str = EDDSA_RDFC_2022,
    signer: LocalSigner | None = None,
) -> dict[str, Any]:
    """A presentation by `holder` (the key's did:key) signed by `signer` (the
    key's own) over `challenge` and `domain`."""
    did = holder or key.did
    unsigned = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": did}
    return add_proof(
        unsigned,
        signer or key.signer,
        cryptosuite=suite,
        verification_method=f"{did}#{did.removeprefix('did:key:')}",
        created="2026-12-01T09:31:00Z",
        proof_purpose=purpose,
        challenge=challenge,
        domain=domain,
    )


def new_challenge(client: FlaskClient, learner: Caller) -> str:
    answer = client.post(
        f"/learners/{learner.subject}/did/challenge", headers=learner.headers
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["domain"] == BASE
    expires = datetime.fromisoformat(body["expires"].replace("Z", "+00:00"))
    assert timedelta(0) < expires - datetime.now(UTC) <= CHALLENGE_TTL
    challenge: str = body["challenge"]
    return challenge


def register(client: FlaskClient, learner: Caller, body: Any) -> TestResponse:
    return client.post(
        f"/learners/{learner.subject}/did",
        data=json.dumps(body),
        content_type="application/json",
        headers=learner.headers,
    )


def assert_problem(answer: TestResponse, status: int, field: str, words: str) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    problem = answer.get_json()
    assert problem["status"] == status
    assert words in problem["detail"], problem
    if status == 400:
        assert field in problem["errors"], problem


@pytest.fixture
def newcomer(services: Services, holder: Holder) -> Caller:
    """The learner known by e-mail only (the holder fixture's `other`), with a
    token of their own."""
    return make_token(services, LEARNER, learner_of(services, holder.other["id"]))


def did_of(services: Services, learner_id: str) -> str | None:
    with services.database.transaction() as session:
        learner = session.get(Learner, learner_id)
        assert learner is not None
        return learner.did


def test_a_learner_registers_a_did_key_and_their_wallet_names_it(
    client: FlaskClient, services: Services, newcomer: Caller, holder: Holder
) -> None:
    key = new_key()
    before = fetch_wallet(client, _as_holder(holder, newcomer))
    assert before["holder"] is None

    answer = register(
        client, newcomer, presentation(key, new_challenge(client, newcomer))
    )

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() == {"learner": newcomer.subject, "did": key.did}
    assert did_of(services, str(newcomer.subject)) == key.did
    wallet = fetch_wallet(client, _as_holder(holder, newcomer))
    assert wallet["holder"] == key.did
    assert wallet["presentation"]["holder"] == key.did
    assert "proof" not in wallet["presentation"]

    # The same key again, over a fresh challenge and with the other suite:
    # nothing changes.
    again = register(
        client,
        newcomer,
        presentation(key, new_challenge(client, newcomer), suite=EDDSA_JCS_2022),
    )
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["did"] == key.did


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (
            lambda key, chl: {**presentation(key, chl), "holder": "did:web:x.example"},
            "holder",
            "expected a did:key",
        ),
        (
            lambda key, chl: _with_proof(presentation(key, chl), proofValue="z3Ab"),
            "proof",
            "signature",
        ),
        (
            lambda key, chl: presentation(key, chl, signer=new_key().signer),
            "proof",
            "expected a valid eddsa-rdfc-2022 signature",
        ),
        (
            lambda key, chl: presentation(key, chl, purpose="assertionMethod"),
            "proof",
            "expected proofPurpose 'authentication'",
        ),
        (
            lambda key, chl: presentation(key, chl, domain="https://evil.example"),
            "proof.domain",
            "expected 'http://credbank.test'",
        ),
        (
            lambda key, chl: presentation(key, chl, domain=None),
            "proof.domain",
            "got None",
        ),
        (
            lambda key, chl: presentation(key, None),
            "proof.challenge",
            "expected a challenge issued to this learner",
        ),
        (
            lambda key, chl: presentation(key, "chl_" + "A" * 32),
            "proof.challenge",
            "not used yet",
        ),
        (
            # Changed after signing: the challenge is live, the signature no
            # longer holds.
            lambda key, chl: _with_proof(presentation(key, "chl_other"), challenge=chl),
            "proof",
            "signature",
        ),
        (
            lambda key, chl: {**presentation(key, chl), "verifiableCredential": [{}]},
            "verifiableCredential",
            "expected none",
        ),
        (
            lambda key, chl: {**presentation(key, chl), "@context": ["x:y"]},
            "@context",
            "expected a list beginning with",
        ),
        (
            lambda key, chl: {**presentation(key, chl), "holder": _p256_did()},
            "holder",
            "Ed25519",
        ),
        (
            lambda key, chl: {**presentation(key, chl), "holder": "did:key:z0OIl"},
            "holder",
            "expected a did:key of an Ed25519 key",
        ),
    ],
    ids=[
        "holder-not-did-key",
        "signature-garbled",
        "signed-by-another-key",
        "wrong-purpose",
        "wrong-domain",
        "no-domain",
        "no-challenge",
        "unknown-challenge",
        "challenge-changed-after-signing",
        "with-credentials",
        "unknown-context",
        "p256-did-key",
        "not-base58",
    ],
)
def test_a_bad_proof_is_a_400_problem_and_registers_nothing(
    client: FlaskClient,
    services: Services,
    newcomer: Caller,
    make: Callable[[Key, str], dict[str, Any]],
    field: str,
    words: str,
) -> None:
    key = new_key()
    challenge = new_challenge(client, newcomer)

    answer = register(client, newcomer, make(key, challenge))

    assert_problem(answer, 400, field, words)
    assert did_of(services, str(newcomer.subject)) is None
    # The challenge was not used up by a failed attempt.
    assert register(client, newcomer, presentation(key, challenge)).status_code == 201


@pytest.mark.parametrize(
    "body",
    [[], "a string", {"@context": [VC2], "type": ["VerifiablePresentation"]}],
    ids=["list", "string", "no-holder-no-proof"],
)
def test_a_body_that_is_no_presentation_is_a_problem(
    client: FlaskClient, newcomer: Caller, body: Any
) -> None:
    answer = register(client, newcomer, body)

    assert 400 <= answer.status_code < 500
    assert answer.mimetype == "application/problem+json"
    assert "Traceback" not in answer.get_data(as_text=True)


def test_a_challenge_opens_one_registration_only(
    client: FlaskClient, services: Services, newcomer: Caller
) -> None:
    key = new_key()
    signed = presentation(key, new_challenge(client, newcomer))
    assert register(client, newcomer, signed).status_code == 201

    replayed = register(client, newcomer, signed)

    assert_problem(replayed, 400, "proof.challenge", "not used yet")


def test_another_learner_s_challenge_does_not_count(
    client: FlaskClient, services: Services, newcomer: Caller, learner: Caller
) -> None:
    theirs = new_challenge(client, learner)

    answer = register(client, newcomer, presentation(new_key(), theirs))

    assert_problem(answer, 400, "proof.challenge", "issued to this learner")


def test_an_expired_challenge_does_not_count(
    client: FlaskClient, services: Services, newcomer: Caller
) -> None:
    key = new_key()
    challenge = new_challenge(client, newcomer)
    later = datetime.now(UTC) + CHALLENGE_TTL + timedelta(seconds=1)

    with (
        services.database.transaction(write=True) as session,
        pytest.raises(InvalidInputError, match="in the last 10 minutes"),
    ):
        register_holder_did(
            session,
            str(newcomer.subject),
            presentation(key, challenge),
            domain=BASE,
            now=later,
        )


def test_a_key_that_is_another_learner_s_is_a_409(
    client: FlaskClient, services: Services, newcomer: Caller, holder: Holder
) -> None:
    # The holder is known by this did:key since their credentials were issued
    # to it; the newcomer can sign with it (they stole it, say) and still not
    # take it over.
    stolen = Key(holder.key)

    answer = register(
        client, newcomer, presentation(stolen, new_challenge(client, newcomer))
    )

    assert_problem(answer, 409, "", "the DID of another learner")
    assert did_of(services, str(newcomer.subject)) is None


def test_a_learner_known_by_another_did_keeps_it(
    client: FlaskClient, services: Services, holder: Holder
) -> None:
    answer = register(
        client,
        holder.caller,
        presentation(new_key(), new_challenge(client, holder.caller)),
    )

    assert_problem(answer, 409, "", f"got one known by {holder.did}")
    assert did_of(services, holder.id) == holder.did


def test_only_the_learner_s_own_token_may_register(
    client: FlaskClient, newcomer: Caller, holder: Holder, issuer: Caller
) -> None:
    mine = new_challenge(client, newcomer)
    signed = presentation(new_key(), mine)
    path = f"/learners/{newcomer.subject}/did"

    for headers, status in (
        (holder.caller.headers, 403),
        (issuer.headers, 403),
        ({}, 401),
    ):
        for url, body in ((path, signed), (path + "/challenge", None)):
            answer = client.post(url, json=body, headers=headers)
            assert answer.status_code == status, (url, answer.get_json())
            assert answer.mimetype == "application/problem+json"


def test_erasure_clears_the_registered_did(
    client: FlaskClient, services: Services, newcomer: Caller, admin: Caller
) -> None:
    key = new_key()
    assert (
        register(
            client, newcomer, presentation(key, new_challenge(client, newcomer))
        ).status_code
        == 201
    )

    erased = client.post(
        f"/learners/{newcomer.subject}/erasure",
        json={"reason": "learner-request"},
        headers=admin.headers,
    )

    assert erased.status_code == 200, erased.get_json()
    assert did_of(services, str(newcomer.subject)) is None


def test_the_learner_signs_the_registered_holder_s_presentation_offline(
    client: FlaskClient,
    services: Services,
    newcomer: Caller,
    holder: Holder,
    cli: RunCLI,
    tmp_path: Path,
) -> None:
    key = new_key()
    assert (
        register(
            client, newcomer, presentation(key, new_challenge(client, newcomer))
        ).status_code
        == 201
    )
    path = tmp_path / "wallet.json"
    path.write_text(json.dumps(fetch_wallet(client, _as_holder(holder, newcomer))))
    key_file = tmp_path / "me.pem"
    key_file.write_bytes(key.pem())
    prefix, env, record = without_network(tmp_path)

    signed = offline(
        prefix, env, "wallet", "sign", str(path), "--holder-key", str(key_file)
    )

    assert signed.returncode == 0, signed.stderr
    assert f"signed by {key.did}" in signed.stderr
    assert record.read_text().splitlines() == ["guard loaded"]
    wallet = json.loads(path.read_text())
    proof = wallet["presentation"]["proof"]
    assert proof["verificationMethod"].startswith(key.did + "#")
    assert proof["proofPurpose"] == "authentication"
    result = verify_wallet(wallet, now=datetime.now(UTC))
    assert result.checks[-1].code == "wallet.presentation-valid", result.checks[-1]
    assert result.verified

    checked = offline(prefix, env, "verify", str(path), "--offline", "--lang", "en")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "wallet.presentation-valid" in checked.stdout

    # The proof holds for this presentation only.
    forged = copy.deepcopy(wallet)
    forged["presentation"]["proof"]["created"] = "2020-01-01T00:00:00Z"
    failed = verify_wallet(forged, now=datetime.now(UTC))
    assert failed.checks[-1].code == "wallet.presentation-invalid"
    assert not failed.verified


def test_a_signed_presentation_without_a_holder_fails(
    wallet: dict[str, Any], holder: Holder
) -> None:
    signed = copy.deepcopy(wallet)
    presented = {k: v for k, v in signed["presentation"].items() if k != "holder"}
    signed["presentation"] = add_proof(
        presented,
        Key(holder.key).signer,
        cryptosuite=EDDSA_RDFC_2022,
        verification_method=f"{holder.did}#{holder.did[8:]}",
        created="2026-12-01T09:31:00Z",
        proof_purpose="authentication",
    )
    signed["holder"] = None

    result = verify_wallet(signed, now=datetime.now(UTC))

    assert result.checks[-1].code == "wallet.presentation-invalid"
    assert "must name its holder" in result.checks[-1].detail


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("not-json", "not JSON"),
        ("not-a-wallet", "not a credbank-wallet/v1 file"),
        ("no-holder", "names no did:key holder"),
        ("other-key", "expected the key of"),
        ("key-not-pem", "expected an unencrypted PEM"),
        ("no-key-file", "cannot read"),
        ("other-credentials", "expected a presentation of the wallet's credentials"),
    ],
)
def test_wallet_sign_refuses_bad_input_with_exit_2(
    wallet: dict[str, Any],
    holder: Holder,
    cli: RunCLI,
    tmp_path: Path,
    change: str,
    words: str,
) -> None:
    prefix, env, _ = without_network(tmp_path)
    path = tmp_path / "wallet.json"
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(holder.key_pem())
    given = copy.deepcopy(wallet)
    if change == "no-holder":
        given["holder"] = None
        del given["presentation"]["holder"]
    elif change == "other-key":
        key_file.write_bytes(new_key().pem())
    elif change == "key-not-pem":
        key_file.write_text("not a key")
    elif change == "no-key-file":
        key_file.unlink()
    elif change == "other-credentials":
        given["presentation"]["verifiableCredential"].pop()
    text = json.dumps(given)
    if change == "not-json":
        text = text[:-1]
    elif change == "not-a-wallet":
        text = json.dumps({"format": "credbank-wallet/v1"})
    path.write_text(text)

    run = offline(
        prefix, env, "wallet", "sign", str(path), "--holder-key", str(key_file)
    )

    assert words in assert_one_line_error(run)
    assert path.read_text() == text


def offline(
    prefix: list[str], env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run `credbank` with no network and no database (test_offline.py)."""
    return subprocess.run(
        [*prefix, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _as_holder(holder: Holder, learner: Caller) -> Holder:
    """The holder fixture's shape, for another learner (for fetch_wallet)."""
    return Holder(learner, "", holder.key, [], {}, "")


def _with_proof(signed: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(signed)
    changed["proof"].update(changes)
    return changed


def _p256_did() -> str:
    key = generate_private_key(SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return "did:key:" + encode_multikey(P256, point)


def test_no_presentation_makes_a_server_error(
    client: FlaskClient, newcomer: Caller
) -> None:
    key = new_key()
    signed = presentation(key, new_challenge(client, newcomer))
    odd: list[Any] = [None, 7, [], {}, "", "@id", {"@context": "x:y"}, "z" * 5000]
    tried = 0

    for path in _paths(signed):
        for value in odd:
            changed = copy.deepcopy(signed)
            target = changed
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
            answer = register(client, newcomer, changed)
            tried += 1
            assert 400 <= answer.status_code < 500, (path, value, answer.get_json())
            assert answer.mimetype == "application/problem+json"
    assert tried > 80


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member and list element of `value`, containers included."""
    found: list[tuple[Any, ...]] = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for position, inner in enumerate(value):
            found += _paths(inner, (*path, position))
    return found
