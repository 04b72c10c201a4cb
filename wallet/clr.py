"""A learner's credentials as one 1EdTech CLR 2.0 `ClrCredential`, signed by the
service (DESIGN §8).

CLR Standard 2.0 §B.1.1 (ClrCredential) and §B.1.2 (ClrSubject): the subject holds
the learner's AchievementCredentials, each exactly as issued (its own proof
intact), and the list of their achievements. The `@context` is the three URLs CLR
2.0 requires, in its order (VC 2.0, CLR 2.0.1, OB 3.0.3), all shipped in
credentials/contexts/, and the credential is signed with eddsa-rdfc-2022 like the
service's other credentials. CLR 2.0 requires at least one credential in the
subject: a learner with none that can be embedded gets an error, never an empty
ClrCredential.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from credentials.data_integrity import EDDSA_RDFC_2022, add_proof
from credentials.loader import CLR_V2P0, OB_V3P0
from credits.transfers import StatementSigner
from issuers.errors import ConflictError, NotFoundError
from issuers.learners import Learner
from wallet.export import VC2_CONTEXT, learner_credentials
from wallet.format import DATA_INTEGRITY_FORMS

__all__ = ["CLR_CONTEXTS", "CLR_TYPE", "clr_credential"]

CLR_TYPE = "ClrCredential"
# CLR 2.0 §B.1.1: `@context` begins with these three, in this order.
CLR_CONTEXTS = (VC2_CONTEXT, CLR_V2P0, OB_V3P0)


def clr_credential(
    session: Session,
    *,
    learner_id: str,
    signer: StatementSigner,
    credential_ids: Sequence[str] | None = None,
    now: datetime,
) -> dict[str, Any]:
    """The signed ClrCredential of `learner_id`'s credentials (or of a subset,
    then marked `partial`).

    A credential issued only as a vc+jwt has no embedded proof a ClrSubject can
    carry, and is left out; `partial` says so.

    Raises:
        NotFoundError: no such learner, or a credential id not theirs.
        ConflictError: nothing to put in the ClrSubject: CLR 2.0 §B.1.2 requires
            at least one credential.
    """
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFoundError(f"no learner {learner_id!r}")
    records = learner_credentials(session, learner_id, credential_ids)
    embedded = [_embeddable(r.secured) for r in records]
    credentials = [c for c in embedded if c is not None]
    if not credentials:
        found = f"got {len(records)}, issued only as vc+jwt" if records else "got none"
        raise ConflictError(
            "expected at least one credential with an embedded proof for a "
            f"ClrCredential (CLR 2.0 §B.1.2), {found}"
        )

    subject: dict[str, Any] = {"type": ["ClrSubject"]}
    if learner.did:
        subject["id"] = learner.did
    else:
        # The learner as their credentials name them: a salted hash, never e-mail.
        identifier = _subject_of(credentials[0]).get("identifier")
        if identifier:
            subject["identifier"] = identifier
    subject["verifiableCredential"] = credentials
    subject["achievement"] = _achievements(credentials)

    moment = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    unsigned = {
        "@context": list(CLR_CONTEXTS),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", CLR_TYPE],
        "issuer": {"id": signer.did, "type": ["Profile"], "name": "credbank"},
        "name": "Comprehensive Learner Record / 综合学习记录",
        "validFrom": moment,
        "partial": bool(credential_ids) or len(credentials) < len(records),
        "credentialSubject": subject,
    }
    return add_proof(
        unsigned,
        signer.signer,
        cryptosuite=EDDSA_RDFC_2022,
        verification_method=signer.verification_method,
        created=moment,
    )


def _embeddable(secured: Mapping[str, Any]) -> dict[str, Any] | None:
    for form in DATA_INTEGRITY_FORMS:
        found = secured.get(form)
        if isinstance(found, dict):
            return found
    return None


def _subject_of(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = credential.get("credentialSubject")
    return subject if isinstance(subject, Mapping) else {}


def _achievements(credentials: Sequence[Mapping[str, Any]]) -> list[Any]:
    found: dict[str, Any] = {}
    for credential in credentials:
        achievement = _subject_of(credential).get("achievement")
        if isinstance(achievement, Mapping) and achievement.get("id") not in found:
            found[str(achievement.get("id"))] = achievement
    return list(found.values())
