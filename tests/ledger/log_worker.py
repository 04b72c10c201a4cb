"""A separate process that appends to the log named by CREDBANK_* variables.

Run by the concurrency and crash tests, never collected by pytest:

    log_worker.py append WORKER COUNT BATCH READY_FILE GO_FILE
        open the log, create READY_FILE, wait for GO_FILE, then append COUNT entries
        in transactions of BATCH; print the indexes of each transaction as JSON.
    log_worker.py flood COUNT MARKER_FILE
        append COUNT entries in one transaction, creating MARKER_FILE as the first
        entry row is sent to the database (the test kills the process after that).
    log_worker.py crash COUNT STAGE
        append COUNT entries in one transaction and SIGKILL this process just before
        STAGE: "log_nodes", "log_head" or "log_checkpoints" (the statement writing
        that table) or "commit".
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from api.config import Config
from api.services import Services, open_services
from ledger import make_entry

_STATEMENTS = {
    "log_entries": "INSERT INTO log_entries",
    "log_nodes": "INSERT INTO log_nodes",
    "log_head": "UPDATE log_head",
    "log_checkpoints": "INSERT INTO log_checkpoints",
}


def main(argv: list[str]) -> None:
    mode, *args = argv
    services = open_services(Config.from_env())
    try:
        if mode == "append":
            _append(services, *args)
        elif mode == "flood":
            _flood(services, *args)
        elif mode == "crash":
            _crash(services, *args)
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    finally:
        services.close()


def _append(
    services: Services, worker: str, count: str, batch: str, ready: str, go: str
) -> None:
    Path(ready).touch()
    _wait_for(Path(go))
    done: list[list[int]] = []
    total, step = int(count), int(batch)
    for start in range(0, total, step):
        entries = [
            make_entry("test.appended", _now(), worker=int(worker), n=n)
            for n in range(start, min(start + step, total))
        ]
        with services.database.transaction(write=True) as session:
            done.append(services.log.append(session, entries, now=_now()))
        # Give the other workers a turn: SQLite's busy handler polls with sleeps, so
        # without a pause one worker would take the lock again straight away.
        time.sleep(0.02)
    print(json.dumps(done))


def _flood(services: Services, count: str, marker: str) -> None:
    def mark(*args: Any) -> None:
        if _statement(args).startswith(_STATEMENTS["log_entries"]):
            Path(marker).touch()

    event.listen(services.database.engine, "before_cursor_execute", mark)
    _append_one_batch(services, int(count))


def _crash(services: Services, count: str, stage: str) -> None:
    def kill(*_: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def kill_before(*args: Any) -> None:
        if _statement(args).startswith(_STATEMENTS[stage]):
            kill()

    if stage == "commit":
        event.listen(services.database.engine, "commit", kill)
    else:
        event.listen(services.database.engine, "before_cursor_execute", kill_before)
    _append_one_batch(services, int(count))


def _append_one_batch(services: Services, count: int) -> None:
    entries = [make_entry("test.appended", _now(), n=n) for n in range(count)]
    with services.database.transaction(write=True) as session:
        services.log.append(session, entries, now=_now())
    print("committed")


def _statement(args: tuple[Any, ...]) -> str:
    # before_cursor_execute(conn, cursor, statement, parameters, context, many)
    return str(args[2]).lstrip()


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {path}")
        time.sleep(0.005)


def _now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    main(sys.argv[1:])
