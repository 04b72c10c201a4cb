"""Interoperability with Digital Bazaar's VC libraries and `jose` (issue 4, item 6).

credbank's `credentials` package secures an Open Badges 3.0 credential three ways
(eddsa-rdfc-2022, eddsa-jcs-2022, vc+jwt with EdDSA and ES256) and publishes the
issuer's DID document and signed status lists; `interop.mjs` verifies them with the
npm libraries, status check included. The other way round, credentials those
libraries issue must verify with `verify_proof` and `verify_vc_jwt`.

The Node side needs `node` and `npm ci --prefix tests/interop`. Without them the
module skips, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credentials import (
    CONTEXTS,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    REVOCATION,
    SUSPENSION,
    Bitstring,
    InvalidSignatureError,
    add_proof,
    credential_digest,
    sign_vc_jwt,
    status_list_credential,
    status_list_entry,
    verify_proof,
    verify_vc_jwt,
)
from credentials.achievements import achievement_document
from issuers.did import did_document, issuer_did, jwk_method_id, multikey_method_id
from keys import ACTIVE, ED25519, P256, LocalSigner, StoredKey
from keys.multikey import b58encode, decode_multikey, encode_multikey
from keys.signers import PrivateKey, public_key_bytes
from tests.ci import running_in_ci

HERE = Path(__file__).parent
SCRIPT = HERE / "interop.mjs"
NODE_MODULES = HERE / "node_modules"

BASE_URL = "https://credbank.test"
SLUG = "centre-1"
DID = issuer_did(BASE_URL, SLUG)
REVOCATION_LIST = f"{BASE_URL}/status/{SLUG}-r1"
SUSPENSION_LIST = f"{BASE_URL}/status/{SLUG}-s1"
# Indexes that are not multiples of 8, so that a verifier reading the bits of a
# byte in the other order (Bitstring Status List §2.2: index 0 is the left-most
# bit) would look at a different bit.
REVOCATION_INDEX = 94_567
SUSPENSION_INDEX = 23_452

CREATED = "2026-12-01T09:30:00Z"
VALID_FROM = "2026-12-01T09:30:00Z"
VALID_UNTIL = "2029-12-01T09:30:00Z"
# The status lists are verified inside checkStatus against the machine's clock, so
# their validFrom lies well in the past.
LIST_VALID_FROM = "2026-01-01T00:00:00Z"
# The time the Node verifiers are told it is (the script's --now).
NOW = "2027-03-01T12:00:00Z"
KEY_CREATED = datetime(2026, 11, 1, tzinfo=UTC)

# How the credential is secured: a Data Integrity suite, or vc+jwt with a key type.
RDFC = EDDSA_RDFC_2022
JCS = EDDSA_JCS_2022
JWT_EDDSA = "vc+jwt-EdDSA"
JWT_ES256 = "vc+jwt-ES256"
FORMS = [RDFC, JCS, JWT_EDDSA, JWT_ES256]

# Multicodec ed25519-priv (0x1300) as a varint: the prefix of secretKeyMultibase.
_ED25519_PRIVATE_PREFIX = b"\x80\x26"

Resolver = Callable[[str], tuple[str, bytes]]


@dataclass(frozen=True)
class Issuer:
    """A hosted issuer with one Ed25519 and one P-256 key, held in memory."""

    did: str
    ed25519: LocalSigner
    p256: LocalSigner
    private_keys: Mapping[str, PrivateKey]
    document: dict[str, Any]

    @property
    def profile(self) -> dict[str, Any]:
        return {
            "id": self.did,
            "type": ["Profile"],
            "name": "示范培训中心1号 Demo Training Centre 1",
            "url": "https://centre1.example.cn",
        }


# The harness


def _harness_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not NODE_MODULES.is_dir():
        return (
            "tests/interop/node_modules is missing: run "
            "`npm ci --prefix tests/interop` (make test does when node exists)"
        )
    return None


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable; skips without the harness, fails without it in CI."""
    missing = _harness_missing()
    if missing is not None:
        if running_in_ci():
            pytest.fail(f"interop tests cannot run in CI: {missing}")
        pytest.skip(f"interop tests need Node.js: {missing}")
    path = shutil.which("node")
    assert path is not None
    return path


