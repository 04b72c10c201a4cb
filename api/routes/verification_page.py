"""The verification page an employer sees: `/v/<credential id>` and `/verify`.

Public, HTML only, no JavaScript. `/v/<id>` verifies the stored credential; `/verify`
takes a pasted or uploaded one. Both run the one procedure of DESIGN §6 and render
its verdict first, then what the credential says, then every check. Every value goes
through Jinja's autoescaping, and a Content-Security-Policy forbids scripts anyway.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from flask import Response, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from api.context import services
from api.pages import page_language, render_page
from api.routes.verification import MAX_VERIFY_BYTES
from api.routes.verification_text import VERIFICATION_TEXT
from api.routes.wallet_page import is_wallet_submission, wallet_page
from api.smorest import HTML_PAGE, LANG, Blueprint, html_example
from api.verification import too_deep, verify_here
from issuers.errors import NotFoundError
from issuers.issuance import RDFC, get_credential
from issuers.models import Issuer
from verify.messages import VERDICTS
from verify.result import (
    CANNOT_CHECK,
    FAILED,
    INVALID,
    PASSED,
    Check,
    Summary,
    VerificationResult,
)
from wallet.format import MAX_WALLET_BYTES

__all__ = ["blp"]

blp = Blueprint("verification_page", __name__, description="Verification pages (HTML)")

# A compact JWS (RFC 7515 §7.1): three base64url parts, the last may be empty.
_COMPACT_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# VC Data Model 2.0 §4.13: an enveloped credential's id carries the JWT this way.
_JWT_DATA_URL = "data:application/vc+jwt,"

# The outcome of each check as a symbol, beside its word and its colour.
_MARKS = {"passed": "✓", "failed": "✗", "cannot-check": "?", "not-applicable": "–"}

_JWT_EXAMPLE = "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCJ9.eyJAY29udGV4dCI6W119.c2ln"

# The most the page shows of one value a credential can choose (a name, a date, a
# check's detail), in characters. Escaping can make one character five bytes, so a
# pasted credential filling every field still leaves the page under its 30 kB.
_SHOWN = 120
_SHOWN_DETAIL = 200


class _Line(NamedTuple):
    """One check as the page shows it, its words clipped."""

    outcome: str
    warning: bool
    message: str
    detail: str


# The multipart framing around an uploaded file (boundaries, part headers, the
# `credential` field): a few hundred bytes in practice.
_MULTIPART_OVERHEAD = 64 * 1024
# Every wallet names its format (docs/wallet-format.md §2) with this string.
_WALLET_MARK = b'"credbank-wallet/'


class _BadSubmission(Exception):
    """What was posted to /verify cannot be verified; `reason` keys the words."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@blp.route("/v/<path:credential_id>")
@blp.response(
    200,
    HTML_PAGE,
    content_type="text/html",
    description="The verdict, what the credential says, and every check",
    example=html_example("有效 Valid"),
)
@blp.error_pages(404)
@blp.problems(503)
@blp.doc(parameters=[LANG])
def credential_page(credential_id: str) -> Response:
    """The verification page of a credential issued here (what its QR code opens)."""
    app = services()
    with app.database.transaction() as session:
        try:
            record = get_credential(session, credential_id)
        except NotFoundError:
            return _message_page("not_found_title", "not_found", 404)
        record_id, secured = record.id, record.secured
        issuer = session.get(Issuer, record.issuer_slug)
        display = issuer.learner_display if issuer else "hidden"
    form = RDFC if RDFC in secured else next(iter(secured))
    result = verify_here(app, secured[form])
    downloads = [
        (
            name,
            url_for(
                "credentials.show_credential", credential_id=record_id, format=name
            ),
        )
        for name in secured
    ]
    return _result_page(
        result,
        credential_id=record_id,
        downloads=downloads,
        learner_hidden=display == "hidden",
        cache="no-cache",
    )


@blp.route("/verify", methods=["GET"])
@blp.response(
    200, HTML_PAGE, content_type="text/html", example=html_example("验证 Verify")
)
@blp.doc(parameters=[LANG])
def verify_form() -> Response:
    """A form to paste or upload a credential (JSON or JWT) and verify it."""
    return render_page("verify_form.html", t=_text())


@blp.route("/verify", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "credential": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                    },
                },
                "example": {"credential": _JWT_EXAMPLE},
            },
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"credential": {"type": "string"}},
                },
                "example": {"credential": _JWT_EXAMPLE},
            },
        },
    },
    parameters=[LANG],
)
@blp.response(
    200,
    HTML_PAGE,
    content_type="text/html",
    description="The same page as /v/<id>; a wallet gets a block per item",
    example=html_example("无效 Invalid"),
)
@blp.error_pages(400, 413)
@blp.problems(503)
def verify_submission() -> Response:
    """Verify a pasted (`credential`) or uploaded (`file`) credential, at most
    1 MB, and show the same page as `/v/<id>`; a wallet gets a block per item,
    and may be uploaded up to 32 MB."""
    try:
        given = _read_submission()
    except _BadSubmission as exc:
        return _message_page("error_title", exc.reason, exc.status, form_link=True)
    if is_wallet_submission(given):
        return wallet_page(given)
    result = verify_here(services(), given)
    return _result_page(result, submitted=True, cache="no-store")


