"""The learner's wallet over HTTP (DESIGN §8, §9): the `credbank-wallet/v1` file,
the CLR 2.0 ClrCredential, and the registration of the learner's own did:key (the
wallet's holder), each for the learner's own token only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import Response, request

from api.auth import LEARNER, current_principal, requires
from api.context import services
from api.routes.credential_schemas import CREDENTIAL_EXAMPLE
from api.smorest import Blueprint
from api.statements import statement_signer
from issuers.errors import ForbiddenError
from wallet.clr import CLR_CONTEXTS, clr_credential
from wallet.export import VC2_CONTEXT, export_wallet
from wallet.holder_did import (
    CHALLENGE_TTL,
    issue_did_challenge,
    register_holder_did,
)

__all__ = ["WALLET_EXAMPLE", "WalletSchema", "blp", "wallet_download"]

blp = Blueprint("wallet", __name__, description="The learner's portable wallet")

# Credentials a subset may name in its query: 100 ids of this service's form
# (`urn:uuid:` and 36 characters) fit the request line gunicorn accepts
# (limit_request_line, api/serve.py) with room to spare.
_MAX_CHOSEN = 100


class WalletSchema(ma.Schema):
    """A credbank-wallet/v1 file (docs/wallet-format.md)."""

    format = ma.fields.String(required=True, metadata={"enum": ["credbank-wallet/v1"]})
    exportedAt = ma.fields.String(required=True)
    statusAsOf = ma.fields.String(required=True)
    subset = ma.fields.Boolean(required=True)
    holder = ma.fields.String(required=True, allow_none=True)
    log = ma.fields.Dict(required=True)
    credentials = ma.fields.List(ma.fields.Dict(), required=True)
    statements = ma.fields.List(ma.fields.Dict(), required=True)
    didDocuments = ma.fields.Dict(required=True)
    statusLists = ma.fields.Dict(required=True)
    presentation = ma.fields.Dict(required=True)


class ClrSchema(ma.Schema):
    """A CLR 2.0 ClrCredential (§B.1.1), signed with eddsa-rdfc-2022."""

    context = ma.fields.List(ma.fields.Raw(), data_key="@context", required=True)
    id = ma.fields.String(required=True)
    type = ma.fields.List(ma.fields.String(), required=True)
    issuer = ma.fields.Raw(required=True)
    name = ma.fields.String(required=True)
    validFrom = ma.fields.String(required=True)
    partial_ = ma.fields.Boolean(data_key="partial", required=True)
    credentialSubject = ma.fields.Dict(required=True)
    proof = ma.fields.Raw(required=True)


WALLET_EXAMPLE = {
    "format": "credbank-wallet/v1",
    "exportedAt": "2026-12-01T09:30:00Z",
    "statusAsOf": "2026-12-01T09:30:00Z",
    "subset": False,
    "holder": None,
    "log": {
        "verifierKey": "credbank.test/log+dd1e7a91+AWY4Wq0OiJ6fWbz8x4o9kGyC1n",
        "checkpoint": "credbank.test/log\n42\nqKpV…=\n\n— credbank.test/log 3d7k…=\n",
    },
    "credentials": [
        {
            "id": CREDENTIAL_EXAMPLE["id"],
            "digest": "uEiD3iP2cz1mXkA9bXwCQ1d4kq1Z3mF0sQ0oV8dYk5q0pQw",
            "secured": {"eddsa-rdfc-2022": CREDENTIAL_EXAMPLE},
            "logEntry": "eyJhdCI6Ii4uLiJ9",
            "tlogProof": "c2sp.org/tlog-proof@v1\nindex 7\n…",
        }
    ],
    "statements": [],
    "didDocuments": {},
    "statusLists": {},
    "presentation": {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [CREDENTIAL_EXAMPLE],
    },
}

_SERVICE_DID = "did:web:127.0.0.1%3A8000"
# What clr_credential makes (wallet/clr.py), shortened where marked with "…".
_CLR_EXAMPLE = {
    "@context": list(CLR_CONTEXTS),
    "id": "urn:uuid:2c4e6a8b-0d1f-4a3c-8e5b-7d9f1b3d5f7a",
    "type": ["VerifiableCredential", "ClrCredential"],
    "issuer": {"id": _SERVICE_DID, "type": ["Profile"], "name": "credbank"},
    "name": "Comprehensive Learner Record / 综合学习记录",
    "validFrom": "2026-12-01T09:30:00Z",
    "partial": False,
    "credentialSubject": {
        "type": ["ClrSubject"],
        "identifier": CREDENTIAL_EXAMPLE["credentialSubject"]["identifier"],
        "verifiableCredential": [CREDENTIAL_EXAMPLE],
        "achievement": [CREDENTIAL_EXAMPLE["credentialSubject"]["achievement"]],
    },
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-12-01T09:30:00Z",
        "verificationMethod": f"{_SERVICE_DID}#key-1",
        "proofPurpose": "assertionMethod",
        "proofValue": "z3Fq…",
    },
}


class ChoiceQuery(ma.Schema):
    credential = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        validate=ma.validate.Length(max=_MAX_CHOSEN),
        metadata={"description": "a credential id; repeat for a subset"},
    )


class ChallengeSchema(ma.Schema):
    challenge = ma.fields.String(required=True)
    domain = ma.fields.String(required=True)
    expires = ma.fields.String(required=True)


class HolderPresentationSchema(ma.Schema):
    """A Verifiable Presentation by the did:key to register (VC Data Model 2.0
    §4.13), with a Data Integrity proof: purpose `authentication`, the challenge
    and the domain the service gave."""

    class Meta:
        unknown = ma.INCLUDE

    context = ma.fields.List(ma.fields.Raw(), data_key="@context", required=True)
    type = ma.fields.Raw(required=True)
    holder = ma.fields.String(required=True)
    proof = ma.fields.Dict(required=True)


class HolderDIDSchema(ma.Schema):
    learner = ma.fields.String(required=True)
    did = ma.fields.String(required=True)


_HOLDER_EXAMPLE = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
_CHALLENGE_EXAMPLE = {
    "challenge": "chl_Q2hhbGxlbmdlRVhBTVBMRW9ubHlFWEFNUExF",
    "domain": "http://127.0.0.1:8000",
    "expires": "2026-12-01T09:40:00Z",
}
_PRESENTATION_EXAMPLE = {
    "@context": [VC2_CONTEXT],
    "type": ["VerifiablePresentation"],
    "holder": _HOLDER_EXAMPLE,
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-12-01T09:31:00Z",
        "verificationMethod": f"{_HOLDER_EXAMPLE}#{_HOLDER_EXAMPLE[8:]}",
        "proofPurpose": "authentication",
        "domain": _CHALLENGE_EXAMPLE["domain"],
        "challenge": _CHALLENGE_EXAMPLE["challenge"],
        "proofValue": "z5Ld9EXAMPLEonly",
    },
}


@blp.route("/learners/<learner_id>/wallet")
@requires(LEARNER)
@blp.arguments(ChoiceQuery, location="query")
@blp.response(
    200,
    WalletSchema,
    description="The credbank-wallet/v1 file, as a download",
    example=WALLET_EXAMPLE,
)
@blp.problems(404)
def wallet_file(query: dict[str, Any], learner_id: str) -> Response:
    """The learner's wallet, or a subset of it (`?credential=<id>`, repeated),
    as a download."""
    _check_own(learner_id)
    return wallet_download(learner_id, query.get("credential") or None)


@blp.route("/learners/<learner_id>/clr")
@requires(LEARNER)
@blp.arguments(ChoiceQuery, location="query")
@blp.response(
    200,
    ClrSchema,
    content_type="application/vc",
    description="A ClrCredential signed by the service, as a download",
    example=_CLR_EXAMPLE,
)
@blp.problems(404, 409)
def clr_file(query: dict[str, Any], learner_id: str) -> Response:
    """The learner's credentials as one CLR 2.0 ClrCredential signed by the
    service's did:web; 409 when none can go in (CLR 2.0 requires one)."""
    _check_own(learner_id)
    app = services()
    now = datetime.now(UTC)
    # Write: the service's key is made (and logged) the first time it signs.
    with app.database.transaction(write=True) as session:
        signer = statement_signer(app, session, now=now)
        clr = clr_credential(
            session,
            learner_id=learner_id,
            signer=signer,
            credential_ids=query.get("credential") or None,
            now=now,
        )
    return _download(clr, "credbank-clr.json", "application/vc")


