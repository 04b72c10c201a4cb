"""The learner's page in a real browser, on a 360 x 640 phone (issue 7 part 4).

Debian's chromium, driven by Playwright with JavaScript switched off, opens the
page through the claim link an award answered, in Chinese and in English, and
checks what a person sees and can do there: their name, each course, a QR code
that scans, the credit balances, the downloads (the wallet among them, parsed),
and the printable certificate as it prints. The page must fit the screen (no
sideways scrolling) in text no smaller than 14 px. Screenshots are saved under
test-artifacts/screenshots/; without chromium this module skips, except in CI
(CI=true), where it fails (tests/browser.py).
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from api.app import create_app
from api.config import Config
from api.services import Services, open_services
from credits.schools import register_school
from issuers.issuance import IssuedCredential
from migrations.runner import upgrade
from tests.api.conftest import serve_in_thread
from tests.browser import browser, screenshot
from tests.conftest import (
    LEARNER_NAME,
    NOW,
    SCHOOL_DID,
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
from tests.wallet.conftest import ALL_FORMS, BASE, transfer_credits
from wallet import FORMAT

__all__ = ["browser"]

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
LANGS = {"zh": "zh-CN", "en": "en-GB"}
# What the pages write in <html lang>, for each language.
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# The smallest body text a phone may show (the size browsers default to is 16 px).
MIN_FONT_PX = 14.0

WAREHOUSE = {"zh": "智能仓储管理", "en": "Smart Warehouse Management"}
COLD_CHAIN = {"zh": "冷链物流运营", "en": "Cold Chain Logistics Operations"}
HEADINGS = {"zh": f"{LEARNER_NAME}的凭证", "en": f"Credentials of {LEARNER_NAME}"}
STATES = {"zh": ["有效", "有效", "已撤销"], "en": ["Valid", "Valid", "Revoked"]}
# Unit, available, transferred, withdrawn: the cold chain course twice (2 ECTS,
# the second revoked), the warehouse course (3 ECTS) used by the transfer.
BALANCES = [["ECTS", "2", "3", "2"]]
OTHER_NAME = "李四光"

# Every element showing text of its own, with its computed font size: what a
# person reads on the page (the QR codes' SVG titles are not shown).
_TEXT_SIZES = """() => [...document.body.querySelectorAll('*')]
  .filter(e => !e.closest('svg') && e.getClientRects().length > 0
    && [...e.childNodes].some(n => n.nodeType === 3 && n.data.trim()))
  .map(e => [e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''),
             e.textContent.trim().slice(0, 40),
             parseFloat(getComputedStyle(e).fontSize)])"""
# Every word of letters alone (not an id, a URL or a number) that the layout
# split across two lines, as `overflow-wrap: anywhere` may when space runs out.
_BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('svg')) continue;
    for (const found of node.data.matchAll(/\\S+/g)) {
      const word = found[0].replace(/^[(]+|[.,:;!?()]+$/g, '');
      if (!/^[A-Za-z]{2,}$/.test(word)) continue;
      const start = found.index + found[0].indexOf(word);
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, start + word.length);
      if (range.getClientRects().length > 1) broken.push(word);
    }
  }
  return broken;
}"""


