"""issuers.erasure: what an erasure clears, and the audit's replay of it.

The replay holds a learner erased exactly when a `learner.erased` entry says so,
with nothing personal left on their row and no data key; any change behind the
log's back is named.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.services import Services
from issuers.erasure import ERASURE_REASONS, erase_learner
from issuers.errors import InvalidInputError, NotFoundError
from issuers.learners import (
    Learner,
    find_or_create_learner,
    learner_key_owner,
    learner_profile,
)
from issuers.replay import replay_registry
from keys.store import DataKey
from ledger.audit import audit_log
from tests.conftest import NOW, logged, tree_size

LATER = NOW + timedelta(days=30)


def _learner(services: Services, email: str = "li.ming@example.cn") -> str:
    with services.database.transaction(write=True) as session:
        made = find_or_create_learner(
            session, services.keystore, did=None, email=email, name="李明", now=NOW
        )
        return made.id


def _erase(services: Services, learner_id: str, reason: str = "learner-request") -> int:
    with services.database.transaction(write=True) as session:
        erasure = erase_learner(
            session, services.log, learner_id, reason=reason, now=LATER
        )
        return erasure.log_index


def test_erasure_clears_the_row_and_destroys_the_data_key(services: Services) -> None:
    learner_id = _learner(services)
    size = tree_size(services)

    index = _erase(services, learner_id)

    assert index == size
    with services.database.transaction() as session:
        learner = session.get(Learner, learner_id)
        assert learner is not None
        assert (learner.did, learner.email_lookup, learner.sealed_profile) == (
            None,
            None,
            None,
        )
        assert learner.erasure_reason == "learner-request"
        assert learner.erasure_log_index == index
        assert session.get(DataKey, learner_key_owner(learner_id)) is None
        assert learner_profile(session, services.keystore, learner) is None
        assert audit_log(session, [services.log.verifier]).is_clean
        assert replay_registry(session) is None
    (entry,) = logged(services, size)
    assert entry == {
        "v": 1,
        "kind": "learner.erased",
        "at": "2026-12-31T09:30:00.000Z",
        "learner": learner_id,
        "reason": "learner-request",
    }


def test_a_second_erasure_changes_nothing(services: Services) -> None:
    learner_id = _learner(services)
    first = _erase(services, learner_id, "consent-withdrawn")
    size = tree_size(services)

    with services.database.transaction(write=True) as session:
        again = erase_learner(
            session,
            services.log,
            learner_id,
            reason="legal-obligation",
            now=LATER + timedelta(days=1),
        )

    assert (again.log_index, again.reason, again.created) == (
        first,
        "consent-withdrawn",
        False,
    )
    assert again.erased_at == LATER
    assert tree_size(services) == size


@pytest.mark.parametrize("reason", ["", "Learner-Request", "moved abroad", "x" * 40])
def test_a_reason_off_the_list_is_refused(services: Services, reason: str) -> None:
    learner_id = _learner(services)

    with (
        pytest.raises(InvalidInputError, match="reason: expected one of learner-"),
        services.database.transaction(write=True) as session,
    ):
        erase_learner(session, services.log, learner_id, reason=reason, now=LATER)

    assert reason not in ERASURE_REASONS


def test_an_unknown_learner_is_not_found(services: Services) -> None:
    with (
        pytest.raises(NotFoundError, match="no learner 'lrn_nobody'"),
        services.database.transaction(write=True) as session,
    ):
        erase_learner(
            session, services.log, "lrn_nobody", reason="learner-request", now=LATER
        )


# Tampering behind the log's back, and what the replay says of it.

Tamper = Callable[[Session, str, str], None]


def unerase(session: Session, erased: str, _other: str) -> None:
    session.execute(
        update(Learner)
        .where(Learner.id == erased)
        .values(erased_at=None, erasure_reason=None, erasure_log_index=None)
    )


def restore_the_key(session: Session, erased: str, other: str) -> None:
    stolen = session.get(DataKey, learner_key_owner(other))
    assert stolen is not None
    session.add(
        DataKey(
            owner=learner_key_owner(erased),
            sealed_key=stolen.sealed_key,
            created_at=NOW,
        )
    )


def restore_the_lookup(session: Session, erased: str, _other: str) -> None:
    session.execute(
        update(Learner).where(Learner.id == erased).values(email_lookup=b"\x01" * 32)
    )


def change_the_reason(session: Session, erased: str, _other: str) -> None:
    session.execute(
        update(Learner)
        .where(Learner.id == erased)
        .values(erasure_reason="legal-obligation")
    )


def erase_unlogged(session: Session, _erased: str, other: str) -> None:
    session.execute(
        update(Learner)
        .where(Learner.id == other)
        .values(erased_at=LATER, sealed_profile=None, email_lookup=None)
    )


TAMPERING: list[tuple[Tamper, str, str]] = [
    (unerase, "learner {erased}", "erased is False in the table, True in the log"),
    (restore_the_key, "learner {erased}", "personal_data is ['data_key']"),
    (restore_the_lookup, "learner {erased}", "personal_data is ['email_lookup']"),
    (change_the_reason, "learner {erased}", "erasure_reason is 'legal-obligation'"),
    (erase_unlogged, "learner {other}", "row has no log entry"),
]


@pytest.mark.parametrize(
    ("tamper", "where", "message"),
    TAMPERING,
    ids=[tamper.__name__ for tamper, _, _ in TAMPERING],
)
def test_an_erasure_changed_behind_the_log_is_named(
    services: Services, tamper: Tamper, where: str, message: str
) -> None:
    erased = _learner(services)
    other = _learner(services, "other@example.cn")
    _erase(services, erased)

    with services.database.transaction(write=True) as session:
        tamper(session, erased, other)
    with services.database.transaction() as session:
        found = replay_registry(session)

    assert found is not None
    assert found.where == where.format(erased=erased, other=other)
    assert message in found.message
