"""Processes appending at once get contiguous indexes and one tree (DESIGN §3)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from api.services import Services
from ledger import MemoryTree, leaf_hash, parse_entry
from ledger.audit import audit_log
from ledger.models import LogEntry

WORKER = Path(__file__).with_name("log_worker.py")
ROOT = Path(__file__).resolve().parents[2]

PROCESSES = 4
PER_PROCESS = 500
PER_TRANSACTION = 50
BOOTSTRAP = 1  # the log key's own entry


def _wait_for(paths: list[Path], processes: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 60
    while not all(path.exists() for path in paths):
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"worker exited early: {process.communicate()[1]}")
        assert time.monotonic() < deadline, "workers did not open the log in time"
        time.sleep(0.01)


@pytest.mark.slow
def test_four_processes_append_contiguously_into_one_tree(
    services: Services, env: dict[str, str], tmp_path: Path
) -> None:
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{worker}" for worker in range(PROCESSES)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "append",
                str(worker),
                str(PER_PROCESS),
                str(PER_TRANSACTION),
                str(ready[worker]),
                str(go),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(PROCESSES)
    ]
    try:
        # Every worker has opened the log before any appends, so they contend.
        _wait_for(ready, processes)
        go.touch()
        outputs = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    batches = [json.loads(stdout) for stdout, _ in outputs]

    # Each transaction got a contiguous run; together they cover every index once.
    total = PROCESSES * PER_PROCESS
    runs = [run for worker in batches for run in worker]
    assert len(runs) == PROCESSES * PER_PROCESS // PER_TRANSACTION
    for run in runs:
        assert run == list(range(run[0], run[0] + PER_TRANSACTION))
    assert sorted(i for run in runs for i in run) == list(
        range(BOOTSTRAP, BOOTSTRAP + total)
    )
    # The workers really took turns: more switches than running one after another.
    starts = sorted(
        (run[0], worker) for worker, own in enumerate(batches) for run in own
    )
    order = [worker for _, worker in starts]
    switches = sum(one != other for one, other in itertools.pairwise(order))
    assert switches > PROCESSES - 1, order

    with services.database.transaction() as session:
        head = services.log.head(session)
        rows = list(
            session.execute(select(LogEntry.idx, LogEntry.data).order_by(LogEntry.idx))
        )
        report = audit_log(session, [services.log.verifier])

    assert head.size == BOOTSTRAP + total
    assert [idx for idx, _ in rows] == list(range(BOOTSTRAP + total))
    # Each entry sits at the index its own worker was told.
    for worker, worker_runs in enumerate(batches):
        told = [i for run in worker_runs for i in run]
        logged = [parse_entry(rows[i][1]) for i in told]
        assert [(e["worker"], e["n"]) for e in logged] == [
            (worker, n) for n in range(PER_PROCESS)
        ]
    # The stored root is the root of the entries, recomputed from scratch.
    assert head.root_hash == MemoryTree(leaf_hash(data) for _, data in rows).root()
    assert report.is_clean, report.discrepancy
    assert report.entries == BOOTSTRAP + total
    # Checkpoints at sizes 0 and 1, then one per transaction.
    assert report.checkpoints == 2 + len(runs)
