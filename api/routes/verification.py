"""W3C VC-API verification: POST /credentials/verify and /presentations/verify.

Public, no token. The request is parsed here rather than by a marshmallow schema:
the credential is an open JSON-LD document that no schema describes, and it must be
verified exactly as it came. A request that is not a verification request at all is
a 400 problem; a credential that does not verify is a 200 answer saying so.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import orjson
from flask import Response, request

from api.context import services
from api.problems import problem
from api.routes.credential_schemas import CREDENTIAL_EXAMPLE
from api.smorest import Blueprint
from api.verification import (
    MAX_DEPTH,
    allowed_hosts,
    service_facts,
    too_deep,
    verify_here,
)
from verify.local import service_resolver
from verify.presentation import verify_presentation

__all__ = ["MAX_DEPTH", "MAX_VERIFY_BYTES", "answer", "blp", "read_json_body"]

blp = Blueprint("verification", __name__, description="Verification (VC-API)")

# A credential, even with evidence and a long achievement, is a few kB; a
# presentation of a hundred of them stays well inside this.
MAX_VERIFY_BYTES = 1024 * 1024
_TOO_DEEP = f"expected JSON nested at most {MAX_DEPTH} levels deep"


class CheckSchema(ma.Schema):
    """One step of the procedure (DESIGN §6), with its stable code."""

    step = ma.fields.Integer(required=True)
    check = ma.fields.String(required=True)
    outcome = ma.fields.String(
        required=True,
        metadata={"enum": ["passed", "failed", "cannot-check", "not-applicable"]},
    )
    code = ma.fields.String(required=True)
    message = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), required=True
    )
    detail = ma.fields.Raw(required=True, allow_none=True)
    warning = ma.fields.Boolean(required=True)


class _ResultSchema(ma.Schema):
    verified = ma.fields.Boolean(required=True)
    verdict = ma.fields.String(
        required=True, metadata={"enum": ["valid", "invalid", "valid-with-warnings"]}
    )
    checks = ma.fields.List(ma.fields.Nested(CheckSchema), required=True)
    problemDetails = ma.fields.List(ma.fields.Dict(), required=True)


class VerificationResultSchema(_ResultSchema):
    """VC-API VerificationResult, with the verdict and the warnings' codes."""

    warnings = ma.fields.List(ma.fields.String(), required=True)


class PresentationResultSchema(_ResultSchema):
    """VC-API VerifyPresentationResult, with every credential's result."""

    credentialResults = ma.fields.List(
        ma.fields.Nested(VerificationResultSchema), required=True
    )


_HOLDER_EXAMPLE = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
_CHECK_EXAMPLE = {
    "step": 3,
    "check": "signature",
    "outcome": "passed",
    "code": "signature.valid",
    "message": {"zh": "签名有效", "en": "The signature is valid"},
    "detail": "did:web:127.0.0.1%3A8000:issuers:demo-college#key-1",
    "warning": False,
}
_RESULT_EXAMPLE = {
    "verified": True,
    "verdict": "valid",
    "checks": [_CHECK_EXAMPLE],
    "warnings": [],
    "problemDetails": [],
}


