"""A batch issuance killed with SIGKILL half-way, then sent again (issue 8, point 6):
`credbank issue-batch` run again on the same file, and `POST /credentials/batch`
whose gunicorn worker is killed, sent again once gunicorn has started another.

Each chunk of rows is one transaction, so the kill leaves whole chunks behind; the
second run finds those by their idempotency keys (given in the rows, or made from
a row's content) and issues the rest. Every row's credential then exists exactly
once, with one deposit, and the log audits clean. On both databases.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.services import Services
from issuers.batch import CHUNK_SIZE
from issuers.issuance import IssuedCredential
from tests.api.conftest import CREDBANK, RunCLI
from tests.api.test_serve import _children, _free_port, _wait_for
from tests.conftest import Caller, rows_in

ROWS = 6 * CHUNK_SIZE
# Over HTTP: enough chunks that the kill lands before the last one commits.
HTTP_ROWS = 3 * CHUNK_SIZE

pytestmark = pytest.mark.slow


def _rows(achievement: str, count: int = ROWS) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in range(count):
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


def _post_batch(base: str, rows: list[dict[str, Any]], issuer: Caller) -> Any:
    """POST /credentials/batch; the parsed answer, or None when the connection
    was lost without one."""
    request = urllib.request.Request(
        f"{base}/credentials/batch",
        data=json.dumps(rows, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", **issuer.headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as answer:
            return {"status": answer.status, **json.loads(answer.read())}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read().decode(errors="replace")}
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return None


def test_a_batch_request_whose_worker_is_killed_and_sent_again_issues_each_row_once(
    cli: RunCLI,
    env: dict[str, str],
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    tmp_path: Path,
) -> None:
    rows = _rows(approved_achievement, HTTP_ROWS)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    served = {**env, "CREDBANK_WORKERS": "1", "CREDBANK_RATE_LIMIT": "off"}
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [str(CREDBANK), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=served,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(server, f"{base}/healthz")
            [worker] = _children(server.pid)
            answers: list[Any] = []
            sender = threading.Thread(
                target=lambda: answers.append(_post_batch(base, rows, issuer))
            )
            sender.start()
            deadline = time.monotonic() + 120
            # Kill once the first chunk is committed and before the last one is.
            while _issued(services) < CHUNK_SIZE:
                assert sender.is_alive(), answers
                assert time.monotonic() < deadline, "the batch never committed a chunk"
                time.sleep(0.02)
            assert sender.is_alive(), "the batch finished before it was killed"
            os.kill(worker, signal.SIGKILL)
            sender.join(timeout=60)
            assert not sender.is_alive()
            assert answers == [None]  # the connection dropped, with no answer

            left = _issued(services)
            # Whole chunks only: each is one transaction.
            assert 0 < left < HTTP_ROWS
            assert left % CHUNK_SIZE == 0
            assert rows_in(services, "credit_deposits") == left

            # gunicorn's master starts another worker; the same batch again.
            _wait_for(server, f"{base}/healthz")
            assert worker not in _children(server.pid)
            again = _post_batch(base, rows, issuer)
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    assert again is not None
    assert again["status"] == 200, again
    assert (again["issued"], again["existing"], again["failed"]) == (
        HTTP_ROWS - left,
        left,
        0,
    )
    answered = {row["id"] for row in again["rows"]}
    assert len(answered) == HTTP_ROWS
    with services.database.transaction() as session:
        stored = list(
            session.execute(
                select(IssuedCredential.id, IssuedCredential.idempotency_key)
            )
        )
    assert {credential_id for credential_id, _ in stored} == answered
    keys = [key for _, key in stored]
    assert len(set(keys)) == len(keys) == HTTP_ROWS
    assert {key for key in keys if key.startswith("killed-")} == {
        f"killed-{n}" for n in range(1, HTTP_ROWS, 2)
    }
    assert rows_in(services, "credit_deposits") == HTTP_ROWS

    audit = cli("log", "audit", env=env, timeout=300)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "tables match the log" in audit.stdout
