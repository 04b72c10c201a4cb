"""The learner's credit page (GET /learners/<id>/credits as HTML), in both
languages, with every value escaped."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services import Services
from tests.conftest import Caller, approve, award, award_request, submit
from tests.credits.test_bank_flow import ON, learner_of, publish, rules

HTML = {"Accept": "text/html"}
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def account(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    reviewers: list[Caller],
) -> tuple[Caller, dict[str, Any]]:
    """A learner with one deposit used by a transfer, one withdrawn, one available;
    the course's name carries markup."""
    hostile = submit(client, issuer, name={"zh": HOSTILE, "en": HOSTILE})
    approve(client, f"/achievements/{hostile}", reviewers[:2])
    first, second, third = (
        award(client, issuer, award_request(hostile)) for _ in range(3)
    )
    learner = learner_of(services, first["id"])
    published = publish(client, school, rules(hostile))
    assert published.status_code == 201, published.get_json()
    request = {"school": "school-1", "ruleSet": "beng-log", "learner": learner.subject}
    transfer = client.post(
        "/transfers", json={**request, "on": ON}, headers=learner.headers
    )
    assert transfer.status_code == 201, transfer.get_json()
    (used,) = transfer.get_json()["grants"][0]["credentials"]
    revoked = next(c for c in (first, second, third) if c["id"] != used)
    client.post(
        "/credentials/status",
        json={"credentialId": revoked["id"], "action": "revoke", "reason": "error"},
        headers=issuer.headers,
    )
    return learner, transfer.get_json()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ["我的学分银行账户", "可用", "已转换", "已撤回", "学分转换"]),
        ("en", ["My credit bank account", "Available", "Transferred", "Withdrawn",
                "Credit transfers"]),
    ],
)  # fmt: skip
def test_the_page_shows_balances_deposits_and_transfers(
    client: FlaskClient,
    account: tuple[Caller, dict[str, Any]],
    lang: str,
    words: list[str],
) -> None:
    learner, transfer = account

    page = client.get(
        f"/learners/{learner.subject}/credits?lang={lang}",
        headers={**learner.headers, **HTML},
    )

    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert page.headers["Content-Language"] == ("zh-CN" if lang == "zh" else "en")
    text = page.get_data(as_text=True)
    for word in words:
        assert word in text
    # ECTS: 3 available, 3 used, 3 withdrawn, in the table's order.
    assert "<td>ECTS</td><td>3</td><td>3</td><td>3</td>" in text
    for state in ("available", "used", "withdrawn"):
        assert f'class="status {state}"' in text
    assert f"{transfer['total']}</td><td>{ON}</td>" in text


def test_markup_in_a_value_is_escaped(
    client: FlaskClient, account: tuple[Caller, dict[str, Any]]
) -> None:
    learner, _ = account

    text = client.get(
        f"/learners/{learner.subject}/credits?lang=en",
        headers={**learner.headers, **HTML},
    ).get_data(as_text=True)

    assert HOSTILE not in text
    assert html.escape(HOSTILE) in text


def test_an_empty_account_says_so(client: FlaskClient, learner: Caller) -> None:
    text = client.get(
        f"/learners/{learner.subject}/credits?lang=en",
        headers={**learner.headers, **HTML},
    ).get_data(as_text=True)

    assert text.count("Nothing yet.") == 3


def test_json_is_the_default(
    client: FlaskClient, account: tuple[Caller, dict[str, Any]]
) -> None:
    learner, transfer = account

    answer = client.get(f"/learners/{learner.subject}/credits", headers=learner.headers)

    assert answer.mimetype == "application/json"
    body = answer.get_json()
    assert body["balances"] == {
        "ECTS": {"available": "3", "used": "3", "withdrawn": "3"}
    }
    assert sorted(d["status"] for d in body["deposits"]) == [
        "available",
        "used",
        "withdrawn",
    ]
    assert [t["id"] for t in body["transfers"]] == [transfer["id"]]


def test_another_learners_page_is_forbidden(
    client: FlaskClient,
    account: tuple[Caller, dict[str, Any]],
    learner: Caller,
) -> None:
    owner, _ = account

    answer = client.get(
        f"/learners/{owner.subject}/credits", headers={**learner.headers, **HTML}
    )

    assert answer.status_code == 403
    assert answer.mimetype == "application/problem+json"
    assert HOSTILE not in answer.get_data(as_text=True)


@pytest.mark.parametrize("caller", ["school", "issuer", "nobody"])
def test_only_the_learner_and_an_admin_may_read(
    client: FlaskClient,
    account: tuple[Caller, dict[str, Any]],
    school: Caller,
    issuer: Caller,
    caller: str,
) -> None:
    owner, _ = account
    headers = {"school": school.headers, "issuer": issuer.headers, "nobody": {}}

    answer = client.get(f"/learners/{owner.subject}/credits", headers=headers[caller])

    assert answer.status_code == (401 if caller == "nobody" else 403)


def test_an_admin_may_read_the_page(
    client: FlaskClient, account: tuple[Caller, dict[str, Any]], admin: Caller
) -> None:
    owner, _ = account

    page = client.get(
        f"/learners/{owner.subject}/credits?lang=zh", headers={**admin.headers, **HTML}
    )

    assert page.status_code == 200
    assert "我的学分银行账户" in page.get_data(as_text=True)


def test_an_unknown_learner_is_not_found_for_an_admin(
    client: FlaskClient, admin: Caller
) -> None:
    answer = client.get("/learners/learner-404/credits", headers=admin.headers)

    assert answer.status_code == 404
    assert "learner-404" in answer.get_json()["detail"]