class BadBody(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def answer(result: dict[str, Any]) -> Response:
    """A verification result as the 200 answer, written as it is.

    The result is already what VerificationResultSchema documents (a test holds
    the two together), so it is not passed through the schema again: on a hot path
    a marshmallow dump of every check cost a sixth of a verification.
    """
    return Response(orjson.dumps(result), 200, mimetype="application/json")


def read_json_body(max_bytes: int = MAX_VERIFY_BYTES) -> Any:
    """The request's JSON, refusing more than `max_bytes` (413) and anything
    nested deeper than MAX_DEPTH (400) before any work is done on it."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BadBody(413, f"expected at most {max_bytes} bytes")
    data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BadBody(413, f"expected at most {max_bytes} bytes")
    try:
        # The C decoder stops at Python's recursion limit with a RecursionError.
        body = json.loads(data)
    except RecursionError as exc:
        raise BadBody(400, _TOO_DEEP) from exc
    except ValueError as exc:
        raise BadBody(400, "expected a JSON body") from exc
    if too_deep(body):
        raise BadBody(400, _TOO_DEEP)
    return body


@blp.route("/credentials/verify", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["verifiableCredential"],
                    "properties": {
                        "verifiableCredential": {
                            "oneOf": [
                                {"type": "object"},
                                {"type": "string", "description": "a compact JWT"},
                            ]
                        },
                        "options": {"type": "object"},
                    },
                },
                "example": {"verifiableCredential": CREDENTIAL_EXAMPLE},
            }
        },
    },
)
@blp.response(200, VerificationResultSchema, example=_RESULT_EXAMPLE)
@blp.problems(400, 413, 503)
def verify_credential_route() -> Response | tuple[dict[str, Any], int]:
    """Verify a credential (embedded proof, or an enveloped vc+jwt) and answer
    `{verified, verdict, checks, warnings, problemDetails}`."""
    try:
        body = read_json_body()
    except BadBody as exc:
        return problem(exc.status, str(exc))
    if not isinstance(body, dict) or "verifiableCredential" not in body:
        return problem(400, "expected {verifiableCredential, options}")
    given = body["verifiableCredential"]
    if not isinstance(given, (dict, str)):
        return problem(400, "expected verifiableCredential as an object or a JWT")
    if not isinstance(body.get("options", {}), dict):
        return problem(400, "expected options as an object")
    result = verify_here(services(), given, learner_names=False)
    return answer(result.to_json())


@blp.route("/presentations/verify", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    # A proofless presentation comes as `presentation` instead.
                    "oneOf": [
                        {"required": ["verifiablePresentation"]},
                        {"required": ["presentation"]},
                    ],
                    "properties": {
                        "verifiablePresentation": {"type": "object"},
                        "presentation": {"type": "object"},
                        "options": {
                            "type": "object",
                            # null is taken as not given
                            "properties": {
                                "challenge": {"type": ["string", "null"]},
                                "domain": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
                "example": {
                    "verifiablePresentation": {
                        "@context": ["https://www.w3.org/ns/credentials/v2"],
                        "type": ["VerifiablePresentation"],
                        "holder": _HOLDER_EXAMPLE,
                        "verifiableCredential": [CREDENTIAL_EXAMPLE],
                        "proof": {
                            "type": "DataIntegrityProof",
                            "cryptosuite": "eddsa-rdfc-2022",
                            "proofPurpose": "authentication",
                            "challenge": "b7e1c0de",
                            "domain": "employer.example.com",
                            "proofValue": "z3Fq…",
                        },
                    },
                    "options": {
                        "challenge": "b7e1c0de",
                        "domain": "employer.example.com",
                    },
                },
            }
        },
    },
)
@blp.response(
    200,
    PresentationResultSchema,
    example={
        "verified": True,
        "verdict": "valid",
        "checks": [{**_CHECK_EXAMPLE, "check": "presentation"}],
        "credentialResults": [_RESULT_EXAMPLE],
        "problemDetails": [],
    },
)
@blp.problems(400, 413, 503)
def verify_presentation_route() -> Response | tuple[dict[str, Any], int]:
    """Verify a presentation (its proof, challenge and domain) and each credential
    in it; a proofless one comes as `presentation`."""
    try:
        body = read_json_body()
    except BadBody as exc:
        return problem(exc.status, str(exc))
    if not isinstance(body, dict):
        return problem(400, "expected {verifiablePresentation, options}")
    if "verifiablePresentation" in body and "presentation" in body:
        return problem(400, "expected verifiablePresentation or presentation, not both")
    given = body.get("verifiablePresentation", body.get("presentation"))
    if not isinstance(given, dict):
        return problem(400, "expected verifiablePresentation as an object")
    options = body.get("options", {})
    if not isinstance(options, dict):
        return problem(400, "expected options as an object")
    challenge, domain = options.get("challenge"), options.get("domain")
    for name, value in (("challenge", challenge), ("domain", domain)):
        if value is not None and not isinstance(value, str):
            return problem(400, f"expected options.{name} as a string")
    app = services()
    with service_facts(app) as facts:
        result = verify_presentation(
            given,
            challenge=challenge,
            domain=domain,
            resolver=service_resolver(facts, app.config.base_url, allowed_hosts(app)),
            facts=facts,
            now=datetime.now(UTC),
        )
    return answer(result.to_json())
