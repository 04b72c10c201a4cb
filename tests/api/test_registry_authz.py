"""Who may call what: every authenticated registry endpoint against every role.

No token or a bad one is 401 (with a Bearer challenge, RFC 6750 §3); a valid token of
the wrong role, or an issuer's token on another issuer's resource, is 403; the roles
allowed get their success status. A refused call writes nothing to the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from api.auth import ApiToken
from api.services import Services
from tests.conftest import NOW, Caller, achievement_definition, tree_size

ROLES = [
    "admin",
    "reviewer",
    "issuer-own",
    "issuer-other",
    "school",
    "learner",
    "no token",
    "bad token",
]


def _suspend(services: Services, slug: str) -> None:
    with services.database.transaction(write=True) as session:
        services.registry.suspend(session, slug, reason="set up", now=NOW)


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: the roles allowed with their success status, and what the path
    names (`owner` is the fixture of the issuer whose resource it is)."""

    method: str
    path: str
    allowed: dict[str, int]
    body: dict[str, Any] | None = None
    owner: str = "issuer"
    setup: Callable[[Services, str], None] | None = field(default=None)


ENDPOINTS = {
    "review an application": Endpoint(
        "POST",
        "/issuers/{owner}/reviews",
        {"reviewer": 200},
        {"decision": "approve"},
        owner="applicant",
    ),
    "suspend an issuer": Endpoint(
        "POST", "/issuers/{owner}/suspend", {"admin": 200}, {"reason": "audit"}
    ),
    "reinstate an issuer": Endpoint(
        "POST",
        "/issuers/{owner}/reinstate",
        {"admin": 200},
        {"reason": "audit passed"},
        setup=_suspend,
    ),
    "rotate a key": Endpoint(
        "POST", "/issuers/{owner}/keys", {"admin": 201, "issuer-own": 201}, {}
    ),
    "report a key compromised": Endpoint(
        "POST",
        "/issuers/{owner}/keys/{key}/compromised",
        {"admin": 200, "issuer-own": 200},
    ),
    # Each issuer submits for itself: the other issuer's token is allowed here.
    "submit an achievement": Endpoint(
        "POST",
        "/achievements",
        {"issuer-own": 201, "issuer-other": 201},
        achievement_definition(),
    ),
    "review an achievement": Endpoint(
        "POST",
        "/achievements/{submitted}/reviews",
        {"reviewer": 200},
        {"decision": "approve"},
    ),
    "retire an achievement": Endpoint(
        "POST", "/achievements/{approved}/retire", {"admin": 200}, {"reason": "old"}
    ),
    "add a reviewer": Endpoint(
        "POST", "/reviewers", {"admin": 201}, {"name": "A New Reviewer"}
    ),
    "create a token": Endpoint(
        "POST", "/tokens", {"admin": 201}, {"role": "issuer", "subject": "centre-1"}
    ),
    "list pending reviews": Endpoint(
        "GET", "/reviews/pending", {"admin": 200, "reviewer": 200}
    ),
}


def _headers(request: pytest.FixtureRequest, role: str, owner: Caller) -> Any:
    if role == "no token":
        return {}
    if role == "bad token":
        return {"Authorization": "Bearer cbt_" + "A" * 43}
    if role == "issuer-own":
        return owner.headers
    name = {"issuer-other": "other_issuer"}.get(role, role)
    caller: Caller = request.getfixturevalue(name)
    return caller.headers


def _path(
    request: pytest.FixtureRequest, services: Services, spec: Endpoint, owner: Caller
) -> str:
    fields: dict[str, str | None] = {"owner": owner.subject}
    if "{key}" in spec.path:
        with services.database.transaction() as session:
            (key,) = services.registry.keys(session, owner.subject or "")
            fields["key"] = key.id
    if "{submitted}" in spec.path:
        fields["submitted"] = request.getfixturevalue("submitted_achievement")
    if "{approved}" in spec.path:
        fields["approved"] = request.getfixturevalue("approved_achievement")
    return spec.path.format(**fields)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_authorisation_matrix(
    request: pytest.FixtureRequest,
    client: FlaskClient,
    services: Services,
    name: str,
    role: str,
) -> None:
    spec = ENDPOINTS[name]
    owner: Caller = request.getfixturevalue(spec.owner)
    path = _path(request, services, spec, owner)
    headers = _headers(request, role, owner)
    if spec.setup is not None:
        spec.setup(services, owner.subject or "")
    size = tree_size(services)
    options: dict[str, Any] = {"method": spec.method, "headers": headers}
    if spec.body is not None:
        options["json"] = spec.body

    answer = client.open(path, **options)

    if role in spec.allowed:
        assert answer.status_code == spec.allowed[role], answer.get_json()
        return
    body = answer.get_json()
    assert answer.mimetype == "application/problem+json"
    assert tree_size(services) == size
    if role in {"no token", "bad token"}:
        assert answer.status_code == 401, body
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="credbank"'
        assert body["type"].endswith("/problems#unauthorized")
    else:
        assert answer.status_code == 403, body
        assert "WWW-Authenticate" not in answer.headers
        assert body["type"].endswith("/problems#forbidden")


