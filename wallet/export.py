"""Building a learner's `credbank-wallet/v1` file from the database (DESIGN §8).

Reads only. Everything a verifier needs without a network goes in: each credential
in every form it was issued in, its logged entry and a tlog-proof under one signed
checkpoint, the issuers' DID documents, the status lists as they stand, and the
learner's credit-transfer statements, with an unsigned presentation of the
credentials. A subset export carries nothing about the credentials left out.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credentials.digest import credential_digest
from credits.models import Transfer
from issuers.did import SERVICE_KEY_OWNER, did_document, issuer_did, service_did
from issuers.errors import NotFoundError
from issuers.issuance import IssuedCredential
from issuers.learners import Learner
from issuers.registry import issuer_key_owner
from issuers.status_lists import StatusList, status_list_url
from keys.store import StoredKey
from ledger import TLogProof, TransparencyLog
from ledger.models import LogEntry
from wallet.format import DATA_INTEGRITY_FORMS, FORMAT, JWT

__all__ = ["VC2_CONTEXT", "export_wallet", "learner_credentials", "presented_form"]

VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
# VC Data Model 2.0 §4.13: how a presentation carries a credential secured as a JWT.
_ENVELOPE_PREFIX = "data:application/vc+jwt,"

logger = logging.getLogger(__name__)


def export_wallet(
    session: Session,
    *,
    log: TransparencyLog,
    base_url: str,
    learner_id: str,
    credential_ids: Sequence[str] | None = None,
    now: datetime,
) -> dict[str, Any]:
    """The wallet of `learner_id`: every credential, or only `credential_ids`.

    Raises:
        NotFoundError: no such learner, or a credential id that is not one of the
            learner's (the message does not say which of the two).
    """
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFoundError(f"no learner {learner_id!r}")
    records = learner_credentials(session, learner_id, credential_ids)
    statements = _statements(session, learner_id, records, subset=bool(credential_ids))

    checkpoint = log.latest_checkpoint(session)
    size = checkpoint.tree_size
    indexes = [r.log_index for r in records] + [t.log_index for t in statements]
    entries = _entry_bytes(session, indexes)

    def logged(index: int) -> dict[str, str]:
        proof = TLogProof(
            index, tuple(log.inclusion_proof(session, index, size)), checkpoint.note
        )
        return {
            "logEntry": base64.b64encode(entries[index]).decode(),
            "tlogProof": proof.to_text(),
        }

    items = [
        {
            "id": r.id,
            "digest": r.digest,
            "secured": dict(r.secured),
            **logged(r.log_index),
        }
        for r in records
    ]
    statement_items = [
        {
            "id": t.statement_id,
            "digest": credential_digest(t.statement),
            "secured": {"eddsa-jcs-2022": t.statement},
            **logged(t.log_index),
        }
        for t in statements
    ]

    slugs = sorted({r.issuer_slug for r in records})
    owners = {issuer_did(base_url, slug): issuer_key_owner(slug) for slug in slugs}
    if statements:
        owners[service_did(base_url)] = SERVICE_KEY_OWNER
    holder = learner.did if learner.did and learner.did.startswith("did:key:") else None
    moment = _timestamp(now)
    wallet = {
        "format": FORMAT,
        "exportedAt": moment,
        "statusAsOf": moment,
        "subset": bool(credential_ids),
        "holder": holder,
        "log": {"verifierKey": log.verifier_key, "checkpoint": checkpoint.note},
        "credentials": items,
        "statements": statement_items,
        "didDocuments": _did_documents(session, owners),
        "statusLists": _status_lists(session, base_url, records),
        "presentation": _presentation(holder, items),
    }
    logger.info(
        "exported a wallet of learner %s: %d credentials, %d statements, tree size %d",
        learner_id,
        len(items),
        len(statement_items),
        size,
    )
    return wallet


def presented_form(secured: Mapping[str, Any]) -> Any:
    """The form a presentation carries of one credential: a Data Integrity form
    when there is one, else the vc+jwt as an EnvelopedVerifiableCredential."""
    for form in DATA_INTEGRITY_FORMS:
        if form in secured:
            return secured[form]
    return {
        "@context": [VC2_CONTEXT],
        "type": "EnvelopedVerifiableCredential",
        "id": _ENVELOPE_PREFIX + str(secured[JWT]),
    }


def learner_credentials(
    session: Session, learner_id: str, wanted: Sequence[str] | None
) -> list[IssuedCredential]:
    query = select(IssuedCredential).where(IssuedCredential.learner_id == learner_id)
    if wanted:
        ids = sorted({_urn(credential_id) for credential_id in wanted})
        query = query.where(IssuedCredential.id.in_(ids))
    # docs/wallet-format.md §2: in the order the log recorded them (its indexes
    # are unique, so nothing ties).
    records = list(session.scalars(query.order_by(IssuedCredential.log_index)))
    if wanted and len(records) != len({_urn(c) for c in wanted}):
        found = {r.id for r in records}
        missing = next(c for c in wanted if _urn(c) not in found)
        raise NotFoundError(f"no credential {missing!r} of this learner")
    return records


def _statements(
    session: Session,
    learner_id: str,
    records: Sequence[IssuedCredential],
    *,
    subset: bool,
) -> list[Transfer]:
    transfers = list(
        session.scalars(
            select(Transfer)
            .where(Transfer.learner_id == learner_id)
            .order_by(Transfer.log_index)
        )
    )
    if not subset:
        return transfers
    # A statement names the digests of its sources: one that used a credential
    # left out would name it, so only statements wholly within the subset go in.
    digests = {r.digest for r in records}
    return [t for t in transfers if _sources(t.statement) <= digests]


def _sources(statement: Mapping[str, Any]) -> set[str]:
    subject = statement.get("credentialSubject", {})
    grants = subject.get("grants", []) if isinstance(subject, Mapping) else []
    return {
        str(source)
        for grant in grants
        if isinstance(grant, Mapping)
        for source in grant.get("sources", [])
    }


def _entry_bytes(session: Session, indexes: Iterable[int]) -> dict[int, bytes]:
    wanted = sorted(set(indexes))
    found: dict[int, bytes] = {}
    # Chunks stay far below SQLite's limit on bound parameters.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(LogEntry.idx, LogEntry.data).where(LogEntry.idx.in_(chunk))
        )
        found.update((int(idx), bytes(data)) for idx, data in rows)
    return found


def _did_documents(
    session: Session, owners: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    documents = {}
    for did, owner in sorted(owners.items()):
        keys = list(
            session.scalars(
                select(StoredKey)
                .where(StoredKey.owner == owner)
                .order_by(StoredKey.created_at, StoredKey.id)
            )
        )
        if keys:
            documents[did] = did_document(did, keys)
    return documents


def _status_lists(
    session: Session, base_url: str, records: Sequence[IssuedCredential]
) -> dict[str, dict[str, Any]]:
    ids = sorted(
        {r.revocation_list for r in records} | {r.suspension_list for r in records}
    )
    if not ids:
        return {}
    lists = session.scalars(select(StatusList).where(StatusList.id.in_(ids)))
    return {
        status_list_url(base_url, found.id): found.signed_credential
        for found in sorted(lists, key=lambda found: found.id)
        if found.signed_credential is not None
    }


def _presentation(
    holder: str | None, items: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    presentation: dict[str, Any] = {
        "@context": [VC2_CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiablePresentation"],
    }
    if holder is not None:
        presentation["holder"] = holder
    presentation["verifiableCredential"] = [
        presented_form(item["secured"]) for item in items
    ]
    return presentation


def _urn(credential_id: str) -> str:
    return (
        credential_id
        if credential_id.startswith("urn:uuid:")
        else (f"urn:uuid:{credential_id}")
    )


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