@blp.route("/learners/<learner_id>/did/challenge", methods=["POST"])
@requires(LEARNER)
@blp.response(
    201,
    ChallengeSchema,
    description=f"A challenge to sign, single use, valid "
    f"{int(CHALLENGE_TTL.total_seconds() // 60)} minutes",
    example=_CHALLENGE_EXAMPLE,
)
@blp.problems(404)
def did_challenge(learner_id: str) -> tuple[dict[str, str], int]:
    """A challenge for the learner to sign with the did:key they register."""
    _check_own(learner_id)
    app = services()
    with app.database.transaction(write=True) as session:
        challenge, expires = issue_did_challenge(
            session, learner_id, now=datetime.now(UTC)
        )
    body = {
        "challenge": challenge,
        "domain": app.config.base_url,
        "expires": _stamp(expires),
    }
    return body, 201


@blp.route("/learners/<learner_id>/did", methods=["POST"])
@requires(LEARNER)
@blp.arguments(HolderPresentationSchema, example=_PRESENTATION_EXAMPLE)
@blp.response(
    201,
    HolderDIDSchema,
    description="The did:key is now the learner's, and their wallets' holder",
    example={"learner": "lrn_0123456789abcdef01234567", "did": _HOLDER_EXAMPLE},
)
@blp.alt_response(
    200,
    schema=HolderDIDSchema,
    description="The did:key was the learner's already",
    example={"learner": "lrn_0123456789abcdef01234567", "did": _HOLDER_EXAMPLE},
    success=True,
)
@blp.problems(404, 409)
def register_did(_: dict[str, Any], learner_id: str) -> tuple[dict[str, str], int]:
    """Register the learner's did:key: a presentation signed by that key over a
    challenge from `POST /learners/<id>/did/challenge`, with this service's base
    URL as its domain."""
    _check_own(learner_id)
    app = services()
    with app.database.transaction(write=True) as session:
        registered = register_holder_did(
            session,
            learner_id,
            request.get_json(),
            domain=app.config.base_url,
            now=datetime.now(UTC),
        )
    body = {"learner": registered.learner_id, "did": registered.did}
    return body, 201 if registered.changed else 200


def wallet_download(learner_id: str, credential_ids: list[str] | None) -> Response:
    """The learner's wallet file as a download; the caller has checked who asks
    (a learner's token here, a claim link on the learner's page)."""
    app = services()
    with app.database.transaction() as session:
        wallet = export_wallet(
            session,
            log=app.log,
            base_url=app.config.base_url,
            learner_id=learner_id,
            credential_ids=credential_ids,
            now=datetime.now(UTC),
        )
    return _download(wallet, "credbank-wallet.json", "application/json")


def _check_own(learner_id: str) -> None:
    if current_principal().subject != learner_id:
        raise ForbiddenError("a learner's token acts for that learner only")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _download(document: Any, name: str, media_type: str) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False, indent=1),
        mimetype=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
