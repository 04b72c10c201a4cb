"""The learner's wallet over HTTP (DESIGN §8, §9): the `credbank-wallet/v1` file
and the CLR 2.0 ClrCredential, each for the learner's own token only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import Response

from api.auth import LEARNER, current_principal, requires
from api.context import services
from api.routes.credential_schemas import CREDENTIAL_EXAMPLE
from api.smorest import Blueprint
from api.statements import statement_signer
from issuers.errors import ForbiddenError
from wallet.clr import clr_credential
from wallet.export import export_wallet

__all__ = ["WALLET_EXAMPLE", "WalletSchema", "blp", "wallet_download"]

blp = Blueprint("wallet", __name__, description="The learner's portable wallet")

_MAX_CHOSEN = 1000


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
    """A CLR 2.0 ClrCredential, signed with eddsa-jcs-2022."""

    context = ma.fields.List(ma.fields.Raw(), data_key="@context", required=True)
    id = ma.fields.String(required=True)
    type = ma.fields.List(ma.fields.String(), required=True)
    issuer = ma.fields.Raw(required=True)
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

_CLR_EXAMPLE = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    ],
    "id": "urn:uuid:2c4e6a8b-0d1f-4a3c-8e5b-7d9f1b3d5f7a",
    "type": ["VerifiableCredential", "ClrCredential"],
    "issuer": {"id": "did:web:127.0.0.1%3A8000", "type": ["Profile"]},
    "credentialSubject": {
        "type": ["ClrSubject"],
        "verifiableCredential": [CREDENTIAL_EXAMPLE],
    },
    "proof": CREDENTIAL_EXAMPLE["proof"],
}


class ChoiceQuery(ma.Schema):
    credential = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        validate=ma.validate.Length(max=_MAX_CHOSEN),
        metadata={"description": "a credential id; repeat for a subset"},
    )


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
@blp.problems(404)
def clr_file(query: dict[str, Any], learner_id: str) -> Response:
    """The learner's credentials as one CLR 2.0 ClrCredential signed by the
    service's did:web."""
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


def _download(document: Any, name: str, media_type: str) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False, indent=1),
        mimetype=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
