"""The verification page in a real browser, as a person on a phone sees it.

Debian's chromium, driven by Playwright, with JavaScript switched off, opens the
page of a valid, a revoked, a suspended and a retired-course credential, and of one
whose stored form was altered after issuance, and submits a tampered one through
the /verify form, in Chinese and in English. Each page is saved under
test-artifacts/screenshots/. Without chromium this module skips, except in CI
(CI=true), where it fails (tests/browser.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from api.app import create_app
from api.auth import ADMIN
from api.config import Config
from api.services import Services, open_services
from issuers.issuance import IssuedCredential
from migrations.runner import upgrade
from tests.browser import SCREENSHOTS, browser
from tests.conftest import (
    NOW,
    TEST_MASTER_KEY,
    add_reviewer,
    application,
    apply,
    approve,
    award,
    award_request,
    make_token,
    submit,
)

__all__ = ["browser"]

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}

LANGS = {"zh": "zh-CN", "en": "en-GB"}
VERDICTS = {
    "valid": ("valid", {"zh": "有效", "en": "Valid"}),
    "revoked": ("invalid", {"zh": "无效", "en": "Not valid"}),
    "suspended": ("invalid", {"zh": "无效", "en": "Not valid"}),
    "retired": (
        "valid-with-warnings",
        {"zh": "有效，但请注意", "en": "Valid, with warnings"},
    ),
    "tampered": ("invalid", {"zh": "无效", "en": "Not valid"}),
    "tampered-stored": ("invalid", {"zh": "无效", "en": "Not valid"}),
}
# The verdict box's background, as the stylesheet paints each verdict.
BACKGROUNDS = {
    "valid": "rgb(230, 246, 234)",
    "invalid": "rgb(253, 228, 228)",
    "valid-with-warnings": "rgb(255, 242, 217)",
}
# The reason given under the verdict.
REASONS = {
    "valid": {"zh": "所有检查均已通过", "en": "Every check passed"},
    "revoked": {"zh": "已被颁发机构撤销", "en": "Revoked by the issuer"},
    "suspended": {"zh": "已被颁发机构暂停", "en": "Suspended by the issuer"},
    "retired": {"zh": "课程已于", "en": "The course was retired"},
    "tampered": {"zh": "签名无效", "en": "The signature is not valid"},
    "tampered-stored": {"zh": "签名无效", "en": "The signature is not valid"},
}
# What the page of a credential whose signature failed says of its contents.
UNCONFIRMED = {"zh": "未能证实", "en": "not confirmed"}


@dataclass(frozen=True)
class Site:
    base_url: str
    credentials: dict[str, str]
    tampered: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a free port over a fresh SQLite database, holding one
    credential in each state the page distinguishes."""
    root = tmp_path_factory.mktemp("browser-site")
    config = Config(
        data_dir=root / "data",
        database_url=f"sqlite:///{root / 'credbank.sqlite3'}",
        base_url="http://credbank.test",
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
    )
    upgrade(config.database_url)
    services = open_services(config, now=NOW)
    app = create_app(config, services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        credentials, tampered = _issue_each_case(app.test_client(), services)
        yield Site(f"http://127.0.0.1:{server.server_port}", credentials, tampered)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        services.close()


def _issue_each_case(client: Any, services: Any) -> tuple[dict[str, str], str]:
    reviewers = [add_reviewer(services) for _ in range(2)]
    admin = make_token(services, ADMIN, None)
    issuer = apply(client, application(1))
    approve(client, f"/issuers/{issuer.subject}", reviewers)
    course = submit(client, issuer)
    closing = submit(client, issuer, name={"zh": "旧课程", "en": "Old Course"})
    for achievement in (course, closing):
        approve(client, f"/achievements/{achievement}", reviewers)
    issued = {
        case: award(
            client, issuer, award_request(closing if case == "retired" else course)
        )
        for case in ("valid", "revoked", "suspended", "retired", "tampered-stored")
    }
    for case, action in (("revoked", "revoke"), ("suspended", "suspend")):
        answer = client.post(
            "/credentials/status",
            json={"credentialId": issued[case]["id"], "action": action, "reason": "t"},
            headers=issuer.headers,
        )
        assert answer.status_code == 200, answer.get_json()
    answer = client.post(
        f"/achievements/{closing}/retire",
        json={"reason": "programme closed"},
        headers=admin.headers,
    )
    assert answer.status_code == 200, answer.get_json()
    _alter_stored_credits(services, issued["tampered-stored"]["id"])
    tampered = issued["valid"]["credential"]["eddsa-rdfc-2022"]
    tampered["credentialSubject"]["creditsEarned"] = 30
    ids = {case: body["id"] for case, body in issued.items()}
    return ids, json.dumps(tampered, ensure_ascii=False, indent=2)


def _alter_stored_credits(services: Services, credential_id: str) -> None:
    """Raise the credits in the stored eddsa-rdfc-2022 form (the one /v/<id>
    verifies), as someone with write access to the database might after
    issuance and logging: its signature then fails."""
    with services.database.transaction(write=True) as session:
        record = session.scalars(
            select(IssuedCredential).where(IssuedCredential.id == credential_id)
        ).one()
        secured = json.loads(json.dumps(record.secured))
        secured["eddsa-rdfc-2022"]["credentialSubject"]["creditsEarned"] = 30
        record.secured = secured


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized tab with JavaScript off, speaking the test's language."""
    lang = request.node.callspec.params["lang"]
    context = browser.new_context(
        viewport=PHONE, locale=LANGS[lang], java_script_enabled=False
    )
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("case", list(VERDICTS))
def test_a_person_sees_the_verdict_first(
    site: Site, page: Any, case: str, lang: str
) -> None:
    from playwright.sync_api import expect

    colour, words = VERDICTS[case]
    if case == "tampered":
        page.goto(f"{site.base_url}/verify")
        page.locator("textarea#credential").fill(site.tampered)
        page.locator("button[type=submit]").click()
    else:
        page.goto(f"{site.base_url}/v/{site.credentials[case]}")

    verdict = page.locator("#verdict")
    expect(page.locator("html")).to_have_attribute(
        "lang", "zh-CN" if lang == "zh" else "en"
    )
    expect(verdict.locator(".words")).to_have_text(words[lang])
    expect(verdict.locator(".words")).to_be_visible()
    expect(verdict).to_have_class(f"verdict {colour}")
    expect(verdict).to_have_css("background-color", BACKGROUNDS[colour])
    expect(verdict).to_contain_text(REASONS[case][lang])
    expect(verdict.locator("svg")).to_be_visible()
    if case.startswith("tampered"):
        # The altered credits are shown, but as a claim, not as a fact.
        expect(page.locator("h2").first).to_contain_text(UNCONFIRMED[lang])
        expect(page.locator("dl")).to_contain_text("30 ECTS")
    # First thing on the screen: nothing above the verdict but the language link.
    box = verdict.bounding_box()
    assert box is not None
    assert box["y"] < 100
    # It fits a 360-pixel phone: nothing reaches past the right edge.
    for element in page.locator("body *").all():
        right = element.bounding_box()
        if right is not None:
            assert right["x"] + right["width"] <= PHONE["width"] + 0.5, element
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{case}-{lang}.png"), full_page=True)


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("case", ["valid", "revoked", "tampered", "tampered-stored"])
def test_the_language_switch_works(site: Site, page: Any, case: str, lang: str) -> None:
    from playwright.sync_api import expect

    other = "en" if lang == "zh" else "zh"
    if case == "tampered":
        page.goto(f"{site.base_url}/verify")
        page.locator("textarea#credential").fill(site.tampered)
        page.locator("button[type=submit]").click()
    else:
        page.goto(f"{site.base_url}/v/{site.credentials[case]}")

    page.locator("nav a").click()

    if case == "tampered":
        # A posted credential is not kept: the switch leads back to the form.
        expect(page.locator("h1")).to_have_text(
            {"zh": "验证一份凭证", "en": "Verify a credential"}[other]
        )
    else:
        expect(page.locator("#verdict .words")).to_have_text(VERDICTS[case][1][other])
    expect(page.locator("html")).to_have_attribute(
        "lang", "zh-CN" if other == "zh" else "en"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / f"{case}-{lang}-switched-to-{other}.png"),
        full_page=True,
    )
