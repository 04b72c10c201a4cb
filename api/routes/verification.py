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

from flask import Response, request

from api.context import services
from api.problems import problem
from api.smorest import Blueprint
from api.verification import MAX_DEPTH, allowed_hosts, too_deep, verify_here
from verify.local import ServiceFacts, service_resolver
from verify.presentation import verify_presentation

__all__ = ["MAX_DEPTH", "MAX_VERIFY_BYTES", "blp", "read_json_body"]

blp = Blueprint("verification", __name__, description="Verification (VC-API)")

# A credential, even with evidence and a long achievement, is a few kB; a
# presentation of a hundred of them stays well inside this.
MAX_VERIFY_BYTES = 1024 * 1024
_TOO_DEEP = f"expected JSON nested at most {MAX_DEPTH} levels deep"

_RESULT_SCHEMA = {
    "type": "object",
    "properties": {
        "verified": {"type": "boolean"},
        "verdict": {"enum": ["valid", "invalid", "valid-with-warnings"]},
        "checks": {"type": "array", "items": {"type": "object"}},
        "problemDetails": {"type": "array", "items": {"type": "object"}},
    },
}


class BadBody(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


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
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["verifiableCredential"],
                    "properties": {
                        "verifiableCredential": {"type": "object"},
                        "options": {"type": "object"},
                    },
                }
            }
        }
    },
    responses={"200": {"content": {"application/json": {"schema": _RESULT_SCHEMA}}}},
)
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
    return result.to_json(), 200


@blp.route("/presentations/verify", methods=["POST"])
@blp.doc(
    requestBody={
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "verifiablePresentation": {"type": "object"},
                        "presentation": {"type": "object"},
                        "options": {
                            "type": "object",
                            "properties": {
                                "challenge": {"type": "string"},
                                "domain": {"type": "string"},
                            },
                        },
                    },
                }
            }
        }
    },
    responses={"200": {"content": {"application/json": {"schema": _RESULT_SCHEMA}}}},
)
def verify_presentation_route() -> Response | tuple[dict[str, Any], int]:
    """Verify a presentation (its proof, challenge and domain) and each credential
    in it; a proofless one comes as `presentation`."""
    try:
        body = read_json_body()
    except BadBody as exc:
        return problem(exc.status, str(exc))
    if not isinstance(body, dict):
        return problem(400, "expected {verifiablePresentation, options}")
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
    with app.database.transaction() as session:
        facts = ServiceFacts(
            session,
            base_url=app.config.base_url,
            log=app.log,
            keystore=app.keystore,
            learner_names=False,
        )
        result = verify_presentation(
            given,
            challenge=challenge,
            domain=domain,
            resolver=service_resolver(facts, app.config.base_url, allowed_hosts(app)),
            facts=facts,
            now=datetime.now(UTC),
        )
    return result.to_json(), 200
