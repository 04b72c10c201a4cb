"""Changing the stored log: refused by the database, else found by the audit.

The migrations make the log tables append-only with triggers (DESIGN §3). The first
tests try every forbidden change through SQL; the rest drop a trigger, as someone with
the database owner's rights could, make the change, and expect the audit (in code and
through `credbank log audit`) to name what was changed.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from api.services import LOG_KEY_OWNER, Services
from keys.signers import LocalSigner
from ledger import (
    Checkpoint,
    LogStateError,
    canonical_entry,
    leaf_hash,
    make_entry,
    sign_note,
)
from ledger.audit import AuditReport, Discrepancy, audit_log
from ledger.models import LogCheckpoint
from tests.conftest import NOW

CREDBANK = Path(sys.executable).with_name("credbank")

# Batches after the bootstrap entry: checkpoints at sizes 0, 1, 5, 12.
BATCHES = [4, 7]
SIZE = 1 + sum(BATCHES)


@pytest.fixture
def filled(services: Services) -> Services:
    """The services' log with a few batches appended."""
    n = 0
    for count in BATCHES:
        entries = [make_entry("test.appended", NOW, n=n + i) for i in range(count)]
        with services.database.transaction(write=True) as session:
            services.log.append(session, entries, now=NOW)
        n += count
    return services


def _execute(services: Services, statement: str, **params: Any) -> None:
    with services.database.engine.begin() as connection:
        connection.execute(text(statement), params)


def _audit(services: Services) -> AuditReport:
    with services.database.transaction() as session:
        return audit_log(session, [services.log.verifier])


def _discrepancy(services: Services) -> Discrepancy:
    report = _audit(services)
    assert report.discrepancy is not None, "the audit found nothing"
    return report.discrepancy


def _drop_trigger(services: Services, table: str) -> None:
    # Trigger names as migrations/versions/0001_keys_and_log.py creates them.
    if services.database.is_sqlite:
        _execute(services, f"DROP TRIGGER {table}_no_update")
    else:
        _execute(services, f"DROP TRIGGER {table}_append_only ON {table}")


def _run_cli_audit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CREDBANK), "log", "audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- the database refuses ------------------------------------------------------

REFUSED = {
    "update-entry": (
        "UPDATE log_entries SET data = :blob WHERE idx = 3",
        "log_entries is append-only: UPDATE refused",
    ),
    "update-entry-index": (
        "UPDATE log_entries SET idx = idx + 1000 WHERE idx = 11",
        "log_entries is append-only: UPDATE refused",
    ),
    "delete-entry": (
        "DELETE FROM log_entries WHERE idx = 11",
        "log_entries is append-only: DELETE refused",
    ),
    "update-node": (
        "UPDATE log_nodes SET hash = :blob WHERE level = 1 AND idx = 0",
        "log_nodes is append-only: UPDATE refused",
    ),
    "delete-node": (
        "DELETE FROM log_nodes WHERE level = 0 AND idx = 11",
        "log_nodes is append-only: DELETE refused",
    ),
    "update-checkpoint": (
        "UPDATE log_checkpoints SET note = 'forged' WHERE tree_size = 5",
        "log_checkpoints is append-only: UPDATE refused",
    ),
    "delete-checkpoint": (
        "DELETE FROM log_checkpoints WHERE tree_size = 12",
        "log_checkpoints is append-only: DELETE refused",
    ),
    "delete-head": (
        "DELETE FROM log_head",
        # SQLite's trigger says so; PostgreSQL's one head trigger covers both cases.
        "log_head may (not be deleted|only grow)",
    ),
    "shrink-head": (
        "UPDATE log_head SET tree_size = tree_size - 1",
        "log_head may only grow",
    ),
    "empty-head": (
        "UPDATE log_head SET tree_size = 0",
        "log_head may only grow",
    ),
    "rename-head": (
        "UPDATE log_head SET origin = 'elsewhere.test/log'",
        "log_head may only grow",
    ),
    "reroot-head": (
        "UPDATE log_head SET root_hash = :blob",
        "log_head may only grow",
    ),
}


