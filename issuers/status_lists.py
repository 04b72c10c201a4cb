"""Each issuer's status lists (W3C Bitstring Status List v1.0) and their indexes.

An issuer has a revocation list and a suspension list open at a time, each of
131,072 entries; a credential gets a random free index in each (§5.1 asks for random
assignment so an index says nothing about when a credential was issued). A list that
is nine-tenths allocated is closed and a new one opened, so a random free index is
always found in a few tries. After any change the list credential is signed again and
its version (the ETag) goes up. An `IndexAllocator` keeps the allocation bitmaps of a
chunk of awards in memory and stores them once, at the end of the chunk.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, Boolean, DateTime, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from credentials import Bitstring, add_proof, status_list_credential
from credentials.status_list import MINIMUM_BITS
from keys.database import Base
from keys.signers import Signer

__all__ = [
    "STATUS_TTL_MS",
    "IndexAllocator",
    "StatusList",
    "allocate_index",
    "set_status_bit",
    "sign_status_list",
    "status_list_url",
]

LIST_LENGTH = MINIMUM_BITS
# Close a list when this many of its entries are taken.
_FULL_AT = LIST_LENGTH * 9 // 10
# How long verifiers may cache a list (Bitstring Status List §2.2 ttl, milliseconds);
# the HTTP Cache-Control max-age agrees with it.
STATUS_TTL_MS = 300_000


class StatusList(Base):
    __tablename__ = "status_lists"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    issuer_slug: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    length: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    allocated: Mapped[bytes] = mapped_column(LargeBinary)
    allocated_count: Mapped[int] = mapped_column(Integer)
    is_open: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    signed_credential: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def status_list_url(base_url: str, list_id: str) -> str:
    return f"{base_url}/status/{list_id}"


def allocate_index(
    session: Session, slug: str, purpose: str, *, now: datetime
) -> tuple[StatusList, int]:
    """A random free index in the issuer's open list for `purpose`."""
    allocator = IndexAllocator(session, slug, now=now)
    found = allocator.allocate(purpose)
    allocator.store()
    return found


class IndexAllocator:
    """Random free indexes in one issuer's open lists, for many awards in a row.

    Each list's allocation bitmap is read when the allocator first meets the list and
    written back once, by `store()`, rather than once per award. Invariants: it lives
    inside one write transaction, so nothing else allocates in the issuer's lists
    meanwhile; until `store()` the rows of the lists it has met are stale, and its own
    bitmaps are the truth; a list it opens is only in memory until `store()` adds
    it, so until then nothing is written at all; `undo(mark)` frees every index
    allocated since `mark()` and forgets every list met since, so a refused award
    leaves no used index and no list behind. What is stored is kept: `undo` does
    not reach back past the last `store()`.
    """

    def __init__(self, session: Session, slug: str, *, now: datetime) -> None:
        self._session = session
        self._slug = slug
        self._now = now
        self._current: dict[str, _Allocation] = {}
        self._met: list[_Allocation] = []
        self._journal: list[_Allocated | _Met] = []

    def allocate(self, purpose: str) -> tuple[StatusList, int]:
        """A random free index in the open list for `purpose`, opening one if none."""
        current = self._current.get(purpose)
        if current is None or not current.is_open:
            current = self._meet(purpose, closed=current)
        allocated = current.allocated
        length = current.status_list.length
        while True:
            index = secrets.randbelow(length)
            if not allocated.get(index):
                break
        allocated.set(index, True)
        self._journal.append(_Allocated(current, index, current.is_open))
        current.count += 1
        if current.count >= _FULL_AT:
            current.is_open = False
        return current.status_list, index

    def mark(self) -> int:
        """A point to `undo` back to."""
        return len(self._journal)

    def undo(self, mark: int) -> None:
        """Free the indexes allocated, and forget the lists met, since `mark`."""
        while len(self._journal) > mark:
            step = self._journal.pop()
            if isinstance(step, _Allocated):
                step.allocation.allocated.set(step.taken, False)
                step.allocation.count -= 1
                step.allocation.is_open = step.was_open
            elif step.previous is None:
                del self._current[step.purpose]
            else:
                self._current[step.purpose] = step.previous

    def store(self) -> None:
        """Write every changed bitmap, count and open flag back to its list's row,
        adding the rows of the lists opened since the last `store()`."""
        for allocation in self._met:
            if allocation.count == allocation.stored_count:
                # Nothing allocated, or all of it undone: the row is as it was (a
                # new list whose every index was undone is never written).
                continue
            status_list = allocation.status_list
            if allocation.is_new:
                self._session.add(status_list)
                allocation.is_new = False
            status_list.allocated = allocation.allocated.to_bytes()
            status_list.allocated_count = allocation.count
            status_list.is_open = allocation.is_open
            status_list.updated_at = self._now
            allocation.stored_count = allocation.count
        self._journal.clear()

    def _meet(self, purpose: str, *, closed: _Allocation | None) -> _Allocation:
        # A list this allocator closed is still open in its (stale) row, so the
        # query is only for the first list of each purpose.
        status_list = None
        if closed is None:
            status_list = self._session.scalars(
                select(StatusList)
                .where(
                    StatusList.issuer_slug == self._slug,
                    StatusList.purpose == purpose,
                    StatusList.is_open.is_(True),
                )
                .limit(1)
            ).first()
        is_new = status_list is None
        if status_list is None:
            status_list = _new_list(
                self._session, self._slug, purpose, self._now, self._unstored(purpose)
            )
        allocation = _Allocation(
            status_list,
            Bitstring.from_bytes(status_list.allocated),
            status_list.allocated_count,
            status_list.is_open,
            is_new,
        )
        self._met.append(allocation)
        self._journal.append(_Met(purpose, closed))
        self._current[purpose] = allocation
        return allocation

    def _unstored(self, purpose: str) -> int:
        # Lists of `purpose` opened here and not yet stored, but still in use: the
        # next one opened is numbered after them.
        return sum(
            1
            for allocation in self._met
            if allocation.is_new
            and allocation.status_list.purpose == purpose
            and (allocation.count > 0 or allocation is self._current.get(purpose))
        )