def test_another_issuer_s_token_is_told_whose_resource_it_is(
    client: FlaskClient, issuer: Caller, other_issuer: Caller
) -> None:
    answer = client.post(
        "/issuers/centre-1/keys", json={}, headers=other_issuer.headers
    )

    assert answer.status_code == 403
    assert answer.get_json()["detail"] == (
        "this token acts for another issuer, not centre-1"
    )


def test_a_wrong_role_is_told_which_role_is_needed(
    client: FlaskClient, school: Caller
) -> None:
    answer = client.get("/reviews/pending", headers=school.headers)

    assert answer.get_json()["detail"] == (
        "expected a token with role admin or reviewer, got school"
    )


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Basic YWRtaW46YWRtaW4=", "expected an Authorization: Bearer token"),
        ("Bearer", "expected an Authorization: Bearer token"),
        ("Bearer   ", "expected an Authorization: Bearer token"),
        ("Token cbt_abc", "expected an Authorization: Bearer token"),
        ("Bearer cbt_abc", "the bearer token is unknown or revoked"),
    ],
)
def test_malformed_authorization_is_401(
    client: FlaskClient, admin: Caller, header: str, detail: str
) -> None:
    answer = client.get("/reviews/pending", headers={"Authorization": header})

    assert answer.status_code == 401
    assert answer.get_json()["detail"] == detail
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")


def test_the_scheme_name_is_case_insensitive(
    client: FlaskClient, admin: Caller
) -> None:
    # RFC 9110 §11.1: "bearer" and "BEARER" name the same scheme.
    for scheme in ("bearer", "BEARER"):
        answer = client.get(
            "/reviews/pending", headers={"Authorization": f"{scheme} {admin.token}"}
        )
        assert answer.status_code == 200, answer.get_json()


def test_a_revoked_token_is_401(
    client: FlaskClient, services: Services, admin: Caller
) -> None:
    with services.database.transaction(write=True) as session:
        session.execute(update(ApiToken).values(revoked_at=datetime.now(UTC)))

    answer = client.get("/reviews/pending", headers=admin.headers)

    assert answer.status_code == 401
    assert answer.get_json()["detail"] == "the bearer token is unknown or revoked"


def test_an_issuer_cannot_name_another_issuer_s_key(
    client: FlaskClient, services: Services, issuer: Caller, other_issuer: Caller
) -> None:
    with services.database.transaction() as session:
        (theirs,) = services.registry.keys(session, "centre-2")
        their_key = theirs.id
    size = tree_size(services)

    answer = client.post(
        f"/issuers/centre-1/keys/{their_key}/compromised", headers=issuer.headers
    )

    assert answer.status_code == 404
    assert answer.get_json()["detail"] == f"issuer centre-1 has no key '{their_key}'"
    assert tree_size(services) == size


def test_tokens_are_bound_to_an_issuer_or_reviewer_that_exists(
    client: FlaskClient, services: Services, admin: Caller, issuer: Caller
) -> None:
    size = tree_size(services)

    ghosts = [
        client.post(
            "/tokens", json={"role": role, "subject": "ghost"}, headers=admin.headers
        )
        for role in ("issuer", "reviewer")
    ]
    made = client.post(
        "/tokens", json={"role": "issuer", "subject": "centre-1"}, headers=admin.headers
    )

    assert [g.status_code for g in ghosts] == [404, 404]
    assert ghosts[0].get_json()["detail"].startswith("no issuer 'ghost'")
    assert ghosts[1].get_json()["detail"].startswith("no reviewer 'ghost'")
    assert made.status_code == 201
    minted = Caller(made.get_json()["token"], "centre-1")
    rotated = client.post("/issuers/centre-1/keys", json={}, headers=minted.headers)
    assert rotated.status_code == 201
    assert tree_size(services) == size + 2  # key.added, key.retired


def test_applicants_see_their_own_application_only(
    client: FlaskClient, applicant: Caller, issuer: Caller
) -> None:
    mine = client.get("/issuers/centre-3", headers=applicant.headers)
    theirs = client.get("/issuers/centre-3", headers=issuer.headers)

    assert mine.status_code == 200
    assert mine.get_json()["status"] == "applied"
    assert theirs.status_code == 404