@pytest.mark.parametrize(("statement", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_database_refuses_changing_the_log(
    filled: Services, statement: str, message: str
) -> None:
    with pytest.raises(DBAPIError, match=message):
        _execute(filled, statement, blob=bytes(32))

    assert _audit(filled).is_clean
    with filled.database.transaction() as session:
        assert filled.log.head(session).size == SIZE


@pytest.mark.parametrize(
    "table", ["log_entries", "log_nodes", "log_checkpoints", "log_head"]
)
def test_database_refuses_emptying_a_log_table(filled: Services, table: str) -> None:
    # PostgreSQL: TRUNCATE fires no row triggers, so it has a trigger of its own.
    # SQLite has no TRUNCATE; an unqualified DELETE is its equivalent, and triggers
    # switch off its truncate optimisation.
    statement = (
        f"DELETE FROM {table}"
        if filled.database.is_sqlite
        else f"TRUNCATE {table} CASCADE"
    )

    with pytest.raises(DBAPIError, match=f"{table} (is append-only|may)"):
        _execute(filled, statement)

    assert _audit(filled).is_clean


def test_head_may_grow_but_a_grown_head_without_entries_is_found(
    filled: Services,
) -> None:
    # The trigger lets the head grow (appends need that); the audit sees the lie.
    _execute(filled, "UPDATE log_head SET tree_size = tree_size + 5")

    found = _discrepancy(filled)

    assert found.where == "head"
    assert found.message == f"says {SIZE + 5} entries; there are {SIZE}"


# --- the audit finds what the database was made to accept ----------------------


def test_rewritten_entry_is_named_by_the_audit_command(
    filled: Services, env: dict[str, str]
) -> None:
    clean = _run_cli_audit(env)
    assert clean.returncode == 0, clean.stderr
    assert f"audit clean: log credbank.test/log, {SIZE} entries" in clean.stdout

    _drop_trigger(filled, "log_entries")
    forged = canonical_entry(make_entry("test.appended", NOW, n=999))
    _execute(filled, "UPDATE log_entries SET data = :data WHERE idx = 7", data=forged)
    result = _run_cli_audit(env)

    assert result.returncode == 1, result.stderr
    assert "audit failed: entry 7:" in result.stdout
    assert "do not hash to the stored leaf" in result.stdout


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            canonical_entry(make_entry("test.appended", NOW, n=999)),
            "entry bytes do not hash to the stored leaf",
        ),
        (
            b'{"at": "2026-12-01T09:30:00.000Z", "kind": "test.appended", "v": 1}',
            "not in RFC 8785 canonical form",
        ),
        (b"not json", "entry bytes are not JSON"),
    ],
    ids=["other-entry", "non-canonical", "not-json"],
)
def test_rewritten_entry_is_found_at_its_index(
    filled: Services, data: bytes, message: str
) -> None:
    _drop_trigger(filled, "log_entries")
    _execute(filled, "UPDATE log_entries SET data = :data WHERE idx = 7", data=data)

    found = _discrepancy(filled)

    assert (found.where, found.index) == ("entry 7", 7)
    assert message in found.message


def test_entry_rewritten_together_with_its_leaf_hash_is_found(
    filled: Services,
) -> None:
    # The forger fixes the leaf hash too; the parent node then disagrees.
    _drop_trigger(filled, "log_entries")
    _drop_trigger(filled, "log_nodes")
    forged = canonical_entry(make_entry("test.appended", NOW, n=999))
    _execute(filled, "UPDATE log_entries SET data = :data WHERE idx = 7", data=forged)
    _execute(
        filled,
        "UPDATE log_nodes SET hash = :hash WHERE level = 0 AND idx = 7",
        hash=leaf_hash(forged),
    )

    found = _discrepancy(filled)

    assert found.where == "node at level 1 over entries 6..7"
    assert found.index == 6
    assert found.message == "hash does not match its children"


def test_missing_entry_is_found(filled: Services) -> None:
    _drop_trigger(filled, "log_entries")
    if filled.database.is_sqlite:
        # SQLite guards DELETE with a trigger of its own; PostgreSQL's is gone now.
        _execute(filled, "DROP TRIGGER log_entries_no_delete")
    _execute(filled, "DELETE FROM log_entries WHERE idx = 4")

    found = _discrepancy(filled)

    assert (found.where, found.index) == ("entry 4", 4)
    assert found.message == "missing; next stored index is 5"


@pytest.mark.parametrize(
    ("level", "index", "where", "first"),
    [
        (1, 2, "node at level 1 over entries 4..5", 4),
        (2, 1, "node at level 2 over entries 4..7", 4),
        (3, 0, "node at level 3 over entries 0..7", 0),
    ],
    ids=["level-1", "level-2", "level-3"],
)
def test_rewritten_inner_node_is_found(
    filled: Services, level: int, index: int, where: str, first: int
) -> None:
    _drop_trigger(filled, "log_nodes")
    _execute(
        filled,
        "UPDATE log_nodes SET hash = :hash WHERE level = :level AND idx = :idx",
        hash=bytes(32),
        level=level,
        idx=index,
    )

    found = _discrepancy(filled)

    assert (found.where, found.index) == (where, first)
    assert found.message == "hash does not match its children"


