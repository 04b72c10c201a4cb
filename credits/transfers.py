"""Credit transfers: evaluate, consent, commit, and the signed statement.

DESIGN §7. A preview runs the converter on the learner's available deposits and
changes nothing; deposits from other platforms count only as far as a fresh check
allows (credits/sources.py). A commit runs it again inside the write transaction,
marks the deposits its grants used, signs a credit-transfer statement (a VC 2.0
credential of this service's own did:web) and logs it. Write transactions are
serialised (docs/adr/0002), and the deposits are marked used only where they are
still available, so of two commits racing for one deposit exactly one can win.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from credentials.data_integrity import EDDSA_JCS_2022, add_proof
from credentials.digest import credential_digest
from credits.bank import EXTERNAL, CreditBank, exact_text, normalised
from credits.converter import Evaluation, evaluate
from credits.models import (
    AVAILABLE,
    USED,
    ConsentCode,
    Deposit,
    PublishedRuleSet,
    School,
    Transfer,
)
from credits.normalise import NormalisedCredential
from credits.schools import rule_set_of
from credits.sources import SUSPENDED, SourceCheck, unchecked
from issuers.errors import ConflictError, ForbiddenError
from keys.signers import Signer
from ledger import TransparencyLog, make_entry

__all__ = [
    "CONSENT_TTL",
    "Evaluated",
    "StatementSigner",
    "check_consent",
    "commit_transfer",
    "create_consent_code",
    "evaluate_for",
    "pseudonym",
    "transfers_of_school",
]

CONSENT_TTL = timedelta(days=7)
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
STATEMENT_TYPE = "CreditTransferStatement"


@dataclass(frozen=True)
class StatementSigner:
    """The service's own key, as the issuer of credit-transfer statements."""

    did: str
    verification_method: str
    signer: Signer


@dataclass(frozen=True)
class Evaluated:
    """A converter run for one learner under one published rule set.

    `sources` says what re-checking each deposit from another platform found,
    including those it kept from the converter.
    """

    school: School
    published: PublishedRuleSet
    learner_id: str
    on: date
    deposits: tuple[Deposit, ...]
    inputs: tuple[NormalisedCredential, ...]
    evaluation: Evaluation
    sources: tuple[SourceCheck, ...] = ()

    def output(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.evaluation.to_json())
        return parsed

    def digest(self) -> str:
        """What a learner consents to: the inputs and the output, hashed."""
        document = json.dumps(
            {"inputs": [_input_json(i) for i in self.inputs], "output": self.output()},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(document.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "school": self.school.id,
            "ruleSet": {
                "id": self.published.rule_set_id,
                "version": self.published.version,
                "digest": self.published.digest,
            },
            "on": self.on.isoformat(),
            "inputs": [_input_json(i) for i in self.inputs],
            "output": self.output(),
            "previewDigest": self.digest(),
            "sourceChecks": [check.to_json() for check in self.sources],
        }


def evaluate_for(
    session: Session,
    bank: CreditBank,
    school: School,
    published: PublishedRuleSet,
    learner_id: str,
    on: date,
    checks: Mapping[str, SourceCheck] | None = None,
) -> Evaluated:
    """The converter on the learner's available deposits; changes nothing.

    `checks` holds, by deposit id, what re-checking the deposits from other
    platforms found. Such a deposit reaches the converter only when its check
    allows (a suspended one as revoked); one without a check is held back.
    """
    checks = checks or {}
    available = bank.available(session, learner_id)
    suspended = bank.suspended(session, available)
    sources = list(checks.values())
    deposits = []
    for deposit in available:
        if deposit.source == EXTERNAL:
            check = checks.get(deposit.id)
            if check is None:
                check = unchecked(deposit)
                sources.append(check)
            if not check.is_given:
                continue
            if check.state == SUSPENDED:
                suspended.add(deposit.credential_id)
        deposits.append(deposit)
    inputs = tuple(
        normalised(d, revoked=d.credential_id in suspended) for d in deposits
    )
    evaluation = evaluate(rule_set_of(published), inputs, on)
    return Evaluated(
        school,
        published,
        learner_id,
        on,
        tuple(deposits),
        inputs,
        evaluation,
        tuple(sources),
    )


def create_consent_code(
    session: Session, learner_id: str, school_id: str, *, now: datetime
) -> tuple[str, datetime]:
    """A one-time code the learner hands to one school; only its hash is kept."""
    code = "cc_" + secrets.token_urlsafe(18)
    expires = now + CONSENT_TTL
    session.add(
        ConsentCode(
            code_hash=_hash(code),
            learner_id=learner_id,
            school_id=school_id,
            created_at=now,
            expires_at=expires,
            used_at=None,
        )
    )
    session.flush()
    return code, expires


def check_consent(
    session: Session,
    code: str,
    learner_id: str,
    school_id: str,
    *,
    now: datetime,
    consume: bool,
) -> None:
    """Refuse unless `code` is this learner's unused, unexpired code for this
    school; with `consume`, it is used up."""
    found = session.get(ConsentCode, _hash(code))
    if (
        found is None
        or found.learner_id != learner_id
        or found.school_id != school_id
        or found.used_at is not None
        or _aware(found.expires_at) <= now
    ):
        raise ForbiddenError(
            "the consent code is not valid for this learner and school"
        )
    if consume:
        found.used_at = now
        session.flush()


def commit_transfer(
    session: Session,
    log: TransparencyLog,
    evaluated: Evaluated,
    statement_signer: StatementSigner,
    pseudonym_key: bytes,
    *,
    expected_digest: str | None,
    now: datetime,
) -> Transfer:
    """Consume the deposits the grants used, sign the statement, log it."""
    if expected_digest is not None and expected_digest != evaluated.digest():
        raise ConflictError(
            "the learner's deposits changed since the preview; preview again"
        )
    grants = evaluated.evaluation.grants
    if not grants:
        raise ConflictError("the evaluation grants nothing: there is nothing to commit")
    by_credential = {d.credential_id: d for d in evaluated.deposits}
    used = [by_credential[c] for grant in grants for c in grant.credentials]
    transfer_id = "trf_" + secrets.token_hex(12)
    # Only deposits still available are taken: a commit that raced ahead of this
    # one leaves fewer rows than expected, and this one fails whole.
    taken = session.execute(
        update(Deposit)
        .where(Deposit.id.in_([d.id for d in used]), Deposit.status == AVAILABLE)
        .values(status=USED, transfer_id=transfer_id)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], taken).rowcount != len(used):
        raise ConflictError("a deposit this transfer needs was used by another one")
    for deposit in used:
        session.refresh(deposit)

    rule_set = rule_set_of(evaluated.published)
    learner_ref = pseudonym(pseudonym_key, evaluated.school.id, evaluated.learner_id)
    statement = _statement(
        evaluated,
        rule_set.target_unit,
        by_credential,
        learner_ref,
        issuer=statement_signer.did,
        now=now,
    )
    signed = add_proof(
        statement,
        statement_signer.signer,
        cryptosuite=EDDSA_JCS_2022,
        verification_method=statement_signer.verification_method,
        created=_timestamp(now),
    )
    transfer = Transfer(
        id=transfer_id,
        school_id=evaluated.school.id,
        rule_set_id=evaluated.published.rule_set_id,
        version=evaluated.published.version,
        learner_id=evaluated.learner_id,
        learner_ref=learner_ref,
        evaluated_on=evaluated.on,
        output=evaluated.output(),
        statement=signed,
        statement_id=statement["id"],
        total=exact_text(evaluated.evaluation.total),
        committed_at=now,
        log_index=-1,
    )
    session.add(transfer)
    (transfer.log_index,) = log.append(
        session,
        [
            make_entry(
                "transfer.committed",
                now,
                transfer=transfer_id,
                school=evaluated.school.id,
                ruleset=evaluated.published.rule_set_id,
                version=evaluated.published.version,
                rulesetDigest=evaluated.published.digest,
                learner=learner_ref,
                statement=statement["id"],
                digest=credential_digest(signed),
                deposits=[d.digest for d in used],
                total=transfer.total,
            )
        ],
        now=now,
    )
    session.flush()
    return transfer


