"""Rule sets over HTTP, the statement's fields, consent codes, older versions and
the school's JSON export page by page (DESIGN §7)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.services import Services
from credits.models import ConsentCode
from tests.conftest import (
    SCHOOL_DID,
    Caller,
    award,
    award_request,
    logged,
    tree_size,
)
from tests.credits.test_bank_flow import (
    BASE,
    ISSUER_DID,
    ON,
    learner_of,
    publish,
    rules,
)

YAML_RULES = """\
format: credit-rules/v1
id: beng-log
school: {school}
program: {{code: BENG-LOG, name: "BEng Logistics", total_credits: 120}}
target_unit: SCH
effective: {{from: "2025-01-01", until: "2028-12-31"}}
accepted_issuers: ["{issuer}"]
conversion: {{ECTS: "1/2"}}
rules:
  - id: R1
    target: {{course: LOG-210, slot: required}}
    credits: 3
    all_of: [{{achievement: "{achievement}"}}]
"""


def request_for(learner: Caller, **more: Any) -> dict[str, Any]:
    return {
        "school": "school-1",
        "ruleSet": "beng-log",
        "learner": learner.subject,
        "on": ON,
        **more,
    }


def commit(client: FlaskClient, learner: Caller, **more: Any) -> dict[str, Any]:
    answer = client.post(
        "/transfers", json=request_for(learner, **more), headers=learner.headers
    )
    assert answer.status_code == 201, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def test_a_yaml_rule_set_published_over_http_is_logged(
    client: FlaskClient,
    services: Services,
    school: Caller,
    approved_achievement: str,
) -> None:
    source = YAML_RULES.format(
        school=SCHOOL_DID,
        issuer=ISSUER_DID,
        achievement=f"{BASE}/achievements/{approved_achievement}",
    )
    size = tree_size(services)

    answer = client.post(
        "/schools/school-1/rule-sets",
        data=source.encode(),
        content_type="application/yaml",
        headers=school.headers,
    )

    assert answer.status_code == 201, answer.get_json()
    published = answer.get_json()
    assert (published["id"], published["version"]) == ("beng-log", 1)
    assert published["summary"]["targetUnit"] == "SCH"
    (entry,) = logged(services, size)
    assert entry["kind"] == "ruleset.published"
    assert (entry["school"], entry["ruleset"], entry["version"]) == (
        "school-1",
        "beng-log",
        1,
    )
    assert entry["digest"] == published["digest"]
    assert published["logIndex"] == size
    shown = client.get("/schools/school-1/rule-sets/beng-log").get_json()
    assert shown["source"] == source


def test_the_statement_names_the_programme_and_the_rule_set_version(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
) -> None:
    awarded = award(client, issuer, award_request(approved_achievement))
    learner = learner_of(services, awarded["id"])
    published = publish(client, school, rules(approved_achievement)).get_json()
    size = tree_size(services)

    transfer = commit(client, learner)

    subject = transfer["statement"]["credentialSubject"]
    assert subject["programme"] == {"code": "BENG-LOG", "name": "BEng Logistics"}
    assert subject["ruleSet"] == {
        "id": "beng-log",
        "version": 1,
        "digest": published["digest"],
    }
    assert (subject["evaluatedOn"], subject["unit"], subject["total"]) == (
        ON,
        "SCH",
        "3",
    )
    assert transfer["ruleSet"] == {"id": "beng-log", "version": 1}
    entry = next(e for e in logged(services, size) if e["kind"] == "transfer.committed")
    assert (entry["ruleset"], entry["version"], entry["rulesetDigest"]) == (
        "beng-log",
        1,
        published["digest"],
    )
    assert entry["statement"] == transfer["statementId"]


def test_a_commit_under_an_older_rule_set_version_names_that_version(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
) -> None:
    awarded = award(client, issuer, award_request(approved_achievement))
    learner = learner_of(services, awarded["id"])
    first = publish(client, school, rules(approved_achievement)).get_json()
    later = publish(
        client,
        school,
        rules(approved_achievement, target_unit="ECTS", conversion={"ECTS": "1"}),
    ).get_json()
    assert later["version"] == 2
    preview = client.post(
        "/transfers/preview",
        json=request_for(learner, version=1),
        headers=learner.headers,
    ).get_json()
    assert preview["ruleSet"] == {
        "id": "beng-log",
        "version": 1,
        "digest": first["digest"],
    }
    size = tree_size(services)

    transfer = commit(
        client, learner, version=1, previewDigest=preview["previewDigest"]
    )

    assert transfer["ruleSet"] == {"id": "beng-log", "version": 1}
    subject = transfer["statement"]["credentialSubject"]
    assert subject["ruleSet"]["version"] == 1
    assert subject["ruleSet"]["digest"] == first["digest"] != later["digest"]
    assert subject["unit"] == "SCH"
    entry = next(e for e in logged(services, size) if e["kind"] == "transfer.committed")
    assert (entry["version"], entry["rulesetDigest"]) == (1, first["digest"])


def test_a_schools_preview_with_a_consent_code_leaves_the_code_unused(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
) -> None:
    awarded = award(client, issuer, award_request(approved_achievement))
    learner = learner_of(services, awarded["id"])
    publish(client, school, rules(approved_achievement))
    code = client.post(
        f"/learners/{learner.subject}/consent-codes",
        json={"school": "school-1"},
        headers=learner.headers,
    ).get_json()["code"]
    body = request_for(learner, consentCode=code)

    for _ in range(2):
        shown = client.post("/transfers/preview", json=body, headers=school.headers)
        assert shown.status_code == 200, shown.get_json()
    with services.database.transaction() as session:
        (row,) = session.scalars(select(ConsentCode)).all()
        assert row.used_at is None

    committed = client.post("/transfers", json=body, headers=school.headers)
    assert committed.status_code == 201, committed.get_json()
    again = client.post("/transfers/preview", json=body, headers=school.headers)
    assert again.status_code == 403
    with services.database.transaction() as session:
        (row,) = session.scalars(select(ConsentCode)).all()
        assert row.used_at is not None


@pytest.fixture
def three_transfers(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
) -> tuple[Caller, list[dict[str, Any]], list[dict[str, Any]]]:
    """Three awards of the course to one learner, each committed in turn."""
    publish(client, school, rules(approved_achievement))
    awards, transfers = [], []
    for _ in range(3):
        awards.append(award(client, issuer, award_request(approved_achievement)))
        learner = learner_of(services, awards[-1]["id"])
        transfers.append(commit(client, learner))
    return learner, awards, transfers


def test_the_json_export_pages_through_every_transfer(
    client: FlaskClient,
    school: Caller,
    three_transfers: tuple[Caller, list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    _, _, transfers = three_transfers
    base = "/schools/school-1/transfers"

    first = client.get(f"{base}?perPage=2", headers=school.headers).get_json()
    second = client.get(first["links"]["next"], headers=school.headers).get_json()

    assert (first["page"], first["perPage"], first["total"]) == (1, 2, 3)
    assert first["links"] == {
        "self": f"{base}?page=1&perPage=2",
        "first": f"{base}?page=1&perPage=2",
        "last": f"{base}?page=2&perPage=2",
        "prev": None,
        "next": f"{base}?page=2&perPage=2",
    }
    assert (second["page"], second["total"]) == (2, 3)
    assert second["links"]["next"] is None
    assert second["links"]["prev"] == f"{base}?page=1&perPage=2"
    listed = [t["id"] for t in first["transfers"] + second["transfers"]]
    assert listed == [t["id"] for t in transfers]
    assert len(first["transfers"]) == 2 and len(second["transfers"]) == 1
    beyond = client.get(f"{base}?page=3&perPage=2", headers=school.headers).get_json()
    assert beyond["transfers"] == [] and beyond["total"] == 3
    assert beyond["links"]["next"] is None
    assert beyond["links"]["prev"] == f"{base}?page=2&perPage=2"


def test_the_json_export_flags_a_source_revoked_after_its_transfer(
    client: FlaskClient,
    issuer: Caller,
    school: Caller,
    three_transfers: tuple[Caller, list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    _, awards, transfers = three_transfers

    revoked = client.post(
        "/credentials/status",
        json={"credentialId": awards[1]["id"], "action": "revoke", "reason": "fraud"},
        headers=issuer.headers,
    )

    assert revoked.status_code == 200, revoked.get_json()
    listed = client.get(
        "/schools/school-1/transfers?perPage=10", headers=school.headers
    ).get_json()
    flags = {t["id"]: t["withdrawnSources"] for t in listed["transfers"]}
    assert flags == {
        transfers[0]["id"]: [],
        transfers[1]["id"]: [awards[1]["digest"]],
        transfers[2]["id"]: [],
    }
