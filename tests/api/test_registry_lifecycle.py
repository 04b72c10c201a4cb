"""The registry's whole lifecycle over HTTP, role by role, and the public trust list."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services import Services
from credentials.units import UNITS
from issuers.models import Achievement
from tests.conftest import (
    Caller,
    achievement_definition,
    application,
    approve,
    logged,
    submit,
    tree_size,
)

BASE = "http://credbank.test"
DID = "did:web:credbank.test:issuers:centre-1"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.get_data(as_text=True)
    return answer.get_json()


def refused(answer: Any, status: int, detail: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    body: dict[str, Any] = answer.get_json()
    assert body["status"] == status
    assert detail in body["detail"]
    return body


def trust_list_entry(client: FlaskClient, slug: str) -> dict[str, Any]:
    listing = ok(client.get("/issuers"))
    (found,) = [i for i in listing["issuers"] if i["slug"] == slug]
    return found  # type: ignore[no-any-return]


def test_the_whole_lifecycle_over_http(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    reviewers: list[Caller],
) -> None:
    # An organisation applies; the answer holds its token, once.
    applied = ok(client.post("/issuers", json=application(1)), 201)
    assert applied["slug"] == "centre-1"
    assert applied["status"] == "applied"
    assert applied["did"] == DID
    assert applied["token"].startswith("cbt_")
    assert applied["tokenId"].startswith("tok_")
    issuer = Caller(applied["token"], "centre-1")
    assert [e["kind"] for e in logged(services)][-1] == "issuer.applied"

    # Not on the public list yet, but the applicant and the committee see it.
    refused(client.get("/issuers/centre-1"), 404, "no issuer 'centre-1'")
    refused(client.get("/issuers/centre-1/did.json"), 404, "no issuer 'centre-1'")
    assert ok(client.get("/issuers"))["issuers"] == []
    own = ok(client.get("/issuers/centre-1", headers=issuer.headers))
    assert own["status"] == "applied"
    queue = ok(client.get("/reviews/pending", headers=reviewers[0].headers))
    assert [i["slug"] for i in queue["issuers"]] == ["centre-1"]
    assert queue["issuers"][0]["legalId"] == "91110000MA0000001X"

    # Two approvals accredit; the issuer gets an Ed25519 key and a DID document.
    first = ok(
        client.post(
            "/issuers/centre-1/reviews",
            json={"decision": "approve", "comment": "meets the standard"},
            headers=reviewers[0].headers,
        )
    )
    assert first == {"slug": "centre-1", "status": "applied"}
    assert approve(client, "/issuers/centre-1", reviewers[1:2]) == {
        "slug": "centre-1",
        "status": "accredited",
    }
    did = client.get("/issuers/centre-1/did.json")
    assert did.status_code == 200
    assert did.mimetype == "application/did+json"
    assert did.headers["Cache-Control"] == "public, max-age=60"
    document = did.get_json()
    assert document["id"] == DID
    assert [m["type"] for m in document["verificationMethod"]] == [
        "Multikey",
        "JsonWebKey",
    ]
    assert document["verificationMethod"][0]["publicKeyMultibase"].startswith("z6Mk")
    assert document["assertionMethod"] == [
        m["id"] for m in document["verificationMethod"]
    ]
    jwks = client.get("/issuers/centre-1/jwks.json")
    assert jwks.mimetype == "application/jwk-set+json"
    (jwk,) = jwks.get_json()["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert jwk["kid"] == document["verificationMethod"][1]["id"]

    # The issuer submits a course; it stays private until approved.
    submitted = ok(
        client.post(
            "/achievements", json=achievement_definition(), headers=issuer.headers
        ),
        201,
    )
    achievement_id = submitted["id"]
    url = f"{BASE}/achievements/{achievement_id}"
    assert submitted == {
        "id": achievement_id,
        "url": url,
        "issuer": "centre-1",
        "status": "submitted",
    }
    refused(client.get(f"/achievements/{achievement_id}"), 404, "no achievement")
    draft = ok(client.get(f"/achievements/{achievement_id}", headers=issuer.headers))
    assert draft["id"] == url
    queue = ok(client.get("/reviews/pending", headers=admin.headers))
    assert [a["id"] for a in queue["achievements"]] == [achievement_id]

    # Reviewers approve it; it is now the public OB 3.0 Achievement at its own URL.
    approved = approve(client, f"/achievements/{achievement_id}", reviewers[1:])
    assert approved["status"] == "approved"
    answer = client.get(f"/achievements/{achievement_id}")
    assert answer.mimetype == "application/ld+json"
    achievement = answer.get_json()
    assert achievement["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert achievement["id"] == url
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["name"] == "智能仓储管理 Smart Warehouse Management"
    assert achievement["creditsAvailable"] == 3
    assert achievement["fieldOfStudy"] == "Logistics"
    assert achievement["creator"]["id"] == DID
    unit, level, competency = achievement["alignment"]
    assert unit["type"] == level["type"] == ["Alignment"]
    assert (unit["targetFramework"], unit["targetCode"]) == ("credit-unit", "ECTS")
    assert unit["targetUrl"] == f"{BASE}/units/ECTS"
    assert unit["targetName"]
    assert (level["targetFramework"], level["targetCode"]) == ("EQF", "5")
    assert level["targetUrl"] == "http://data.europa.eu/snb/eqf/5"
    assert level["targetName"] == "EQF level 5"
    assert competency["targetUrl"] == "https://competencies.example.org/wms"
    described = ok(client.get(unit["targetUrl"].removeprefix(BASE)))
    assert described["code"] == "ECTS"
    assert described["name"] == {"en": "ECTS credit", "zh": "欧洲学分"}
    listed = trust_list_entry(client, "centre-1")
    assert [a["id"] for a in listed["achievements"]["active"]] == [url]

    # The admin retires it with a reason; it cannot be retired or reviewed again.
    size = tree_size(services)
    retired = ok(
        client.post(
            f"/achievements/{achievement_id}/retire",
            json={"reason": "superseded by the 2027 syllabus"},
            headers=admin.headers,
        )
    )
    assert retired["status"] == "retired"
    assert tree_size(services) == size + 1
    refused(
        client.post(
            f"/achievements/{achievement_id}/retire",
            json={"reason": "again"},
            headers=admin.headers,
        ),
        409,
        "expected an approved achievement to retire, got retired",
    )
    refused(
        client.post(
            f"/achievements/{achievement_id}/reviews",
            json={"decision": "approve"},
            headers=reviewers[0].headers,
        ),
        409,
        "is closed (retired)",
    )
    assert tree_size(services) == size + 1
    listed = trust_list_entry(client, "centre-1")
    assert listed["achievements"]["active"] == []
    (gone,) = listed["achievements"]["retired"]
    assert gone["id"] == url
    assert gone["status"] == "retired"
    assert gone["retireReason"] == "superseded by the 2027 syllabus"
    assert gone["reviewOverdue"] is False
    # Credentials issued before keep pointing at the definition.
    assert ok(client.get(f"/achievements/{achievement_id}"))["id"] == url

    # Suspended, the issuer cannot submit; reinstated, it can again.
    suspended = ok(
        client.post(
            "/issuers/centre-1/suspend",
            json={"reason": "inspection found forged records"},
            headers=admin.headers,
        )
    )
    assert suspended == {"slug": "centre-1", "status": "suspended"}
    size = tree_size(services)
    refused(
        client.post(
            "/achievements", json=achievement_definition(), headers=issuer.headers
        ),
        403,
        "issuer centre-1 is suspended; only an accredited issuer submits",
    )
    assert tree_size(services) == size
    assert trust_list_entry(client, "centre-1")["status"] == "suspended"
    refused(
        client.post(
            "/issuers/centre-1/suspend", json={"reason": "x"}, headers=admin.headers
        ),
        409,
        "expected an accredited issuer to suspend, got suspended",
    )
    reinstated = ok(
        client.post(
            "/issuers/centre-1/reinstate",
            json={"reason": "records corrected"},
            headers=admin.headers,
        )
    )
    assert reinstated == {"slug": "centre-1", "status": "accredited"}
    refused(
        client.post(
            "/issuers/centre-1/reinstate", json={"reason": "x"}, headers=admin.headers
        ),
        409,
        "expected a suspended issuer to reinstate, got accredited",
    )
    assert submit(client, issuer, name={"en": "PLC Programming"})

    # The history is public, in log order, with the reasons.
    profile = ok(client.get("/issuers/centre-1"))
    history = profile["statusHistory"]
    assert [(e["status"], e["reason"]) for e in history] == [
        ("applied", None),
        ("accredited", None),
        ("suspended", "inspection found forged records"),
        ("accredited", "records corrected"),
    ]
    indexes = [e["logIndex"] for e in history]
    assert indexes == sorted(indexes)
    entries = logged(services)
    assert [entries[i]["kind"] for i in indexes] == [
        "issuer.applied",
        "issuer.accredited",
        "issuer.suspended",
        "issuer.reinstated",
    ]
    assert all(e["at"].endswith("Z") for e in history)
    assert profile["did"] == DID
    assert profile["didDocument"] == f"{BASE}/issuers/centre-1/did.json"
    assert profile["jwks"] == f"{BASE}/issuers/centre-1/jwks.json"
    assert "contact" not in profile
    assert "legalId" not in profile


def test_every_decision_is_one_logged_entry_kind(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    kinds = [e["kind"] for e in logged(services)]

    assert kinds == [
        "key.added",  # the log's own key, on first start
        "issuer.applied",
        "issuer.reviewed",
        "issuer.reviewed",
        "issuer.accredited",
        "key.added",
        "achievement.submitted",
        "achievement.reviewed",
        "achievement.reviewed",
        "achievement.approved",
    ]
    applied = logged(services)[1]
    assert applied["issuer"] == "centre-1"
    assert applied["name"] == {"zh": "示范培训中心1号", "en": "Demo Training Centre 1"}
    assert "contact" not in applied


def test_rejected_and_pending_issuers_stay_off_the_trust_list(
    client: FlaskClient, reviewers: list[Caller], issuer: Caller
) -> None:
    client.post("/issuers", json=application(4))
    client.post("/issuers", json=application(5))
    ok(
        client.post(
            "/issuers/centre-5/reviews",
            json={"decision": "reject"},
            headers=reviewers[0].headers,
        )
    )

    listing = ok(client.get("/issuers"))

    assert [i["slug"] for i in listing["issuers"]] == ["centre-1"]
    refused(client.get("/issuers/centre-5"), 404, "no issuer 'centre-5'")
    seen = ok(client.get("/issuers/centre-5", headers=reviewers[1].headers))
    assert seen["status"] == "rejected"


def test_an_empty_trust_list(client: FlaskClient) -> None:
    assert ok(client.get("/issuers")) == {"issuers": []}
    page = client.get("/issuers", headers=HTML)
    assert "暂无认证机构。" in page.get_data(as_text=True)


@pytest.fixture
def overdue(services: Services, issuer: Caller, approved_achievement: str) -> str:
    """The approved achievement, its review date set in the past behind the API
    (which refuses past dates)."""
    with services.database.transaction(write=True) as session:
        row = session.get(Achievement, approved_achievement)
        assert row is not None
        row.review_due = date(2020, 1, 31)
    return approved_achievement


def test_a_course_past_its_review_date_is_flagged(
    client: FlaskClient, overdue: str
) -> None:
    listed = trust_list_entry(client, "centre-1")

    (course,) = listed["achievements"]["active"]
    assert course["reviewDue"] == "2020-01-31"
    assert course["reviewOverdue"] is True
    page = client.get("/issuers?lang=en", headers=HTML).get_data(as_text=True)
    assert "Review overdue" in page
    assert "评审逾期" in client.get("/issuers", headers=HTML).get_data(as_text=True)


def test_a_course_not_yet_due_is_not_flagged(
    client: FlaskClient, approved_achievement: str
) -> None:
    (course,) = trust_list_entry(client, "centre-1")["achievements"]["active"]

    assert course["reviewDue"] == "2099-06-30"
    assert course["reviewOverdue"] is False
    assert "评审逾期" not in client.get("/issuers", headers=HTML).get_data(as_text=True)


@pytest.fixture
def history(
    client: FlaskClient, admin: Caller, issuer: Caller, approved_achievement: str
) -> FlaskClient:
    """centre-1 with one retired course and a suspension on its record."""
    for path, reason in [
        (f"/achievements/{approved_achievement}/retire", "教学大纲已更新"),
        ("/issuers/centre-1/suspend", "年度检查"),
    ]:
        ok(client.post(path, json={"reason": reason}, headers=admin.headers))
    return client


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("?lang=zh", {}),
        ("", {"Accept-Language": "zh-CN,zh;q=0.9"}),
        ("?lang=zh", {"Accept-Language": "en"}),
        ("?lang=xx", {}),
    ],
)
def test_the_trust_list_page_in_chinese(
    history: FlaskClient, query: str, headers: dict[str, str]
) -> None:
    answer = history.get(f"/issuers{query}", headers={**HTML, **headers})

    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert answer.headers["Content-Language"] == "zh-CN"
    assert {"Accept", "Accept-Language"} <= set(answer.vary)
    page = answer.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    for words in ("认证发证机构名录", "示范培训中心1号", "已暂停", "年度检查"):
        assert words in page
    for words in ("已停用课程", "智能仓储管理", "教学大纲已更新", "认证记录"):
        assert words in page
    assert "Accredited issuers" not in page


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?lang=en", {}), ("", {"Accept-Language": "en-GB,en;q=0.8"})],
)
def test_the_trust_list_page_in_english(
    history: FlaskClient, query: str, headers: dict[str, str]
) -> None:
    answer = history.get(f"/issuers{query}", headers={**HTML, **headers})

    assert answer.headers["Content-Language"] == "en"
    page = answer.get_data(as_text=True)
    assert '<html lang="en">' in page
    for words in ("Accredited issuers", "Demo Training Centre 1", "Suspended"):
        assert words in page
    for words in ("Retired courses", "Smart Warehouse Management", "3 ECTS"):
        assert words in page
    assert "Accreditation history" in page
    assert "认证发证机构名录" not in page


def test_the_history_on_the_page_is_in_log_order(history: FlaskClient) -> None:
    page = history.get("/issuers?lang=en", headers=HTML).get_data(as_text=True)

    applied = page.index("— Applied")
    accredited = page.index("— Accredited")
    suspended = page.index("— Suspended: 年度检查")
    assert applied < accredited < suspended


def test_the_issuer_page_links_back_to_the_list(history: FlaskClient) -> None:
    answer = history.get("/issuers/centre-1?lang=en", headers=HTML)

    assert answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert f'href="{BASE}/issuers?lang=en"' in page
    assert "<title>Demo Training Centre 1</title>" in page
    assert "Suspended: 年度检查" in page


def test_the_json_trust_list_is_the_default(history: FlaskClient) -> None:
    answer = history.get("/issuers", headers={"Accept": "*/*"})

    assert answer.mimetype == "application/json"
    (issuer,) = answer.get_json()["issuers"]
    assert issuer["status"] == "suspended"
    assert issuer["kind"] == "training_centre"
    assert issuer["website"] == "https://centre1.example.cn"
    assert [a["name"]["en"] for a in issuer["achievements"]["retired"]] == [
        "Smart Warehouse Management"
    ]


def test_pages_escape_what_organisations_and_admins_write(
    client: FlaskClient, admin: Caller, reviewers: list[Caller]
) -> None:
    name = {"zh": "<script>alert(1)</script>", "en": "<img src=x onerror=alert(1)>"}
    client.post("/issuers", json=application(6, name=name))
    approve(client, "/issuers/centre-6", reviewers[:2])
    client.post(
        "/issuers/centre-6/suspend",
        json={"reason": "<b>bold</b>"},
        headers=admin.headers,
    )

    page = client.get("/issuers?lang=en", headers=HTML).get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_every_credit_unit_has_a_page(client: FlaskClient) -> None:
    for code in UNITS:
        described = ok(client.get(f"/units/{code}"))
        assert described["code"] == code
        assert described["name"]["en"]
        assert described["name"]["zh"]


def test_a_one_language_course_says_which(
    client: FlaskClient, issuer: Caller, reviewers: list[Caller]
) -> None:
    achievement_id = submit(
        client,
        issuer,
        name={"en": "Forklift Safety"},
        description={"en": "Drive a forklift safely."},
        credits=1.5,
        learningHours=40,
    )
    approve(client, f"/achievements/{achievement_id}", reviewers[:2])

    document = ok(client.get(f"/achievements/{achievement_id}"))

    assert document["inLanguage"] == "en"
    assert document["name"] == "Forklift Safety"
    assert document["creditsAvailable"] == 1.5


def test_every_registry_endpoint_is_in_the_openapi_document(
    client: FlaskClient,
) -> None:
    paths = ok(client.get("/openapi.json"))["paths"]

    assert {
        ("/issuers", "get"),
        ("/issuers", "post"),
        ("/issuers/{slug}", "get"),
        ("/issuers/{slug}/reviews", "post"),
        ("/issuers/{slug}/suspend", "post"),
        ("/issuers/{slug}/reinstate", "post"),
        ("/issuers/{slug}/keys", "post"),
        ("/issuers/{slug}/keys/{key_id}/compromised", "post"),
        ("/issuers/{slug}/did.json", "get"),
        ("/issuers/{slug}/jwks.json", "get"),
        ("/achievements", "post"),
        ("/achievements/{achievement_id}", "get"),
        ("/achievements/{achievement_id}/reviews", "post"),
        ("/achievements/{achievement_id}/retire", "post"),
        ("/reviewers", "post"),
        ("/tokens", "post"),
        ("/reviews/pending", "get"),
        ("/units/{code}", "get"),
    } <= {(path, method) for path, item in paths.items() for method in item}


def test_authenticated_operations_declare_the_bearer_scheme(
    client: FlaskClient,
) -> None:
    spec = ok(client.get("/openapi.json"))

    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    # OpenAPI 3.1 §4.8.30: the requirement names the roles that may call it.
    assert spec["paths"]["/achievements"]["post"]["security"] == [
        {"bearerAuth": ["issuer"]}
    ]
    assert "security" not in spec["paths"]["/issuers"]["post"]
