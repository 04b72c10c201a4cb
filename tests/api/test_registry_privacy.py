"""No key material, token or personal data in any response or log line.

The whole lifecycle runs with every logger captured at DEBUG; then every log record,
every response and every log entry is searched for each secret the run created.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from api.services import Services
from keys import StoredKey
from tests.conftest import (
    TEST_MASTER_KEY,
    Caller,
    achievement_definition,
    application,
    tree_size,
)

# The start of every PKCS#8 DER private key of each kind the store makes (RFC 5958,
# RFC 8410 §7 for Ed25519, RFC 5915 inside PKCS#8 for P-256), in the encodings a
# careless log line would use.
PKCS8_PREFIXES = [
    "302e020100300506032b657004220420",
    "MC4CAQAwBQYDK2VwBCIEI",
    "308187020100301306072a8648ce3d0201",
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEH",
    "PRIVATE KEY",
]

# Endpoints whose answer is a token its caller must receive, once.
TOKEN_ISSUING = {"/issuers", "/reviewers", "/tokens"}


@dataclass
class Run:
    """Everything a lifecycle run said and the secrets it made."""

    responses: list[tuple[str, str, TestResponse]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    legal_ids: list[str] = field(default_factory=list)

    def call(
        self, client: FlaskClient, method: str, path: str, **options: Any
    ) -> TestResponse:
        answer = client.open(path, method=method, **options)
        self.responses.append((method, path, answer))
        return answer


def variants(text: str) -> set[str]:
    """`text` as it may appear raw, JSON-escaped, or HTML-escaped."""
    escaped = json.dumps(text)[1:-1]
    return {text, escaped, escaped.lower(), text.replace("+", "&#43;")}


def contains(haystack: str, needles: list[str]) -> list[str]:
    return [n for n in needles for v in variants(n) if v in haystack]


def key_material(services: Services) -> list[str]:
    """Each sealed private key in hex and base64, and the master key."""
    with services.database.transaction() as session:
        sealed = list(session.scalars(select(StoredKey.sealed_private_key)))
    found = [TEST_MASTER_KEY]
    for blob in sealed:
        found += [
            blob.hex(),
            blob[:24].hex(),
            base64.b64encode(blob).decode()[:32],
            base64.urlsafe_b64encode(blob).decode()[:32],
            repr(blob)[2:40],
        ]
    return found + PKCS8_PREFIXES


def lifecycle(client: FlaskClient, admin: Caller, reviewers: list[Caller]) -> Run:
    """Every role, every decision, and a few refusals, recorded."""
    run = Run(tokens=[admin.token, *(r.token for r in reviewers)])
    issuers: list[Caller] = []
    for n in (1, 2):
        body = application(n)
        run.contacts += list(body["contact"].values())
        run.legal_ids.append(body["legalId"])
        answer = run.call(client, "POST", "/issuers", json=body)
        issuers.append(Caller(answer.get_json()["token"], body["slug"]))
        run.tokens.append(issuers[-1].token)
    first, second = issuers
    run.call(client, "POST", "/issuers", json=application(1, slug="copy"))  # 409

    for reviewer in reviewers[:2]:
        run.call(
            client,
            "POST",
            "/issuers/centre-1/reviews",
            json={"decision": "approve", "comment": "contact checked"},
            headers=reviewer.headers,
        )
    run.call(
        client,
        "POST",
        "/issuers/centre-2/reviews",
        json={"decision": "reject"},
        headers=reviewers[2].headers,
    )
    added = run.call(
        client,
        "POST",
        "/reviewers",
        json={"name": "Insider", "affiliations": [run.legal_ids[0]]},
        headers=admin.headers,
    )
    insider = Caller(added.get_json()["token"])
    minted = run.call(
        client,
        "POST",
        "/tokens",
        json={"role": "issuer", "subject": "centre-1"},
        headers=admin.headers,
    )
    run.tokens += [insider.token, minted.get_json()["token"]]

    submitted = run.call(
        client,
        "POST",
        "/achievements",
        json=achievement_definition(),
        headers=first.headers,
    )
    achievement = submitted.get_json()["id"]
    run.call(
        client,
        "POST",
        f"/achievements/{achievement}/reviews",
        json={"decision": "approve"},
        headers=insider.headers,
    )  # 403
    for reviewer in reviewers[:2]:
        run.call(
            client,
            "POST",
            f"/achievements/{achievement}/reviews",
            json={"decision": "approve"},
            headers=reviewer.headers,
        )
    run.call(client, "POST", "/issuers/centre-1/keys", json={}, headers=first.headers)
    p256 = run.call(
        client,
        "POST",
        "/issuers/centre-1/keys",
        json={"algorithm": "P-256"},
        headers=first.headers,
    )
    run.call(
        client,
        "POST",
        f"/issuers/centre-1/keys/{p256.get_json()['id']}/compromised",
        headers=first.headers,
    )
    run.call(
        client,
        "POST",
        f"/achievements/{achievement}/retire",
        json={"reason": "superseded"},
        headers=admin.headers,
    )
    for action in ("suspend", "reinstate"):
        run.call(
            client,
            "POST",
            f"/issuers/centre-1/{action}",
            json={"reason": "annual inspection"},
            headers=admin.headers,
        )
    # Refusals: a bad token, a wrong role, malformed input, a wrong issuer.
    run.call(client, "GET", "/reviews/pending", headers={"Authorization": "Bearer x"})
    run.call(client, "GET", "/reviews/pending", headers=first.headers)
    run.call(
        client, "POST", "/achievements", json={"credits": 1.234}, headers=first.headers
    )
    run.call(client, "POST", "/issuers/centre-1/keys", json={}, headers=second.headers)
    run.call(
        client,
        "POST",
        "/issuers",
        data='{"contact": {"email": "x',
        content_type="application/json",
    )

    # What the public and the committee read.
    html = {"Accept": "text/html"}
    for path in ("/issuers", "/issuers?lang=en", "/issuers/centre-1"):
        run.call(client, "GET", path)
        run.call(client, "GET", path, headers=html)
    for path in (
        "/issuers/centre-1/did.json",
        "/issuers/centre-1/jwks.json",
        f"/achievements/{achievement}",
        "/log/checkpoint",
    ):
        run.call(client, "GET", path)
    run.call(client, "GET", "/issuers/centre-2", headers=second.headers)
    run.call(client, "GET", "/reviews/pending", headers=admin.headers)
    return run


@pytest.fixture
def run(
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    admin: Caller,
    reviewers: list[Caller],
) -> Run:
    caplog.set_level(logging.DEBUG)
    return lifecycle(client, admin, reviewers)


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Every record of the test: the run happens while its fixture is set up."""
    return caplog.get_records("setup") + caplog.get_records("call")


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter()
    lines = []
    for record in records(caplog):
        lines.append(f"{record.name} {record.getMessage()}")
        if record.exc_info:
            lines.append(formatter.formatException(record.exc_info))
        if record.stack_info:
            lines.append(record.stack_info)
    return "\n".join(lines)