@dataclass(frozen=True)
class Site:
    """The live app, the learner's claim link, and what was issued to them."""

    base_url: str
    claim_path: str
    credentials: list[dict[str, Any]]
    other: dict[str, Any]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a free port over a fresh SQLite database: a learner with
    two courses' credentials (one revoked) and a credit transfer, and another
    learner of the same course."""
    root = tmp_path_factory.mktemp("learner-page-site")
    config = Config(
        data_dir=root / "data",
        database_url=f"sqlite:///{root / 'credbank.sqlite3'}",
        base_url=BASE,
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
    )
    upgrade(config.database_url)
    services = open_services(config, now=NOW)
    app = create_app(config, services=services)
    server = serve_in_thread(app)
    base_url = next(server)
    try:
        yield _issue(app.test_client(), services, base_url)
    finally:
        server.close()
        services.close()


def _issue(client: Any, services: Services, base_url: str) -> Site:
    reviewers = [add_reviewer(services) for _ in range(2)]
    issuer = apply(client, application(1))
    approve(client, f"/issuers/{issuer.subject}", reviewers)
    warehouse = submit(client, issuer)
    cold_chain = submit(client, issuer, name=COLD_CHAIN, credits=2)
    for course in (warehouse, cold_chain):
        approve(client, f"/achievements/{course}", reviewers)
    given = [
        award(client, issuer, award_request(warehouse, formats=ALL_FORMS)),
        award(client, issuer, award_request(cold_chain, score=88)),
        award(client, issuer, award_request(cold_chain)),
    ]
    revoked = client.post(
        "/credentials/status",
        json={"credentialId": given[2]["id"], "action": "revoke", "reason": "t"},
        headers=issuer.headers,
    )
    assert revoked.status_code == 200, revoked.get_json()
    other = award(
        client,
        issuer,
        award_request(
            warehouse, learner={"email": "li.si@example.com", "name": OTHER_NAME}
        ),
    )

    with services.database.transaction(write=True) as session:
        learner_id = session.scalar(
            select(IssuedCredential.learner_id).where(
                IssuedCredential.id == given[0]["id"]
            )
        )
        register_school(
            session,
            services.log,
            school_id="school-1",
            did=SCHOOL_DID,
            names={"zh": "示范学院", "en": "Partner College"},
            now=NOW,
        )
    assert learner_id is not None
    school = make_token(services, "school", "school-1")
    learner = make_token(services, "learner", learner_id)
    transfer_credits(client, school, learner, warehouse)

    claim_path = given[0]["claimUrl"].removeprefix(BASE)
    assert claim_path.startswith("/me/clm_")
    return Site(base_url, claim_path, given, other)


@pytest.fixture(params=list(LANGS))
def lang(request: pytest.FixtureRequest) -> str:
    language: str = request.param
    return language


@pytest.fixture
def page(browser: Any, lang: str) -> Iterator[Any]:
    """A 360 x 640 tab with JavaScript off, speaking `lang`."""
    context = browser.new_context(
        viewport=PHONE, locale=LANGS[lang], java_script_enabled=False
    )
    yield context.new_page()
    context.close()


def open_claim_link(page: Any, site: Site) -> None:
    answer = page.goto(site.base_url + site.claim_path)
    assert answer is not None and answer.status == 200


def assert_fits_a_phone(page: Any) -> None:
    """No sideways scrolling, nothing past the right edge, no tiny text, no
    word broken in two."""
    width = PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.body.scrollWidth") <= width
    for element in page.locator("body *").all():
        box = element.bounding_box()
        if box is not None:
            assert box["x"] + box["width"] <= width + 0.5, element
    sizes = page.evaluate(_TEXT_SIZES)
    assert sizes, "no text on the page"
    tiny = [(where, text, px) for where, text, px in sizes if px < MIN_FONT_PX]
    assert tiny == [], f"expected text of at least {MIN_FONT_PX} px, got {tiny}"
    assert page.evaluate(_BROKEN_WORDS) == []


def scanned(locator: Any) -> str:
    """What a phone reads from the QR code as the page paints it."""
    image = Image.open(io.BytesIO(locator.screenshot()))
    barcode = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert barcode is not None, "zxing-cpp found no QR Code on the screen"
    return str(barcode.text)


def downloaded(page: Any, link: Any) -> bytes:
    """Click `link` as a person does and return the file the browser saved."""
    with page.expect_download() as started:
        link.click()
    path = started.value.path()
    assert path is not None
    return Path(path).read_bytes()


def credential_id_of(body: bytes) -> str:
    """The id of a downloaded credential: a JSON document, or a vc+jwt, whose
    payload is the credential itself (VC-JOSE-COSE §3.1.1)."""
    text = body.decode()
    if text.startswith("{"):
        identifier: str = json.loads(text)["id"]
        return identifier
    payload = text.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    identifier = claims["id"]
    return identifier


# The page


def test_the_learner_sees_their_credentials_on_a_phone(
    site: Site, page: Any, lang: str
) -> None:
    from playwright.sync_api import expect

    open_claim_link(page, site)

    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator("h1")).to_have_text(HEADINGS[lang])
    cards = page.locator("section.card")
    expect(cards).to_have_count(len(site.credentials))
    expect(cards.locator("h3")).to_have_text(
        [WAREHOUSE[lang], COLD_CHAIN[lang], COLD_CHAIN[lang]]
    )
    expect(cards.locator(".status")).to_have_text(STATES[lang])
    for card, issued in zip(cards.all(), site.credentials, strict=True):
        qr = card.locator(".qr svg")
        expect(qr).to_be_visible()
        box = qr.bounding_box()
        # Big enough to scan from the screen: 49 modules at 3 px or more.
        assert box is not None and min(box["width"], box["height"]) >= 147
        assert scanned(qr) == f"{BASE}/v/{issued['id']}"
    balances = page.locator("table#balances")
    expect(balances).to_be_visible()
    rows = balances.locator("tr").all()[1:]
    assert [row.locator("td").all_inner_texts() for row in rows] == BALANCES
    expect(page.locator("body")).not_to_contain_text(OTHER_NAME)
    assert site.other["id"] not in page.content()
    assert_fits_a_phone(page)
    screenshot(page, f"learner-page-{lang}")


def test_the_wallet_downloads_through_the_page(
    site: Site, page: Any, lang: str
) -> None:
    open_claim_link(page, site)
    link = page.locator("a.wallet")

    wallet = json.loads(downloaded(page, link))

    assert link.is_visible()
    assert wallet["format"] == FORMAT
    assert [item["id"] for item in wallet["credentials"]] == [
        c["id"] for c in site.credentials
    ]
    assert site.other["id"] not in json.dumps(wallet)


def test_each_form_downloads_through_the_page(site: Site, page: Any, lang: str) -> None:
    open_claim_link(page, site)
    cards = page.locator("section.card").all()

    for card, issued in zip(cards, site.credentials, strict=True):
        links = card.locator("a[download]")
        labels = links.all_inner_texts()
        forms = [label[label.index("(") + 1 : -1] for label in labels]
        assert sorted(forms) == sorted(issued["credential"])
        for link, form in zip(links.all(), forms, strict=True):
            body = downloaded(page, link)
            assert credential_id_of(body) == issued["id"], form
            secured = issued["credential"][form]
            assert (body.decode() if form == "vc+jwt" else json.loads(body)) == (
                secured
            )


@pytest.mark.parametrize(("card", "verdict"), [(0, "valid"), (2, "invalid")])
def test_the_verification_link_opens_the_verdict(
    site: Site, page: Any, lang: str, card: int, verdict: str
) -> None:
    from playwright.sync_api import expect

    open_claim_link(page, site)

    page.locator("section.card").nth(card).locator("ul.links a").first.click()

    expect(page.locator("#verdict")).to_have_class(f"verdict {verdict}")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    assert page.url.endswith(f"/v/{site.credentials[card]['id']}?lang={lang}")


# The printable certificate


def test_the_certificate_prints_with_its_qr_code_and_no_navigation(
    site: Site, page: Any, lang: str
) -> None:
    from playwright.sync_api import expect

    open_claim_link(page, site)
    first = site.credentials[0]
    certificate_link = page.locator("section.card").first.locator(
        "a[href*='/certificates/']"
    )

    certificate_link.click()

    certificate = page.locator("#certificate")
    expect(certificate).to_be_visible()
    expect(certificate.locator("#learner-name")).to_have_text(LEARNER_NAME)
    expect(certificate.locator(".course")).to_contain_text(WAREHOUSE[lang])
    expect(page.locator("nav")).to_be_visible()
    expect(page.locator(".screen-only").first).to_be_visible()
    assert_fits_a_phone(page)
    screenshot(page, f"learner-certificate-{lang}")

    page.emulate_media(media="print")

    expect(page.locator("nav")).to_be_hidden()
    for hidden in page.locator(".screen-only").all():
        expect(hidden).to_be_hidden()
    qr = certificate.locator(".qr svg")
    expect(qr).to_be_visible()
    assert scanned(qr) == f"{BASE}/v/{first['id']}"
    expect(certificate).to_contain_text(LEARNER_NAME)
    screenshot(page, f"learner-certificate-{lang}-print")
    # Printed as the stylesheet's @page asks: one A4 page, 595 x 842 points.
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    media_box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert media_box is not None
    width, height = (float(side) for side in media_box.groups())
    assert abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5, (width, height)
