"""The verification page (`/v/<id>`) and the paste-or-upload form (`/verify`).

What an employer reads: the verdict first, in words in both languages; the learner
only as the issuer allows; every value escaped; no script; small enough for a phone.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from api.services import Services
from issuers.issuance import IssuedCredential
from tests.conftest import (
    LEARNER_NAME,
    Caller,
    application,
    approve,
    award,
    award_request,
    submit,
)
from tests.verify.test_security import did_key_signed

RDFC, JCS, JWT = "eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"
MAX_PAGE_BYTES = 30 * 1024

VERDICT_WORDS = {
    "valid": {"zh": "有效", "en": "Valid"},
    "invalid": {"zh": "无效", "en": "Not valid"},
    "valid-with-warnings": {"zh": "有效，但请注意", "en": "Valid, with warnings"},
}
LANGS = ["zh", "en"]

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror=alert(1)>'
# What Jinja's autoescaping (markupsafe) makes of them.
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
BREAKOUT_ESCAPED = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


def page(client: FlaskClient, credential_id: str, lang: str) -> TestResponse:
    return client.get(f"/v/{credential_id}", query_string={"lang": lang})


def verdict_of(response: TestResponse) -> tuple[str, str]:
    """(the verdict's colour class, its words) as the page shows them."""
    html = response.get_data(as_text=True)
    found = re.search(
        r'<section id="verdict" class="verdict ([a-z-]+)".*?'
        r'<span class="words">([^<]*)</span>',
        html,
        re.S,
    )
    assert found, html[:2000]
    return found.group(1), found.group(2)


def set_status(
    client: FlaskClient, issuer: Caller, credential_id: str, action: str
) -> None:
    answer = client.post(
        "/credentials/status",
        json={"credentialId": credential_id, "action": action, "reason": "test"},
        headers=issuer.headers,
    )
    assert answer.status_code == 200, answer.get_json()


def set_privacy(client: FlaskClient, caller: Caller, slug: str, display: str) -> None:
    answer = client.put(
        f"/issuers/{slug}/privacy",
        json={"learnerDisplay": display},
        headers=caller.headers,
    )
    assert answer.status_code == 200, answer.get_json()


def retire(client: FlaskClient, admin: Caller, achievement: str) -> None:
    answer = client.post(
        f"/achievements/{achievement}/retire",
        json={"reason": "programme closed"},
        headers=admin.headers,
    )
    assert answer.status_code == 200, answer.get_json()


def tamper_stored(services: Services, credential_id: str) -> None:
    """Change the stored credential as someone with database access might."""
    with services.database.transaction(write=True) as session:
        record = session.scalars(
            select(IssuedCredential).where(IssuedCredential.id == credential_id)
        ).one()
        secured = json.loads(json.dumps(record.secured))
        secured[RDFC]["credentialSubject"]["creditsEarned"] = 30
        record.secured = secured


def post_text(client: FlaskClient, text: str, lang: str = "en") -> TestResponse:
    return client.post(
        "/verify",
        data={"credential": text},
        query_string={"lang": lang},
        content_type="multipart/form-data",
    )


# The verdict, in both languages.


@pytest.mark.parametrize("lang", LANGS)
def test_a_valid_credential_says_valid_first(
    client: FlaskClient, issued: dict[str, Any], lang: str
) -> None:
    response = page(client, issued["id"], lang)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert verdict_of(response) == ("valid", VERDICT_WORDS["valid"][lang])
    html = response.get_data(as_text=True)
    assert html.index('id="verdict"') < html.index("<h1>")
    assert response.headers["Content-Language"] == ("zh-CN" if lang == "zh" else "en")
    assert html.count('<li class="passed') == 10


@pytest.mark.parametrize(
    ("action", "code_words"),
    [
        ("revoke", {"zh": "已被颁发机构撤销", "en": "Revoked by the issuer"}),
        ("suspend", {"zh": "已被颁发机构暂停", "en": "Suspended by the issuer"}),
    ],
)
@pytest.mark.parametrize("lang", LANGS)
def test_revoked_and_suspended_say_not_valid_and_why(
    client: FlaskClient,
    issuer: Caller,
    issued: dict[str, Any],
    action: str,
    code_words: dict[str, str],
    lang: str,
) -> None:
    set_status(client, issuer, issued["id"], action)

    response = page(client, issued["id"], lang)

    assert verdict_of(response) == ("invalid", VERDICT_WORDS["invalid"][lang])
    verdict_box = response.get_data(as_text=True).split("</section>")[0]
    assert code_words[lang] in verdict_box
    # The signature held: what the credential says is what its issuer said.
    assert {"zh": "未能证实", "en": "not confirmed"}[lang] not in (
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize("lang", LANGS)
def test_a_retired_course_is_valid_with_a_warning(
    client: FlaskClient,
    admin: Caller,
    issued: dict[str, Any],
    approved_achievement: str,
    lang: str,
) -> None:
    retire(client, admin, approved_achievement)

    response = page(client, issued["id"], lang)

    assert verdict_of(response) == (
        "valid-with-warnings",
        VERDICT_WORDS["valid-with-warnings"][lang],
    )
    verdict_box = response.get_data(as_text=True).split("</section>")[0]
    assert {"zh": "停办", "en": "retired"}[lang] in verdict_box


@pytest.mark.parametrize("lang", LANGS)
def test_a_tampered_stored_credential_says_not_valid(
    client: FlaskClient, services: Services, issued: dict[str, Any], lang: str
) -> None:
    tamper_stored(services, issued["id"])

    response = page(client, issued["id"], lang)

    assert verdict_of(response) == ("invalid", VERDICT_WORDS["invalid"][lang])
    verdict_box = response.get_data(as_text=True).split("</section>")[0]
    assert {"zh": "签名无效", "en": "signature is not valid"}[lang] in verdict_box
    # What an invalid credential says is labelled as a claim, not a fact.
    assert {"zh": "未能证实", "en": "not confirmed"}[lang] in response.get_data(
        as_text=True
    )


def test_the_language_follows_accept_language_and_defaults_to_chinese(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    english = client.get(f"/v/{issued['id']}", headers={"Accept-Language": "en-GB"})
    unsaid = client.get(f"/v/{issued['id']}")

    assert verdict_of(english)[1] == "Valid"
    assert '<a href="?lang=zh" hreflang="zh-CN">中文</a>' in english.get_data(
        as_text=True
    )
    assert verdict_of(unsaid)[1] == "有效"
    assert '<a href="?lang=en" hreflang="en">English</a>' in unsaid.get_data(
        as_text=True
    )


@pytest.mark.parametrize("lang", LANGS)
def test_an_unknown_credential_is_a_404_page_in_its_language(
    client: FlaskClient, lang: str
) -> None:
    response = page(client, "urn:uuid:00000000-0000-4000-8000-000000000000", lang)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert {"zh": "找不到这份凭证", "en": "No such credential"}[lang] in (
        response.get_data(as_text=True)
    )
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


# The page itself: small, scriptless, locked down, with a download link.


def test_the_page_is_small_scriptless_and_locked_down(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    for lang in LANGS:
        response = page(client, issued["id"], lang)
        body = response.get_data()

        assert len(body) < MAX_PAGE_BYTES
        assert b"<script" not in body.lower()
        assert not re.search(rb"<[^>]+\son[a-z]+=", body)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "script-src" not in policy
        assert "form-action 'self'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_links_the_credential_for_download(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    html = page(client, issued["id"], "en").get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)" download>', html)

    assert len(links) == 3
    for link in links:
        assert link.startswith(f"/credentials/{issued['id']}?format=")
        got = client.get(link.replace("&amp;", "&"))
        assert got.status_code == 200
    jwt = client.get(f"/credentials/{issued['id']}?format=vc%2Bjwt")
    assert jwt.get_data(as_text=True) == issued["credential"][JWT]


# The learner's name, as the issuer chooses.


@pytest.mark.parametrize(
    ("display", "shown", "not_shown"),
    [
        ("hidden", "The issuer chose not to show", ["王", "*"]),
        ("masked", "王*琳", [LEARNER_NAME]),
        ("full", LEARNER_NAME, ["王*琳"]),
    ],
)
def test_the_learner_is_shown_as_the_issuer_chose(
    client: FlaskClient,
    issuer: Caller,
    issued: dict[str, Any],
    display: str,
    shown: str,
    not_shown: list[str],
) -> None:
    if display != "masked":
        set_privacy(client, issuer, issuer.subject or "", display)

    html = page(client, issued["id"], "en").get_data(as_text=True)
    learner = re.search(r'<dd id="learner">(.*?)</dd>', html, re.S)

    assert learner is not None
    assert shown in learner.group(1)
    for text in not_shown:
        assert text not in learner.group(1)
    if display != "full":
        assert LEARNER_NAME not in html


def test_the_default_is_masked(client: FlaskClient, issued: dict[str, Any]) -> None:
    html = page(client, issued["id"], "zh").get_data(as_text=True)

    assert '<dd id="learner">王*琳' in html
    assert LEARNER_NAME not in html


# Script injection through every field a credential or an issuer can carry.


@pytest.fixture
def hostile(client: FlaskClient, reviewers: list[Caller]) -> tuple[Caller, Any]:
    """An accredited issuer whose names, course and learner all carry markup,
    and a credential it awarded with hostile evidence too."""
    issuer_name = {"zh": f"机构{SCRIPT}", "en": f"Org {ATTRIBUTE_BREAKOUT}"}
    answer = client.post(
        "/issuers", json=application(7, name=issuer_name, slug="centre-7")
    )
    assert answer.status_code == 201, answer.get_json()
    caller = Caller(answer.get_json()["token"], answer.get_json()["slug"])
    approve(client, f"/issuers/{caller.subject}", reviewers[:2])
    achievement = submit(
        client,
        caller,
        name={"zh": f"课程{ATTRIBUTE_BREAKOUT}", "en": f"Course {SCRIPT}"},
        description={"zh": SCRIPT, "en": ATTRIBUTE_BREAKOUT},
        criteria={"en": SCRIPT},
    )
    approve(client, f"/achievements/{achievement}", reviewers[:2])
    set_privacy(client, caller, caller.subject or "", "full")
    issued = award(
        client,
        caller,
        award_request(
            achievement,
            learner={"email": "x@example.com", "name": f"{SCRIPT}{ATTRIBUTE_BREAKOUT}"},
            evidence=[
                {
                    "id": "https://example.com/e",
                    "name": SCRIPT,
                    "narrative": ATTRIBUTE_BREAKOUT,
                }
            ],
            formats=[RDFC, JWT],
        ),
    )
    return caller, issued


def assert_only_escaped(html: str) -> None:
    assert SCRIPT not in html
    assert ATTRIBUTE_BREAKOUT not in html
    assert "<img" not in html
    assert "<script" not in html.lower()


@pytest.mark.parametrize("lang", LANGS)
def test_markup_in_every_field_is_shown_escaped(
    client: FlaskClient, hostile: tuple[Caller, Any], lang: str
) -> None:
    _, issued = hostile

    html = page(client, issued["id"], lang).get_data(as_text=True)

    assert_only_escaped(html)
    # The course, the issuer and the learner are shown, as text.
    assert SCRIPT_ESCAPED in html
    assert BREAKOUT_ESCAPED in html
    assert f'<dd id="learner">{SCRIPT_ESCAPED}{BREAKOUT_ESCAPED}' in html


def test_markup_in_a_pasted_credential_is_shown_escaped(
    client: FlaskClient, hostile: tuple[Caller, Any]
) -> None:
    _, issued = hostile
    credential = json.loads(json.dumps(issued["credential"][RDFC]))
    credential["name"] = SCRIPT
    credential["issuer"]["name"] = ATTRIBUTE_BREAKOUT
    credential["validFrom"] = SCRIPT
    credential["id"] = ATTRIBUTE_BREAKOUT

    response = post_text(client, json.dumps(credential))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_only_escaped(html)
    assert verdict_of(response)[0] == "invalid"


def _alignment(credential: dict[str, Any], framework: str) -> dict[str, Any]:
    alignments = credential["credentialSubject"]["achievement"]["alignment"]
    found: dict[str, Any] = next(
        a for a in alignments if a["targetFramework"] == framework
    )
    return found


def _in_credits(credential: dict[str, Any]) -> None:
    credential["credentialSubject"]["creditsEarned"] = SCRIPT


def _in_unit(credential: dict[str, Any]) -> None:
    _alignment(credential, "credit-unit")["targetCode"] = ATTRIBUTE_BREAKOUT


def _in_level(credential: dict[str, Any]) -> None:
    _alignment(credential, "EQF")["targetCode"] = SCRIPT


def _in_awarded_date(credential: dict[str, Any]) -> None:
    credential["awardedDate"] = ATTRIBUTE_BREAKOUT


def _in_valid_until(credential: dict[str, Any]) -> None:
    credential["validUntil"] = SCRIPT


def _in_evidence(credential: dict[str, Any]) -> None:
    credential["evidence"] = [
        {
            "id": f"https://example.com/{ATTRIBUTE_BREAKOUT}",
            "type": ["Evidence"],
            "name": SCRIPT,
            "narrative": ATTRIBUTE_BREAKOUT,
        }
    ]


def _in_the_method_detail(credential: dict[str, Any]) -> None:
    # The step 2 line names the credential's issuer: "the issuer is ...".
    credential["issuer"]["id"] = f"did:example:{SCRIPT}"


def _in_the_status_detail(credential: dict[str, Any]) -> None:
    # The step 6 line names the list it could not read.
    status = credential["credentialStatus"]
    entry = status[0] if isinstance(status, list) else status
    entry["statusListCredential"] = f"https://lists.example/{SCRIPT}"


def _in_the_format_message(credential: dict[str, Any]) -> None:
    # The step 1 line names the cryptosuite in its message.
    credential["proof"]["cryptosuite"] = ATTRIBUTE_BREAKOUT


# Where each field's markup must show, escaped. The page does not show evidence:
# there the markup must only not get through.
_HOSTILE_FIELDS: list[tuple[Any, str | None]] = [
    (_in_credits, f"<dd>{SCRIPT_ESCAPED} ECTS</dd>"),
    (_in_unit, f" {BREAKOUT_ESCAPED}</dd>"),
    (_in_level, f"<dd>EQF {SCRIPT_ESCAPED}</dd>"),
    (_in_awarded_date, f"<dd>{BREAKOUT_ESCAPED}</dd>"),
    (_in_valid_until, f"<dd>{SCRIPT_ESCAPED}</dd>"),
    (_in_evidence, None),
    (_in_the_method_detail, f"the issuer is did:example:{SCRIPT_ESCAPED}</small>"),
    (_in_the_status_detail, f"https://lists.example/{SCRIPT_ESCAPED}"),
    (_in_the_format_message, f"Data Integrity proof, {BREAKOUT_ESCAPED})"),
]


@pytest.mark.parametrize(
    ("put", "shown"),
    [
        pytest.param(put, shown, id=put.__name__.removeprefix("_in_"))
        for put, shown in _HOSTILE_FIELDS
    ],
)
def test_markup_in_each_displayed_field_of_a_pasted_credential_is_escaped(
    client: FlaskClient,
    issued: dict[str, Any],
    put: Any,
    shown: str | None,
) -> None:
    credential = json.loads(json.dumps(issued["credential"][RDFC]))
    put(credential)

    response = post_text(client, json.dumps(credential))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_only_escaped(html)
    assert not re.search(r"<[^>]+\son[a-z]+=", html)
    if shown is not None:
        assert shown in html
    assert verdict_of(response)[0] == "invalid"


def test_a_huge_name_is_shown_clipped_and_the_page_stays_small(
    client: FlaskClient,
) -> None:
    name = "Welding " + "x" * 200_000
    credential = did_key_signed(RDFC, name=name)

    response = post_text(client, json.dumps(credential))

    assert response.status_code == 200
    assert len(response.get_data()) < MAX_PAGE_BYTES
    html = response.get_data(as_text=True)
    # Shown, as far as it goes, and marked as cut short.
    assert re.search(r"<dd>Welding x{50,}…</dd>", html)
    assert verdict_of(response)[0] == "valid"


def test_every_field_filled_to_the_brim_still_gives_a_small_page(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    # '"' is escaped to five bytes, the most any character costs.
    big = '"' * 30_000
    credential = json.loads(json.dumps(issued["credential"][RDFC]))
    achievement = credential["credentialSubject"]["achievement"]
    credential.update(
        id=f"urn:{big}", name=big, validFrom=big, validUntil=big, awardedDate=big
    )
    credential["issuer"].update(id=f"did:example:{big}", name=big)
    achievement.update(id=f"https://example.com/{big}", name=big)
    credential["credentialSubject"]["creditsEarned"] = big
    _alignment(credential, "credit-unit")["targetCode"] = big
    _alignment(credential, "EQF")["targetCode"] = big
    credential["credentialStatus"] = [
        {**status_entry, "statusListCredential": f"https://{n}.example/{big}"}
        for n, status_entry in enumerate(
            [credential["credentialStatus"][0]] * 3
            if isinstance(credential["credentialStatus"], list)
            else [credential["credentialStatus"]] * 3
        )
    ]
    credential["proof"]["cryptosuite"] = big

    for lang in LANGS:
        response = post_text(client, json.dumps(credential), lang)

        assert response.status_code == 200
        assert verdict_of(response)[0] == "invalid"
        assert len(response.get_data()) < MAX_PAGE_BYTES, len(response.get_data())
        assert response.get_data(as_text=True).count("…") >= 10


def test_markup_in_a_page_address_is_not_reflected(client: FlaskClient) -> None:
    response = client.get(f"/v/{SCRIPT}", query_string={"lang": ATTRIBUTE_BREAKOUT})

    assert response.status_code == 404
    assert_only_escaped(response.get_data(as_text=True))


# POST /verify.


@pytest.mark.parametrize("form", [RDFC, JCS])
def test_pasted_json_is_verified(
    client: FlaskClient, issued: dict[str, Any], form: str
) -> None:
    response = post_text(client, json.dumps(issued["credential"][form], indent=2))

    assert response.status_code == 200
    assert verdict_of(response) == ("valid", "Valid")
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_a_pasted_jwt_is_verified(client: FlaskClient, issued: dict[str, Any]) -> None:
    response = post_text(client, f"\n  {issued['credential'][JWT]}  \n", lang="zh")

    assert verdict_of(response) == ("valid", "有效")
    assert "JWT" in response.get_data(as_text=True)


def test_an_enveloped_jwt_and_a_vc_api_request_are_verified(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    enveloped = f"data:application/vc+jwt,{issued['credential'][JWT]}"
    request = json.dumps({"verifiableCredential": issued["credential"][RDFC]})

    assert verdict_of(post_text(client, enveloped)) == ("valid", "Valid")
    assert verdict_of(post_text(client, request)) == ("valid", "Valid")


def test_an_uploaded_file_is_verified(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    data = json.dumps(issued["credential"][RDFC]).encode()

    response = client.post(
        "/verify?lang=en",
        data={"file": (io.BytesIO(b"\xef\xbb\xbf" + data), "credential.json")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    assert verdict_of(response) == ("valid", "Valid")


def test_an_urlencoded_form_is_verified(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    response = client.post(
        "/verify?lang=en", data={"credential": issued["credential"][JWT]}
    )

    assert verdict_of(response) == ("valid", "Valid")


@pytest.mark.parametrize("lang", LANGS)
def test_a_pasted_revoked_credential_is_unmistakably_not_valid(
    client: FlaskClient, issuer: Caller, issued: dict[str, Any], lang: str
) -> None:
    set_status(client, issuer, issued["id"], "revoke")

    response = post_text(client, json.dumps(issued["credential"][RDFC]), lang)

    assert verdict_of(response) == ("invalid", VERDICT_WORDS["invalid"][lang])
    verdict_box = response.get_data(as_text=True).split("</section>")[0]
    assert {"zh": "请勿采信", "en": "Do not rely on"}[lang] in verdict_box


@pytest.mark.parametrize("lang", LANGS)
def test_a_pasted_tampered_credential_is_not_valid(
    client: FlaskClient, issued: dict[str, Any], lang: str
) -> None:
    credential = issued["credential"][JCS]
    credential["credentialSubject"]["creditsEarned"] = 30

    response = post_text(client, json.dumps(credential), lang)

    assert verdict_of(response) == ("invalid", VERDICT_WORDS["invalid"][lang])
    # The page shows what the credential claims (30), labelled as unconfirmed.
    html = response.get_data(as_text=True)
    assert {"zh": "未能证实", "en": "not confirmed"}[lang] in html
    assert "<dd>30 ECTS</dd>" in html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "No credential was received"),
        ("   \n\t ", "No credential was received"),
        ("hello, I am a credential", "neither a JSON credential nor a JWT"),
        ("{not json", "neither a JSON credential nor a JWT"),
        ("eyJhbGciOi.only-two-parts", "neither a JSON credential nor a JWT"),
        ("[1, 2, 3]", "expected the JSON to be one credential object"),
        ("[" * 100 + "]" * 100, "expected the JSON to be one credential object"),
        ('{"a":' * 40 + "1" + "}" * 40, "nested too deeply"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
    ],
)
def test_empty_or_unreadable_input_is_a_400_page(
    client: FlaskClient, text: str, message: str
) -> None:
    response = post_text(client, text)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert message in html
    assert "Traceback" not in html
    assert 'href="/verify?lang=en"' in html


def test_a_400_page_speaks_chinese_too(client: FlaskClient) -> None:
    response = post_text(client, "", lang="zh")

    assert response.status_code == 400
    assert "没有收到凭证" in response.get_data(as_text=True)


def test_a_file_that_is_not_utf8_is_a_400_page(client: FlaskClient) -> None:
    response = client.post(
        "/verify?lang=en",
        data={"file": (io.BytesIO(b"\xff\xfe{\x00}"), "credential.json")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "not UTF-8 text" in response.get_data(as_text=True)


@pytest.mark.parametrize("how", ["pasted", "uploaded", "urlencoded"])
def test_more_than_1_mb_is_a_413_page(client: FlaskClient, how: str) -> None:
    big = "x" * (1024 * 1024 + 1)
    if how == "pasted":
        response = post_text(client, big)
    elif how == "uploaded":
        response = client.post(
            "/verify?lang=en",
            data={"file": (io.BytesIO(big.encode()), "big.json")},
            content_type="multipart/form-data",
        )
    else:
        response = client.post("/verify?lang=en", data={"credential": big})

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "larger than 1 MB" in response.get_data(as_text=True)


def test_a_body_without_a_length_is_capped_too(client: FlaskClient) -> None:
    def chunks() -> Any:
        for _ in range(1100):
            yield b"x" * 1024

    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n'
    ).encode()
    body = io.BytesIO(head + b"".join(chunks()) + f"\r\n--{boundary}--\r\n".encode())

    response = client.post(
        "/verify?lang=en",
        input_stream=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Transfer-Encoding": "chunked",
        },
        # What a WSGI server sets when it has de-chunked the body itself.
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert response.status_code == 413


def test_the_form_has_no_script_and_posts_here(client: FlaskClient) -> None:
    for lang in LANGS:
        response = client.get("/verify", query_string={"lang": lang})
        html = response.get_data(as_text=True)

        assert response.status_code == 200
        assert "<script" not in html.lower()
        assert f'action="/verify?lang={lang}"' in html
        assert 'enctype="multipart/form-data"' in html
        assert 'name="credential"' in html
        assert 'name="file"' in html
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_result_of_a_post_switches_language_through_the_form(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    html = post_text(client, issued["credential"][JWT], "en").get_data(as_text=True)

    assert '<a href="/verify?lang=zh" hreflang="zh-CN">中文</a>' in html


def test_a_paste_just_under_1_mb_is_read(client: FlaskClient) -> None:
    # Werkzeug keeps form text to 500 kB unless told; the page allows 1 MB.
    response = post_text(client, "x" * 1_000_000)

    assert response.status_code == 400
    assert "neither a JSON credential nor a JWT" in response.get_data(as_text=True)