def test_the_run_was_logged_at_debug(
    run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    text = log_text(caplog)

    assert any(r.levelno == logging.DEBUG for r in records(caplog))
    assert "appended entries" in text  # the log's DEBUG line
    assert "created reviewer token tok_" in text
    assert "reported compromised" in text
    assert {answer.status_code for _, _, answer in run.responses} >= {
        200,
        201,
        400,
        401,
        403,
        409,
    }


def test_no_secret_or_personal_data_in_any_log_line(
    run: Run, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    text = log_text(caplog)

    assert contains(text, run.tokens) == []
    assert "cbt_" not in text
    assert contains(text, run.contacts) == []
    assert contains(text, key_material(services)) == []
    assert "contact checked" not in text  # review comments are the committee's


def test_no_contact_or_key_material_in_any_response(
    run: Run, services: Services
) -> None:
    secrets = key_material(services)

    for method, path, answer in run.responses:
        body = answer.get_data(as_text=True)
        headers = str(answer.headers)
        assert contains(body + headers, run.contacts) == [], (method, path)
        assert contains(body, secrets) == [], (method, path)
        assert '"d":' not in body, (method, path)  # a private JWK member


def test_tokens_appear_only_in_the_answer_that_creates_them(run: Run) -> None:
    for method, path, answer in run.responses:
        body = answer.get_data(as_text=True)
        shown = contains(body + str(answer.headers), run.tokens)
        if method == "POST" and path in TOKEN_ISSUING and answer.status_code == 201:
            assert len(shown) == 1, (method, path)
            assert body.count("cbt_") == 1
        else:
            assert shown == [], (method, path)
            assert "cbt_" not in body, (method, path)


def test_public_pages_name_no_legal_id(run: Run) -> None:
    public = [
        (path, answer)
        for method, path, answer in run.responses
        if method == "GET"
        and "Authorization" not in str(answer.request.headers)
        and not path.startswith("/log/")
    ]

    assert len(public) == 9
    for path, answer in public:
        assert contains(answer.get_data(as_text=True), run.legal_ids) == [], path


def test_the_log_holds_no_contact_token_or_comment(
    run: Run, client: FlaskClient, services: Services
) -> None:
    size = tree_size(services)
    answer = client.get(f"/log/entries?start=0&end={size}")
    entries = answer.get_json()["entries"]

    assert len(entries) == size
    raw = "\n".join(base64.b64decode(e["data"]).decode() for e in entries)
    parsed = json.dumps([e["entry"] for e in entries], ensure_ascii=False)
    for text in (raw, parsed):
        assert contains(text, run.contacts) == []
        assert contains(text, run.tokens) == []
        assert "cbt_" not in text
        assert "tok_" not in text
        assert "contact" not in text
        assert "contact checked" not in text
        assert contains(text, key_material(services)) == []