def _rewrite_checkpoint(filled: Services, size: int, note: str, root: bytes) -> None:
    _drop_trigger(filled, "log_checkpoints")
    _execute(
        filled,
        "UPDATE log_checkpoints SET note = :note, root_hash = :root "
        "WHERE tree_size = :size",
        note=note,
        root=root,
        size=size,
    )


def _log_signer(filled: Services) -> LocalSigner:
    with filled.database.transaction() as session:
        key = filled.keystore.active_key(session, LOG_KEY_OWNER)
        assert key is not None
        return filled.keystore.signer(key)


def test_checkpoint_note_with_a_changed_root_is_found(filled: Services) -> None:
    with filled.database.transaction() as session:
        note = filled.log.checkpoint(session, 5).note
    root = base64.b64encode(bytes(32)).decode()
    lines = note.split("\n")
    lines[2] = root
    _rewrite_checkpoint(filled, 5, "\n".join(lines), bytes(32))

    found = _discrepancy(filled)

    assert (found.where, found.index) == ("checkpoint at size 5", 5)
    assert "does not verify" in found.message


def test_checkpoint_signed_by_another_key_is_found(filled: Services) -> None:
    with filled.database.transaction() as session:
        row = filled.log.checkpoint(session, 5)
        body = Checkpoint(filled.log.origin, 5, row.root_hash).to_text()
    stranger = LocalSigner("stranger", Ed25519PrivateKey.generate())
    _rewrite_checkpoint(
        filled, 5, sign_note(body, filled.log.origin, stranger), row.root_hash
    )

    found = _discrepancy(filled)

    assert (found.where, found.index) == ("checkpoint at size 5", 5)
    assert "not signed by any trusted key" in found.message


def test_forked_checkpoint_signed_with_the_log_key_is_found(filled: Services) -> None:
    # As if the log key leaked: a well-signed checkpoint of another tree of size 5.
    body = Checkpoint(filled.log.origin, 5, bytes(32)).to_text()
    note = sign_note(body, filled.log.origin, _log_signer(filled))
    _rewrite_checkpoint(filled, 5, note, bytes(32))

    found = _discrepancy(filled)

    assert (found.where, found.index) == ("checkpoint at size 5", 5)
    assert found.message == "root does not match the tree"


def test_checkpoint_row_disagreeing_with_its_note_is_found(filled: Services) -> None:
    with filled.database.transaction() as session:
        note = filled.log.checkpoint(session, 5).note
    _rewrite_checkpoint(filled, 5, note, bytes(32))

    found = _discrepancy(filled)

    assert (found.where, found.index) == ("checkpoint at size 5", 5)
    assert found.message == "signed note disagrees with its row"


# --- the log refuses to sign over a tampered store -----------------------------


def _checkpoint_count(services: Services) -> int:
    with services.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(LogCheckpoint)) or 0


def test_append_refuses_when_the_stored_border_disagrees_with_the_head(
    filled: Services,
) -> None:
    # Size 12 = 8 + 4: the border is nodes (3, 0) and (2, 2).
    _drop_trigger(filled, "log_nodes")
    _execute(
        filled,
        "UPDATE log_nodes SET hash = :h WHERE level = 2 AND idx = 2",
        h=bytes(32),
    )
    checkpoints = _checkpoint_count(filled)

    with (
        pytest.raises(LogStateError, match=f"stored tree at size {SIZE} disagrees"),
        filled.database.transaction(write=True) as session,
    ):
        filled.log.append(session, [make_entry("test.appended", NOW)], now=NOW)

    assert _checkpoint_count(filled) == checkpoints


def test_append_refuses_to_sign_inconsistently_with_the_last_checkpoint(
    filled: Services,
) -> None:
    body = Checkpoint(filled.log.origin, SIZE, bytes(32)).to_text()
    note = sign_note(body, filled.log.origin, _log_signer(filled))
    _rewrite_checkpoint(filled, SIZE, note, bytes(32))
    checkpoints = _checkpoint_count(filled)

    with (
        pytest.raises(
            LogStateError,
            match=f"refusing to sign size {SIZE + 1}: not consistent with the "
            f"checkpoint at size {SIZE}",
        ),
        filled.database.transaction(write=True) as session,
    ):
        filled.log.append(session, [make_entry("test.appended", NOW)], now=NOW)

    assert _checkpoint_count(filled) == checkpoints
