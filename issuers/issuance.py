"""Awarding credentials and changing their status (DESIGN §3, §4).

An award is checked (accredited, unsuspended issuer; its own approved achievement),
given a learner record, a random revocation and suspension index, built as an Open
Badges 3.0 credential, secured in each format asked for, and logged with its digest:
all in the caller's write transaction, so a refused award leaves no trace, not even a
used status index.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    String,
    Table,
    UniqueConstraint,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, make_transient_to_detached, mapped_column

from credentials import (
    add_proof,
    check_document,
    credential_digest,
    sign_vc_jwt,
    status_list_entry,
)
from credentials.achievements import credits_number
from credentials.ob3 import achievement_credential, email_identity
from credentials.status_list import REVOCATION, SUSPENSION
from issuers.catalogue import ACHIEVEMENT_APPROVED, RETIRED, Catalogue
from issuers.did import jwk_method_id, multikey_method_id
from issuers.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from issuers.learners import LearnerBook
from issuers.models import Achievement, Issuer
from issuers.registry import ACCREDITED
from issuers.status_lists import (
    IndexAllocator,
    StatusList,
    set_status_bit,
    sign_status_list,
    status_list_url,
)
from keys import ACTIVE, ED25519
from keys.database import Base
from keys.errors import CredbankError
from keys.signers import Signer
from ledger import jcs, make_entry

__all__ = [
    "DATA_INTEGRITY_FORMATS",
    "FORMATS",
    "Award",
    "Issuance",
    "IssueResult",
    "IssuedCredential",
]

RDFC = "eddsa-rdfc-2022"
JCS = "eddsa-jcs-2022"
JWT = "vc+jwt"
DATA_INTEGRITY_FORMATS = (RDFC, JCS)
FORMATS = (RDFC, JCS, JWT)

VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
_OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}

# Idempotency keys looked up per query: far below SQLite's 32,766 bound parameters.
_KEYS_PER_QUERY = 500

ACTIVE_STATUS = "active"
REVOKED = "revoked"
SUSPENDED_STATUS = "suspended"

logger = logging.getLogger(__name__)


class IssuedCredential(Base):
    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("issuer_slug", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    issuer_slug: Mapped[str] = mapped_column(String(64), index=True)
    achievement_id: Mapped[str | None] = mapped_column(String(64), index=True)
    learner_id: Mapped[str | None] = mapped_column(String(40), index=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    log_index: Mapped[int] = mapped_column(BigInteger)
    secured: Mapped[dict[str, Any]] = mapped_column(JSON)
    revocation_list: Mapped[str] = mapped_column(String(100))
    revocation_index: Mapped[int] = mapped_column(Integer)
    suspension_list: Mapped[str] = mapped_column(String(100))
    suspension_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_digest: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class Award:
    """One award, as the award schema accepted it."""

    achievement_id: str
    learner_did: str | None
    learner_email: str | None
    learner_name: str | None
    score: float | None
    credits_earned: str | None
    awarded_date: date | None
    evidence: tuple[Mapping[str, Any], ...]
    formats: tuple[str, ...]
    idempotency_key: str | None
    request_digest: str


@dataclass(frozen=True)
class IssueResult:
    credential: IssuedCredential
    created: bool


# A log entry some other part of the service adds to an issuance or a status
# change, and what to do with the index the entry gets.
FollowUp = tuple[dict[str, Any], Callable[[int], None]]


class IssueListener(Protocol):
    """Something that acts in the same transaction when credentials are issued or
    change status (the credit bank, which issuers/ cannot import: DESIGN §2)."""

    def on_issued(
        self,
        session: Session,
        issued: Sequence[tuple[IssuedCredential, Mapping[str, Any]]],
        now: datetime,
    ) -> list[FollowUp]:
        """Given each new credential with its unsecured document."""
        ...

    def on_status_changed(
        self, session: Session, record: IssuedCredential, now: datetime
    ) -> list[FollowUp]: ...


@dataclass(frozen=True)
class Issuance:
    """Awards and status changes for the issuers of one catalogue."""

    catalogue: Catalogue
    listeners: tuple[IssueListener, ...] = ()

    def award(
        self, session: Session, slug: str, award: Award, *, now: datetime
    ) -> IssueResult:
        """Issue one credential (or return the one its idempotency key made)."""
        (outcome,) = self.award_many(session, slug, [award], now=now)
        if isinstance(outcome, CredbankError):
            raise outcome
        return outcome

    def award_many(
        self, session: Session, slug: str, awards: Sequence[Award], *, now: datetime
    ) -> list[IssueResult | CredbankError]:
        """Issue a chunk of awards with one log append (so one checkpoint).

        An award that is refused is answered with its error while the others go
        on, and leaves nothing behind: preparing an award writes nothing to the
        database (the status indexes and learners it takes are held in the
        context until the chunk is stored), so forgetting what it took is enough.
        """
        context = self._context(session, slug, now)
        # One query for the whole chunk; the awards issued below join it.
        by_key = _by_idempotency_keys(
            session,
            slug,
            {a.idempotency_key for a in awards if a.idempotency_key is not None},
        )

        outcomes: list[IssueResult | CredbankError] = []
        fresh: list[tuple[IssuedCredential, dict[str, Any]]] = []
        context.learners.preload(
            dids={a.learner_did for a in awards if a.learner_did},
            emails={a.learner_email for a in awards if a.learner_email},
        )
        for award in awards:
            mark = context.mark()
            try:
                outcome = self._prepare(session, award, context, by_key)
            except CredbankError as exc:
                context.forget_since(mark)
                outcomes.append(exc)
                continue
            if isinstance(outcome, IssueResult):
                outcomes.append(outcome)
                continue
            record, entry = outcome
            if award.idempotency_key is not None:
                by_key[award.idempotency_key] = record
            fresh.append((record, entry))
            outcomes.append(IssueResult(record, created=True))

        context.learners.store()
        context.allocator.store()
        self._log(session, fresh, context, now)
        logger.info("issued %d credentials for %s", len(fresh), slug)
        return outcomes

    def _prepare(
        self,
        session: Session,
        award: Award,
        context: _Context,
        by_key: Mapping[str, IssuedCredential],
    ) -> IssueResult | tuple[IssuedCredential, dict[str, Any]]:
        now = context.now
        if award.idempotency_key is not None:
            earlier = by_key.get(award.idempotency_key)
            if earlier is not None:
                if earlier.request_digest is None:
                    # issuers.erasure clears the digest, which hashes personal data.
                    raise ConflictError(
                        f"idempotency key {award.idempotency_key!r} names a "
                        "credential whose learner was erased"
                    )
                if earlier.request_digest != award.request_digest:
                    raise ConflictError(
                        f"idempotency key {award.idempotency_key!r} was used for "
                        "a different award"
                    )
                return IssueResult(earlier, created=False)
        achievement = context.awardable(self.catalogue, session, award.achievement_id)
        definition = achievement.definition
        credits_earned = _credits_earned(award, definition)

        learner = context.learners.find_or_create(
            did=award.learner_did, email=award.learner_email, name=award.learner_name
        )
        lists, entries = self._allocate_status(session, context)

        credential_id = f"urn:uuid:{uuid.uuid4()}"
        issued_on = award.awarded_date or now.date()
        document = context.achievement_document(self.catalogue, achievement)
        if award.score is not None:
            document["resultDescription"] = [_score_description(document["id"])]
        unsigned = achievement_credential(
            credential_id=credential_id,
            issuer=document["creator"],
            achievement=document,
            valid_from=_timestamp(now),
            valid_until=_valid_until(now, definition.get("validityMonths")),
            learner_did=award.learner_did,
            identity=(
                email_identity(award.learner_email) if award.learner_email else None
            ),
            credits_earned=credits_number(credits_earned),
            result=_result(document["id"], award.score),
            awarded_date=_timestamp(datetime.combine(issued_on, now.timetz())),
            evidence=[{"type": ["Evidence"], **item} for item in award.evidence],
            status=entries,
        )
        return self._finish(
            session,
            unsigned,
            award.formats,
            context,
            lists,
            achievement_id=achievement.id,
            learner_id=learner.id,
            idempotency=(award.idempotency_key, award.request_digest),
        )

    def issue_document(
        self,
        session: Session,
        slug: str,
        credential: Mapping[str, Any],
        formats: Sequence[str],
        *,
        now: datetime,
    ) -> IssuedCredential:
        """Secure a credential the caller built (VC-API issue).

        An Open Badges credential must name an approved achievement of the caller;
        a plain VC 2.0 credential is signed when it conforms. The service sets the
        issuer, the id if missing, validFrom if missing and the status entries.
        """
        context = self._context(session, slug, now)
        document = _conforming(credential, context.did)
        achievement_id = None
        if _OB_TYPES & set(document["type"]):
            ref = document["credentialSubject"].get("achievement", {}).get("id")
            if not isinstance(ref, str):
                raise InvalidInputError(
                    {
                        "credentialSubject.achievement.id": "expected the URL of an "
                        "approved achievement of this issuer"
                    }
                )
            achievement_id = context.awardable(self.catalogue, session, ref).id
        document.setdefault("id", f"urn:uuid:{uuid.uuid4()}")
        if session.get(IssuedCredential, document["id"]) is not None:
            raise ConflictError(f"credential {document['id']} was already issued")
        document.setdefault("validFrom", _timestamp(now))
        subject_id = document["credentialSubject"].get("id")
        learner_id = None
        if isinstance(subject_id, str) and subject_id.startswith("did:"):
            context.learners.preload(dids={subject_id}, emails=())
            learner = context.learners.find_or_create(
                did=subject_id, email=None, name=None
            )
            learner_id = learner.id
        lists, entries = self._allocate_status(session, context)
        document["credentialStatus"] = entries
        record, entry = self._finish(
            session,
            document,
            formats,
            context,
            lists,
            achievement_id=achievement_id,
            learner_id=learner_id,
            idempotency=(None, None),
        )
        context.learners.store()
        context.allocator.store()
        self._log(session, [(record, entry)], context, now)
        return record

    def _log(
        self,
        session: Session,
        fresh: Sequence[tuple[IssuedCredential, dict[str, Any]]],
        context: _Context,
        now: datetime,
    ) -> None:
        """Append the issuance entries, and the listeners' after them, at once."""
        follow_ups: list[FollowUp] = []
        if fresh and self.listeners:
            documents = [
                (record, context.unsigned.get(record.id) or unsecured_document(record))
                for record, _ in fresh
            ]
            for listener in self.listeners:
                follow_ups += listener.on_issued(session, documents, now)
        registry = self.catalogue.registry
        indexes = registry.log.append(
            session,
            [entry for _, entry in fresh] + [entry for entry, _ in follow_ups],
            now=now,
        )
        for (record, _), log_index in zip(fresh, indexes, strict=False):
            record.log_index = log_index
        _insert_credentials(session, [record for record, _ in fresh])
        for (_, logged), log_index in zip(
            follow_ups, indexes[len(fresh) :], strict=True
        ):
            logged(log_index)
        session.flush()

    def _allocate_status(
        self, session: Session, context: _Context
    ) -> tuple[dict[str, tuple[StatusList, int]], list[dict[str, Any]]]:
        """A random free index in the issuer's revocation and suspension lists."""
        lists: dict[str, tuple[StatusList, int]] = {}
        entries = []
        for purpose in (REVOCATION, SUSPENSION):
            status_list, index = context.allocator.allocate(purpose)
            if status_list.signed_credential is None:
                self._sign_list(
                    status_list,
                    context.did,
                    context.signer,
                    context.key_id,
                    context.now,
                )
            lists[purpose] = (status_list, index)
            entries.append(
                status_list_entry(
                    status_list_url(self.catalogue.registry.base_url, status_list.id),
                    index,
                    status_purpose=purpose,
                )
            )
        return lists, entries

    def _finish(
        self,
        session: Session,
        unsigned: dict[str, Any],
        formats: Sequence[str],
        context: _Context,
        lists: Mapping[str, tuple[StatusList, int]],
        *,
        achievement_id: str | None,
        learner_id: str | None,
        idempotency: tuple[str | None, str | None],
    ) -> tuple[IssuedCredential, dict[str, Any]]:
        """Secure, digest, and build the row and the log entry (not yet added)."""
        # add_proof and sign_vc_jwt each check the document before anything else:
        # it is walked here only when there is nothing to secure.
        if not formats:
            check_document(unsigned)
        secured = self._secure(unsigned, formats, context)
        digest = credential_digest(unsigned)
        context.unsigned[unsigned["id"]] = unsigned
        entry = make_entry(
            "credential.issued",
            context.now,
            credential=unsigned["id"],
            digest=digest,
            issuer=context.slug,
            achievement=achievement_id,
            learner=learner_id,
            status=[
                {"list": lst.id, "index": index, "purpose": purpose}
                for purpose, (lst, index) in lists.items()
            ],
        )
        record = IssuedCredential(
            id=unsigned["id"],
            issuer_slug=context.slug,
            achievement_id=achievement_id,
            learner_id=learner_id,
            digest=digest,
            secured=secured,
            revocation_list=lists[REVOCATION][0].id,
            revocation_index=lists[REVOCATION][1],
            suspension_list=lists[SUSPENSION][0].id,
            suspension_index=lists[SUSPENSION][1],
            status=ACTIVE_STATUS,
            issued_at=context.now,
            idempotency_key=idempotency[0],
            request_digest=idempotency[1],
        )
        return record, entry

    def change_status(
        self,
        session: Session,
        credential_id: str,
        *,
        action: str,
        reason: str,
        now: datetime,
    ) -> IssuedCredential:
        """Revoke (final), suspend, or reinstate a suspended credential."""
        record = get_credential(session, credential_id)
        if record.status == REVOKED:
            raise ConflictError(f"credential {credential_id} is revoked for good")
        if action == "revoke":
            list_id, index, new_status = (
                record.revocation_list,
                record.revocation_index,
                REVOKED,
            )
            value = True
        elif action == "suspend":
            if record.status == SUSPENDED_STATUS:
                raise ConflictError(f"credential {credential_id} is already suspended")
            list_id, index, new_status, value = (
                record.suspension_list,
                record.suspension_index,
                SUSPENDED_STATUS,
                True,
            )
        elif action == "reinstate":
            if record.status != SUSPENDED_STATUS:
                raise ConflictError(
                    f"expected a suspended credential to reinstate, got {record.status}"
                )
            list_id, index, new_status, value = (
                record.suspension_list,
                record.suspension_index,
                ACTIVE_STATUS,
                False,
            )
        else:
            raise InvalidInputError({"action": "expected revoke, suspend or reinstate"})

        status_list = session.get(StatusList, list_id)
        assert status_list is not None
        set_status_bit(status_list, index, value)
        signer, key_id = self._signer(session, record.issuer_slug)
        did = self.catalogue.registry.did(record.issuer_slug)
        self._sign_list(status_list, did, signer, key_id, now)
        record.status = new_status
        entry = make_entry(
            "status.changed",
            now,
            credential=record.id,
            digest=record.digest,
            list=list_id,
            index=index,
            purpose=status_list.purpose,
            status=new_status,
            reason=reason,
        )
        follow_ups: list[FollowUp] = []
        for listener in self.listeners:
            follow_ups += listener.on_status_changed(session, record, now)
        indexes = self.catalogue.registry.log.append(
            session, [entry] + [e for e, _ in follow_ups], now=now
        )
        for (_, logged), log_index in zip(follow_ups, indexes[1:], strict=True):
            logged(log_index)
        logger.info("credential %s is now %s", record.id, new_status)
        return record

    def _context(self, session: Session, slug: str, now: datetime) -> _Context:
        """What the awards of one transaction share; refuses an issuer that cannot
        issue."""
        registry = self.catalogue.registry
        issuer = registry.issuer(session, slug)
        if issuer.status != ACCREDITED:
            raise ForbiddenError(f"issuer {slug} is {issuer.status}; it cannot issue")
        signer, key_id = self._signer(session, slug)
        return _Context(
            slug,
            issuer,
            registry.did(slug),
            signer,
            key_id,
            now,
            IndexAllocator(session, slug, now=now),
            LearnerBook(session, registry.keystore, now=now),
        )

    def _signer(self, session: Session, slug: str) -> tuple[Signer, str]:
        registry = self.catalogue.registry
        for key in reversed(registry.keys(session, slug)):
            if key.state == ACTIVE and key.algorithm == ED25519:
                return registry.keystore.signer(key), key.id
        raise ConflictError(f"issuer {slug} has no active Ed25519 key; rotate one")

    def _sign_list(
        self,
        status_list: StatusList,
        did: str,
        signer: Signer,
        key_id: str,
        now: datetime,
    ) -> None:
        sign_status_list(
            status_list,
            base_url=self.catalogue.registry.base_url,
            issuer_did=did,
            signer=signer,
            verification_method=multikey_method_id(did, key_id),
            now=now,
        )

    def _secure(
        self, unsigned: dict[str, Any], formats: Sequence[str], context: _Context
    ) -> dict[str, Any]:
        secured: dict[str, Any] = {}
        for form in formats:
            if form in DATA_INTEGRITY_FORMATS:
                secured[form] = add_proof(
                    unsigned,
                    context.signer,
                    cryptosuite=form,
                    verification_method=multikey_method_id(context.did, context.key_id),
                    created=_timestamp(context.now),
                )
            elif form == JWT:
                secured[form] = sign_vc_jwt(
                    unsigned,
                    context.signer,
                    kid=jwk_method_id(context.did, context.key_id),
                )
        return secured


