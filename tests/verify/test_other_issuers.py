"""Credentials from issuers not registered here, through POST /credentials/verify.

A `did:web` issuer on CREDBANK_DID_WEB_HOSTS verifies, with the registry and log
lines not applicable; its status list is read where it is served, from an allowed
host only, and counts only when the credential's issuer signed it. The web is
`FakeWeb`, standing in for `urllib.request.urlopen`, so every request the service
makes is recorded (did:web §3.2 requires HTTPS, which a test server would not give).
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Config
from api.services import open_services
from credentials import add_proof, sign_vc_jwt
from credentials.status_list import Bitstring, status_list_credential, status_list_entry
from keys.multikey import encode_multikey
from keys.signers import ED25519, LocalSigner
from verify import resolver
from verify.facts import NO_FACTS
from verify.procedure import verify_credential
from verify.resolver import (
    FETCH_TIMEOUT_SECONDS,
    MAX_DOCUMENT_BYTES,
    Resolver,
    UnavailableError,
)

RDFC, JCS, JWT = "eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"
ALLOWED = "issuer.example"
ISSUER_DID = f"did:web:{ALLOWED}:people:ada"
DID_URL = f"https://{ALLOWED}/people/ada/did.json"
LIST_URL = f"https://{ALLOWED}/status/revocation-1"
SUSPENSION_URL = f"https://{ALLOWED}/status/suspension-1"
ELSEWHERE_URL = "https://lists.elsewhere.example/status/1"
SIGNED_AT = "2026-01-01T00:00:00Z"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass
class FakeWeb:
    """The documents at each URL; an unknown URL does not answer."""

    documents: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def serve(self, url: str, document: Any) -> None:
        text = document if isinstance(document, str) else json.dumps(document)
        self.documents[url] = text.encode()

    def urlopen(self, request: urllib.request.Request, timeout: float) -> Any:
        assert timeout == FETCH_TIMEOUT_SECONDS
        self.requests.append(request.full_url)
        body = self.documents.get(request.full_url)
        if body is None:
            raise urllib.error.URLError("connection refused")
        return _Answer(body)


class _Answer:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def read(self, size: int = -1) -> bytes:
        return self._body if size < 0 else self._body[:size]

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass(frozen=True)
class Issuer:
    """An issuer elsewhere: a did:web (or did:key) and its Ed25519 key."""

    did: str
    signer: LocalSigner

    @property
    def method(self) -> str:
        if self.did.startswith("did:key:"):
            return f"{self.did}#{self.did.removeprefix('did:key:')}"
        return f"{self.did}#key-1"

    def did_document(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": self.did,
            "verificationMethod": [
                {
                    "id": self.method,
                    "type": "Multikey",
                    "controller": self.did,
                    "publicKeyMultibase": encode_multikey(
                        ED25519, self.signer.public_key
                    ),
                }
            ],
            "assertionMethod": [self.method],
        }

    def sign(self, document: dict[str, Any], form: str = RDFC) -> Any:
        if form == JWT:
            return sign_vc_jwt(document, self.signer, kid=self.method)
        return add_proof(
            document, self.signer, cryptosuite=form,
            verification_method=self.method, created=SIGNED_AT,
        )  # fmt: skip

    def credential(self, form: str = RDFC, *status: dict[str, Any]) -> Any:
        unsigned: dict[str, Any] = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential"],
            "issuer": self.did,
            "validFrom": SIGNED_AT,
            "credentialSubject": {"id": "did:example:learner"},
        }
        if status:
            unsigned["credentialStatus"] = list(status)
        return self.sign(unsigned, form)

    def status_list(
        self,
        url: str = LIST_URL,
        *,
        purpose: str = "revocation",
        set_bits: tuple[int, ...] = (),
        form: str = RDFC,
        **extra: Any,
    ) -> Any:
        bits = Bitstring()
        for index in set_bits:
            bits.set(index)
        unsigned = status_list_credential(
            url,
            issuer=self.did,
            status_purpose=purpose,
            bitstring=bits,
            valid_from=SIGNED_AT,
        )
        return self.sign({**unsigned, **extra}, form)


def new_issuer(did: str | None = None) -> Issuer:
    signer = LocalSigner("k", Ed25519PrivateKey.generate())
    key_did = f"did:key:{encode_multikey(ED25519, signer.public_key)}"
    return Issuer(did or key_did, signer)


def entry(index: int, url: str = LIST_URL, purpose: str = "revocation") -> Any:
    return status_list_entry(url, index, status_purpose=purpose)


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> FakeWeb:
    fake = FakeWeb()
    monkeypatch.setattr(resolver, "open_url", fake.urlopen)
    return fake


@pytest.fixture
def ada(web: FakeWeb) -> Issuer:
    """A did:web issuer on an allowed host, its DID document served."""
    issuer = new_issuer(ISSUER_DID)
    web.serve(DID_URL, issuer.did_document())
    return issuer


@pytest.fixture
def allowing(migrated: Config) -> Iterator[FlaskClient]:
    """A client of an app with `issuer.example` on CREDBANK_DID_WEB_HOSTS."""
    opened = open_services(replace(migrated, did_web_hosts=(ALLOWED,)))
    app = create_app(opened.config, services=opened)
    app.config["TESTING"] = True
    yield app.test_client()
    opened.close()


def verify(client: FlaskClient, credential: Any) -> dict[str, Any]:
    answer = client.post(
        "/credentials/verify", json={"verifiableCredential": credential}
    )
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def lines(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["check"]: (c["outcome"], c["code"]) for c in body["checks"]}


def detail(body: dict[str, Any], check: str) -> str:
    found: str = next(c["detail"] for c in body["checks"] if c["check"] == check)
    return found


# A did:web issuer on the allow-list (issue 5, build 2)


@pytest.mark.parametrize("form", [RDFC, JCS, JWT])
def test_an_allowed_did_web_issuer_verifies_with_registry_and_log_not_applicable(
    allowing: FlaskClient, web: FakeWeb, ada: Issuer, form: str
) -> None:
    body = verify(allowing, ada.credential(form))

    assert body["verdict"] == "valid"
    assert body["verified"] is True
    assert lines(body) == {
        "format": (
            "passed",
            "format.vc-jwt" if form == JWT else "format.data-integrity",
        ),
        "method": ("passed", "method.resolved"),
        "signature": ("passed", "signature.valid"),
        "data-model": ("passed", "data-model.valid-vc"),
        "validity": ("passed", "validity.current"),
        "status": ("not-applicable", "status.none"),
        "issuer": ("not-applicable", "issuer.external"),
        "achievement": ("not-applicable", "achievement.external"),
        "key-state": ("passed", "key-state.good"),
        "log": ("not-applicable", "log.external"),
    }
    assert web.requests == [DID_URL]


def test_the_same_did_web_issuer_is_not_fetched_without_the_allow_list(
    client: FlaskClient, web: FakeWeb, ada: Issuer
) -> None:
    body = verify(client, ada.credential())

    assert web.requests == []
    assert lines(body)["method"] == ("cannot-check", "method.not-allowed")
    assert body["verdict"] == "invalid"


# Its status list, read where it is served


@pytest.mark.parametrize(
    ("served", "status", "verdict"),
    [
        ({LIST_URL: ()}, ("passed", "status.active"), "valid"),
        ({LIST_URL: (7,)}, ("failed", "status.revoked"), "invalid"),
        ({SUSPENSION_URL: (7,)}, ("failed", "status.suspended"), "invalid"),
    ],
    ids=["active", "revoked", "suspended"],
)
@pytest.mark.parametrize("form", [RDFC, JWT])
def test_a_foreign_status_list_on_an_allowed_host_is_read_and_believed(
    allowing: FlaskClient,
    web: FakeWeb,
    ada: Issuer,
    served: dict[str, tuple[int, ...]],
    status: tuple[str, str],
    verdict: str,
    form: str,
) -> None:
    ((url, bits),) = served.items()
    purpose = "suspension" if url == SUSPENSION_URL else "revocation"
    web.serve(url, ada.status_list(url, purpose=purpose, set_bits=bits, form=form))

    body = verify(allowing, ada.credential(RDFC, entry(7, url, purpose)))

    assert lines(body)["status"] == status
    assert body["verdict"] == verdict
    # The DID document once (the credential's key and the list's are one), then
    # the list.
    assert web.requests == [DID_URL, url]


def test_a_did_key_issuers_list_on_an_allowed_host_counts_too(
    allowing: FlaskClient, web: FakeWeb
) -> None:
    issuer = new_issuer()
    web.serve(LIST_URL, issuer.status_list(set_bits=(3,)))

    body = verify(allowing, issuer.credential(JCS, entry(3)))

    assert lines(body)["status"] == ("failed", "status.revoked")
    assert web.requests == [LIST_URL]


def test_an_unreachable_list_cannot_be_checked_and_is_never_not_revoked(
    allowing: FlaskClient, web: FakeWeb, ada: Issuer
) -> None:
    body = verify(allowing, ada.credential(RDFC, entry(7)))

    assert web.requests == [DID_URL, LIST_URL]
    assert lines(body)["status"] == ("cannot-check", "status.unreadable")
    assert body["verdict"] == "valid-with-warnings"
    assert body["verified"] is True
    assert body["warnings"] == ["status.unreadable"]
    assert "connection refused" in detail(body, "status")
    status = next(c for c in body["checks"] if c["check"] == "status")
    assert "cannot be ruled out" in status["message"]["en"]


def test_a_list_on_a_host_not_allowed_is_not_requested(
    allowing: FlaskClient, web: FakeWeb, ada: Issuer
) -> None:
    web.serve(ELSEWHERE_URL, ada.status_list(ELSEWHERE_URL, set_bits=(7,)))

    body = verify(allowing, ada.credential(RDFC, entry(7, ELSEWHERE_URL)))

    assert web.requests == [DID_URL]
    assert lines(body)["status"] == ("cannot-check", "status.not-allowed")
    assert body["verdict"] == "valid-with-warnings"
    assert "'lists.elsewhere.example' is not on the allow-list" in detail(
        body, "status"
    )


def test_a_list_over_plain_http_is_not_requested(
    allowing: FlaskClient, web: FakeWeb, ada: Issuer
) -> None:
    url = LIST_URL.replace("https://", "http://")
    web.serve(url, ada.status_list(url, set_bits=(7,)))

    body = verify(allowing, ada.credential(RDFC, entry(7, url)))

    assert web.requests == [DID_URL]
    assert lines(body)["status"] == ("cannot-check", "status.unreadable")
    assert "expected an https URL" in detail(body, "status")


def _another_issuers_list(ada: Issuer) -> Any:
    # A genuine list, by a genuine key, of someone who is not the issuer.
    return new_issuer().status_list()


def _naming_the_issuer_signed_by_another_key(ada: Issuer) -> Any:
    unsigned = ada.status_list()
    del unsigned["proof"]
    return new_issuer().sign(unsigned)


def _altered_after_signing(ada: Issuer) -> Any:
    signed = ada.status_list(set_bits=(7,))
    signed["credentialSubject"]["encodedList"] = Bitstring().encode()
    return signed


def _another_of_the_issuers_lists(ada: Issuer) -> Any:
    return ada.status_list(f"{LIST_URL}-old")


def _expired(ada: Issuer) -> Any:
    return ada.status_list(validUntil="2026-02-01T00:00:00Z")


def _suspension_list_at_a_revocation_url(ada: Issuer) -> Any:
    return ada.status_list(purpose="suspension")


def _not_a_status_list(ada: Issuer) -> Any:
    return ada.credential()


def _not_json(ada: Issuer) -> Any:
    return "{not json"


def _over_the_size_cap(ada: Issuer) -> Any:
    return ada.status_list(description="x" * MAX_DOCUMENT_BYTES)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(make, reason, id=make.__name__[1:])
        for make, reason in [
            (_another_issuers_list, f"to be issued by {ISSUER_DID}, got did:key:"),
            (_naming_the_issuer_signed_by_another_key, "method.unknown"),
            (_altered_after_signing, "signature.invalid"),
            (_another_of_the_issuers_lists, "expected the status list's id to be"),
            (_expired, "validity.expired"),
            (_suspension_list_at_a_revocation_url, "expected a revocation list"),
            (_not_a_status_list, "expected a BitstringStatusListCredential"),
            (_over_the_size_cap, f"expected at most {MAX_DOCUMENT_BYTES} bytes"),
            (_not_json, "format.malformed"),
        ]
    ],
)
def test_a_list_that_does_not_hold_cannot_be_checked(
    allowing: FlaskClient,
    web: FakeWeb,
    ada: Issuer,
    make: Callable[[Issuer], Any],
    reason: str,
) -> None:
    web.serve(LIST_URL, make(ada))

    body = verify(allowing, ada.credential(RDFC, entry(7)))

    assert lines(body)["status"] == ("cannot-check", "status.unreadable")
    assert body["verdict"] == "valid-with-warnings"
    assert reason in detail(body, "status")


def test_a_list_signed_by_a_key_of_a_host_not_allowed_is_not_believed(
    allowing: FlaskClient, web: FakeWeb, ada: Issuer
) -> None:
    # The list names the issuer, but its proof points at a DID elsewhere.
    impostor = new_issuer("did:web:lists.elsewhere.example")
    forged = ada.status_list(set_bits=())
    del forged["proof"]
    web.serve(LIST_URL, impostor.sign(forged))

    body = verify(allowing, ada.credential(RDFC, entry(7)))

    assert web.requests == [DID_URL, LIST_URL]
    assert lines(body)["status"] == ("cannot-check", "status.unreadable")
    assert "method.not-allowed" in detail(body, "status")


# Without the database: the procedure and its resolver alone


def test_offline_nothing_is_fetched_for_a_status_list() -> None:
    fetched: list[str] = []
    issuer = new_issuer()

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return b"{}"

    result = verify_credential(
        issuer.credential(RDFC, entry(7)),
        resolver=Resolver(allowed_hosts=[ALLOWED], fetch=fetch),
        facts=NO_FACTS,
        now=NOW,
    )

    # NO_FACTS says "offline", not "someone else's list": nothing is fetched.
    assert fetched == []
    status = next(c for c in result.checks if c.check == "status")
    assert (status.outcome, status.code) == ("cannot-check", "status.unreadable")
    assert "offline" in status.detail


def test_a_redirect_is_refused_and_its_target_never_asked() -> None:
    # An allowed host must not lead the fetcher to another one (or to plain http).
    asked: list[str] = []

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/did.json"
        with pytest.raises(UnavailableError, match=r"got a redirect \(302\)"):
            resolver.open_url(urllib.request.Request(url), timeout=5)
    finally:
        server.shutdown()
        server.server_close()

    assert asked == ["/did.json"]
