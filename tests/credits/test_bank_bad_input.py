"""Bad input on every credit-bank endpoint: an RFC 9457 problem that names the
field or the missing thing, and nothing written to the log."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from api.auth import SCHOOL, create_token
from api.services import Services
from credits.models import ConsentCode
from issuers.errors import NotFoundError
from tests.conftest import NOW, SCHOOL_DID, Caller, award, award_request, tree_size
from tests.credits.test_bank_flow import ON, learner_of, publish, rules

PROBLEM = "application/problem+json"


@pytest.fixture
def ready(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
) -> Caller:
    """A learner with one deposit, and school-1's rule set `beng-log` v1."""
    awarded = award(client, issuer, award_request(approved_achievement))
    published = publish(client, school, rules(approved_achievement))
    assert published.status_code == 201
    return learner_of(services, awarded["id"])


@pytest.fixture
def second_school(client: FlaskClient, admin: Caller) -> Caller:
    answer = client.post(
        "/schools",
        json={"id": "school-2", "did": "did:web:school-2.example.edu",
              "name": {"en": "Second College"}},
        headers=admin.headers,
    )  # fmt: skip
    assert answer.status_code == 201, answer.get_json()
    return Caller(answer.get_json()["token"], "school-2")


def refused(
    services: Services,
    call: Callable[[], Any],
    status: int,
    *,
    field: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """Make `call`; check the problem it answers and that the log did not grow."""
    size = tree_size(services)

    answer = call()

    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM
    body: dict[str, Any] = answer.get_json()
    assert body["status"] == status
    if field is not None:
        assert field in body["errors"], body
        # A fault of the whole body is named in `errors`; a field's, in both.
        if field != "body":
            assert body["detail"].startswith(field) or f"; {field}" in body["detail"]
    if detail is not None:
        assert detail in body["detail"], body
    assert tree_size(services) == size
    return body


# Schools


@pytest.mark.parametrize(
    ("body", "status", "field", "detail"),
    [
        ({"id": "school-1", "did": "did:web:new.example", "name": {"en": "A"}},
         409, None, "school school-1 is already registered"),
        ({"id": "school-9", "did": SCHOOL_DID, "name": {"en": "A"}},
         409, None, f"another school is registered as {SCHOOL_DID}"),
        ({"id": "School_9", "did": "did:web:n.example", "name": {"en": "A"}},
         400, "id", None),
        ({"id": "school-9", "did": "https://n.example", "name": {"en": "A"}},
         400, "did", "expected a DID"),
        ({"id": "school-9", "did": "did:web:n.example", "name": {"fr": "A"}},
         400, "name", None),
        ({"id": "school-9", "did": "did:web:n.example"}, 400, "name", None),
        ({"id": "school-9", "did": "did:web:n.example", "name": {"en": "A"},
          "colour": "blue"}, 400, "colour", None),
    ],
)  # fmt: skip
def test_registering_a_school_refuses_bad_input(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    school: Caller,
    body: dict[str, Any],
    status: int,
    field: str | None,
    detail: str | None,
) -> None:
    refused(
        services,
        lambda: client.post("/schools", json=body, headers=admin.headers),
        status,
        field=field,
        detail=detail,
    )


def test_only_an_admin_registers_a_school(
    client: FlaskClient, services: Services, school: Caller
) -> None:
    body = {"id": "school-9", "did": "did:web:n.example", "name": {"en": "A"}}
    refused(
        services,
        lambda: client.post("/schools", json=body, headers=school.headers),
        403,
    )


def test_a_school_token_needs_a_registered_school(services: Services) -> None:
    with (
        pytest.raises(NotFoundError, match="no school 'school-404'"),
        services.database.transaction(write=True) as session,
    ):
        create_token(session, role=SCHOOL, subject="school-404", now=NOW)


def test_an_unknown_school_is_not_found(
    client: FlaskClient, services: Services
) -> None:
    refused(
        services, lambda: client.get("/schools/school-404"), 404, detail="school-404"
    )


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/schools/school-1/rule-sets/nothing", "no rule set 'nothing'"),
        ("/schools/school-1/rule-sets/beng-log/versions/2", "version 2"),
        ("/schools/school-404/rule-sets/beng-log", "school-404"),
    ],
)
def test_an_unknown_rule_set_or_version_is_not_found(
    client: FlaskClient, services: Services, ready: Caller, path: str, detail: str
) -> None:
    refused(services, lambda: client.get(path), 404, detail=detail)