@dataclass(eq=False)
class _Context:
    """What the awards of one chunk share, and what they look up only once.

    The status indexes and the learners are kept here, not written row by row, until
    the chunk is done; `forget_since` undoes what a refused award had taken. The
    achievements cached are only read.
    """

    slug: str
    issuer: Issuer
    did: str
    signer: Signer
    key_id: str
    now: datetime
    allocator: IndexAllocator
    learners: LearnerBook
    achievements: dict[str, Achievement] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Each credential made in this context, unsecured, by id: for the listeners,
    # which would otherwise take it back out of a secured form.
    unsigned: dict[str, dict[str, Any]] = field(default_factory=dict)

    def awardable(
        self, catalogue: Catalogue, session: Session, ref: str
    ) -> Achievement:
        """The achievement `ref` names, if this issuer may award it now."""
        achievement_id = ref.rsplit("/", 1)[-1]
        achievement = self.achievements.get(achievement_id)
        if achievement is None:
            achievement = _awardable(catalogue, session, self.slug, ref)
            self.achievements[achievement_id] = achievement
        return _check_awardable(achievement, self.slug)

    def achievement_document(
        self, catalogue: Catalogue, achievement: Achievement
    ) -> dict[str, Any]:
        """The achievement as a credential embeds it (no @context), a fresh dict.

        Its members are shared with the other credentials of the chunk, as
        achievement_credential shares them: nothing downstream changes them.
        """
        document = self.documents.get(achievement.id)
        if document is None:
            document = catalogue.document(achievement, self.issuer)
            document.pop("@context")
            self.documents[achievement.id] = document
        return dict(document)

    def mark(self) -> tuple[int, int]:
        """A point to go back to with `forget_since`."""
        return self.allocator.mark(), self.learners.mark()

    def forget_since(self, mark: tuple[int, int]) -> None:
        """Undo what was taken since `mark`, for an award that was refused."""
        self.allocator.undo(mark[0])
        self.learners.undo(mark[1])


def get_credential(session: Session, credential_id: str) -> IssuedCredential:
    """A credential by its id, `urn:uuid:<uuid>` or the bare uuid."""
    if not credential_id.startswith("urn:uuid:"):
        credential_id = f"urn:uuid:{credential_id}"
    found = session.get(IssuedCredential, credential_id)
    if found is None:
        raise NotFoundError(f"no credential {credential_id!r}")
    return found


def unsecured_document(record: IssuedCredential) -> dict[str, Any]:
    """The credential as signed, without its securing: any Data Integrity form
    less its proof, else the payload of the vc+jwt (the same document, DESIGN §4)."""
    for form in DATA_INTEGRITY_FORMATS:
        secured = record.secured.get(form)
        if isinstance(secured, dict):
            return {key: value for key, value in secured.items() if key != "proof"}
    token = record.secured[JWT]
    payload = token.split(".")[1]
    document: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return document


def _insert_credentials(session: Session, records: Sequence[IssuedCredential]) -> None:
    """Insert new credential rows in one statement, then attach the objects to the
    session as the rows they are.

    The unit of work would insert them as well, at several times the cost for a
    chunk of a batch.
    """
    if not records:
        return
    table = IssuedCredential.__table__
    assert isinstance(table, Table)
    rows = [
        {c.key: getattr(record, c.key) for c in table.columns} for record in records
    ]
    session.execute(insert(table), rows)
    for record in records:
        make_transient_to_detached(record)
        session.add(record)


def request_digest(payload: Mapping[str, Any]) -> str:
    """A stable digest of an award request, for idempotency."""
    return hashlib.sha256(jcs.dumps(dict(payload))).hexdigest()


def _by_idempotency_keys(
    session: Session, slug: str, keys: Collection[str]
) -> dict[str, IssuedCredential]:
    """The issuer's credentials already issued under any of `keys`."""
    wanted = sorted(keys)
    found: dict[str, IssuedCredential] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        for record in session.scalars(
            select(IssuedCredential).where(
                IssuedCredential.issuer_slug == slug,
                IssuedCredential.idempotency_key.in_(
                    wanted[start : start + _KEYS_PER_QUERY]
                ),
            )
        ):
            assert record.idempotency_key is not None
            found[record.idempotency_key] = record
    return found


def _awardable(
    catalogue: Catalogue, session: Session, slug: str, ref: str
) -> Achievement:
    achievement_id = ref.rsplit("/", 1)[-1]
    try:
        achievement = catalogue.get(session, achievement_id)
    except NotFoundError as exc:
        raise InvalidInputError({"achievement": f"no achievement {ref!r}"}) from exc
    return _check_awardable(achievement, slug)


def _check_awardable(achievement: Achievement, slug: str) -> Achievement:
    achievement_id = achievement.id
    if achievement.issuer_slug != slug:
        raise ForbiddenError(f"achievement {achievement_id} belongs to another issuer")
    if achievement.status == RETIRED:
        raise ConflictError(f"achievement {achievement_id} is retired")
    if achievement.status != ACHIEVEMENT_APPROVED:
        raise ConflictError(
            f"achievement {achievement_id} is {achievement.status}, not approved"
        )
    return achievement


