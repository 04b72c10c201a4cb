"""A writer killed in the middle of an append leaves the log whole (DESIGN §3).

Each test kills a worker process with SIGKILL while its append is under way, then
checks that the batch is wholly in or wholly out, that the log audits clean, and that
appends go on from where the log stands.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.services import Services
from ledger import Head, make_entry
from ledger.audit import audit_log
from tests.conftest import NOW

WORKER = Path(__file__).with_name("log_worker.py")
ROOT = Path(__file__).resolve().parents[2]

# Big enough that writing the entry rows alone takes well over a second on either
# backend, so a kill shortly after the first row is sent lands inside the append.
FLOOD = 100_000
SETTLE_SECONDS = 0.3

CRASH_BATCH = 500


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _prepare(services: Services) -> Head:
    entries = [make_entry("test.appended", NOW, n=n) for n in range(9)]
    with services.database.transaction(write=True) as session:
        services.log.append(session, entries, now=NOW)
        return services.log.head(session)


def _check_whole(services: Services, before: Head, batch: int) -> Head:
    """The batch is wholly in or out, the audit is clean, and appends go on."""
    with services.database.transaction() as session:
        after = services.log.head(session)
        report = audit_log(session, [services.log.verifier])
    assert after.size in (before.size, before.size + batch)
    assert report.is_clean, report.discrepancy
    assert report.entries == after.size

    entry = make_entry("test.after_crash", NOW)
    with services.database.transaction(write=True) as session:
        assert services.log.append(session, [entry], now=NOW) == [after.size]
    with services.database.transaction() as session:
        report = audit_log(session, [services.log.verifier])
    assert report.is_clean, report.discrepancy
    assert report.entries == after.size + 1
    return after


@pytest.mark.slow
def test_writer_killed_while_writing_a_big_batch(
    services: Services, env: dict[str, str], tmp_path: Path
) -> None:
    before = _prepare(services)
    marker = tmp_path / "writing"
    process = _start(env, "flood", str(FLOOD), str(marker))
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "worker never started writing"
            time.sleep(0.01)
        time.sleep(SETTLE_SECONDS)
        # Still inside the append: the kill lands mid-way, not after the commit.
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGKILL)
        stdout, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert "committed" not in stdout

    after = _check_whole(services, before, FLOOD)

    assert after == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "stage", ["log_nodes", "log_head", "log_checkpoints", "commit"]
)
def test_writer_killed_just_before_a_step_of_the_append(
    services: Services, env: dict[str, str], stage: str
) -> None:
    before = _prepare(services)

    process = _start(env, "crash", str(CRASH_BATCH), stage)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == -signal.SIGKILL, stderr
    assert "committed" not in stdout
    after = _check_whole(services, before, CRASH_BATCH)
    # Nothing was committed, so nothing may show.
    assert after == before
