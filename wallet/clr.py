"""A learner's credentials as one 1EdTech CLR 2.0 `ClrCredential`, signed by the
service (DESIGN §8).

CLR Standard 2.0 §B.1.1 (ClrCredential) and §B.1.2 (ClrSubject): the subject holds
the learner's AchievementCredentials, each exactly as issued (its own proof
intact), and the list of their achievements. The CLR 2.0 JSON-LD context is not
among the contexts the project ships (DESIGN §4: nothing is fetched), so the
credential names the VC 2.0 and Open Badges 3.0 contexts only and is signed with
eddsa-jcs-2022, which signs the JSON itself; docs/wallet-format.md §7 says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from credentials.data_integrity import EDDSA_JCS_2022, add_proof
from credits.transfers import StatementSigner
from issuers.errors import NotFoundError
from issuers.learners import Learner
from wallet.export import VC2_CONTEXT, learner_credentials
from wallet.format import DATA_INTEGRITY_FORMS

__all__ = ["CLR_TYPE", "OB3_CONTEXT", "clr_credential"]

CLR_TYPE = "ClrCredential"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


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
    """
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFoundError(f"no learner {learner_id!r}")
    records = learner_credentials(session, learner_id, credential_ids)
    embedded = [_embeddable(r.secured) for r in records]
    credentials = [c for c in embedded if c is not None]

    subject: dict[str, Any] = {"type": ["ClrSubject"]}
    if learner.did:
        subject["id"] = learner.did
    elif credentials:
        # The learner as their credentials name them: a salted hash, never e-mail.
        identifier = _subject_of(credentials[0]).get("identifier")
        if identifier:
            subject["identifier"] = identifier
    subject["verifiableCredential"] = credentials
    subject["achievement"] = _achievements(credentials)

    moment = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    unsigned = {
        "@context": [VC2_CONTEXT, OB3_CONTEXT],
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
        cryptosuite=EDDSA_JCS_2022,
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
