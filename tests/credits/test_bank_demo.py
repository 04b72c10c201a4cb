"""The demo's credit bank (issue 6.7): a partner school with the logistics rule set
adapted to the demo courses, and one committed transfer."""

from __future__ import annotations

from flask.testing import FlaskClient

from api.demo import DEMO_SCHOOL_DID, DEMO_SCHOOL_ID, seed_demo
from api.services import Services
from tests.conftest import NOW, Caller


def test_the_demo_has_a_partner_school_its_rules_and_one_transfer(
    client: FlaskClient, services: Services
) -> None:
    seeded = seed_demo(services, now=NOW)
    assert seeded is not None
    school = Caller(seeded.school_token, seeded.school_id)
    learner = Caller(seeded.learner_token, seeded.learner_id)
    base = services.config.base_url
    warehouse, plc, food = (f"{base}/achievements/{i}" for i in seeded.achievement_ids)

    shown = client.get(f"/schools/{DEMO_SCHOOL_ID}").get_json()
    (rule_set,) = shown["ruleSets"]
    source = client.get(
        f"/schools/{DEMO_SCHOOL_ID}/rule-sets/beng-logistics-demo"
    ).get_json()["source"]
    listed = client.get(
        f"/schools/{DEMO_SCHOOL_ID}/transfers", headers=school.headers
    ).get_json()
    account = client.get(
        f"/learners/{learner.subject}/credits", headers=learner.headers
    ).get_json()

    assert (shown["did"], shown["name"]["zh"]) == (
        DEMO_SCHOOL_DID,
        "智慧物流职业技术大学",
    )
    assert (rule_set["id"], rule_set["version"]) == ("beng-logistics-demo", 1)
    assert rule_set["summary"]["program"]["code"] == "BENG-LOG"
    assert rule_set["summary"]["targetUnit"] == "SCH"
    for achievement in (warehouse, plc, food):
        assert achievement in source
    assert listed["total"] == 1
    (transfer,) = listed["transfers"]
    assert transfer["ruleSet"] == {"id": "beng-logistics-demo", "version": 1}
    grants = {g["course"]: g for g in transfer["grants"]}
    assert grants["LOG-210"]["credits"] == 3
    assert grants["LOG-210"]["credentials"] == [seeded.credential_ids[0]]
    assert "LOG-ELEC" in grants
    subject = transfer["statement"]["credentialSubject"]
    assert subject["school"] == DEMO_SCHOOL_DID
    assert subject["ruleSet"]["digest"] == rule_set["digest"]
    assert transfer["withdrawnSources"] == []
    assert [t["id"] for t in account["transfers"]] == [transfer["id"]]
    used = {d["credential"] for d in account["deposits"] if d["status"] == "used"}
    assert used == {c for g in transfer["grants"] for c in g["credentials"]}
