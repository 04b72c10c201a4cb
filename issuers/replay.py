"""Replaying the registry's log entries to check its tables (`credbank log audit`).

The registry's tables are projections of the log (DESIGN §3). This module folds every
entry, in log order, into the rows the tables should hold, then compares: a row the log
does not explain, a row missing, or a field that differs is reported with the log index
of the entry that last set it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from issuers.issuance import IssuedCredential
from issuers.learners import Learner, learner_key_owner
from issuers.models import Achievement, Issuer, IssuerEvent, Review
from keys import StoredKey
from keys.multikey import encode_multikey
from keys.store import DataKey
from ledger.audit import Discrepancy
from ledger.entries import parse_entry
from ledger.models import LogEntry

__all__ = ["replay_registry"]

_CHUNK = 5000

_ISSUER_STATUS = {
    "issuer.applied": "applied",
    "issuer.accredited": "accredited",
    "issuer.rejected": "rejected",
    "issuer.suspended": "suspended",
    "issuer.reinstated": "accredited",
}
_ACHIEVEMENT_STATUS = {
    "achievement.submitted": "submitted",
    "achievement.approved": "approved",
    "achievement.rejected": "rejected",
    "achievement.retired": "retired",
}


@dataclass
class _Expected:
    """What the tables should hold, each row with the index that last set it."""

    issuers: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    events: dict[str, list[tuple[str, str | None, int]]] = field(default_factory=dict)
    reviews: dict[tuple[str, str, str], tuple[str, int]] = field(default_factory=dict)
    achievements: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    keys: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    credentials: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    erased: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)


def replay_registry(session: Session) -> Discrepancy | None:
    """Fold the log into expected rows and return the first table row that differs."""
    expected = _Expected()
    for index, entry in _entries(session):
        try:
            _apply(expected, index, entry)
        except KeyError as exc:
            return Discrepancy(
                f"entry {index}", index, f"{entry['kind']} refers to unknown {exc}"
            )
    return (
        _compare_issuers(session, expected)
        or _compare_events(session, expected)
        or _compare_reviews(session, expected)
        or _compare_achievements(session, expected)
        or _compare_keys(session, expected)
        or _compare_credentials(session, expected)
        or _compare_erased(session, expected)
    )


def _apply(expected: _Expected, index: int, entry: dict[str, Any]) -> None:
    kind = entry["kind"]
    if kind == "issuer.applied":
        row = {
            "status": "applied",
            "name_zh": entry["name"].get("zh"),
            "name_en": entry["name"].get("en"),
            "legal_id": entry["legalId"],
            "kind": entry["organisationKind"],
            "website": entry["website"],
            "learner_display": "masked",
        }
        expected.issuers[entry["issuer"]] = (row, index)
    elif kind == "issuer.privacy_changed":
        row, _ = expected.issuers[entry["issuer"]]
        row["learner_display"] = entry["learnerDisplay"]
        expected.issuers[entry["issuer"]] = (row, index)
    if kind in _ISSUER_STATUS:
        slug = entry["issuer"]
        row, _ = expected.issuers[slug]
        row["status"] = _ISSUER_STATUS[kind]
        expected.issuers[slug] = (row, index)
        events = expected.events.setdefault(slug, [])
        events.append((_ISSUER_STATUS[kind], entry.get("reason"), index))
    elif kind in {"issuer.reviewed", "achievement.reviewed"}:
        subject_kind, _, _ = kind.partition(".")
        subject = entry[subject_kind]
        key = (subject_kind, subject, entry["reviewer"])
        expected.reviews[key] = (entry["decision"], index)
    elif kind == "achievement.submitted":
        row = {
            "issuer_slug": entry["issuer"],
            "definition": entry["definition"],
            "status": "submitted",
            "retire_reason": None,
        }
        expected.achievements[entry["achievement"]] = (row, index)
    if kind in _ACHIEVEMENT_STATUS and kind != "achievement.submitted":
        row, _ = expected.achievements[entry["achievement"]]
        row["status"] = _ACHIEVEMENT_STATUS[kind]
        if kind == "achievement.retired":
            row["retire_reason"] = entry["reason"]
        expected.achievements[entry["achievement"]] = (row, index)
    elif kind == "key.added":
        key_info = entry["key"]
        row = {
            "owner": key_info["owner"],
            "algorithm": key_info["type"],
            "publicKeyMultibase": key_info["publicKeyMultibase"],
            "state": "active",
        }
        expected.keys[key_info["id"]] = (row, index)
    elif kind == "credential.issued":
        lists = {item["purpose"]: item for item in entry["status"]}
        row = {
            "issuer_slug": entry["issuer"],
            "achievement_id": entry["achievement"],
            "learner_id": entry["learner"],
            "digest": entry["digest"],
            "log_index": index,
            "revocation_list": lists["revocation"]["list"],
            "revocation_index": lists["revocation"]["index"],
            "suspension_list": lists["suspension"]["list"],
            "suspension_index": lists["suspension"]["index"],
            "status": "active",
        }
        expected.credentials[entry["credential"]] = (row, index)
    elif kind == "status.changed":
        row, _ = expected.credentials[entry["credential"]]
        row["status"] = entry["status"]
        expected.credentials[entry["credential"]] = (row, index)
    elif kind in {"key.retired", "key.compromised"}:
        row, _ = expected.keys[entry["key"]]
        row["state"] = kind.partition(".")[2]
        expected.keys[entry["key"]] = (row, index)
    elif kind == "learner.erased":
        row = {
            "erased": True,
            "erasure_reason": entry["reason"],
            "erasure_log_index": index,
            "personal_data": [],
        }
        expected.erased[entry["learner"]] = (row, index)


def _entries(session: Session) -> Iterator[tuple[int, dict[str, Any]]]:
    query = select(LogEntry.idx, LogEntry.data).order_by(LogEntry.idx)
    for idx, data in session.execute(query.execution_options(yield_per=_CHUNK)):
        yield idx, parse_entry(data)


def _differs(
    where: str, index: int | None, table: dict[str, Any], logged: dict[str, Any]
) -> Discrepancy | None:
    for name, value in logged.items():
        if table.get(name) != value:
            return Discrepancy(
                where,
                index,
                f"{name} is {table.get(name)!r} in the table, "
                f"{value!r} in the log (entry {index})",
            )
    return None


def _compare_rows(
    what: str,
    table: dict[str, dict[str, Any]],
    logged: dict[str, tuple[dict[str, Any], int]],
) -> Discrepancy | None:
    for key in sorted(set(table) | set(logged), key=str):
        where = f"{what} {key}"
        if key not in logged:
            return Discrepancy(where, None, "row has no log entry")
        row, index = logged[key]
        if key not in table:
            return Discrepancy(where, index, f"logged at entry {index}; no row")
        found = _differs(where, index, table[key], row)
        if found:
            return found
    return None


def _compare_issuers(session: Session, expected: _Expected) -> Discrepancy | None:
    table = {
        issuer.slug: {
            "status": issuer.status,
            "name_zh": issuer.name_zh,
            "name_en": issuer.name_en,
            "legal_id": issuer.legal_id,
            "kind": issuer.kind,
            "website": issuer.website,
            "learner_display": issuer.learner_display,
        }
        for issuer in session.scalars(select(Issuer))
    }
    return _compare_rows("issuer", table, expected.issuers)


def _compare_events(session: Session, expected: _Expected) -> Discrepancy | None:
    table: dict[str, list[tuple[str, str | None, int]]] = {}
    for event in session.scalars(select(IssuerEvent).order_by(IssuerEvent.log_index)):
        table.setdefault(event.issuer_slug, []).append(
            (event.status, event.reason, event.log_index)
        )
    for slug in sorted(set(table) | set(expected.events)):
        if table.get(slug, []) != expected.events.get(slug, []):
            return Discrepancy(
                f"status history of issuer {slug}",
                None,
                "differs from the issuer.* entries of the log",
            )
    return None


def _compare_reviews(session: Session, expected: _Expected) -> Discrepancy | None:
    table = {
        _review_key(r.subject_kind, r.subject_id, r.reviewer_id): {
            "decision": r.decision
        }
        for r in session.scalars(select(Review))
    }
    logged = {
        _review_key(*key): ({"decision": decision}, index)
        for key, (decision, index) in expected.reviews.items()
    }
    return _compare_rows("review", table, logged)


def _review_key(subject_kind: str, subject_id: str, reviewer_id: str) -> str:
    return f"of {subject_kind} {subject_id} by {reviewer_id}"


def _compare_achievements(session: Session, expected: _Expected) -> Discrepancy | None:
    table = {
        a.id: {
            "issuer_slug": a.issuer_slug,
            "definition": a.definition,
            "status": a.status,
            "retire_reason": a.retire_reason,
        }
        for a in session.scalars(select(Achievement))
    }
    return _compare_rows("achievement", table, expected.achievements)


def _compare_keys(session: Session, expected: _Expected) -> Discrepancy | None:
    table = {
        key.id: {
            "owner": key.owner,
            "algorithm": key.algorithm,
            "publicKeyMultibase": encode_multikey(key.algorithm, key.public_key),
            "state": key.state,
        }
        for key in session.scalars(select(StoredKey))
    }
    return _compare_rows("key", table, expected.keys)


def _compare_credentials(session: Session, expected: _Expected) -> Discrepancy | None:
    table = {
        c.id: {
            "issuer_slug": c.issuer_slug,
            "achievement_id": c.achievement_id,
            "learner_id": c.learner_id,
            "digest": c.digest,
            "log_index": c.log_index,
            "revocation_list": c.revocation_list,
            "revocation_index": c.revocation_index,
            "suspension_list": c.suspension_list,
            "suspension_index": c.suspension_index,
            "status": c.status,
        }
        for c in session.scalars(select(IssuedCredential))
    }
    return _compare_rows("credential", table, expected.credentials)


def _compare_erased(session: Session, expected: _Expected) -> Discrepancy | None:
    """Erased learners against `learner.erased` entries: the same learners, each
    holding nothing personal any more (issuers.erasure)."""
    erased = Learner.erased_at.is_not(None) | Learner.erasure_log_index.is_not(None)
    query = select(Learner).where(erased)
    learners = {learner.id: learner for learner in session.scalars(query)}
    # A learner the log erased but the table did not: found one by one (rare).
    for learner_id in expected.erased.keys() - learners.keys():
        found = session.get(Learner, learner_id)
        if found is not None:
            learners[learner_id] = found
    keyed = set(
        session.scalars(
            select(Learner.id)
            .join(DataKey, DataKey.owner == literal(learner_key_owner("")) + Learner.id)
            .where(erased)
        )
    )
    table = {
        learner.id: {
            "erased": learner.erased_at is not None,
            "erasure_reason": learner.erasure_reason,
            "erasure_log_index": learner.erasure_log_index,
            "personal_data": [
                name
                for name, value in (
                    ("did", learner.did),
                    ("email_lookup", learner.email_lookup),
                    ("sealed_profile", learner.sealed_profile),
                    ("data_key", learner.id in keyed),
                )
                if value
            ],
        }
        for learner in learners.values()
    }
    return _compare_rows("learner", table, expected.erased)