# Publishing rule sets


def post_rules(
    client: FlaskClient,
    caller: Caller,
    data: str | bytes,
    content_type: str = "application/json",
    school_id: str = "school-1",
) -> Any:
    return client.post(
        f"/schools/{school_id}/rule-sets",
        data=data,
        content_type=content_type,
        headers=caller.headers,
    )


@pytest.mark.parametrize(
    ("data", "content_type", "field", "detail"),
    [
        ("format: [credit-rules/v1", "application/yaml", "body", "not YAML or JSON"),
        ("{}", "text/html", "body", "expected application/yaml or application/json"),
        ("{}", "application/x-www-form-urlencoded", "body", None),
        (b"id: caf\xe9", "application/yaml", "body", "expected UTF-8 text"),
        ("a: " + "x" * (256 * 1024), "application/yaml", "body", "at most 262144"),
        ("- just\n- a list\n", "application/yaml", "body", None),
        ("format: credit-rules/v1\nid: a\nid: b\n", "application/yaml", "body",
         "duplicate key 'id'"),
    ],
)  # fmt: skip
def test_a_rule_set_body_that_cannot_be_read_is_refused(
    client: FlaskClient,
    services: Services,
    school: Caller,
    data: str | bytes,
    content_type: str,
    field: str,
    detail: str | None,
) -> None:
    refused(
        services,
        lambda: post_rules(client, school, data, content_type),
        400,
        field=field,
        detail=detail,
    )


def test_a_school_publishes_for_itself_only(
    client: FlaskClient,
    services: Services,
    school: Caller,
    second_school: Caller,
    approved_achievement: str,
) -> None:
    refused(
        services,
        lambda: post_rules(client, second_school, rules(approved_achievement)),
        403,
    )
    refused(
        services,
        lambda: post_rules(
            client, school, rules(approved_achievement), school_id="school-404"
        ),
        403,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "r" * 201}, "id"),
        ({"id": "beng\u0000log"}, "id"),
        ({"id": "beng\tlog"}, "id"),
    ],
)
def test_a_rule_set_value_too_long_to_keep_names_the_field(
    client: FlaskClient,
    services: Services,
    school: Caller,
    approved_achievement: str,
    change: dict[str, Any],
    field: str,
) -> None:
    # PostgreSQL refuses what the rule_sets columns cannot hold; SQLite keeps it.
    refused(
        services,
        lambda: post_rules(client, school, rules(approved_achievement, **change)),
        400,
        field=field,
    )


# Consent codes


def test_consent_codes_refuse_bad_input(
    client: FlaskClient, services: Services, ready: Caller, learner: Caller
) -> None:
    path = f"/learners/{ready.subject}/consent-codes"
    refused(
        services,
        lambda: client.post(path, json={"school": "school-404"}, headers=ready.headers),
        404,
        detail="school-404",
    )
    refused(
        services,
        lambda: client.post(path, json={}, headers=ready.headers),
        400,
        field="school",
    )
    refused(
        services,
        lambda: client.post(path, json={"school": "school-1"}, headers=learner.headers),
        403,
    )


# Previews and commits


@pytest.mark.parametrize("path", ["/transfers/preview", "/transfers"])
@pytest.mark.parametrize(
    ("change", "status", "field", "detail"),
    [
        ({"school": "school-404"}, 404, None, "school-404"),
        ({"ruleSet": "nothing"}, 404, None, "no rule set 'nothing'"),
        ({"version": 7}, 404, None, "version 7"),
        ({"version": 0}, 400, "version", None),
        ({"on": "1 December"}, 400, "on", None),
        ({"on": "2026-02-30"}, 400, "on", None),
        ({"learner": "learner-404"}, 403, None, None),
        ({"colour": "blue"}, 400, "colour", None),
    ],
)
def test_a_transfer_request_refuses_bad_input(
    client: FlaskClient,
    services: Services,
    ready: Caller,
    path: str,
    change: dict[str, Any],
    status: int,
    field: str | None,
    detail: str | None,
) -> None:
    request = {"school": "school-1", "ruleSet": "beng-log", "learner": ready.subject}
    request.update(change)

    refused(
        services,
        lambda: client.post(path, json=request, headers=ready.headers),
        status,
        field=field,
        detail=detail,
    )


