"""Following a remote credbank log as a monitor (DESIGN §3, `credbank log monitor`).

The monitor keeps, in a state file, the last checkpoint it verified together with the
right border of that tree (a compact range). Each poll it:
1. fetches the latest checkpoint and checks its signature against the pinned key;
2. refuses a smaller tree, or the same size with another root;
3. fetches and checks the consistency proof from its last checkpoint;
4. fetches every new entry, checks each is canonical JSON, re-hashes it, and extends
   the compact range, whose root must equal the new checkpoint's root;
5. only then saves the new checkpoint and border as its state.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.checkpoints import Checkpoint, open_checkpoint
from ledger.entries import parse_entry
from ledger.errors import FormatError, LedgerError, ProofError
from ledger.merkle import CompactRange, leaf_hash, verify_consistency
from ledger.notes import NoteVerifier

__all__ = ["MonitorError", "MonitorState", "Poll", "poll_log"]

STATE_FORMAT = "credbank-monitor-state/v1"

Fetch = Callable[[str], bytes]


class MonitorError(LedgerError):
    """The remote log misbehaved, or could not be read."""


@dataclass(frozen=True)
class MonitorState:
    """The last verified checkpoint and the border of its tree."""

    vkey: str
    size: int
    root_hash: bytes
    border: tuple[bytes, ...]
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "vkey": self.vkey,
            "size": self.size,
            "rootHash": base64.b64encode(self.root_hash).decode(),
            "border": [base64.b64encode(h).decode() for h in self.border],
            "checkpoint": self.note,
        }

    @classmethod
    def from_json(cls, data: Any) -> MonitorState:
        try:
            if data["format"] != STATE_FORMAT:
                raise FormatError(f"expected state format {STATE_FORMAT}")
            state = cls(
                vkey=str(data["vkey"]),
                size=int(data["size"]),
                root_hash=base64.b64decode(data["rootHash"], validate=True),
                border=tuple(
                    base64.b64decode(h, validate=True) for h in data["border"]
                ),
                note=str(data["checkpoint"]),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise FormatError(f"monitor state is malformed: {exc}") from exc
        if CompactRange(state.size, state.border).root() != state.root_hash:
            raise FormatError("monitor state's border does not match its root")
        return state

    def save(self, path: Path) -> None:
        """Write atomically, so a crash leaves the old state or the new one."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.to_json(), handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> MonitorState | None:
        if not path.exists():
            return None
        try:
            return cls.from_json(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise FormatError(f"{path} is not JSON") from exc


@dataclass(frozen=True)
class Poll:
    """What one poll saw."""

    old_size: int
    checkpoint: Checkpoint
    state: MonitorState


def poll_log(fetch: Fetch, state: MonitorState | None, vkey: str | None) -> Poll:
    """Check the remote log once against `state`; return the new state."""
    if state and vkey and vkey.strip() != state.vkey:
        raise MonitorError("--vkey differs from the key pinned in the state file")
    if state or vkey:
        pinned = state.vkey if state else str(vkey)
        verifier = NoteVerifier.parse(pinned)
    else:
        # Trust on first use: a malformed published key is the log's fault.
        pinned = _text(fetch, "/log/key").strip()
        try:
            verifier = NoteVerifier.parse(pinned)
        except FormatError as exc:
            raise MonitorError(f"published key rejected: {exc}") from exc

    # Step 1.
    note = _text(fetch, "/log/checkpoint")
    try:
        checkpoint = open_checkpoint(note, verifier)
    except LedgerError as exc:
        raise MonitorError(f"checkpoint rejected: {exc}") from exc
    old_size = state.size if state else 0
    old_root = state.root_hash if state else CompactRange().root()
    border = CompactRange(old_size, state.border if state else ())

    # Step 2.
    if checkpoint.size < old_size:
        raise MonitorError(
            f"log shrank: expected tree size >= {old_size}, got {checkpoint.size}"
        )
    if checkpoint.size == old_size and checkpoint.root_hash != old_root:
        raise MonitorError(f"two different roots signed for tree size {old_size}")

    # Step 3.
    if 0 < old_size < checkpoint.size:
        proof = _consistency(fetch, old_size, checkpoint.size)
        try:
            verify_consistency(
                old_size, checkpoint.size, proof, old_root, checkpoint.root_hash
            )
        except ProofError as exc:
            raise MonitorError(
                f"checkpoint at size {checkpoint.size} is not consistent with "
                f"the one at size {old_size}: {exc}"
            ) from exc

    # Step 4.
    while border.size < checkpoint.size:
        for _index, data in _entries(fetch, border.size, checkpoint.size):
            border.append(leaf_hash(data))
    if border.root() != checkpoint.root_hash:
        raise MonitorError(
            f"entries {old_size}..{checkpoint.size - 1} do not hash to the "
            f"root of the checkpoint at size {checkpoint.size}"
        )

    # Step 5 is the caller's: saving the returned state.
    new_state = MonitorState(
        pinned, checkpoint.size, checkpoint.root_hash, tuple(border.hashes), note
    )
    return Poll(old_size, checkpoint, new_state)


def _consistency(fetch: Fetch, old_size: int, new_size: int) -> list[bytes]:
    body = _json(fetch(f"/log/consistency?from={old_size}&to={new_size}"))
    try:
        if body["from"] != old_size or body["to"] != new_size:
            raise MonitorError("consistency proof is for other tree sizes")
        return [base64.b64decode(h, validate=True) for h in body["proof"]]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise MonitorError(f"malformed consistency proof: {exc}") from exc


def _entries(fetch: Fetch, start: int, end: int) -> list[tuple[int, bytes]]:
    body = _json(fetch(f"/log/entries?start={start}&end={end}"))
    out: list[tuple[int, bytes]] = []
    try:
        items = body["entries"]
        if not items:
            raise MonitorError(f"log returned no entries from index {start}")
        for offset, item in enumerate(items):
            index = item["index"]
            if index != start + offset or index >= end:
                raise MonitorError(
                    f"expected entry index {start + offset}, got {index}"
                )
            data = base64.b64decode(item["data"], validate=True)
            entry = parse_entry(data)
            if entry != item["entry"]:
                raise MonitorError(f"entry {index}: 'entry' differs from 'data'")
            out.append((index, data))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise MonitorError(f"malformed entries page at {start}: {exc}") from exc
    except LedgerError as exc:
        if isinstance(exc, MonitorError):
            raise
        raise MonitorError(f"entry at or after {start}: {exc}") from exc
    return out


def _text(fetch: Fetch, path: str) -> str:
    try:
        return fetch(path).decode()
    except UnicodeDecodeError as exc:
        raise MonitorError(f"GET {path} answered something that is not UTF-8") from exc


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MonitorError("log answered something that is not JSON") from exc