def set_status_bit(status_list: StatusList, index: int, value: bool) -> bool:
    """Set one bit; return whether it changed."""
    bits = Bitstring.from_bytes(status_list.bits)
    if bits.get(index) == value:
        return False
    bits.set(index, value)
    status_list.bits = bits.to_bytes()
    status_list.version += 1
    return True


def sign_status_list(
    status_list: StatusList,
    *,
    base_url: str,
    issuer_did: str,
    signer: Signer,
    verification_method: str,
    now: datetime,
) -> dict[str, Any]:
    """Sign the list as a BitstringStatusListCredential and keep it on the row."""
    moment = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    unsigned = status_list_credential(
        status_list_url(base_url, status_list.id),
        issuer=issuer_did,
        status_purpose=status_list.purpose,
        bitstring=Bitstring.from_bytes(status_list.bits),
        valid_from=moment,
        ttl=STATUS_TTL_MS,
    )
    signed = add_proof(
        unsigned,
        signer,
        cryptosuite="eddsa-rdfc-2022",
        verification_method=verification_method,
        created=moment,
    )
    status_list.signed_credential = signed
    status_list.updated_at = now
    return signed


def _new_list(
    session: Session, slug: str, purpose: str, now: datetime, unstored: int
) -> StatusList:
    """A new, empty list numbered after the issuer's stored lists of `purpose` and
    the `unstored` ones opened before it; not added to the session."""
    existing = session.scalars(
        select(StatusList.id).where(
            StatusList.issuer_slug == slug, StatusList.purpose == purpose
        )
    ).all()
    empty = bytes(LIST_LENGTH // 8)
    return StatusList(
        id=f"{slug}-{purpose}-{len(existing) + unstored + 1}",
        issuer_slug=slug,
        purpose=purpose,
        length=LIST_LENGTH,
        bits=empty,
        allocated=empty,
        allocated_count=0,
        is_open=True,
        version=0,
        signed_credential=None,
        updated_at=now,
    )


@dataclass(eq=False)
class _Allocation:
    """An `IndexAllocator`'s working copy of one list's allocation state."""

    status_list: StatusList
    allocated: Bitstring
    count: int
    is_open: bool
    # Opened by the allocator and not yet added to the session.
    is_new: bool = False
    stored_count: int = field(init=False)

    def __post_init__(self) -> None:
        self.stored_count = self.count


class _Allocated(NamedTuple):
    """A step of the journal: index `taken` was allocated in `allocation`'s list."""

    allocation: _Allocation
    taken: int
    was_open: bool


class _Met(NamedTuple):
    """A step of the journal: a list became current for `purpose`."""

    purpose: str
    previous: _Allocation | None