def run_node(node: str, *args: str | Path) -> tuple[int, dict[str, Any]]:
    """Run interop.mjs; exit 0 means verified (or issued), 1 not verified."""
    completed = subprocess.run(
        [node, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode in (0, 1), (
        f"interop.mjs {args[0]} exited {completed.returncode}: "
        f"{completed.stderr.strip()}"
    )
    return completed.returncode, json.loads(completed.stdout)


def verify_with_node(
    node: str, tmp_path: Path, secured: Any, fixtures: Mapping[str, Any]
) -> dict[str, Any]:
    """The Node verdict on `secured` (a Data Integrity credential or a vc+jwt)."""
    fixtures_file = tmp_path / "fixtures.json"
    fixtures_file.write_text(json.dumps(fixtures), encoding="utf-8")
    if isinstance(secured, str):
        command, input_file = "verify-jwt", tmp_path / "credential.jwt"
        input_file.write_text(secured, encoding="ascii")
    else:
        command, input_file = "verify-di", tmp_path / "credential.json"
        input_file.write_text(json.dumps(secured), encoding="utf-8")
    code, report = run_node(
        node, command, input_file, "--fixtures", fixtures_file, "--now", NOW
    )
    assert (code == 0) == report["verified"], report
    return report


def issue_with_node(
    node: str, tmp_path: Path, command: str, request: Mapping[str, Any]
) -> dict[str, Any]:
    request_file = tmp_path / f"{command}.json"
    request_file.write_text(json.dumps(request), encoding="utf-8")
    code, issued = run_node(node, command, request_file)
    assert code == 0
    return issued


# The issuer, its credentials and its status lists


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    private_keys: dict[str, PrivateKey] = {
        "k-ed25519": ed25519.Ed25519PrivateKey.generate(),
        "k-p256": ec.generate_private_key(ec.SECP256R1()),
    }
    stored = [stored_key(key_id, key) for key_id, key in private_keys.items()]
    return Issuer(
        did=DID,
        ed25519=LocalSigner("k-ed25519", private_keys["k-ed25519"]),
        p256=LocalSigner("k-p256", private_keys["k-p256"]),
        private_keys=private_keys,
        document=did_document(DID, stored),
    )


def stored_key(key_id: str, private_key: PrivateKey) -> StoredKey:
    """A key-store row kept in memory: only its public half is ever read here."""
    return StoredKey(
        id=key_id,
        owner=f"issuer:{SLUG}",
        algorithm=ED25519
        if isinstance(private_key, ed25519.Ed25519PrivateKey)
        else P256,
        public_key=public_key_bytes(private_key),
        sealed_private_key=b"",
        state=ACTIVE,
        created_at=KEY_CREATED,
    )


def badge(issuer: Issuer, *, subject: str = "did") -> dict[str, Any]:
    """An OpenBadgeCredential as DESIGN §4 describes, naming the learner by DID or
    by a salted, hashed e-mail address (OB 3.0 IdentityObject)."""
    definition = {
        "name": {"zh": "智能仓储管理", "en": "Smart Warehouse Management"},
        "description": {
            "zh": "规划并运行自动化仓库。",
            "en": "Plan and run an automated warehouse.",
        },
        "criteria": {"en": "Pass the practical assessment in a training warehouse."},
        "achievementType": "MicroCredential",
        "credits": "7.5",
        "unit": "ECTS",
        "eqfLevel": 5,
        "fieldOfStudy": "Logistics",
        "alignments": [],
    }
    achievement = achievement_document(
        f"{BASE_URL}/achievements/ach-1",
        definition,
        creator=issuer.profile,
        base_url=BASE_URL,
    )
    learner: dict[str, Any] = {"type": ["AchievementSubject"]}
    if subject == "did":
        learner["id"] = "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    else:
        salt = "9f1c2a7b3e5d4c60"
        digest = hashlib.sha256(f"li.lei@example.cn{salt}".encode()).hexdigest()
        learner["identifier"] = [
            {
                "type": "IdentityObject",
                "identityHash": f"sha256${digest}",
                "identityType": "emailAddress",
                "hashed": True,
                "salt": salt,
            }
        ]
    learner |= {
        "achievement": achievement,
        "creditsEarned": 7.5,
        "result": [{"type": ["Result"], "value": "A", "status": "Completed"}],
    }
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:0b1f3c2e-7d4a-4c55-9a51-3f1d2c4b5a69",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Smart Warehouse Management",
        "issuer": issuer.profile,
        "validFrom": VALID_FROM,
        "validUntil": VALID_UNTIL,
        "credentialSubject": learner,
        "credentialStatus": [
            status_list_entry(
                REVOCATION_LIST, REVOCATION_INDEX, status_purpose=REVOCATION
            ),
            status_list_entry(
                SUSPENSION_LIST, SUSPENSION_INDEX, status_purpose=SUSPENSION
            ),
        ],
    }


def secure(credential: Mapping[str, Any], form: str, issuer: Issuer) -> Any:
    """`credential` secured as `form`: a dict with a proof, or a compact JWS."""
    if form in (RDFC, JCS):
        return add_proof(
            credential,
            issuer.ed25519,
            cryptosuite=form,
            verification_method=multikey_method_id(issuer.did, issuer.ed25519.key_id),
            created=CREATED,
        )
    signer = issuer.ed25519 if form == JWT_EDDSA else issuer.p256
    return sign_vc_jwt(credential, signer, kid=jwk_method_id(issuer.did, signer.key_id))


def signed_list(
    issuer: Issuer, url: str, purpose: str, set_bits: Iterable[int] = ()
) -> dict[str, Any]:
    bits = Bitstring()
    for index in set_bits:
        bits.set(index)
    unsigned = status_list_credential(
        url,
        issuer=issuer.did,
        status_purpose=purpose,
        bitstring=bits,
        valid_from=LIST_VALID_FROM,
    )
    return add_proof(
        unsigned,
        issuer.ed25519,
        cryptosuite=EDDSA_RDFC_2022,
        verification_method=multikey_method_id(issuer.did, issuer.ed25519.key_id),
        created=CREATED,
    )


def fixtures(
    issuer: Issuer, *, revoked: Iterable[int] = (), suspended: Iterable[int] = ()
) -> dict[str, Any]:
    """What a verifier would fetch: the DID document and both signed lists."""
    return {
        issuer.did: issuer.document,
        REVOCATION_LIST: signed_list(issuer, REVOCATION_LIST, REVOCATION, revoked),
        SUSPENSION_LIST: signed_list(issuer, SUSPENSION_LIST, SUSPENSION, suspended),
    }


def key_resolver(document: Mapping[str, Any]) -> Resolver:
    """Keys by verification method id, read back from the DID document; only
    assertion methods resolve."""
    methods = {method["id"]: method for method in document["verificationMethod"]}

    def resolve(method_id: str) -> tuple[str, bytes]:
        if method_id not in document["assertionMethod"]:
            raise LookupError(method_id)
        method = methods[method_id]
        if method["type"] == "Multikey":
            return decode_multikey(method["publicKeyMultibase"])
        jwk = method["publicKeyJwk"]
        if jwk["kty"] == "OKP":
            return ED25519, _b64url_decode(jwk["x"])
        return P256, b"\x04" + _b64url_decode(jwk["x"]) + _b64url_decode(jwk["y"])

    return resolve


def private_jwk(private_key: PrivateKey) -> dict[str, str]:
    """The private JWK jose signs with (RFC 8037 §2 for OKP, RFC 7518 §6.2 for EC)."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        seed = private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        public = public_key_bytes(private_key)
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(public),
            "d": _b64url(seed),
        }
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    point = public_key_bytes(private_key)
    d = private_key.private_numbers().private_value.to_bytes(32, "big")
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(point[1:33]),
        "y": _b64url(point[33:]),
        "d": _b64url(d),
    }


def multikey_pair(issuer: Issuer) -> dict[str, str]:
    """The Ed25519 key pair as @digitalbazaar/ed25519-multikey imports it."""
    private_key = issuer.private_keys[issuer.ed25519.key_id]
    seed = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return {
        "id": multikey_method_id(issuer.did, issuer.ed25519.key_id),
        "controller": issuer.did,
        "publicKeyMultibase": encode_multikey(ED25519, issuer.ed25519.public_key),
        "secretKeyMultibase": "z" + b58encode(_ED25519_PRIVATE_PREFIX + seed),
    }


def tampered(secured: Any) -> Any:
    """The same secured credential claiming more credits, signature unchanged."""
    if isinstance(secured, str):
        header, payload, signature = secured.split(".")
        claims = json.loads(_b64url_decode(payload))
        claims["credentialSubject"]["creditsEarned"] = 60
        changed = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{changed}.{signature}"
    changed = copy.deepcopy(secured)
    changed["credentialSubject"]["creditsEarned"] = 60
    return changed


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# credbank -> Digital Bazaar / jose


def test_the_harness_serves_the_contexts_credbank_ships(node: str) -> None:
    code, table = run_node(node, "contexts")
    assert code == 0
    assert table == dict(CONTEXTS)


@pytest.mark.parametrize("subject", ["did", "identity"])
@pytest.mark.parametrize("form", FORMS)
def test_node_verifies_what_credbank_issues(
    node: str, tmp_path: Path, issuer: Issuer, form: str, subject: str
) -> None:
    credential = badge(issuer, subject=subject)
    report = verify_with_node(
        node, tmp_path, secure(credential, form, issuer), fixtures(issuer)
    )

    assert report["verified"] is True, report["errors"]
    assert report["errors"] == []
    assert report["revoked"] is False
    assert report["suspended"] is False
    status = report["statusResult"]
    assert status["verified"] is True
    assert sorted(
        (entry["statusPurpose"], entry["statusListIndex"])
        for entry in status["results"]
    ) == [
        (REVOCATION, str(REVOCATION_INDEX)),
        (SUSPENSION, str(SUSPENSION_INDEX)),
    ]
    if form in (JWT_EDDSA, JWT_ES256):
        assert report["header"]["typ"] == "vc+jwt"
        assert report["header"]["alg"] == ("EdDSA" if form == JWT_EDDSA else "ES256")
        assert report["credential"] == credential
    else:
        assert report["cryptosuite"] == form


@pytest.mark.parametrize("purpose", [REVOCATION, SUSPENSION])
@pytest.mark.parametrize("form", FORMS)
def test_node_sees_a_revocation_or_suspension_in_the_reissued_list(
    node: str, tmp_path: Path, issuer: Issuer, form: str, purpose: str
) -> None:
    secured = secure(badge(issuer), form, issuer)
    if purpose == REVOCATION:
        changed = fixtures(issuer, revoked=[REVOCATION_INDEX])
    else:
        changed = fixtures(issuer, suspended=[SUSPENSION_INDEX])

    report = verify_with_node(node, tmp_path, secured, changed)

    # The proof still holds and the (re-signed) lists verify; the status says why
    # the credential must not be accepted.
    assert report["statusResult"]["verified"] is True, report["errors"]
    assert report["revoked"] is (purpose == REVOCATION)
    assert report["suspended"] is (purpose == SUSPENSION)


@pytest.mark.parametrize("form", [RDFC, JWT_EDDSA])
def test_node_reads_the_status_bits_in_the_specified_order(
    node: str, tmp_path: Path, issuer: Issuer, form: str
) -> None:
    # Set every other bit of the credential's byte, the bit with the mirrored
    # position in that byte included; only bit REVOCATION_INDEX itself is clear.
    start = REVOCATION_INDEX - REVOCATION_INDEX % 8
    mirrored = start + 7 - REVOCATION_INDEX % 8
    others = [index for index in range(start, start + 8) if index != REVOCATION_INDEX]
    assert mirrored in others
    secured = secure(badge(issuer), form, issuer)

    report = verify_with_node(node, tmp_path, secured, fixtures(issuer, revoked=others))

    assert report["verified"] is True, report["errors"]
    assert report["revoked"] is False


def test_node_fetches_nothing_it_was_not_given(
    node: str, tmp_path: Path, issuer: Issuer
) -> None:
    # The harness must be as closed as credbank's own loader: a context it does
    # not ship is refused, never fetched.
    secured = secure(badge(issuer), RDFC, issuer)
    other = "https://w3id.org/security/suites/ed25519-2020/v1"
    secured["@context"] = [*secured["@context"], other]

    report = verify_with_node(node, tmp_path, secured, fixtures(issuer))

    assert report["verified"] is False
    refusal = f"refusing to load {other}"
    assert any(refusal in error for error in report["errors"]), report


@pytest.mark.parametrize("form", FORMS)
def test_node_refuses_a_tampered_credential(
    node: str, tmp_path: Path, issuer: Issuer, form: str
) -> None:
    secured = secure(badge(issuer), form, issuer)

    report = verify_with_node(node, tmp_path, tampered(secured), fixtures(issuer))

    assert report["verified"] is False
    assert any("signature" in error.lower() for error in report["errors"]), report


@pytest.mark.parametrize("form", [RDFC, JWT_ES256])
def test_node_refuses_a_status_list_changed_after_signing(
    node: str, tmp_path: Path, issuer: Issuer, form: str
) -> None:
    secured = secure(badge(issuer), form, issuer)
    served = fixtures(issuer)
    # Someone who controls the list's URL sets the bit without the issuer's key.
    forged = copy.deepcopy(served[REVOCATION_LIST])
    bits = Bitstring.decode(forged["credentialSubject"]["encodedList"])
    bits.set(REVOCATION_INDEX)
    forged["credentialSubject"]["encodedList"] = bits.encode()
    served[REVOCATION_LIST] = forged

    report = verify_with_node(node, tmp_path, secured, served)

    assert report["verified"] is False
    assert any(
        "BitstringStatusListCredential" in error and "not verified" in error
        for error in report["errors"]
    ), report


@pytest.mark.parametrize(
    "published",
    [
        "credential",
        "status-list",
        "did-document",
    ],
)
def test_every_term_credbank_publishes_is_defined_by_its_contexts(
    node: str, tmp_path: Path, issuer: Issuer, published: str
) -> None:
    document = {
        "credential": secure(badge(issuer, subject="identity"), RDFC, issuer),
        "status-list": fixtures(issuer)[REVOCATION_LIST],
        "did-document": issuer.document,
    }[published]
    path = tmp_path / "document.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    code, report = run_node(node, "expand", path)

    assert report["errors"] == []
    assert report["expanded"] is True
    assert code == 0


# Digital Bazaar / jose -> credbank


@pytest.mark.parametrize("cryptosuite", [RDFC, JCS])
def test_credbank_verifies_what_digital_bazaar_issues(
    node: str, tmp_path: Path, issuer: Issuer, cryptosuite: str
) -> None:
    credential = badge(issuer)
    issued = issue_with_node(
        node,
        tmp_path,
        "issue-di",
        {
            "credential": credential,
            "cryptosuite": cryptosuite,
            "created": CREATED,
            "keyPair": multikey_pair(issuer),
        },
    )

    verified = verify_proof(issued, key_resolver(issuer.document))

    assert verified.cryptosuite == cryptosuite
    assert verified.verification_method == multikey_method_id(
        issuer.did, issuer.ed25519.key_id
    )
    assert {k: v for k, v in issued.items() if k != "proof"} == credential
    assert credential_digest(issued) == credential_digest(credential)
    # Ed25519 is deterministic (RFC 8032 §5.1.6): with the same key, document and
    # proof options, both implementations must make the very same proof.
    assert issued == secure(credential, cryptosuite, issuer)
    with pytest.raises(InvalidSignatureError):
        verify_proof(tampered(issued), key_resolver(issuer.document))


@pytest.mark.parametrize("form", [JWT_EDDSA, JWT_ES256])
def test_credbank_verifies_what_jose_issues(
    node: str, tmp_path: Path, issuer: Issuer, form: str
) -> None:
    credential = badge(issuer)
    signer = issuer.ed25519 if form == JWT_EDDSA else issuer.p256
    issued = issue_with_node(
        node,
        tmp_path,
        "issue-jwt",
        {
            "credential": credential,
            "privateJwk": private_jwk(issuer.private_keys[signer.key_id]),
            "kid": jwk_method_id(issuer.did, signer.key_id),
        },
    )

    payload = verify_vc_jwt(issued["jwt"], key_resolver(issuer.document))

    assert issued["alg"] == ("EdDSA" if form == JWT_EDDSA else "ES256")
    assert payload == credential
    assert credential_digest(payload) == credential_digest(credential)
    with pytest.raises(InvalidSignatureError):
        verify_vc_jwt(tampered(issued["jwt"]), key_resolver(issuer.document))