def _read_submission() -> Any:
    """The credential posted to /verify: a JSON object or a compact JWT.

    What is pasted, and any uploaded file that is not a wallet, is held to
    MAX_VERIFY_BYTES; an uploaded wallet may be as large as its format allows
    (docs/wallet-format.md §2, MAX_WALLET_BYTES).
    """
    # Only a multipart body can carry a file; any other keeps the smaller cap.
    uploading = request.mimetype == "multipart/form-data"
    limit = MAX_WALLET_BYTES + _MULTIPART_OVERHEAD if uploading else MAX_VERIFY_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise _BadSubmission(413, "too-large")
    # Flask 3.1 lets one view set its own cap (the app-wide one is sized for
    # batch CSV uploads); fields other than files stay in memory, so they keep
    # the smaller one.
    request.max_content_length = limit
    request.max_form_memory_size = MAX_VERIFY_BYTES
    try:
        upload = request.files.get("file")
        pasted = request.form.get("credential", "")
    except RequestEntityTooLarge as exc:
        raise _BadSubmission(413, "too-large") from exc
    large = False
    if upload is not None and upload.filename:
        data = upload.read(MAX_WALLET_BYTES + 1)
        large = len(data) > MAX_VERIFY_BYTES
        # Only a wallet may be large: one that does not even name the format is
        # refused before it is parsed.
        if len(data) > MAX_WALLET_BYTES or (large and _WALLET_MARK not in data):
            raise _BadSubmission(413, "too-large")
        try:
            pasted = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _BadSubmission(400, "not-utf8") from exc
    given = _parse(pasted.strip())
    if large and not is_wallet_submission(given):
        raise _BadSubmission(413, "too-large")
    return given


def _parse(text: str) -> Any:
    if not text:
        raise _BadSubmission(400, "empty")
    if text[0] in "{[":
        try:
            # The C decoder stops at Python's recursion limit with a RecursionError.
            value = json.loads(text)
        except RecursionError as exc:
            raise _BadSubmission(400, "too-deep") from exc
        except ValueError as exc:
            raise _BadSubmission(400, "unreadable") from exc
        if not isinstance(value, dict):
            raise _BadSubmission(400, "not-object")
        if too_deep(value):
            raise _BadSubmission(400, "too-deep")
        # A VC-API verify request pasted whole: verify the credential inside it.
        inner = value.get("verifiableCredential")
        if "@context" not in value and isinstance(inner, (dict, str)):
            return inner
        return value
    token = text.removeprefix(_JWT_DATA_URL)
    if _COMPACT_JWT.fullmatch(token):
        return token
    raise _BadSubmission(400, "unreadable")


def _result_page(
    result: VerificationResult,
    *,
    credential_id: str = "",
    downloads: list[tuple[str, str]] | None = None,
    learner_hidden: bool = False,
    submitted: bool = False,
    cache: str,
) -> Response:
    lang = page_language()
    verdict = result.verdict
    if verdict == INVALID:
        reasons = [c for c in result.checks if c.outcome == FAILED]
        # An essential check that could not be made fails the verdict without a
        # failed line (verify/result.py); name it rather than show no reason.
        reasons = reasons or [c for c in result.checks if c.outcome != PASSED]
    else:
        reasons = [c for c in result.checks if c.warning or c.outcome == CANNOT_CHECK]
    summary = _clipped(result.summary)
    # Unless the signature held, what the credential says is only what it claims.
    confirmed = any(
        c.check == "signature" and c.outcome == PASSED for c in result.checks
    )
    response = render_page(
        "verification.html",
        t=_text(),
        verdict=verdict,
        confirmed=confirmed,
        verdict_words=VERDICTS[verdict][lang],
        reasons=[_clip(c.message(lang)) for c in reasons],
        checks=[_line(c, lang) for c in result.checks],
        marks=_MARKS,
        summary=summary,
        issuer_name=(summary.issuer_zh if lang == "zh" else summary.issuer)
        or summary.issuer
        or summary.issuer_zh,
        dates={
            "awarded": _clip(_day(result.summary.awarded)),
            "valid_from": _clip(_day(result.summary.valid_from)),
            "valid_until": _clip(_day(result.summary.valid_until)),
        },
        credential_id=_clip(
            credential_id
            or _text_of(result.credential.get("id") if result.credential else "")
        ),
        downloads=downloads or [],
        learner_hidden=learner_hidden,
        submitted=submitted,
    )
    response.headers["Cache-Control"] = cache
    return response


def _message_page(
    title: str, reason: str, status: int, *, form_link: bool = False
) -> Response:
    t = _text()
    message = t["errors"].get(reason) or t[reason]
    response = render_page(
        "verification_message.html",
        t=t,
        title=t[title],
        message=message,
        form_link=form_link,
    )
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _clip(value: str, limit: int = _SHOWN) -> str:
    """`value`, or its first `limit` characters ending in an ellipsis."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _clipped(summary: Summary) -> Summary:
    shown = {
        f.name: _clip(getattr(summary, f.name)) for f in dataclasses.fields(summary)
    }
    return dataclasses.replace(summary, **shown)


def _line(check: Check, lang: str) -> _Line:
    return _Line(
        check.outcome,
        check.warning,
        _clip(check.message(lang)),
        _clip(check.detail, _SHOWN_DETAIL),
    )


def _text() -> Mapping[str, Any]:
    return VERIFICATION_TEXT[page_language()]


def _day(value: str) -> str:
    """An RFC 3339 date-time as its UTC date; anything else as it came."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date().isoformat()


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""
