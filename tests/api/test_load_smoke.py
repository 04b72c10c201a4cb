"""`python -m bench.load` for a few seconds on SQLite (issue 8, point 7).

The load test proper runs for a minute on PostgreSQL (`make load`); this short run
keeps the script from rotting in between: it must start gunicorn, drive issuers
and verifiers, and finish with no error, every acknowledged award stored once and
a clean audit of the log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 2

pytestmark = pytest.mark.slow


def test_a_short_load_run_has_no_errors_and_audits_clean(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load",
            "--backend",
            "sqlite",
            "--seconds",
            str(SECONDS),
            "--issuers",
            "1",
            "--verifiers",
            "1",
            "--start-delay",
            "1",
            "--results-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    [written] = tmp_path.glob("*-load.json")
    run = json.loads(written.read_text())
    assert run["passed"] is True
    for kind in ("issue", "verify"):
        assert run["load"][kind]["requests"] > 0, kind
        assert run["load"][kind]["errors"] == 0, run["load"][kind]["first_errors"]
    awards = run["awards"]
    assert awards["acknowledged"] == awards["distinct"] == awards["found"] > 0
    assert run["audit"]["exit"] == 0
    assert run["audit"]["summary"].endswith("tables match the log")
    report = (tmp_path / "load-latest.md").read_text()
    assert "| POST /credentials/award | 1 |" in report
