"""`credbank issue-batch` killed with SIGKILL half-way, then run again on the same
file (issue 8, point 6).

Each chunk of rows is one transaction, so the kill leaves whole chunks behind; the
second run finds those by their idempotency keys (given in the file, or made from
a row's content) and issues the rest. Every row's credential then exists exactly
once, with one deposit, and the log audits clean. On both databases.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.services import Services
from issuers.batch import CHUNK_SIZE
from issuers.issuance import IssuedCredential
from tests.api.conftest import CREDBANK, RunCLI
from tests.conftest import Caller, rows_in

ROWS = 6 * CHUNK_SIZE

pytestmark = pytest.mark.slow


def _rows(achievement: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in range(ROWS):
        row: dict[str, Any] = {
            "achievement": achievement,
            "learner": {"email": f"k{n}@example.com", "name": f"学员{n}"},
            "score": 50 + n % 50,
            "formats": ["eddsa-rdfc-2022", "vc+jwt"],
        }
        # Half the rows carry a key; the others are keyed by their content.
        if n % 2:
            row["idempotencyKey"] = f"killed-{n}"
        rows.append(row)
    return rows


def _issued(services: Services) -> int:
    with services.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(IssuedCredential)) or 0


def test_a_batch_killed_half_way_and_sent_again_issues_each_row_once(
    cli: RunCLI,
    env: dict[str, str],
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    tmp_path: Path,
) -> None:
    batch = tmp_path / "class.json"
    batch.write_text(json.dumps(_rows(approved_achievement), ensure_ascii=False))
    command = [str(CREDBANK), "issue-batch", str(batch), "--issuer", "centre-1"]

    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        # Kill once the first chunk is committed and before the last one is.
        while _issued(services) < CHUNK_SIZE:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the batch never committed a chunk"
            time.sleep(0.02)
        assert process.poll() is None, "the batch finished before it was killed"
        process.send_signal(signal.SIGKILL)
        stdout, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert stdout == ""

    left = _issued(services)
    # Whole chunks only: each is one transaction.
    assert 0 < left < ROWS
    assert left % CHUNK_SIZE == 0
    assert rows_in(services, "credit_deposits") == left

    again = cli(*command[1:], env=env, timeout=600)

    assert again.returncode == 0, again.stderr
    assert again.stdout == (
        f"{ROWS - left} issued, {left} already issued, 0 refused of {ROWS} rows\n"
    )
    with services.database.transaction() as session:
        keys = list(
            session.execute(
                select(IssuedCredential.idempotency_key, func.count())
                .group_by(IssuedCredential.idempotency_key)
                .order_by(IssuedCredential.idempotency_key)
            )
        )
    assert all(count == 1 for _, count in keys)
    given = {key for key, _ in keys if key.startswith("killed-")}
    by_content = {key for key, _ in keys if key.startswith("row:")}
    assert given == {f"killed-{n}" for n in range(1, ROWS, 2)}
    assert len(by_content) == ROWS // 2
    assert rows_in(services, "credentials") == ROWS
    assert rows_in(services, "credit_deposits") == ROWS

    audit = cli("log", "audit", env=env, timeout=300)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "tables match the log" in audit.stdout
