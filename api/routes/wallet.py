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
from api.smorest import Blueprint
from api.statements import statement_signer
from issuers.errors import ForbiddenError
from wallet.clr import clr_credential
from wallet.export import export_wallet

__all__ = ["blp", "wallet_download"]

blp = Blueprint("wallet", __name__, description="The learner's portable wallet")

_MAX_CHOSEN = 1000


class ChoiceQuery(ma.Schema):
    credential = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        validate=ma.validate.Length(max=_MAX_CHOSEN),
        metadata={"description": "a credential id; repeat for a subset"},
    )


@blp.route("/learners/<learner_id>/wallet")
@requires(LEARNER)
@blp.arguments(ChoiceQuery, location="query")
@blp.doc(responses={200: {"description": "The credbank-wallet/v1 file"}})
def wallet_file(query: dict[str, Any], learner_id: str) -> Response:
    """The learner's wallet, or a subset of it (`?credential=<id>`, repeated),
    as a download."""
    _check_own(learner_id)
    return wallet_download(learner_id, query.get("credential") or None)


@blp.route("/learners/<learner_id>/clr")
@requires(LEARNER)
@blp.arguments(ChoiceQuery, location="query")
@blp.doc(responses={200: {"description": "A ClrCredential signed by the service"}})
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
