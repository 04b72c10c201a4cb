"""Awarding credentials, changing their status, and serving status lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import Response, jsonify, request

from api.auth import ADMIN, ISSUER, current_principal, requires
from api.context import services
from api.problems import problem_status
from api.routes.credential_schemas import (
    AWARD_EXAMPLE,
    BATCH_CSV_EXAMPLE,
    CREDENTIAL_EXAMPLE,
    ISSUED_EXAMPLE,
    STATUS_LIST_EXAMPLE,
    BatchAnswerSchema,
    IssueAnswerSchema,
    IssuedSchema,
    StatusAnswerSchema,
    VerifiableCredentialSchema,
)
from api.smorest import TEXT, Blueprint
from api.verification import JSON_TOO_DEEP, too_deep
from credentials.status_list import REVOCATION, SUSPENSION
from issuers.awards import AwardSchema, to_award
from issuers.batch import RowOutcome, issue_batch, rows_from_csv
from issuers.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from issuers.issuance import FORMATS, RDFC, IssuedCredential, get_credential
from issuers.standard import CleanString
from issuers.status_lists import STATUS_TTL_MS, StatusList, status_list_url
from verify.qr import qr_png, qr_svg, verification_url
from wallet.claim_links import batch_claim_urls, claim_url, create_claim_link

blp = Blueprint("credentials", __name__, description="Credentials")

_QR_EXAMPLE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 49 49">'
    '<title>http://127.0.0.1:8000/v/urn:uuid:6f1d…</title><path d="M4 4h7v7H4z"/>'
    "</svg>"
)
_JWT_EXAMPLE = ISSUED_EXAMPLE["credential"]["vc+jwt"]


class IssueOptionsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    formats = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(FORMATS)),
        validate=ma.validate.Length(min=1, max=len(FORMATS)),
    )


class IssueRequestSchema(ma.Schema):
    """VC-API IssueCredentialRequest: a credential to secure, and options."""

    class Meta:
        unknown = ma.RAISE

    credential = ma.fields.Dict(required=True)
    options = ma.fields.Nested(IssueOptionsSchema, load_default=dict)


class JsonBoolean(ma.fields.Boolean):
    """A JSON `true` or `false`, nothing that merely looks like one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **_: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class CredentialStatusSchema(ma.Schema):
    """The `credentialStatus` of a VC-API UpdateCredentialStatusRequest."""

    class Meta:
        unknown = ma.RAISE

    type = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["BitstringStatusList", "BitstringStatusListEntry"]),
    )
    statusPurpose = ma.fields.String(
        required=True, validate=ma.validate.OneOf([REVOCATION, SUSPENSION])
    )
    id = CleanString(max_length=300)
    statusListIndex = CleanString(max_length=20)
    statusListCredential = CleanString(max_length=300)


