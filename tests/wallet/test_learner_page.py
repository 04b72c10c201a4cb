"""The learner's page (issue 7 part 4): claim links, the page in both languages,
its QR codes and downloads, the printable certificate, and what a link cannot
reach."""

from __future__ import annotations

import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import zxingcpp
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select, update

from api.services import Services
from issuers.issuance import IssuedCredential
from tests.conftest import (
    LEARNER_NAME,
    Caller,
    approve,
    award,
    award_request,
    logged,
    make_token,
    submit,
)
from tests.wallet.conftest import BASE, Holder
from wallet.claim_links import ClaimLink

SVG = "{http://www.w3.org/2000/svg}"


def claim(client: FlaskClient, learner_id: str, caller: Caller) -> Any:
    return client.post(f"/learners/{learner_id}/claim-links", headers=caller.headers)


def claim_path(client: FlaskClient, learner_id: str, caller: Caller) -> str:
    answer = claim(client, learner_id, caller)
    assert answer.status_code == 201, answer.get_json()
    url: str = answer.get_json()["url"]
    assert url.startswith(f"{BASE}/me/clm_")
    return url.removeprefix(BASE)


def learner_of(services: Services, credential_id: str) -> str:
    with services.database.transaction() as session:
        found = session.get(IssuedCredential, credential_id)
        assert found is not None and found.learner_id is not None
        return found.learner_id


def page(client: FlaskClient, path: str, lang: str) -> str:
    answer = client.get(f"{path}?lang={lang}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/html"
    return answer.get_data(as_text=True)


def inline_svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def qr_text_of_svg(svg: str) -> str:
    """Decode an inline QR code SVG by painting its path's rectangles."""
    root = ET.fromstring(svg)
    side = int(root.attrib["viewBox"].split()[2])
    scale = 8
    image = Image.new("L", (side * scale, side * scale), 255)
    pixels = image.load()
    assert pixels is not None
    path = root.find(f"{SVG}path")
    assert path is not None
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path.attrib["d"]):
        for column in range(int(x) * scale, (int(x) + int(width)) * scale):
            for row in range(int(y) * scale, (int(y) + 1) * scale):
                pixels[column, row] = 0
    barcode = zxingcpp.read_barcode(
        image, formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False
    )
    assert barcode is not None, "zxing-cpp found no QR Code"
    return str(barcode.text)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


# Claim links: who may make one, shown once, stored hashed


