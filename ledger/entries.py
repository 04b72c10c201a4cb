"""Log entries: `{"v": 1, "kind": ..., "at": ..., ...}` as RFC 8785 canonical JSON.

Entries carry ids and digests, never personal data (DESIGN §3). The bytes that are
hashed are exactly the canonical form, so anyone can re-derive them from the JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

from ledger import jcs
from ledger.errors import EntryError

__all__ = [
    "ENTRY_VERSION",
    "MAX_ENTRY_SIZE",
    "canonical_entry",
    "format_time",
    "make_entry",
    "parse_entry",
]

ENTRY_VERSION = 1

# Entries describe one event with ids and digests; anything larger is a bug upstream.
MAX_ENTRY_SIZE = 64 * 1024

_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC timestamp with milliseconds, as entries record it."""
    if moment.tzinfo is None:
        raise EntryError("expected a timezone-aware time")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def make_entry(kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """Build an entry dictionary of `kind`, stamped with `at`."""
    entry = {"v": ENTRY_VERSION, "kind": kind, "at": format_time(at)}
    for name in fields:
        if name in entry:
            raise EntryError(f"entry field {name!r} is reserved")
    entry.update(fields)
    return entry


def canonical_entry(entry: Mapping[str, Any]) -> bytes:
    """Check an entry's envelope and return its RFC 8785 bytes."""
    version = entry.get("v")
    # NOTE: exact type: True == 1 in Python, but JSON `true` is no version number.
    if type(version) is not int or version != ENTRY_VERSION:
        raise EntryError(f"expected entry version {ENTRY_VERSION}, got {version!r}")
    kind = entry.get("kind")
    # fullmatch: `$` in `match` would also accept a kind ending in a newline.
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise EntryError(f"expected an entry kind like 'key.added', got {kind!r}")
    if not isinstance(entry.get("at"), str):
        raise EntryError("expected an RFC 3339 'at' string")
    try:
        data = jcs.dumps(dict(entry))
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise EntryError(
            f"entry of kind {kind} cannot be canonicalised: {exc}"
        ) from exc
    if len(data) > MAX_ENTRY_SIZE:
        raise EntryError(
            f"expected an entry of at most {MAX_ENTRY_SIZE} bytes, got {len(data)}"
        )
    return data


def parse_entry(data: bytes) -> dict[str, Any]:
    """Parse logged bytes back into an entry, insisting they are canonical."""
    try:
        entry = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EntryError("entry bytes are not JSON") from exc
    if not isinstance(entry, dict):
        raise EntryError("expected an entry to be a JSON object")
    if canonical_entry(entry) != data:
        raise EntryError("entry bytes are not in RFC 8785 canonical form")
    return entry
