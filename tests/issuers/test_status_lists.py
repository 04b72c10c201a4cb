"""Status index allocation over many awards: `IndexAllocator` and its undo.

The allocator keeps each list's allocation bitmap in memory until `store()`; these
tests hold it to what the rows must say afterwards, and to `undo`, which must leave
no index taken, no list closed and no list opened by an award whose savepoint was
rolled back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services import Services
from credentials import Bitstring
from credentials.status_list import REVOCATION, SUSPENSION
from issuers.status_lists import (
    LIST_LENGTH,
    IndexAllocator,
    StatusList,
    allocate_index,
)
from tests.conftest import NOW

SLUG = "centre-1"
# status_lists._FULL_AT: a list is closed once nine-tenths of it is allocated.
FULL_AT = LIST_LENGTH * 9 // 10


def lists_of(session: Session, purpose: str = REVOCATION) -> list[StatusList]:
    return list(
        session.scalars(
            select(StatusList)
            .where(StatusList.issuer_slug == SLUG, StatusList.purpose == purpose)
            .order_by(StatusList.id)
        )
    )


def as_utc(moment: datetime) -> datetime:
    # SQLite gives back naive UTC times, PostgreSQL aware ones.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def taken(status_list: StatusList) -> set[int]:
    bits = Bitstring.from_bytes(status_list.allocated)
    return {i for i in range(status_list.length) if bits.get(i)}


def nearly_full(session: Session) -> StatusList:
    """The issuer's revocation list, one allocation short of being closed."""
    allocate_index(session, SLUG, REVOCATION, now=NOW)
    (status_list,) = lists_of(session)
    # The first FULL_AT - 1 indexes taken, so the next allocation closes the list.
    full_bytes, rest = divmod(FULL_AT - 1, 8)
    allocated = bytearray(LIST_LENGTH // 8)
    allocated[:full_bytes] = b"\xff" * full_bytes
    allocated[full_bytes] = (0xFF00 >> rest) & 0xFF
    status_list.allocated = bytes(allocated)
    status_list.allocated_count = FULL_AT - 1
    session.flush()
    return status_list


def test_the_bitmaps_are_stored_once_with_every_index_taken(
    services: Services,
) -> None:
    with services.database.transaction(write=True) as session:
        allocator = IndexAllocator(session, SLUG, now=NOW)
        revocations = [allocator.allocate(REVOCATION) for _ in range(300)]
        suspensions = [allocator.allocate(SUSPENSION) for _ in range(300)]
        allocator.store()

    with services.database.transaction() as session:
        (revocation,) = lists_of(session, REVOCATION)
        (suspension,) = lists_of(session, SUSPENSION)
        assert revocation.allocated_count == suspension.allocated_count == 300
        assert taken(revocation) == {index for _, index in revocations}
        assert taken(suspension) == {index for _, index in suspensions}
        assert revocation.is_open and suspension.is_open
        assert as_utc(revocation.updated_at) == NOW


def test_undo_frees_the_indexes_taken_since_the_mark(services: Services) -> None:
    with services.database.transaction(write=True) as session:
        allocator = IndexAllocator(session, SLUG, now=NOW)
        _, kept = allocator.allocate(REVOCATION)
        mark = allocator.mark()
        for _ in range(5):
            allocator.allocate(REVOCATION)
        allocator.undo(mark)
        _, after = allocator.allocate(REVOCATION)
        allocator.store()

    with services.database.transaction() as session:
        (status_list,) = lists_of(session)
        assert status_list.allocated_count == 2
        assert taken(status_list) == {kept, after}


def test_undo_of_every_allocation_leaves_the_row_as_it_was(
    services: Services,
) -> None:
    with services.database.transaction(write=True) as session:
        allocate_index(session, SLUG, REVOCATION, now=NOW)
    with services.database.transaction() as session:
        (before,) = lists_of(session)
        stored = (before.allocated, before.allocated_count, before.updated_at)

    later = NOW + timedelta(hours=1)
    with services.database.transaction(write=True) as session:
        allocator = IndexAllocator(session, SLUG, now=later)
        mark = allocator.mark()
        allocator.allocate(REVOCATION)
        allocator.undo(mark)
        allocator.store()

    with services.database.transaction() as session:
        (after,) = lists_of(session)
        assert (after.allocated, after.allocated_count, after.updated_at) == stored


def test_undo_reopens_the_list_an_undone_allocation_closed(
    services: Services,
) -> None:
    with services.database.transaction(write=True) as session:
        full = nearly_full(session)
        allocator = IndexAllocator(session, SLUG, now=NOW)
        mark = allocator.mark()
        closing, _ = allocator.allocate(REVOCATION)
        allocator.undo(mark)
        again, index = allocator.allocate(REVOCATION)
        allocator.store()

    assert closing.id == again.id == full.id
    with services.database.transaction() as session:
        (status_list,) = lists_of(session)
        assert status_list.allocated_count == FULL_AT
        assert not status_list.is_open
        assert index >= FULL_AT - 1


@pytest.mark.parametrize("undone", [False, True], ids=["kept", "undone"])
def test_a_list_opened_by_an_undone_award_goes_with_its_savepoint(
    services: Services, undone: bool
) -> None:
    with services.database.transaction(write=True) as session:
        full = nearly_full(session)
        allocator = IndexAllocator(session, SLUG, now=NOW)
        allocator.allocate(REVOCATION)  # closes the list
        savepoint = session.begin_nested()
        mark = allocator.mark()
        opened, _ = allocator.allocate(REVOCATION)
        if undone:
            savepoint.rollback()
            allocator.undo(mark)
        else:
            savepoint.commit()
        third, _ = allocator.allocate(REVOCATION)
        allocator.store()

    # Undone or not, the second list has the same name, and holds what was kept.
    assert opened.id == third.id == f"{SLUG}-{REVOCATION}-2"
    with services.database.transaction() as session:
        first, second = lists_of(session)
        assert first.id == full.id
        assert (first.allocated_count, first.is_open) == (FULL_AT, False)
        assert (second.allocated_count, second.is_open) == (1 if undone else 2, True)
        assert len(taken(second)) == second.allocated_count
