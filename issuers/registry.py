"""The registry: issuer applications, accreditation, suspension and issuer keys.

Every decision changes the tables and appends its log entries in the caller's write
transaction (DESIGN §3). Entries name organisations, reviewers and keys by id; contact
details and review comments stay in the tables.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuers.did import issuer_did
from issuers.errors import ConflictError, InvalidInputError, NotFoundError
from issuers.models import Issuer, IssuerEvent
from issuers.reviews import APPROVED, REJECTED, cast_vote
from keys import ACTIVE, ED25519, KeyStore, StoredKey
from keys.multikey import encode_multikey
from ledger import TransparencyLog, make_entry

__all__ = [
    "ACCREDITED",
    "APPLIED",
    "ISSUER_REJECTED",
    "LEARNER_DISPLAYS",
    "SUSPENDED",
    "Registry",
    "issuer_key_owner",
    "key_added_entry",
]

APPLIED = "applied"
ACCREDITED = "accredited"
ISSUER_REJECTED = "rejected"
SUSPENDED = "suspended"

# How the verification page shows a learner's name, by the issuer's choice
# (issue 5): not at all, initials only (the default), or in full.
LEARNER_DISPLAYS = ("hidden", "masked", "full")

logger = logging.getLogger(__name__)


def issuer_key_owner(slug: str) -> str:
    return f"issuer:{slug}"


def key_added_entry(key: StoredKey, now: datetime) -> dict[str, Any]:
    return make_entry(
        "key.added",
        now,
        key={
            "id": key.id,
            "owner": key.owner,
            "type": key.algorithm,
            "publicKeyMultibase": encode_multikey(key.algorithm, key.public_key),
        },
    )


@dataclass(frozen=True)
class Registry:
    """Registry decisions over one log and key store."""

    log: TransparencyLog
    keystore: KeyStore
    base_url: str
    quorum: int = 2

    def did(self, slug: str) -> str:
        return issuer_did(self.base_url, slug)

    def issuer(self, session: Session, slug: str) -> Issuer:
        found = session.get(Issuer, slug)
        if found is None:
            raise NotFoundError(f"no issuer {slug!r}")
        return found

    def apply(
        self, session: Session, application: Mapping[str, Any], *, now: datetime
    ) -> Issuer:
        """Record an organisation's application (validated by the standard)."""
        legal_id = application["legalId"]
        standing = session.scalars(
            select(Issuer).where(
                Issuer.legal_id == legal_id,
                Issuer.status.in_([APPLIED, ACCREDITED, SUSPENDED]),
            )
        ).first()
        if standing is not None:
            raise ConflictError(
                f"organisation {legal_id} already applied or is accredited "
                f"(issuer {standing.slug})"
            )
        slug = application.get("slug") or _slug_for(session, application["name"])
        if session.get(Issuer, slug) is not None:
            raise ConflictError(f"issuer slug {slug!r} is taken")

        name = application["name"]
        issuer = Issuer(
            slug=slug,
            name_zh=name.get("zh"),
            name_en=name.get("en"),
            legal_id=legal_id,
            kind=application["kind"],
            website=application.get("website"),
            contact=dict(application["contact"]),
            status=APPLIED,
            applied_at=now,
        )
        session.add(issuer)
        entry = make_entry(
            "issuer.applied",
            now,
            issuer=slug,
            name=dict(name),
            legalId=legal_id,
            organisationKind=issuer.kind,
            website=issuer.website,
        )
        self._record(session, issuer, APPLIED, None, [entry], now)
        return issuer

    def review(
        self,
        session: Session,
        slug: str,
        *,
        reviewer_id: str,
        decision: str,
        comment: str | None,
        now: datetime,
    ) -> Issuer:
        """A reviewer's vote; the quorum accredits, any rejection rejects."""
        issuer = self.issuer(session, slug)
        if issuer.status != APPLIED:
            raise ConflictError(
                f"the application of {slug} is closed ({issuer.status})"
            )
        result = cast_vote(
            session,
            subject_kind="issuer",
            subject_id=slug,
            organisation=issuer,
            reviewer_id=reviewer_id,
            decision=decision,
            comment=comment,
            quorum=self.quorum,
            now=now,
        )
        entries = [
            make_entry(
                "issuer.reviewed",
                now,
                issuer=slug,
                reviewer=reviewer_id,
                decision=decision,
            )
        ]
        status = None
        if result == APPROVED:
            status = ACCREDITED
            issuer.status = ACCREDITED
            issuer.accredited_at = now
            key = self.keystore.create_key(
                session, owner=issuer_key_owner(slug), algorithm=ED25519, now=now
            )
            entries.append(
                make_entry("issuer.accredited", now, issuer=slug, did=self.did(slug))
            )
            entries.append(key_added_entry(key, now))
        elif result == REJECTED:
            status = ISSUER_REJECTED
            issuer.status = ISSUER_REJECTED
            entries.append(make_entry("issuer.rejected", now, issuer=slug))
        self._record(session, issuer, status, None, entries, now)
        return issuer

    def suspend(
        self, session: Session, slug: str, *, reason: str, now: datetime
    ) -> Issuer:
        issuer = self.issuer(session, slug)
        if issuer.status != ACCREDITED:
            raise ConflictError(
                f"expected an accredited issuer to suspend, got {issuer.status}"
            )
        issuer.status = SUSPENDED
        entry = make_entry("issuer.suspended", now, issuer=slug, reason=reason)
        self._record(session, issuer, SUSPENDED, reason, [entry], now)
        return issuer

    def reinstate(
        self, session: Session, slug: str, *, reason: str, now: datetime
    ) -> Issuer:
        issuer = self.issuer(session, slug)
        if issuer.status != SUSPENDED:
            raise ConflictError(
                f"expected a suspended issuer to reinstate, got {issuer.status}"
            )
        issuer.status = ACCREDITED
        entry = make_entry("issuer.reinstated", now, issuer=slug, reason=reason)
        self._record(session, issuer, ACCREDITED, reason, [entry], now)
        return issuer

    def set_learner_display(
        self, session: Session, slug: str, display: str, *, now: datetime
    ) -> Issuer:
        """Choose how the verification page shows learners' names; a change is
        logged, a repeat of the current choice is not."""
        issuer = self.issuer(session, slug)
        if display not in LEARNER_DISPLAYS:
            expected = ", ".join(LEARNER_DISPLAYS)
            raise InvalidInputError(
                {"learnerDisplay": f"expected one of {expected}, got {display!r}"}
            )
        if issuer.learner_display == display:
            return issuer
        issuer.learner_display = display
        entry = make_entry(
            "issuer.privacy_changed", now, issuer=slug, learnerDisplay=display
        )
        self._record(session, issuer, None, None, [entry], now)
        return issuer

    def keys(self, session: Session, slug: str) -> list[StoredKey]:
        """Every key the issuer ever had, oldest first."""
        return self.keystore.keys_of(session, issuer_key_owner(slug))

    def add_key(
        self, session: Session, slug: str, *, algorithm: str, now: datetime
    ) -> StoredKey:
        """Make a new active key; the active key of that algorithm is retired."""
        issuer = self.issuer(session, slug)
        if issuer.status not in {ACCREDITED, SUSPENDED}:
            raise ConflictError(f"issuer {slug} is not accredited ({issuer.status})")
        entries = []
        for old in self.keys(session, slug):
            if old.state == ACTIVE and old.algorithm == algorithm:
                self.keystore.retire(old, now=now)
                entries.append(make_entry("key.retired", now, key=old.id))
        key = self.keystore.create_key(
            session, owner=issuer_key_owner(slug), algorithm=algorithm, now=now
        )
        entries.insert(0, key_added_entry(key, now))
        self.log.append(session, entries, now=now)
        return key

    def report_compromise(
        self, session: Session, slug: str, key_id: str, *, now: datetime
    ) -> StoredKey:
        """Mark a key compromised as of now; an active one is replaced at once."""
        key = next((k for k in self.keys(session, slug) if k.id == key_id), None)
        if key is None:
            raise NotFoundError(f"issuer {slug} has no key {key_id!r}")
        if key.state == "compromised":
            raise ConflictError(f"key {key_id} was already reported compromised")
        was_active = key.state == ACTIVE
        self.keystore.mark_compromised(key, now=now)
        entries = [make_entry("key.compromised", now, key=key.id)]
        if was_active:
            replacement = self.keystore.create_key(
                session, owner=key.owner, algorithm=key.algorithm, now=now
            )
            entries.append(key_added_entry(replacement, now))
        self.log.append(session, entries, now=now)
        return key

    def _record(
        self,
        session: Session,
        issuer: Issuer,
        status: str | None,
        reason: str | None,
        entries: list[dict[str, Any]],
        now: datetime,
    ) -> None:
        session.flush()
        indexes = self.log.append(session, entries, now=now)
        if status is not None:
            # The event points at the issuer.* entry that changed the status.
            position = max(
                i for i, e in enumerate(entries) if e["kind"].startswith("issuer.")
            )
            session.add(
                IssuerEvent(
                    issuer_slug=issuer.slug,
                    status=status,
                    reason=reason,
                    at=now,
                    log_index=indexes[position],
                )
            )
        logger.info("issuer %s: %s", issuer.slug, entries[-1]["kind"])


def _slug_for(session: Session, name: Mapping[str, str]) -> str:
    english = re.sub(r"[^a-z0-9]+", "-", name.get("en", "").lower()).strip("-")
    base = english[:48].rstrip("-") or "org-" + secrets.token_hex(3)
    slug, n = base, 2
    while session.get(Issuer, slug) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug
