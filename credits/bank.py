"""Credit-bank accounts: deposits in, withdrawals on revocation, balances per unit.

DESIGN §7. Each learner has one account: the deposits made for them. A credential
issued here with credits deposits them in the same transaction (the bank is an
`IssueListener` of the issuance); a learner may also deposit a credential from a
trusted platform, verified first; it keeps that credential, so that a transfer can
verify it again (credits/sources.py). A deposit is available, used by a transfer, or
withdrawn when its credential is revoked, here or at its home platform. Every change
is a log entry that names the credential by its digest; no personal data goes into
the log.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import String, insert, select
from sqlalchemy.orm import Session

from credentials.digest import credential_digest
from credentials.ob3 import email_identity
from credits.converter import json_number
from credits.errors import CreditInputError
from credits.models import AVAILABLE, USED, WITHDRAWN, Deposit, Transfer
from credits.normalise import NormalisedCredential, from_open_badge
from issuers.errors import ConflictError, ForbiddenError, InvalidInputError
from issuers.issuance import REVOKED, SUSPENDED_STATUS, FollowUp, IssuedCredential
from ledger import TransparencyLog, make_entry

__all__ = [
    "EXTERNAL",
    "Account",
    "CreditBank",
    "Holder",
    "exact_text",
    "normalised",
    "trusted_hosts",
]

ISSUED = "issued"
EXTERNAL = "external"

# Where the bounded text columns of a deposit come from in an Open Badges
# credential (credit-rules.md "Input"). Credits and scores always fit: at most 30
# digits either side of the point or the slash (credits/_fields.py).
_DEPOSIT_FIELDS = {
    "credential_id": "id",
    "issuer": "issuer",
    "achievement": "credentialSubject.achievement.id",
    "unit": "credentialSubject.achievement.alignment",
}

logger = logging.getLogger(__name__)


def exact_text(value: Fraction) -> str:
    """Credits as stored and shown: the converter's exact JSON number as text
    (3, 0.5, 6.25), or `p/q` where no decimal is exact. Never a float."""
    return json_number(value).strip('"')


def normalised(deposit: Deposit, *, revoked: bool = False) -> NormalisedCredential:
    """The converter's view of a deposit (credit-rules.md "Input")."""
    return NormalisedCredential(
        id=deposit.credential_id,
        achievement=deposit.achievement,
        issuer=deposit.issuer,
        credits=Fraction(deposit.credits),
        unit=deposit.unit,
        eqf_level=deposit.eqf_level,
        issued=deposit.issued,
        expires=deposit.expires,
        revoked=revoked or deposit.status == WITHDRAWN,
        score=None if deposit.score is None else Fraction(deposit.score),
    )


@dataclass(frozen=True)
class Account:
    """A learner's account as shown to them: deposits, balances, transfers."""

    learner_id: str
    deposits: tuple[Deposit, ...]
    transfers: tuple[Transfer, ...]

    def balances(self) -> dict[str, dict[str, str]]:
        """Per unit, the credits available, used and withdrawn (exact text)."""
        sums: dict[str, dict[str, Fraction]] = defaultdict(
            lambda: {AVAILABLE: Fraction(0), USED: Fraction(0), WITHDRAWN: Fraction(0)}
        )
        for deposit in self.deposits:
            sums[deposit.unit][deposit.status] += Fraction(deposit.credits)
        return {
            unit: {state: exact_text(total) for state, total in states.items()}
            for unit, states in sorted(sums.items())
        }


@dataclass(frozen=True)
class Holder:
    """What identifies a learner as a credential's subject: their DID, and the
    e-mail address an Open Badges IdentityObject hashes (OB 3.0 §B.1.5)."""

    did: str | None
    email: str | None

    def is_subject_of(self, credential: Mapping[str, Any]) -> bool:
        subjects = credential.get("credentialSubject")
        subject = subjects[0] if isinstance(subjects, list) and subjects else subjects
        if not isinstance(subject, Mapping):
            return False
        if "id" in subject:
            return self.did is not None and subject["id"] == self.did
        identities = subject.get("identifier")
        for identity in identities if isinstance(identities, list) else []:
            if not isinstance(identity, Mapping) or self.email is None:
                continue
            salt = identity.get("salt")
            if (
                identity.get("identityType") == "emailAddress"
                and identity.get("hashed") is True
                and isinstance(salt, str)
                and email_identity(self.email, salt=salt)["identityHash"]
                == identity.get("identityHash")
            ):
                return True
        return False


@dataclass(frozen=True)
class CreditBank:
    """The accounts of every learner, written through the log."""

    log: TransparencyLog
    trusted_platforms: tuple[str, ...] = ()

    # The issuance listener (issuers.issuance.IssueListener).

    def on_issued(
        self,
        session: Session,
        issued: Sequence[tuple[IssuedCredential, Mapping[str, Any]]],
        now: datetime,
    ) -> list[FollowUp]:
        """Deposit the credits of each new credential that carries some.

        The rows are inserted at once, after the append gives their entries an
        index: a batch of 200 credentials makes 200 deposits, and one multi-row
        insert costs a fraction of 200 ORM objects.
        """
        rows: list[dict[str, Any]] = []
        follow_ups: list[FollowUp] = []
        for record, document in issued:
            if record.learner_id is None:
                continue
            try:
                credential = from_open_badge(document, False)
            except CreditInputError:
                continue  # not an Open Badge with credits: nothing to deposit
            row = _deposit_row(
                record.learner_id, credential, record.digest, ISSUED, now
            )
            rows.append(row)
            follow_ups.append((_entry_of(row, now), _indexed(session, row, rows)))
        return follow_ups

    def on_status_changed(
        self, session: Session, record: IssuedCredential, now: datetime
    ) -> list[FollowUp]:
        """A revoked credential's deposit is withdrawn, whether used or not."""
        if record.status != REVOKED:
            return []
        deposit = session.scalars(
            select(Deposit).where(Deposit.credential_id == record.id)
        ).first()
        if deposit is None or deposit.status == WITHDRAWN:
            return []
        return [self._withdraw(deposit, now)]

    # Deposits from elsewhere.

    def deposit_external(
        self,
        session: Session,
        learner_id: str,
        credential: Mapping[str, Any],
        *,
        issuer_id: str,
        holder: Holder,
        now: datetime,
    ) -> Deposit:
        """Deposit a credential another platform issued, already verified by the
        caller; its issuer must be on the trusted list, and its subject the
        learner depositing it."""
        if not _trusted(issuer_id, self.trusted_platforms):
            raise ForbiddenError(
                f"issuer {issuer_id} is not on this credit bank's trusted platforms"
            )
        if not holder.is_subject_of(credential):
            raise ForbiddenError(
                "the credential's subject is not this learner (by DID or e-mail)"
            )
        try:
            normal = from_open_badge(credential, False, path="verifiableCredential")
        except CreditInputError as exc:
            raise InvalidInputError(
                {exc.field or "verifiableCredential": exc.message}
            ) from exc
        existing = session.scalars(
            select(Deposit).where(Deposit.credential_id == normal.id)
        ).first()
        if existing is not None:
            raise ConflictError(f"credential {normal.id} is already deposited")
        deposit = _deposit(
            learner_id, normal, credential_digest(credential), EXTERNAL, now
        )
        deposit.credential = dict(credential)
        _check_lengths(deposit, "verifiableCredential")
        session.add(deposit)
        (deposit.log_index,) = self.log.append(
            session, [_deposited_entry(deposit, now)], now=now
        )
        session.flush()
        return deposit

    # Reading.

    def account(self, session: Session, learner_id: str) -> Account:
        deposits = session.scalars(
            select(Deposit)
            .where(Deposit.learner_id == learner_id)
            .order_by(Deposit.deposited_at, Deposit.id)
        ).all()
        transfers = session.scalars(
            select(Transfer)
            .where(Transfer.learner_id == learner_id)
            .order_by(Transfer.committed_at, Transfer.id)
        ).all()
        return Account(learner_id, tuple(deposits), tuple(transfers))

    def available(self, session: Session, learner_id: str) -> list[Deposit]:
        """The deposits a transfer may use, oldest first."""
        return list(
            session.scalars(
                select(Deposit)
                .where(Deposit.learner_id == learner_id, Deposit.status == AVAILABLE)
                .order_by(Deposit.deposited_at, Deposit.id)
            )
        )

    def suspended(self, session: Session, deposits: Collection[Deposit]) -> set[str]:
        """Ids of the credentials among `deposits` that are suspended right now."""
        ids = [d.credential_id for d in deposits if d.source == ISSUED]
        if not ids:
            return set()
        return set(
            session.scalars(
                select(IssuedCredential.id).where(
                    IssuedCredential.id.in_(ids),
                    IssuedCredential.status == SUSPENDED_STATUS,
                )
            )
        )

    def withdraw_revoked(
        self, session: Session, deposit_ids: Collection[str], now: datetime
    ) -> list[Deposit]:
        """Withdraw those of `deposit_ids` still available, whose credentials their
        home platform revoked (credits/sources.py), each with its log entry."""
        if not deposit_ids:
            return []
        found = list(
            session.scalars(
                select(Deposit)
                .where(Deposit.id.in_(deposit_ids), Deposit.status == AVAILABLE)
                .order_by(Deposit.deposited_at, Deposit.id)
            )
        )
        entries = [self._withdraw(deposit, now)[0] for deposit in found]
        if entries:
            self.log.append(session, entries, now=now)
        session.flush()
        for deposit in found:
            logger.info("deposit %s withdrawn: revoked on its platform", deposit.id)
        return found

    def _withdraw(self, deposit: Deposit, now: datetime) -> FollowUp:
        deposit.status = WITHDRAWN
        deposit.withdrawn_at = now
        entry = make_entry(
            "credits.withdrawn",
            now,
            deposit=deposit.id,
            credential=deposit.credential_id,
            digest=deposit.digest,
            transfer=deposit.transfer_id,
        )
        return entry, lambda _index: None


def _deposit(
    learner_id: str,
    credential: NormalisedCredential,
    digest: str,
    source: str,
    now: datetime,
) -> Deposit:
    return Deposit(**_deposit_row(learner_id, credential, digest, source, now))


def _deposit_row(
    learner_id: str,
    credential: NormalisedCredential,
    digest: str,
    source: str,
    now: datetime,
) -> dict[str, Any]:
    return dict(
        id="dep_" + secrets.token_hex(12),
        learner_id=learner_id,
        credential_id=credential.id,
        digest=digest,
        source=source,
        achievement=credential.achievement,
        issuer=credential.issuer,
        credits=exact_text(credential.credits),
        unit=credential.unit,
        eqf_level=credential.eqf_level,
        issued=credential.issued,
        expires=credential.expires,
        score=None if credential.score is None else exact_text(credential.score),
        status=AVAILABLE,
        transfer_id=None,
        deposited_at=now,
        withdrawn_at=None,
        log_index=-1,
    )


def _check_lengths(deposit: Deposit, path: str) -> None:
    """Refuse a value longer than its column (credits/models.py), naming the
    credential's field: PostgreSQL would fail the insert, SQLite keep it whole."""
    for column, field in _DEPOSIT_FIELDS.items():
        value = getattr(deposit, column)
        kind = Deposit.__table__.c[column].type
        if not isinstance(kind, String) or kind.length is None or value is None:
            continue
        if len(value) > kind.length:
            message = f"expected at most {kind.length} characters, got {len(value)}"
            raise InvalidInputError({f"{path}.{field}": message})


def _deposited_entry(deposit: Deposit, now: datetime) -> dict[str, Any]:
    return _entry_of(
        {
            "id": deposit.id,
            "learner_id": deposit.learner_id,
            "credential_id": deposit.credential_id,
            "digest": deposit.digest,
            "source": deposit.source,
            "credits": deposit.credits,
            "unit": deposit.unit,
        },
        now,
    )


def _entry_of(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return make_entry(
        "credits.deposited",
        now,
        deposit=row["id"],
        learner=row["learner_id"],
        credential=row["credential_id"],
        digest=row["digest"],
        source=row["source"],
        credits=row["credits"],
        unit=row["unit"],
    )


def _indexed(
    session: Session, row: dict[str, Any], rows: list[dict[str, Any]]
) -> Callable[[int], None]:
    """The follow-up of one deposit's entry: note its index; the last one of the
    batch inserts every row (follow-ups run in order)."""

    def record(index: int) -> None:
        row["log_index"] = index
        if row is rows[-1]:
            session.execute(insert(Deposit), rows)

    return record


def _trusted(issuer_id: str, trusted: Collection[str]) -> bool:
    """An issuer DID on the list, or a did:web whose host is on it (host names
    compare case-insensitively, RFC 4343)."""
    if issuer_id in trusted:
        return True
    if issuer_id.startswith("did:web:"):
        host = issuer_id.removeprefix("did:web:").split(":", 1)[0].lower()
        return host in {name.lower() for name in trusted}
    return False


def trusted_hosts(trusted: Collection[str]) -> tuple[str, ...]:
    """The did:web hosts among the trusted platforms: verifying a deposit from
    one of them may fetch its DID document."""
    hosts = []
    for name in trusted:
        if name.startswith("did:web:"):
            hosts.append(name.removeprefix("did:web:").split(":", 1)[0].lower())
        elif not name.startswith("did:"):
            hosts.append(name.lower())
    return tuple(hosts)