def test_the_learner_gets_a_link_shown_once_and_stored_as_its_hash(
    client: FlaskClient, services: Services, holder: Holder
) -> None:
    answer = claim(client, holder.id, holder.caller)

    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    url = answer.get_json()["url"]
    secret = url.rsplit("/", 1)[1]
    # 192 random bits after the prefix: 32 base64url characters.
    assert re.fullmatch(r"clm_[A-Za-z0-9_-]{32}", secret)
    expires = datetime.fromisoformat(answer.get_json()["expires"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    with services.database.transaction() as session:
        stored = session.get(ClaimLink, hashlib.sha256(secret.encode()).digest())
        assert stored is not None and stored.learner_id == holder.id
        rows = session.scalars(select(ClaimLink)).all()
        # The awards made links too; none of the rows holds a secret.
        assert secret.encode() not in b"".join(
            r.secret_hash + r.learner_id.encode() + r.created_by.encode() for r in rows
        )
    # The secret is nowhere: not in the log, not in a second answer.
    assert secret not in json.dumps(logged(services), ensure_ascii=False)
    again = claim(client, holder.id, holder.caller).get_json()["url"]
    assert again != url


def test_the_issuer_of_a_learners_credential_and_an_admin_may_link_them(
    client: FlaskClient, holder: Holder, issuer: Caller, admin: Caller
) -> None:
    assert claim(client, holder.id, issuer).status_code == 201
    assert claim(client, holder.id, admin).status_code == 201


def test_no_one_else_may_link_a_learner(
    client: FlaskClient,
    services: Services,
    holder: Holder,
    other_issuer: Caller,
    school: Caller,
) -> None:
    other_learner = learner_of(services, holder.other["id"])
    stranger = make_token(services, "learner", other_learner)

    for caller in (other_issuer, school, stranger):
        answer = claim(client, holder.id, caller)
        assert answer.status_code == 403, caller
        assert answer.mimetype == "application/problem+json"
    assert client.post(f"/learners/{holder.id}/claim-links").status_code == 401


def test_an_admin_linking_an_unknown_learner_gets_a_404(
    client: FlaskClient, admin: Caller
) -> None:
    answer = claim(client, "lrn_nobody", admin)

    assert answer.status_code == 404
    assert "no learner 'lrn_nobody'" in answer.get_json()["detail"]


def test_a_single_award_answers_a_claim_url_for_the_learner(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    issued = award(client, issuer, award_request(approved_achievement))

    path = issued["claimUrl"].removeprefix(BASE)
    html = page(client, path, "zh")
    assert LEARNER_NAME in html
    assert issued["id"] in html
    # A replayed award (its first answer lost?) answers a link that works too.
    body = award_request(approved_achievement, idempotencyKey="k-1")
    client.post("/credentials/award", json=body, headers=issuer.headers)
    replay = client.post("/credentials/award", json=body, headers=issuer.headers)
    assert replay.status_code == 200
    assert LEARNER_NAME in page(
        client, replay.get_json()["claimUrl"][len(BASE) :], "en"
    )


@pytest.mark.parametrize(
    "secret",
    ["clm_" + "A" * 32, "cbt_notaclaimlink", "clm_" + "A" * 200, "x"],
)
def test_an_unknown_link_is_a_404_page(client: FlaskClient, secret: str) -> None:
    for path in (f"/me/{secret}", f"/me/{secret}/wallet"):
        answer = client.get(path + "?lang=en")
        assert answer.status_code == 404
        assert answer.mimetype == "text/html"
        assert "unknown or has expired" in answer.get_data(as_text=True)
        assert "script-src" not in answer.headers["Content-Security-Policy"]
        assert answer.headers["Content-Security-Policy"].startswith(
            "default-src 'none'"
        )


def test_an_expired_link_is_a_404_page(
    client: FlaskClient, services: Services, holder: Holder
) -> None:
    path = claim_path(client, holder.id, holder.caller)
    with services.database.transaction(write=True) as session:
        session.execute(
            update(ClaimLink).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        )

    answer = client.get(path + "?lang=zh")

    assert answer.status_code == 404
    assert "链接无效或已过期" in answer.get_data(as_text=True)
    assert client.get(path + "/wallet").status_code == 404


def test_a_link_reaches_no_other_learners_credential(
    client: FlaskClient, holder: Holder
) -> None:
    path = claim_path(client, holder.id, holder.caller)
    other = holder.other["id"]

    html = page(client, path, "en")
    answer = client.get(f"{path}/certificates/{other}?lang=en")

    assert other not in html
    assert answer.status_code == 404
    assert LEARNER_NAME not in answer.get_data(as_text=True)
    wallet = json.loads(client.get(f"{path}/wallet").get_data())
    assert other not in {item["id"] for item in wallet["credentials"]}


# The page


PAGE_WORDS = {
    "zh": ["的凭证", "学分银行余额", "可打印证书", "智能仓储管理"],
    "en": [
        "Credentials of",
        "Credit bank balances",
        "Printable certificate",
        "Smart Warehouse Management",
    ],
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_shows_each_credential_in_the_language_asked(
    client: FlaskClient, holder: Holder, lang: str
) -> None:
    path = claim_path(client, holder.id, holder.caller)

    answer = client.get(path, headers={"Accept-Language": lang})
    html = answer.get_data(as_text=True)

    assert answer.headers["Content-Language"] == ("zh-CN" if lang == "zh" else "en")
    for words in PAGE_WORDS[lang]:
        assert words in html
    for credential in holder.credentials:
        assert credential["id"] in html
    assert html.count('class="card"') == len(holder.credentials)
    issuer_name = {"zh": "示范培训中心1号", "en": "Demo Training Centre 1"}[lang]
    assert issuer_name in html
    assert "3 ECTS" in html and "EQF 5" in html
    # The credit summary: three deposits of 3 ECTS, one used by the transfer.
    table = html[html.index('id="balances"') :]
    assert re.search(r"<td>ECTS</td><td>6</td><td>3</td><td>0</td>", table)
    assert f'href="?lang={"en" if lang == "zh" else "zh"}"' in html
    assert "<script" not in html
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]


def test_the_bearer_route_shows_the_same_page(
    client: FlaskClient, services: Services, holder: Holder, admin: Caller
) -> None:
    mine = client.get(
        f"/learners/{holder.id}/page?lang=en", headers=holder.caller.headers
    )
    by_admin = client.get(f"/learners/{holder.id}/page?lang=en", headers=admin.headers)
    other = make_token(services, "learner", learner_of(services, holder.other["id"]))
    theirs = client.get(f"/learners/{holder.id}/page", headers=other.headers)

    assert mine.status_code == by_admin.status_code == 200
    assert "Smart Warehouse Management" in mine.get_data(as_text=True)
    assert f"/learners/{holder.id}/wallet" in mine.get_data(as_text=True)
    assert theirs.status_code == 403
    assert client.get(f"/learners/{holder.id}/page").status_code == 401


def test_each_qr_code_decodes_to_the_verification_url(
    client: FlaskClient, holder: Holder
) -> None:
    path = claim_path(client, holder.id, holder.caller)

    svgs = inline_svgs(page(client, path, "zh"))

    expected = [f"{BASE}/v/{c['id']}" for c in holder.credentials]
    assert [qr_text_of_svg(svg) for svg in svgs] == expected
    # And the PNG the page's verification link leads to says the same.
    png = client.get(f"/credentials/{holder.credentials[0]['id']}/qr.png")
    barcode = zxingcpp.read_barcode(
        Image.open(io.BytesIO(png.data)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert barcode is not None and barcode.text == expected[0]


def test_the_downloads_on_the_page_work(client: FlaskClient, holder: Holder) -> None:
    path = claim_path(client, holder.id, holder.caller)
    hrefs = links(page(client, path, "en"))
    first = holder.credentials[0]

    wallet = client.get(f"{path}/wallet")
    assert f"{path}/wallet" in hrefs
    assert wallet.status_code == 200
    assert wallet.headers["Content-Disposition"] == (
        'attachment; filename="credbank-wallet.json"'
    )
    served = json.loads(wallet.get_data())
    assert served["format"] == "credbank-wallet/v1"
    assert [i["id"] for i in served["credentials"]] == [
        c["id"] for c in holder.credentials
    ]
    for form, secured in first["credential"].items():
        href = next(
            h
            for h in hrefs
            if first["id"] in h and f"format={form.replace('+', '%2B')}" in h
        )
        answer = client.get(href)
        assert answer.status_code == 200, href
        body = answer.get_data(as_text=True)
        assert (body if isinstance(secured, str) else json.loads(body)) == secured
    assert f"/v/{first['id']}?lang=en" in hrefs
    assert f"{path}/certificates/{first['id']}?lang=en" in hrefs


def test_every_value_is_escaped(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    reviewers: list[Caller],
) -> None:
    evil = "<script>alert(1)</script>"
    course = submit(client, issuer, name={"zh": f"课程{evil}", "en": f"Course{evil}"})
    approve(client, f"/achievements/{course}", reviewers[:2])
    issued = award(
        client,
        issuer,
        award_request(course, learner={"email": "x@example.com", "name": f"李{evil}"}),
    )
    path = issued["claimUrl"].removeprefix(BASE)

    for lang in ("zh", "en"):
        for where in (path, f"{path}/certificates/{issued['id']}"):
            html = page(client, where, lang)
            assert "<script" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# The printable certificate


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_certificate_prints_on_a4_with_its_qr_code(
    client: FlaskClient, issuer: Caller, approved_achievement: str, lang: str
) -> None:
    issued = award(client, issuer, award_request(approved_achievement))
    path = issued["claimUrl"].removeprefix(BASE)

    answer = client.get(f"{path}/certificates/{issued['id']}?lang={lang}")
    html = answer.get_data(as_text=True)

    assert answer.status_code == 200
    assert "@page{size:A4 portrait" in html
    printed = html[html.index("@media print{") :]
    assert printed.index("nav,.screen-only{display:none}") < printed.index("</style>")
    # Both languages on the certificate, the page's language first.
    first, second = ("结业证书", "Certificate of Achievement")
    if lang == "en":
        first, second = second, first
    assert html.index(first) < html.index(second)
    for words in (
        LEARNER_NAME,
        "智能仓储管理",
        "Smart Warehouse Management",
        "示范培训中心1号",
        "Demo Training Centre 1",
        "3 ECTS",
        "EQF 5",
    ):
        assert words in html
    [svg] = inline_svgs(html)
    assert qr_text_of_svg(svg) == f"{BASE}/v/{issued['id']}"
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_bearer_certificate_is_the_learners_own(
    client: FlaskClient, holder: Holder
) -> None:
    mine = holder.credentials[0]["id"]
    base = f"/learners/{holder.id}/certificates"

    own = client.get(f"{base}/{mine}", headers=holder.caller.headers)
    other = client.get(f"{base}/{holder.other['id']}", headers=holder.caller.headers)

    assert own.status_code == 200
    assert other.status_code == 404