def _conforming(credential: Mapping[str, Any], did: str) -> dict[str, Any]:
    """A copy of a caller's credential, checked against VC Data Model 2.0 §4."""
    if not isinstance(credential, Mapping):
        raise InvalidInputError({"credential": "expected a JSON object"})
    document = copy.deepcopy(dict(credential))
    errors: dict[str, str] = {}
    contexts = document.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC2_CONTEXT:
        errors["@context"] = f"expected a list starting with {VC2_CONTEXT}"
    types = document.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        errors["type"] = "expected a list holding VerifiableCredential"
    if not isinstance(document.get("credentialSubject"), dict):
        errors["credentialSubject"] = "expected one subject object"
    for name in ("proof", "credentialStatus"):
        if name in document:
            errors[name] = "the service adds it; leave it out"
    issuer = document.get("issuer", did)
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != did:
        errors["issuer"] = f"expected this issuer's DID {did}, got {issuer_id!r}"
    if "id" in document and not (
        isinstance(document["id"], str) and ":" in document["id"]
    ):
        errors["id"] = "expected a URI"
    if isinstance(types, list) and _OB_TYPES & set(types):
        errors.update(_missing_ob3_properties(document))
    if errors:
        raise InvalidInputError(errors)
    document["issuer"] = issuer if isinstance(issuer, dict) else did
    check_document(document)
    return document


