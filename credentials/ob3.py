"""The Open Badges 3.0 credential on the VC Data Model 2.0 (DESIGN §4).

`@context` is the VC 2.0 context then the OB 3.0.3 context; `type` is
VerifiableCredential and OpenBadgeCredential; the subject is an AchievementSubject
(OB 3.0 §B.1.4) naming the learner by DID, or by a salted SHA-256 IdentityObject of
their e-mail address (§B.1.5), never by the address itself.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "CONTEXTS",
    "CREDENTIAL_TYPES",
    "achievement_credential",
    "email_identity",
]

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


def email_identity(email: str, *, salt: str | None = None) -> dict[str, Any]:
    """An IdentityObject for an e-mail address: `sha256$` + hex of SHA-256(email +
    salt), as OB 3.0 §B.1.5 describes for hashed identifiers."""
    salt = salt if salt is not None else secrets.token_hex(8)
    digest = hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def achievement_credential(
    *,
    credential_id: str,
    issuer: Mapping[str, Any],
    achievement: Mapping[str, Any],
    valid_from: str,
    valid_until: str | None,
    learner_did: str | None,
    identity: Mapping[str, Any] | None,
    credits_earned: int | float | None,
    result: Sequence[Mapping[str, Any]] | None,
    awarded_date: str | None,
    evidence: Sequence[Mapping[str, Any]] | None,
    status: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential; every time is an argument."""
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if learner_did is not None:
        subject["id"] = learner_did
    if identity is not None:
        subject["identifier"] = [dict(identity)]
    subject["achievement"] = dict(achievement)
    if credits_earned is not None:
        subject["creditsEarned"] = credits_earned
    if result:
        subject["result"] = [dict(item) for item in result]

    credential: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": credential_id,
        "type": list(CREDENTIAL_TYPES),
        "name": achievement["name"],
        "issuer": dict(issuer),
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    if awarded_date is not None:
        credential["awardedDate"] = awarded_date
    credential["credentialSubject"] = subject
    if evidence:
        credential["evidence"] = [dict(item) for item in evidence]
    credential["credentialStatus"] = [dict(entry) for entry in status]
    return credential
