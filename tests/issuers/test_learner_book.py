"""`LearnerBook`: the learners of a chunk of awards, found and made in bulk.

The book finds a chunk's learners with one query per kind of id and inserts the ones
it made at the end; these tests hold it to the answers `find_or_create_learner` would
give row by row, and to `undo`, which must leave nothing of an award whose savepoint
was rolled back: no learner, no data key, no profile, no lookup key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from api.services import Services
from issuers.learners import (
    Learner,
    LearnerBook,
    find_or_create_learner,
    learner_profile,
)
from keys.store import DataKey
from tests.conftest import NOW, rows_in

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
OTHER_DID = DID + "x"
EMAIL = "Li.Na@Mail.Example.com"


def book(services: Services, session: Session) -> LearnerBook:
    return LearnerBook(session, services.keystore, now=NOW)


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    engine = services.database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_preloaded_learners_are_found_without_another_query(
    services: Services,
) -> None:
    with services.database.transaction(write=True) as session:
        by_did = find_or_create_learner(
            session, services.keystore, did=DID, email=None, name=None, now=NOW
        )
        by_email = find_or_create_learner(
            session, services.keystore, did=None, email=EMAIL, name="李娜", now=NOW
        )

    with services.database.transaction(write=True) as session:
        learners = book(services, session)
        learners.preload(dids=[DID, OTHER_DID], emails=[EMAIL.lower()])
        with statements(services) as sent:
            found_by_did = learners.find_or_create(did=DID, email=None, name=None)
            made = learners.find_or_create(did=OTHER_DID, email=None, name=None)
        found_by_email = learners.find_or_create(did=None, email=EMAIL, name="李娜")
        learners.store()

    assert sent == []
    assert found_by_did.id == by_did.id
    assert found_by_email.id == by_email.id
    assert made.id not in {by_did.id, by_email.id}
    assert rows_in(services, "learners") == 3


def test_learners_made_wait_for_store(services: Services) -> None:
    with services.database.transaction(write=True) as session:
        learners = book(services, session)
        learners.preload(dids=[DID], emails=[])
        made = learners.find_or_create(did=DID, email=EMAIL, name="李娜")
        counted = session.scalar(select(func.count()).select_from(Learner))
        again = learners.find_or_create(did=DID, email=None, name=None)
        learners.store()
        profile = learner_profile(session, services.keystore, made)

    assert counted == 0
    assert again is made
    assert profile is not None
    assert (profile.name, profile.email) == ("李娜", EMAIL)
    # The learner's own data key and the service's e-mail lookup key.
    assert rows_in(services, "data_keys") == 2


def test_undo_forgets_the_learners_keys_and_profiles_made_since_the_mark(
    services: Services,
) -> None:
    with services.database.transaction(write=True) as session:
        learners = book(services, session)
        kept = learners.find_or_create(did=DID, email=None, name="First")
        first_profile = kept.sealed_profile
        mark = learners.mark()
        learners.find_or_create(did=DID, email=None, name="Second")
        undone = learners.find_or_create(did=OTHER_DID, email=None, name="Other")
        learners.undo(mark)
        remade = learners.find_or_create(did=OTHER_DID, email=None, name=None)
        learners.store()
        profile = learner_profile(session, services.keystore, kept)
        owners = set(session.scalars(select(DataKey.owner)))

    assert kept.sealed_profile == first_profile
    assert profile is not None and profile.name == "First"
    assert remade.id != undone.id
    assert owners == {f"learner:{kept.id}"}
    assert rows_in(services, "learners") == 2


def test_a_lookup_key_made_in_a_rolled_back_savepoint_is_made_again(
    services: Services,
) -> None:
    with services.database.transaction(write=True) as session:
        learners = book(services, session)
        learners.preload(dids=[], emails=[EMAIL])
        savepoint = session.begin_nested()
        mark = learners.mark()
        learners.find_or_create(did=None, email=EMAIL, name="李娜")
        savepoint.rollback()
        learners.undo(mark)
        made = learners.find_or_create(did=None, email=EMAIL, name="李娜")
        learners.store()

    with services.database.transaction(write=True) as session:
        found = find_or_create_learner(
            session, services.keystore, did=None, email=EMAIL, name=None, now=NOW
        )

    assert found.id == made.id
    assert rows_in(services, "learners") == 1
    assert rows_in(services, "data_keys") == 2