class StatusChangeSchema(ma.Schema):
    """A status change in either of two shapes.

    The VC-API shape (UpdateCredentialStatusRequest in w3c-ccg/vc-api):
    `{credentialId, credentialStatus: {type, statusPurpose}, status}`, where
    `status` is the bit to set; `reason` may be added. The short shape:
    `{credentialId, action: revoke | suspend | reinstate, reason}`.
    Both load as `{credentialId, action, reason}`.
    """

    class Meta:
        unknown = ma.RAISE

    credentialId = CleanString(max_length=100, required=True)
    action = ma.fields.String(
        validate=ma.validate.OneOf(["revoke", "suspend", "reinstate"])
    )
    credentialStatus = ma.fields.Nested(CredentialStatusSchema)
    status = JsonBoolean()
    reason = CleanString(max_length=1000)

    @ma.validates_schema
    def _one_shape(self, data: dict[str, Any], **_: Any) -> None:
        if "action" in data:
            stray = {"credentialStatus", "status"} & data.keys()
            if stray:
                raise ma.ValidationError(
                    "give either action or credentialStatus and status, not both",
                    sorted(stray)[0],
                )
            if "reason" not in data:
                raise ma.ValidationError("a reason is required", "reason")
        elif "credentialStatus" not in data:
            raise ma.ValidationError(
                "give action, or credentialStatus and status", "action"
            )
        elif "status" not in data:
            raise ma.ValidationError("the bit to set is required", "status")

    @ma.post_load
    def _to_action(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "action" in data:
            return data
        entry = data.pop("credentialStatus")
        purpose, value = entry["statusPurpose"], data.pop("status")
        if purpose == REVOCATION:
            action = "revoke" if value else "unrevoke"
        else:
            action = "suspend" if value else "reinstate"
        return {**data, "action": action, "entry": entry}


@blp.route("/credentials/award", methods=["POST"])
@requires(ISSUER)
@blp.arguments(AwardSchema, example=AWARD_EXAMPLE)
@blp.response(201, IssuedSchema, example=ISSUED_EXAMPLE)
@blp.alt_response(
    200,
    schema=IssuedSchema,
    description="A replay (same idempotency key and content): the credential "
    "issued the first time",
    example=ISSUED_EXAMPLE,
    success=True,
)
@blp.problems(404, 409)
def award(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Award an approved achievement to a learner; answers every secured form."""
    app = services()
    principal = current_principal()
    slug = principal.subject
    assert slug is not None
    raw = request.get_json()
    now = _now()
    with app.database.transaction(write=True) as session:
        result = app.issuance.award(session, slug, to_award(data, raw), now=now)
        body = _issued(result.credential)
        learner_id = result.credential.learner_id
        # A replay gets a fresh link, as the first answer may be lost (a batch
        # gets one per learner: wallet.claim_links.batch_claim_urls).
        if learner_id is not None:
            secret, _ = create_claim_link(
                session, learner_id, created_by=principal.token_id, now=now
            )
            body["claimUrl"] = claim_url(app.config.base_url, secret)
    return body, 201 if result.created else 200


@blp.route("/credentials/issue", methods=["POST"])
@requires(ISSUER)
@blp.arguments(
    IssueRequestSchema,
    example={
        "credential": {
            key: CREDENTIAL_EXAMPLE[key]
            for key in ("@context", "type", "name", "credentialSubject")
        },
        "options": {"formats": ["eddsa-rdfc-2022"]},
    },
)
@blp.response(
    201,
    IssueAnswerSchema,
    example={**ISSUED_EXAMPLE, "verifiableCredential": CREDENTIAL_EXAMPLE},
)
@blp.problems(409)
def issue(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """W3C VC-API issue: secure a credential the caller built; the service adds
    the issuer, id, status entries and proof, and logs its digest."""
    app = services()
    slug = current_principal().subject
    assert slug is not None
    formats = data["options"].get("formats") or [RDFC]
    with app.database.transaction(write=True) as session:
        record = app.issuance.issue_document(
            session, slug, data["credential"], formats, now=_now()
        )
        body = _issued(record)
    first = body["credential"][formats[0]]
    if isinstance(first, str):
        # VC Data Model 2.0 §4.13: an enveloped credential carries the JWT.
        first = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": f"data:application/vc+jwt,{first}",
            "type": "EnvelopedVerifiableCredential",
        }
    return {"verifiableCredential": first, **body}, 201


@blp.route("/credentials/batch", methods=["POST"])
@requires(ISSUER)
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": AwardSchema, "maxItems": 10000},
                "example": [AWARD_EXAMPLE],
            },
            "text/csv": {"schema": TEXT, "example": BATCH_CSV_EXAMPLE},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                },
                "example": {"file": BATCH_CSV_EXAMPLE},
            },
        },
    }
)
@blp.response(
    200,
    BatchAnswerSchema,
    example={
        "issued": 1,
        "existing": 0,
        "failed": 1,
        "rows": [
            {
                "row": 1,
                "status": "issued",
                "id": ISSUED_EXAMPLE["id"],
                "digest": ISSUED_EXAMPLE["digest"],
                "verificationUrl": ISSUED_EXAMPLE["verificationUrl"],
                "claimUrl": "http://127.0.0.1:8000/me/clm_EXAMPLEonlyEXAMPLEonly",
            },
            {
                "row": 2,
                "error": {
                    "type": "http://127.0.0.1:8000/problems#invalid-input",
                    "title": "The input is invalid",
                    "status": 400,
                    "detail": "achievement: no achievement 'ach-0000'",
                },
            },
        ],
    },
)
@blp.problems(400)
def batch() -> dict[str, Any]:
    """Issue up to 10,000 awards (a JSON list, or CSV as the body or a `file`);
    every row is answered with its credential or its error."""
    app = services()
    slug = current_principal().subject
    assert slug is not None
    rows = _batch_rows()
    now = _now()
    outcomes = issue_batch(app.database, app.issuance, slug, rows, now=now)
    base = app.config.base_url
    answers = [_row_answer(outcome, base) for outcome in outcomes]
    # As for a single award: each learner's way to their page (one per learner).
    links = batch_claim_urls(
        app.database,
        outcomes,
        base_url=base,
        created_by=current_principal().token_id,
        now=now,
    )
    for answer in answers:
        if answer["row"] in links:
            answer["claimUrl"] = links[answer["row"]]
    return {
        "issued": sum(a.get("status") == "issued" for a in answers),
        "existing": sum(a.get("status") == "existing" for a in answers),
        "failed": sum("error" in a for a in answers),
        "rows": answers,
    }


@blp.route("/credentials/status", methods=["POST"])
@requires(ADMIN, ISSUER)
@blp.arguments(
    StatusChangeSchema,
    example={
        "credentialId": ISSUED_EXAMPLE["id"],
        "credentialStatus": {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
        },
        "status": True,
        "reason": "Awarded in error (assessment record 2026-113).",
    },
)
@blp.response(
    200,
    StatusAnswerSchema,
    example={"credentialId": ISSUED_EXAMPLE["id"], "status": "revoked"},
)
@blp.problems(404, 409)
def change_status(data: dict[str, Any]) -> dict[str, Any]:
    """Revoke (final), suspend or reinstate a credential, with a reason;
    takes the VC-API request shape or the short one."""
    app = services()
    principal = current_principal()
    with app.database.transaction(write=True) as session:
        record = get_credential(session, data["credentialId"])
        if principal.role == ISSUER and principal.subject != record.issuer_slug:
            raise ForbiddenError("this credential was issued by another issuer")
        if "entry" in data:
            _check_named_entry(data["entry"], record, app.config.base_url)
        if data["action"] == "unrevoke":
            raise ConflictError("revocation is final: its bit is never cleared")
        record = app.issuance.change_status(
            session,
            record.id,
            action=data["action"],
            reason=data.get("reason", "no reason given"),
            now=_now(),
        )
        return {"credentialId": record.id, "status": record.status}


def _check_named_entry(
    entry: dict[str, Any], record: IssuedCredential, base: str
) -> None:
    """A VC-API request may name the status entry; it must be this credential's."""
    if entry["statusPurpose"] == REVOCATION:
        list_id, index = record.revocation_list, record.revocation_index
    else:
        list_id, index = record.suspension_list, record.suspension_index
    expected = {
        "statusListCredential": status_list_url(base, list_id),
        "statusListIndex": str(index),
    }
    expected["id"] = f"{expected['statusListCredential']}#{index}"
    for name, value in expected.items():
        if name in entry and entry[name] != value:
            raise InvalidInputError(
                {f"credentialStatus.{name}": f"this credential's entry has {value!r}"}
            )


@blp.route("/credentials/<path:credential_id>/qr.svg")
@blp.response(200, TEXT, content_type="image/svg+xml", example=_QR_EXAMPLE)
@blp.problems(404, 500, 503)
def qr_code_svg(credential_id: str) -> Response:
    """QR code of the verification URL (error correction M, version 6 at most)."""
    url = _verification_url_of(credential_id)
    return Response(
        qr_svg(url),
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@blp.route("/credentials/<path:credential_id>/qr.png")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="image/png")
@blp.problems(404, 500, 503)
def qr_code_png(credential_id: str) -> Response:
    """The same QR code as a PNG, for printing."""
    url = _verification_url_of(credential_id)
    return Response(
        qr_png(url),
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@blp.route("/credentials/<path:credential_id>")
@blp.response(
    200,
    VerifiableCredentialSchema,
    content_type="application/vc+ld+json",
    example=CREDENTIAL_EXAMPLE,
)
@blp.alt_response(
    200,
    schema=TEXT,
    content_type="application/vc+jwt",
    description="The vc+jwt form, a compact JWS",
    example=_JWT_EXAMPLE,
    success=True,
)
@blp.problems(404, 503)
@blp.doc(
    parameters=[
        {
            "in": "query",
            "name": "format",
            "schema": {"type": "string", "enum": list(FORMATS)},
            "description": "one of the forms the credential was issued in",
        }
    ]
)
def show_credential(credential_id: str) -> Response:
    """The credential as issued: `?format=` one of its secured forms (default the
    first one asked for at issuance)."""
    app = services()
    with app.database.transaction() as session:
        secured = get_credential(session, credential_id).secured
    # A '+' in a query string arrives as a space ("vc+jwt" unencoded). An empty
    # `format=` names no form: a 404 like any other unknown one, not the default.
    form = request.args.get("format", next(iter(secured))).replace(" ", "+")
    if form not in secured:
        raise NotFoundError(
            f"no {form!r} form of this credential; it has {', '.join(secured)}"
        )
    value = secured[form]
    if isinstance(value, str):
        return Response(value, content_type="application/vc+jwt")
    response = jsonify(value)
    response.content_type = "application/vc+ld+json"
    return response


@blp.route("/status/<list_id>")
@blp.response(
    200,
    VerifiableCredentialSchema,
    content_type="application/vc+ld+json",
    example=STATUS_LIST_EXAMPLE,
    headers={
        "ETag": {"schema": {"type": "string"}},
        "Cache-Control": {"schema": {"type": "string"}},
    },
)
@blp.alt_response(304, "NOT_MODIFIED", success=True)
@blp.problems(404, 503)
@blp.doc(
    parameters=[
        {
            "in": "header",
            "name": "If-None-Match",
            "schema": {"type": "string"},
            "description": "the ETag of a copy held; 304 if it is still current",
        }
    ]
)
def status_list(list_id: str) -> Response:
    """A signed BitstringStatusListCredential (Bitstring Status List v1.0 §2.2)."""
    app = services()
    with app.database.transaction() as session:
        found = session.get(StatusList, list_id)
        if found is None or found.signed_credential is None:
            raise NotFoundError(f"no status list {list_id!r}")
        etag, body = f'"{found.version}"', found.signed_credential
    if request.if_none_match.contains_weak(etag.strip('"')):
        return Response(status=304, headers={"ETag": etag})
    response = jsonify(body)
    response.content_type = "application/vc+ld+json"
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={STATUS_TTL_MS // 1000}"
    return response


def _batch_rows() -> list[dict[str, Any]]:
    upload = request.files.get("file")
    if upload is not None:
        return rows_from_csv(_utf8(upload.read()))
    if request.mimetype == "text/csv":
        return rows_from_csv(_utf8(request.get_data()))
    try:
        body = request.get_json(silent=True)
    except RecursionError as exc:
        # The C decoder stops at Python's recursion limit.
        raise InvalidInputError({"body": JSON_TOO_DEEP}) from exc
    if not isinstance(body, list):
        raise InvalidInputError(
            {"body": "expected a JSON list of awards, CSV, or a CSV file upload"}
        )
    if too_deep(body):
        raise InvalidInputError({"body": JSON_TOO_DEEP})
    return body


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError({"csv": "expected UTF-8 text"}) from exc


def _row_answer(outcome: RowOutcome, base_url: str) -> dict[str, Any]:
    if outcome.error is not None:
        status, code, title = problem_status(outcome.error)
        answer: dict[str, Any] = {
            "row": outcome.row,
            "error": {
                "type": f"{base_url}/problems#{code}",
                "title": title,
                "status": status,
                "detail": str(outcome.error),
            },
        }
        if isinstance(outcome.error, InvalidInputError):
            answer["error"]["errors"] = outcome.error.errors
        return answer
    assert outcome.result is not None
    record = outcome.result.credential
    return {
        "row": outcome.row,
        "status": "issued" if outcome.result.created else "existing",
        "id": record.id,
        "digest": record.digest,
        "verificationUrl": verification_url(base_url, record.id),
    }


def _verification_url_of(credential_id: str) -> str:
    app = services()
    with app.database.transaction() as session:
        record = get_credential(session, credential_id)
    return verification_url(app.config.base_url, record.id)


def _issued(record: IssuedCredential) -> dict[str, Any]:
    base = services().config.base_url
    return {
        "id": record.id,
        "digest": record.digest,
        "logIndex": record.log_index,
        "verificationUrl": verification_url(base, record.id),
        "qr": {
            "svg": f"{base}/credentials/{record.id}/qr.svg",
            "png": f"{base}/credentials/{record.id}/qr.png",
        },
        "credential": record.secured,
    }


def _now() -> datetime:
    return datetime.now(UTC)