def pseudonym(key: bytes, school_id: str, learner_id: str) -> str:
    """The learner as one school sees them: stable for that school, unlinkable
    across schools without the service's key."""
    mac = hmac.new(key, f"{school_id}\n{learner_id}".encode(), hashlib.sha256)
    return "lr_" + mac.hexdigest()[:24]


def transfers_of_school(session: Session, school_id: str) -> list[Transfer]:
    return list(
        session.scalars(
            select(Transfer)
            .where(Transfer.school_id == school_id)
            .order_by(Transfer.committed_at, Transfer.id)
        )
    )


def _statement(
    evaluated: Evaluated,
    unit: str,
    deposits: dict[str, Deposit],
    learner_ref: str,
    *,
    issuer: str,
    now: datetime,
) -> dict[str, Any]:
    published = evaluated.published
    program = published.document.get("program", {})
    return {
        "@context": [VC2_CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", STATEMENT_TYPE],
        "name": "Credit transfer statement / 学分转换证明",
        "issuer": issuer,
        "validFrom": _timestamp(now),
        "credentialSubject": {
            "id": f"urn:credbank:learner:{learner_ref}",
            "school": evaluated.school.did,
            "programme": {"code": program.get("code"), "name": program.get("name")},
            "ruleSet": {
                "id": published.rule_set_id,
                "version": published.version,
                "digest": published.digest,
            },
            "evaluatedOn": evaluated.on.isoformat(),
            "unit": unit,
            "grants": [
                {
                    "rule": grant.rule,
                    "course": grant.course,
                    "slot": grant.slot,
                    "credits": exact_text(grant.credits),
                    "sources": [deposits[c].digest for c in grant.credentials],
                }
                for grant in evaluated.evaluation.grants
            ],
            "total": exact_text(evaluated.evaluation.total),
        },
    }


def _input_json(credential: NormalisedCredential) -> dict[str, Any]:
    return {
        "id": credential.id,
        "achievement": credential.achievement,
        "issuer": credential.issuer,
        "credits": exact_text(credential.credits),
        "unit": credential.unit,
        "eqf_level": credential.eqf_level,
        "issued": credential.issued.isoformat(),
        "expires": credential.expires.isoformat() if credential.expires else None,
        "revoked": credential.revoked,
        "score": None if credential.score is None else exact_text(credential.score),
    }


def _hash(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
