"""The service's own identity: its did:web, its key, and its DID document.

Credit-transfer statements are issued by the service itself (DESIGN §7), not by an
issuer. Its key is made on first use and logged like every other key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services import Services
from credits.transfers import StatementSigner
from issuers.did import SERVICE_KEY_OWNER, did_document, multikey_method_id, service_did
from issuers.registry import key_added_entry
from keys import ED25519, StoredKey

__all__ = ["service_document", "statement_signer"]


def statement_signer(
    app: Services, session: Session, *, now: datetime
) -> StatementSigner:
    """The service's active Ed25519 key, created (and logged) on first use."""
    key = app.keystore.active_key(session, SERVICE_KEY_OWNER)
    if key is None:
        key = app.keystore.create_key(
            session, owner=SERVICE_KEY_OWNER, algorithm=ED25519, now=now
        )
        app.log.append(session, [key_added_entry(key, now)], now=now)
    did = service_did(app.config.base_url)
    return StatementSigner(
        did=did,
        verification_method=multikey_method_id(did, key.id),
        signer=app.keystore.signer(key),
    )


def service_document(app: Services, session: Session) -> dict[str, Any] | None:
    """The service's DID document, or None before it has a key."""
    keys = list(
        session.scalars(
            select(StoredKey)
            .where(StoredKey.owner == SERVICE_KEY_OWNER)
            .order_by(StoredKey.created_at, StoredKey.id)
        )
    )
    if not keys:
        return None
    return did_document(service_did(app.config.base_url), keys)
