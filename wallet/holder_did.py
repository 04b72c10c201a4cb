"""A learner registers their own did:key by proving they hold its private key.

The service hands out a challenge; the learner answers with a Verifiable
Presentation (VC Data Model 2.0 §4.13) naming the did:key as `holder`, with a Data
Integrity proof by that key whose purpose is `authentication` and which carries the
challenge and this service's base URL as `domain` (Data Integrity 1.0 §2.1). The
DID is then stored on the learner, and their wallets name it as holder.

Invariants: only a challenge's SHA-256 is stored; a challenge belongs to one
learner, lives CHALLENGE_TTL, and opens at most one registration (the registration
deletes it); a did:key belongs to at most one learner.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from credentials.data_integrity import verify_proof
from credentials.errors import CredentialError
from issuers.errors import InvalidInputError
from issuers.learners import register_learner_did, registrable_learner
from keys.database import Base, as_utc
from keys.errors import CredbankError
from keys.multikey import decode_multikey, encode_multikey
from keys.signers import ED25519
from wallet.export import VC2_CONTEXT

__all__ = [
    "CHALLENGE_TTL",
    "DIDChallenge",
    "DIDRegistration",
    "issue_did_challenge",
    "register_holder_did",
]

# Long enough to sign on another device and paste the answer back; short enough
# that a challenge seen over someone's shoulder is soon worth nothing.
CHALLENGE_TTL = timedelta(minutes=10)

_PREFIX = "chl_"
# 192 random bits, as a claim link: a challenge is never guessed.
_SECRET_BYTES = 24
_MAX_CHALLENGE_LENGTH = 64
# A learner asking again and again keeps at most this many live challenges.
_MAX_LIVE = 5
_DID_KEY = "did:key:"

logger = logging.getLogger(__name__)


class DIDChallenge(Base):
    __tablename__ = "did_challenges"

    challenge_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class DIDRegistration:
    """The learner's did:key, and whether this registration set it (False: it
    was theirs already)."""

    learner_id: str
    did: str
    changed: bool


def issue_did_challenge(
    session: Session, learner_id: str, *, now: datetime
) -> tuple[str, datetime]:
    """A new challenge for the learner to sign, and its expiry.

    Raises:
        NotFoundError: no such learner, or one that was erased.
    """
    registrable_learner(session, learner_id)
    session.execute(
        delete(DIDChallenge).where(
            DIDChallenge.learner_id == learner_id, DIDChallenge.expires_at <= now
        )
    )
    live = list(
        session.scalars(
            select(DIDChallenge)
            .where(DIDChallenge.learner_id == learner_id)
            .order_by(DIDChallenge.created_at)
        )
    )
    for stale in live[: max(0, len(live) - _MAX_LIVE + 1)]:
        session.delete(stale)

    challenge = _PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
    expires = now + CHALLENGE_TTL
    session.add(
        DIDChallenge(
            challenge_hash=_digest(challenge),
            learner_id=learner_id,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    return challenge, expires


def register_holder_did(
    session: Session,
    learner_id: str,
    presentation: Any,
    *,
    domain: str,
    now: datetime,
) -> DIDRegistration:
    """Check the presentation proves control of its holder's did:key for one of
    the learner's live challenges, then store that DID on the learner.

    Raises:
        InvalidInputError: the presentation, its proof, its challenge or its
            domain is not what is expected (`errors` names the member).
        ConflictError: the did:key is another learner's, or the learner already
            has another DID.
        NotFoundError: no such learner, or one that was erased.
    """
    registrable_learner(session, learner_id)
    holder, proof = _presentation_parts(presentation)
    challenge = _live_challenge(session, learner_id, proof.get("challenge"), now)
    if proof.get("domain") != domain:
        raise _refused(
            "proof.domain", f"expected {domain!r}, got {proof.get('domain')!r}"
        )
    public_key = _did_key(holder)
    method = f"{holder}#{holder.removeprefix(_DID_KEY)}"

    def key_for(method_id: str) -> tuple[str, bytes]:
        if method_id != method:
            raise LookupError(method_id)
        return ED25519, public_key

    try:
        verify_proof(presentation, key_for, proof_purpose="authentication")
    except (CredentialError, ValueError, TypeError, RecursionError) as exc:
        # As verify/presentation.py: whatever the canonicaliser makes of a
        # malformed document is a refusal, never a server error.
        raise _refused("proof", str(exc)[:300]) from exc

    changed = register_learner_did(session, learner_id, holder)
    # Data Integrity 1.0 §2.1 (challenge): used once, so the same answer cannot
    # be sent again.
    session.delete(challenge)
    session.flush()
    if changed:
        logger.info("learner %s registered a did:key", learner_id)
    return DIDRegistration(learner_id, holder, changed)


def _presentation_parts(presentation: Any) -> tuple[str, Mapping[str, Any]]:
    if not isinstance(presentation, Mapping):
        raise _refused("", "expected a Verifiable Presentation object")
    types = presentation.get("type")
    types = types if isinstance(types, list) else [types]
    if "VerifiablePresentation" not in types:
        raise _refused("type", "expected a list with 'VerifiablePresentation'")
    contexts = presentation.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC2_CONTEXT:
        raise _refused("@context", f"expected a list beginning with {VC2_CONTEXT!r}")
    if presentation.get("verifiableCredential"):
        raise _refused("verifiableCredential", "expected none: only the key is shown")
    holder = presentation.get("holder")
    if not isinstance(holder, str) or not holder.startswith(_DID_KEY):
        raise _refused("holder", f"expected a did:key, got {_shown(holder)}")
    proof = presentation.get("proof")
    if not isinstance(proof, Mapping):
        raise _refused("proof", "expected one Data Integrity proof object")
    return holder, proof


def _live_challenge(
    session: Session, learner_id: str, given: Any, now: datetime
) -> DIDChallenge:
    # One answer for unknown, used, expired and another learner's: the learner
    # asks for a new one in every case.
    refused = _refused(
        "proof.challenge",
        "expected a challenge issued to this learner in the last "
        f"{int(CHALLENGE_TTL.total_seconds() // 60)} minutes and not used yet",
    )
    if not isinstance(given, str) or not given.startswith(_PREFIX):
        raise refused
    if len(given) > _MAX_CHALLENGE_LENGTH:
        raise refused
    found = session.get(DIDChallenge, _digest(given))
    if found is None or found.learner_id != learner_id:
        raise refused
    if as_utc(found.expires_at) <= now:
        raise refused
    return found


def _did_key(did: str) -> bytes:
    """The Ed25519 public key a did:key names (did:key 0.9 §3.1.1), its one
    spelling only."""
    encoded = did.removeprefix(_DID_KEY)
    try:
        algorithm, public_key = decode_multikey(encoded)
    except (CredbankError, KeyError, ValueError) as exc:
        raise _refused("holder", "expected a did:key of an Ed25519 key") from exc
    if algorithm != ED25519:
        raise _refused(
            "holder", f"expected a did:key of an Ed25519 key, got {algorithm}"
        )
    if encode_multikey(algorithm, public_key) != encoded:
        raise _refused("holder", "expected the did:key in its canonical spelling")
    return public_key


def _refused(field: str, message: str) -> InvalidInputError:
    return InvalidInputError({field or "presentation": message})


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    return repr(value)[:80] if isinstance(value, str) else type(value).__name__


def _digest(challenge: str) -> bytes:
    return hashlib.sha256(challenge.encode()).digest()