def test_a_commit_after_the_deposits_changed_is_a_conflict(
    client: FlaskClient, services: Services, ready: Caller
) -> None:
    request = {"school": "school-1", "ruleSet": "beng-log", "learner": ready.subject}

    refused(
        services,
        lambda: client.post(
            "/transfers",
            json={**request, "previewDigest": "0" * 64},
            headers=ready.headers,
        ),
        409,
        detail="preview again",
    )


def consent_code(client: FlaskClient, learner: Caller, school_id: str) -> str:
    answer = client.post(
        f"/learners/{learner.subject}/consent-codes",
        json={"school": school_id},
        headers=learner.headers,
    )
    assert answer.status_code == 201, answer.get_json()
    code: str = answer.get_json()["code"]
    return code


def test_a_consent_code_for_another_school_expired_or_used_is_refused(
    client: FlaskClient,
    services: Services,
    ready: Caller,
    school: Caller,
    second_school: Caller,
) -> None:
    request = {"school": "school-1", "ruleSet": "beng-log", "learner": ready.subject}
    foreign = consent_code(client, ready, "school-2")
    expired = consent_code(client, ready, "school-1")
    with services.database.transaction(write=True) as session:
        session.execute(
            update(ConsentCode)
            .where(ConsentCode.school_id == "school-1")
            .values(expires_at=NOW - timedelta(seconds=1))
        )
    fresh = consent_code(client, ready, "school-1")
    committed = client.post(
        "/transfers",
        json={**request, "consentCode": fresh, "on": ON},
        headers=school.headers,
    )
    assert committed.status_code == 201, committed.get_json()

    def post(path: str, code: str, caller: Caller) -> Callable[[], Any]:
        body = {**request, "consentCode": code}
        return lambda: client.post(path, json=body, headers=caller.headers)

    for path in ("/transfers/preview", "/transfers"):
        for code in (foreign, expired, fresh):
            problem = refused(
                services,
                post(path, code, school),
                403,
                detail="consent code is not valid",
            )
            assert code not in json.dumps(problem)
        # school-2's token with school-2's code cannot act as school-1.
        refused(
            services,
            post(path, foreign, second_school),
            403,
            detail="acts for that school only",
        )
    with services.database.transaction() as session:
        unused = session.scalars(
            select(ConsentCode.used_at).where(ConsentCode.school_id == "school-2")
        ).one()
    assert unused is None


# The school's exports


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("perPage=0", "perPage"),
        ("perPage=201", "perPage"),
        ("page=two", "page"),
    ],
)
def test_a_page_out_of_range_names_the_parameter(
    client: FlaskClient, services: Services, school: Caller, query: str, field: str
) -> None:
    refused(
        services,
        lambda: client.get(
            f"/schools/school-1/transfers?{query}", headers=school.headers
        ),
        400,
        field=field,
    )


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_exports_are_the_schools_own(
    client: FlaskClient,
    services: Services,
    school: Caller,
    second_school: Caller,
    admin: Caller,
    suffix: str,
) -> None:
    refused(
        services,
        lambda: client.get(
            f"/schools/school-1/transfers{suffix}", headers=second_school.headers
        ),
        403,
    )
    refused(
        services,
        lambda: client.get(
            f"/schools/school-404/transfers{suffix}", headers=admin.headers
        ),
        404,
        detail="school-404",
    )


@pytest.mark.parametrize(
    "course", ['=HYPERLINK("http://x.test")', "+1+1", "-1+1", "@SUM(A1)"]
)
def test_a_formula_in_a_course_name_is_exported_as_text(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
    course: str,
) -> None:
    awarded = award(client, issuer, award_request(approved_achievement))
    learner = learner_of(services, awarded["id"])
    source = json.loads(rules(approved_achievement))
    source["rules"][0]["target"]["course"] = course
    assert publish(client, school, json.dumps(source)).status_code == 201
    committed = client.post(
        "/transfers",
        json={"school": "school-1", "ruleSet": "beng-log", "learner": learner.subject},
        headers=learner.headers,
    )
    assert committed.status_code == 201, committed.get_json()

    exported = client.get("/schools/school-1/transfers.csv", headers=school.headers)

    (row,) = csv.DictReader(io.StringIO(exported.get_data(as_text=True)))
    assert row["course"] == "'" + course
