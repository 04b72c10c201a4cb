"""Each issuer's status lists (W3C Bitstring Status List v1.0) and their indexes.

An issuer has a revocation list and a suspension list open at a time, each of
131,072 entries; a credential gets a random free index in each (§5.1 asks for random
assignment so an index says nothing about when a credential was issued). A list that
is nine-tenths allocated is closed and a new one opened, so a random free index is
always found in a few tries. After any change the list credential is signed again and
its version (the ETag) goes up.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from credentials import Bitstring, add_proof, status_list_credential
from credentials.status_list import MINIMUM_BITS
from keys.database import Base
from keys.signers import Signer

__all__ = [
    "STATUS_TTL_MS",
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
    status_list = session.scalars(
        select(StatusList)
        .where(
            StatusList.issuer_slug == slug,
            StatusList.purpose == purpose,
            StatusList.is_open.is_(True),
        )
        .limit(1)
    ).first()
    if status_list is None:
        status_list = _open_list(session, slug, purpose, now)
    allocated = Bitstring.from_bytes(status_list.allocated)
    while True:
        index = secrets.randbelow(status_list.length)
        if not allocated.get(index):
            break
    allocated.set(index, True)
    status_list.allocated = allocated.to_bytes()
    status_list.allocated_count += 1
    if status_list.allocated_count >= _FULL_AT:
        status_list.is_open = False
    status_list.updated_at = now
    return status_list, index


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


def _open_list(session: Session, slug: str, purpose: str, now: datetime) -> StatusList:
    existing = session.scalars(
        select(StatusList.id).where(
            StatusList.issuer_slug == slug, StatusList.purpose == purpose
        )
    ).all()
    empty = bytes(LIST_LENGTH // 8)
    status_list = StatusList(
        id=f"{slug}-{purpose}-{len(existing) + 1}",
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
    session.add(status_list)
    session.flush()
    return status_list
