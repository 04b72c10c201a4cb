"""SQLite on a full disk (issue 8, point 6): a small tmpfs holds the database.

Awards go on until the disk is full. The award that does not fit answers a 507
problem and `credbank issue-batch` one line with exit code 2; everything
acknowledged before is intact and the log audits clean; once space is freed,
issuance goes on. Mounting needs root (tests run as root here and in CI); without
it the test skips, except under CI (CI=true or 1), where it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api.services import Services
from issuers.replay import replay_registry
from ledger.audit import audit_log
from tests.api.conftest import RunCLI
from tests.ci import running_in_ci
from tests.conftest import Caller, award_request, rows_in, tree_size

DISK_BYTES = 8 * 1024 * 1024
# Space left free once the filler is written: some awards' worth, with the pages
# SQLite's write-ahead log takes for each.
HEADROOM_BYTES = 1024 * 1024
MAX_AWARDS = 2000
ALL_FORMS = ["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"]

pytestmark = pytest.mark.slow


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of DISK_BYTES, mounted for this test."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a tmpfs: {mounted.stderr.strip() or 'not permitted'}"
        if running_in_ci():
            pytest.fail(f"{reason} (the test needs root under CI)")
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def database_url(disk: Path) -> str:
    """The database of every fixture below: SQLite on the small disk."""
    return f"sqlite:///{disk / 'credbank.sqlite3'}"


def _fill(disk: Path) -> Path:
    """Leave only HEADROOM_BYTES free on the disk."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    filler = disk / "filler"
    with filler.open("wb") as out:
        out.write(b"\0" * max(free - HEADROOM_BYTES, 0))
    return filler


def test_a_full_disk_refuses_cleanly_loses_nothing_and_issuance_resumes(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    cli: RunCLI,
    env: dict[str, str],
    disk: Path,
    tmp_path: Path,
) -> None:
    # The first award makes the issuer's status lists; then the disk is filled.
    first = client.post(
        "/credentials/award",
        json=award_request(approved_achievement, formats=ALL_FORMS),
        headers=issuer.headers,
    )
    assert first.status_code == 201
    filler = _fill(disk)
    acknowledged: list[str] = [first.get_json()["id"]]
    refused = None
    for n in range(MAX_AWARDS):
        answer = client.post(
            "/credentials/award",
            json=award_request(
                approved_achievement, idempotencyKey=f"full-{n}", formats=ALL_FORMS
            ),
            headers=issuer.headers,
        )
        if answer.status_code != 201:
            refused = answer
            break
        acknowledged.append(answer.get_json()["id"])
    assert refused is not None, f"the disk never filled in {MAX_AWARDS} awards"
    assert len(acknowledged) > 1, "the disk was full before the first award"

    # The award that did not fit: a clean problem, and no trace of it.
    assert refused.status_code == 507, refused.get_data(as_text=True)
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["type"].endswith("/problems#storage-full")
    assert "disk is full" in problem["detail"]
    size = tree_size(services)
    assert rows_in(services, "credentials") == len(acknowledged)
    _check_intact(client, services, acknowledged)

    # The command line on the same full disk: exit 2 and one error line (after
    # the progress bar's label), nothing issued.
    rows = [
        award_request(approved_achievement, idempotencyKey=f"batch-{n}")
        for n in range(20)
    ]
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(rows, ensure_ascii=False))
    command = ("issue-batch", str(batch), "--issuer", "centre-1")
    full = cli(*command, env=env)
    assert full.returncode == 2, (full.stdout, full.stderr)
    assert "Traceback" not in full.stderr
    assert full.stderr.splitlines() == [
        "issuing",
        "credbank: error: the database's disk is full; the write that failed was "
        "rolled back: free space and run the command again",
    ]
    assert tree_size(services) == size
    assert rows_in(services, "credentials") == len(acknowledged)

    # Space freed: the refused award and the batch go through.
    filler.unlink()
    again = client.post(
        "/credentials/award",
        json=award_request(
            approved_achievement,
            idempotencyKey=f"full-{len(acknowledged)}",
            formats=ALL_FORMS,
        ),
        headers=issuer.headers,
    )
    assert again.status_code == 201, again.get_json()
    issued = cli(*command, env=env)
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout == "20 issued, 0 already issued, 0 refused of 20 rows\n"
    _check_intact(client, services, [*acknowledged, again.get_json()["id"]])
    assert rows_in(services, "credentials") == len(acknowledged) + 21
    audit = cli("log", "audit", env=env)
    assert audit.returncode == 0, audit.stdout + audit.stderr


def _check_intact(
    client: FlaskClient, services: Services, credential_ids: list[str]
) -> None:
    with services.database.transaction() as session:
        report = audit_log(session, [services.log.verifier])
        assert report.is_clean, report.discrepancy
        assert replay_registry(session) is None
    for credential_id in credential_ids:
        assert client.get(f"/credentials/{credential_id}").status_code == 200
    # The newest acknowledged one still verifies, signature and log included.
    served = client.get(f"/credentials/{credential_ids[-1]}").get_json()
    result = client.post(
        "/credentials/verify", json={"verifiableCredential": served}
    ).get_json()
    assert result["verified"] is True, result