def _missing_ob3_properties(document: Mapping[str, Any]) -> dict[str, str]:
    # OB 3.0 §B.1: the credential's name; the subject's type; the achievement's
    # id, type, name, description and criteria.
    missing: dict[str, str] = {}
    if not isinstance(document.get("name"), str):
        missing["name"] = "Open Badges 3.0 requires the credential's name"
    subject = document.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return missing
    if "AchievementSubject" not in (subject.get("type") or []):
        missing["credentialSubject.type"] = "expected AchievementSubject"
    achievement = subject.get("achievement")
    if not isinstance(achievement, Mapping):
        missing["credentialSubject.achievement"] = "expected an Achievement"
        return missing
    for name in ("id", "type", "name", "description", "criteria"):
        if name not in achievement:
            missing[f"credentialSubject.achievement.{name}"] = (
                "Open Badges 3.0 requires it"
            )
    return missing


def _credits_earned(award: Award, definition: Mapping[str, Any]) -> str:
    available = definition["credits"]
    if award.credits_earned is None:
        return str(available)
    if Decimal(award.credits_earned) > Decimal(available):
        raise InvalidInputError(
            {
                "creditsEarned": f"expected at most the {available} "
                f"{definition['unit']} the course carries, got {award.credits_earned}"
            }
        )
    return award.credits_earned


def _score_description(achievement_id: str) -> dict[str, Any]:
    return {
        "id": f"{achievement_id}#score",
        "type": ["ResultDescription"],
        "name": "Score",
        "resultType": "ScaledScore",
        "valueMin": "0",
        "valueMax": "100",
    }


def _result(achievement_id: str, score: float | None) -> list[dict[str, Any]] | None:
    if score is None:
        return None
    return [
        {
            "type": ["Result"],
            "resultDescription": f"{achievement_id}#score",
            "value": f"{score:g}",
        }
    ]


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _valid_until(now: datetime, months: int | None) -> str | None:
    if not months:
        return None
    month = now.month - 1 + months
    year, month = now.year + month // 12, month % 12 + 1
    day = min(now.day, _days_in(year, month))
    return _timestamp(now.replace(year=year, month=month, day=day))


def _days_in(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days
