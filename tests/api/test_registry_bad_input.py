"""Bad input on every registry endpoint: an RFC 9457 problem naming each field, and
nothing written to the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services import Services
from tests.conftest import Caller, achievement_definition, application, tree_size

TODAY = datetime.now(UTC).date().isoformat()
MALFORMED = object()  # a body that is not JSON at all
NOT_JSON = '{"name": {"en": "Demo"'


@dataclass(frozen=True)
class Case:
    """One refused request. `as_` names the fixture whose token is sent; the path's
    {placeholders} are filled from fixtures too."""

    method: str
    path: str
    body: Any
    status: int
    fields: frozenset[str] = frozenset()
    detail: str = ""
    as_: str | None = None


def case(
    method: str,
    path: str,
    body: Any,
    status: int,
    *fields: str,
    detail: str = "",
    as_: str | None = None,
) -> Case:
    return Case(method, path, body, status, frozenset(fields), detail, as_)


def without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


APPLY = application(9)
ACHIEVE = achievement_definition()

CASES: dict[str, Case] = {
    # POST /issuers (public)
    "apply: malformed JSON": case("POST", "/issuers", MALFORMED, 400, "json"),
    "apply: a JSON list": case("POST", "/issuers", [APPLY], 400, "_schema"),
    "apply: unknown field": case(
        "POST", "/issuers", {**APPLY, "vip": True}, 400, "vip"
    ),
    "apply: missing fields": case(
        "POST", "/issuers", {}, 400, "name", "legalId", "kind", "contact"
    ),
    "apply: missing contact": case(
        "POST", "/issuers", without(APPLY, "contact"), 400, "contact"
    ),
    "apply: wrong types": case(
        "POST", "/issuers", {**APPLY, "kind": 3, "legalId": 7}, 400, "kind", "legalId"
    ),
    "apply: control characters": case(
        "POST", "/issuers", {**APPLY, "name": {"zh": "学院\x1b[2J"}}, 400, "name"
    ),
    "apply: bad slug": case(
        "POST", "/issuers", {**APPLY, "slug": "Centre 9"}, 400, "slug"
    ),
    "apply: bad email": case(
        "POST", "/issuers", {**APPLY, "contact": {"email": "@"}}, 400, "contact"
    ),
    "apply: duplicate slug": case(
        "POST",
        "/issuers",
        {**APPLY, "slug": "{issuer}"},
        409,
        detail="issuer slug 'centre-1' is taken",
    ),
    "apply: legal id of an applicant": case(
        "POST",
        "/issuers",
        application(3, slug="centre-3-bis"),
        409,
        detail="organisation 91110000MA0000003X already applied or is accredited "
        "(issuer centre-3)",
    ),
    "apply: legal id of an accredited issuer": case(
        "POST",
        "/issuers",
        application(1, slug="centre-1-bis"),
        409,
        detail="already applied or is accredited (issuer centre-1)",
    ),
    # POST /issuers/<slug>/reviews
    "review issuer: malformed JSON": case(
        "POST", "/issuers/{applicant}/reviews", MALFORMED, 400, "json", as_="reviewer"
    ),
    "review issuer: bad decision": case(
        "POST",
        "/issuers/{applicant}/reviews",
        {"decision": "maybe"},
        400,
        "decision",
        as_="reviewer",
    ),
    "review issuer: missing decision": case(
        "POST",
        "/issuers/{applicant}/reviews",
        {"comment": "fine"},
        400,
        "decision",
        as_="reviewer",
    ),
    "review issuer: control characters": case(
        "POST",
        "/issuers/{applicant}/reviews",
        {"decision": "approve", "comment": "ok\x00"},
        400,
        "comment",
        as_="reviewer",
    ),
    "review issuer: unknown issuer": case(
        "POST",
        "/issuers/nobody/reviews",
        {"decision": "approve"},
        404,
        detail="no issuer 'nobody'",
        as_="reviewer",
    ),
    "review issuer: already accredited": case(
        "POST",
        "/issuers/{issuer}/reviews",
        {"decision": "approve"},
        409,
        detail="the application of centre-1 is closed (accredited)",
        as_="reviewers",
    ),
    # POST /issuers/<slug>/suspend and /reinstate
    "suspend: missing reason": case(
        "POST", "/issuers/{issuer}/suspend", {}, 400, "reason", as_="admin"
    ),
    "suspend: empty reason": case(
        "POST",
        "/issuers/{issuer}/suspend",
        {"reason": "  "},
        400,
        "reason",
        as_="admin",
    ),
    "suspend: reason of the wrong type": case(
        "POST", "/issuers/{issuer}/suspend", {"reason": 5}, 400, "reason", as_="admin"
    ),
    "suspend: unknown field": case(
        "POST",
        "/issuers/{issuer}/suspend",
        {"reason": "audit", "until": "2027"},
        400,
        "until",
        as_="admin",
    ),
    "suspend: unknown issuer": case(
        "POST",
        "/issuers/nobody/suspend",
        {"reason": "audit"},
        404,
        detail="no issuer 'nobody'",
        as_="admin",
    ),
    "suspend: an applicant": case(
        "POST",
        "/issuers/{applicant}/suspend",
        {"reason": "audit"},
        409,
        detail="expected an accredited issuer to suspend, got applied",
        as_="admin",
    ),
    "reinstate: malformed JSON": case(
        "POST", "/issuers/{issuer}/reinstate", MALFORMED, 400, "json", as_="admin"
    ),
    "reinstate: not suspended": case(
        "POST",
        "/issuers/{issuer}/reinstate",
        {"reason": "fine"},
        409,
        detail="expected a suspended issuer to reinstate, got accredited",
        as_="admin",
    ),
    # POST /issuers/<slug>/keys and /keys/<id>/compromised
    "rotate: wrong algorithm": case(
        "POST",
        "/issuers/{issuer}/keys",
        {"algorithm": "RSA"},
        400,
        "algorithm",
        as_="issuer",
    ),
    "rotate: algorithm of the wrong type": case(
        "POST",
        "/issuers/{issuer}/keys",
        {"algorithm": 25519},
        400,
        "algorithm",
        as_="issuer",
    ),
    "rotate: unknown field": case(
        "POST", "/issuers/{issuer}/keys", {"curve": "P-256"}, 400, "curve", as_="issuer"
    ),
    "rotate: malformed JSON": case(
        "POST", "/issuers/{issuer}/keys", MALFORMED, 400, "json", as_="issuer"
    ),
    "rotate: unknown issuer": case(
        "POST",
        "/issuers/nobody/keys",
        {},
        404,
        detail="no issuer 'nobody'",
        as_="admin",
    ),
    "compromise: unknown key": case(
        "POST",
        "/issuers/{issuer}/keys/knothing/compromised",
        None,
        404,
        detail="issuer centre-1 has no key 'knothing'",
        as_="issuer",
    ),
    "compromise: unknown issuer": case(
        "POST",
        "/issuers/nobody/keys/knothing/compromised",
        None,
        404,
        detail="issuer nobody has no key 'knothing'",
        as_="admin",
    ),
    # POST /achievements
    "submit: malformed JSON": case(
        "POST", "/achievements", MALFORMED, 400, "json", as_="issuer"
    ),
    "submit: unknown field": case(
        "POST", "/achievements", {**ACHIEVE, "price": 99}, 400, "price", as_="issuer"
    ),
    "submit: missing fields": case(
        "POST",
        "/achievements",
        without(without(ACHIEVE, "criteria"), "unit"),
        400,
        "criteria",
        "unit",
        as_="issuer",
    ),
    "submit: wrong types": case(
        "POST",
        "/achievements",
        {**ACHIEVE, "credits": "three", "eqfLevel": "5", "alignments": {}},
        400,
        "credits",
        "eqfLevel",
        "alignments",
        as_="issuer",
    ),
    "submit: control characters": case(
        "POST",
        "/achievements",
        {**ACHIEVE, "fieldOfStudy": "Logistics\x08", "criteria": {"en": "a\x1fb"}},
        400,
        "fieldOfStudy",
        "criteria",
        as_="issuer",
    ),
    "submit: 3 ECTS for 5 hours": case(
        "POST",
        "/achievements",
        {**ACHIEVE, "credits": 3, "learningHours": 5},
        400,
        "learningHours",
        detail="5 hours for 3 ECTS is 1.7 hours per credit; expected 12.5 to 60",
        as_="issuer",
    ),
    "submit: credits with 3 decimals": case(
        "POST",
        "/achievements",
        {**ACHIEVE, "credits": 2.125, "learningHours": 60},
        400,
        "credits",
        detail="expected at most two decimal places",
        as_="issuer",
    ),
    "submit: eqfLevel 9": case(
        "POST",
        "/achievements",
        {**ACHIEVE, "eqfLevel": 9},
        400,
        "eqfLevel",
        as_="issuer",
    ),
    "submit: unknown unit": case(
        "POST", "/achievements", {**ACHIEVE, "unit": "ECTS2"}, 400, "unit", as_="issuer"
    ),
    "submit: nextReviewDate in the past": case(
        "POST",
        "/achievements",
        {**ACHIEVE, "nextReviewDate": "2020-01-01"},
        400,
        "nextReviewDate",
        detail="nextReviewDate: expected a date after",
        as_="issuer",
    ),
    "submit: nextReviewDate today": case(
        "POST",
        "/achievements",
        {**ACHIEVE, "nextReviewDate": TODAY},
        400,
        "nextReviewDate",
        as_="issuer",
    ),
    "submit: not yet accredited": case(
        "POST",
        "/achievements",
        ACHIEVE,
        403,
        detail="issuer centre-3 is applied; only an accredited issuer submits",
        as_="applicant",
    ),
    # POST /achievements/<id>/reviews and /retire
    "review achievement: bad decision": case(
        "POST",
        "/achievements/{submitted}/reviews",
        {"decision": "yes"},
        400,
        "decision",
        as_="reviewer",
    ),
    "review achievement: malformed JSON": case(
        "POST",
        "/achievements/{submitted}/reviews",
        MALFORMED,
        400,
        "json",
        as_="reviewer",
    ),
    "review achievement: unknown achievement": case(
        "POST",
        "/achievements/0b7c5d9e-0000-4000-8000-000000000000/reviews",
        {"decision": "approve"},
        404,
        detail="no achievement '0b7c5d9e-0000-4000-8000-000000000000'",
        as_="reviewer",
    ),
    "review achievement: already approved": case(
        "POST",
        "/achievements/{approved}/reviews",
        {"decision": "approve"},
        409,
        detail="is closed (approved)",
        as_="reviewers",
    ),
    "retire: missing reason": case(
        "POST", "/achievements/{approved}/retire", {}, 400, "reason", as_="admin"
    ),
    "retire: unknown achievement": case(
        "POST",
        "/achievements/nothing/retire",
        {"reason": "old"},
        404,
        detail="no achievement 'nothing'",
        as_="admin",
    ),
    "retire: not approved": case(
        "POST",
        "/achievements/{submitted}/retire",
        {"reason": "old"},
        409,
        detail="expected an approved achievement to retire, got submitted",
        as_="admin",
    ),
    # POST /reviewers and /tokens
    "add reviewer: missing name": case(
        "POST", "/reviewers", {"affiliations": []}, 400, "name", as_="admin"
    ),
    "add reviewer: affiliations not a list": case(
        "POST",
        "/reviewers",
        {"name": "R", "affiliations": "centre-1"},
        400,
        "affiliations",
        as_="admin",
    ),
    "add reviewer: control characters": case(
        "POST", "/reviewers", {"name": "R\x07"}, 400, "name", as_="admin"
    ),
    "add reviewer: malformed JSON": case(
        "POST", "/reviewers", MALFORMED, 400, "json", as_="admin"
    ),
    "token: unknown role": case(
        "POST", "/tokens", {"role": "root"}, 400, "role", as_="admin"
    ),
    "token: admin bound to something": case(
        "POST",
        "/tokens",
        {"role": "admin", "subject": "centre-1"},
        400,
        "subject",
        as_="admin",
    ),
    "token: school bound to nothing": case(
        "POST", "/tokens", {"role": "school"}, 400, "subject", as_="admin"
    ),
    "token: unknown issuer": case(
        "POST",
        "/tokens",
        {"role": "issuer", "subject": "nobody"},
        404,
        detail="no issuer 'nobody'",
        as_="admin",
    ),
    "token: unknown reviewer": case(
        "POST",
        "/tokens",
        {"role": "reviewer", "subject": "rv-nobody"},
        404,
        detail="no reviewer 'rv-nobody'",
        as_="admin",
    ),
    "token: unknown field": case(
        "POST",
        "/tokens",
        {"role": "school", "subject": "s-1", "expires": 3600},
        400,
        "expires",
        as_="admin",
    ),
    # Public reads of things that do not exist.
    "show issuer: unknown": case("GET", "/issuers/nobody", None, 404),
    "show issuer: NUL": case("GET", "/issuers/%00", None, 404),
    "DID document: NUL": case("GET", "/issuers/%00/did.json", None, 404),
    "JWKS: unknown": case("GET", "/issuers/nobody/jwks.json", None, 404),
    "show achievement: unknown": case("GET", "/achievements/nothing", None, 404),
    "show achievement: NUL": case("GET", "/achievements/a%00b", None, 404),
    "suspend: NUL": case(
        "POST", "/issuers/%00/suspend", {"reason": "x"}, 404, as_="admin"
    ),
    "compromise: NUL key": case(
        "POST", "/issuers/{issuer}/keys/k%00/compromised", None, 404, as_="issuer"
    ),
    "unit: unknown": case(
        "GET", "/units/XYZ", None, 404, detail="no credit unit 'XYZ'; known: ECTS"
    ),
}


@pytest.fixture
def world(
    client: FlaskClient,
    issuer: Caller,
    applicant: Caller,
    submitted_achievement: str,
    approved_achievement: str,
) -> dict[str, str]:
    """An accredited issuer, an applicant, and two achievements of the issuer."""
    return {
        "issuer": issuer.subject or "",
        "applicant": applicant.subject or "",
        "submitted": submitted_achievement,
        "approved": approved_achievement,
    }


def _fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str) and "{" in value:
        return value.format(**world)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_a_problem_and_logs_nothing(
    request: pytest.FixtureRequest,
    client: FlaskClient,
    services: Services,
    world: dict[str, str],
    name: str,
) -> None:
    spec = CASES[name]
    options: dict[str, Any] = {"method": spec.method}
    if spec.as_ == "reviewers":  # one who has already voted
        options["headers"] = request.getfixturevalue("reviewers")[0].headers
    elif spec.as_ is not None:
        options["headers"] = request.getfixturevalue(spec.as_).headers
    if spec.body is MALFORMED:
        options.update(data=NOT_JSON, content_type="application/json")
    elif spec.body is not None:
        options["json"] = _fill(spec.body, world)
    size = tree_size(services)

    answer = client.open(spec.path.format(**world), **options)

    assert answer.status_code == spec.status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["status"] == spec.status
    assert body["title"]
    assert spec.detail in body["detail"]
    assert set(body.get("errors", {})) == spec.fields
    for field in spec.fields:
        assert field in body["detail"]
    assert "Traceback" not in answer.get_data(as_text=True)
    assert tree_size(services) == size


def test_every_missing_achievement_field_is_named_at_once(
    client: FlaskClient, issuer: Caller
) -> None:
    answer = client.post("/achievements", json={}, headers=issuer.headers)

    assert set(answer.get_json()["errors"]) == {
        "name",
        "description",
        "criteria",
        "achievementType",
        "credits",
        "unit",
        "eqfLevel",
        "fieldOfStudy",
        "learningHours",
        "alignments",
        "nextReviewDate",
    }


def test_nested_errors_name_the_inner_field(
    client: FlaskClient, issuer: Caller
) -> None:
    body = achievement_definition(
        alignments=[{"targetName": "WMS", "targetUrl": "not a url"}],
        name={"en": "ok", "de": "nein"},
    )

    answer = client.post("/achievements", json=body, headers=issuer.headers)

    errors = answer.get_json()["errors"]
    assert errors["alignments"] == {"0": {"targetUrl": ["Not a valid URL."]}}
    assert errors["name"] == {"de": ["Unknown field."]}


def test_a_refused_application_leaves_no_issuer_and_no_token(
    client: FlaskClient, services: Services, applicant: Caller
) -> None:
    refused = client.post("/issuers", json=application(3, slug="centre-3-bis"))

    assert refused.status_code == 409
    assert "token" not in refused.get_json()
    assert client.get(
        "/issuers/centre-3-bis", headers=applicant.headers
    ).status_code == (404)


def test_a_body_that_is_not_json_is_a_400_problem_not_a_500(
    client: FlaskClient, admin: Caller
) -> None:
    for data in (NOT_JSON, b"\xff\xfe{}"):
        answer = client.post(
            "/reviewers",
            data=data,
            content_type="application/json",
            headers=admin.headers,
        )

        assert answer.status_code == 400
        assert answer.get_json()["errors"] == {"json": ["Invalid JSON body."]}
        assert answer.get_json()["type"].endswith("/problems#invalid-parameters")


def test_a_nul_in_an_id_is_404_on_every_backend(
    client: FlaskClient, admin: Caller, issuer: Caller
) -> None:
    # PostgreSQL text cannot hold NUL; the driver's error used to surface as a 500.
    for path in ("/issuers/centre-1%00", "/achievements/%00", "/issuers/%00/jwks.json"):
        answer = client.get(path)

        assert answer.status_code == 404, path
        assert answer.get_json()["detail"] == "no such resource"
    refused = client.post(
        "/issuers/centre-1%00/reinstate", json={"reason": "x"}, headers=admin.headers
    )
    assert refused.status_code == 404
