"""The benchmark's command line: set up each backend, grow a log, report.

    python -m bench [--quick] [--postgres-url URL] [--backend sqlite|postgresql|both]

Each backend gets a database of its own (SQLite in a temporary directory, PostgreSQL
in a fresh schema, dropped afterwards), migrated here and then handed to a child
process (bench/growth.py) that opens the service and appends. The exit status is 0
when every target passed, 1 when one failed or nothing could be measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bench.growth import GrowthSpec
from bench.machine import describe_machine, load_average
from bench.report import (
    check_targets,
    render_markdown,
    verdicts_as_dicts,
    write_results,
)
from bench.workload import BATCH_SIZE
from keys.database import normalise_url
from migrations.runner import upgrade

__all__ = ["main"]

FULL_MILESTONES = [10**4, 10**5, 10**6]
QUICK_MILESTONES = [10**4, 10**5]

# 64 batches of 256 are 16,384 entries, about a second at 16k appends/s: long
# enough to span a WAL checkpoint, short enough to sit around the 10^4 milestone.
WINDOW_BATCHES = 64

PROOF_SAMPLES = 1000

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

BASELINE = (
    "INSERT-only writes of the same kind of rows (the canonical bytes of 256 "
    "entries per write transaction) into a plain table shaped like log_entries, "
    "on the same database and engine, one baseline batch before each batch of the "
    "milestone's window. It is what storing the entries at all costs on this "
    "machine at that moment (CPU, commit, fsync), so the ratio cancels much of the "
    "noise of a shared machine; a SHA-256 rate would cancel only CPU noise, and "
    "hashing is a small part of an append."
)

_ROOT = Path(__file__).resolve().parent.parent
_RESULTS = _ROOT / "bench" / "results"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    milestones = QUICK_MILESTONES if args.quick else FULL_MILESTONES
    run: dict[str, Any] = {
        "started_at": _utc_now(),
        "mode": "quick" if args.quick else "full",
        "load_average": {"start": load_average()},
        "machine": describe_machine(),
        "settings": {
            "batch_size": BATCH_SIZE,
            "window_batches": WINDOW_BATCHES,
            "milestones": milestones,
            "proof_samples": args.proof_samples,
            "baseline": BASELINE,
        },
        "backends": {},
    }

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        print(f"{backend}: growing a log to {milestones[-1]:,} entries", flush=True)
        setup = _sqlite() if backend == "sqlite" else _postgresql(args.postgres_url)
        try:
            with setup as (url, shown, extra):
                result = _grow(backend, url, milestones, args.proof_samples)
        except _Unavailable as exc:
            print(f"{backend}: skipped: {exc}", flush=True)
            run["backends"][backend] = {"skipped": str(exc)}
            continue
        run["backends"][backend] = {"database": shown, **extra, **result}

    run["finished_at"] = _utc_now()
    run["load_average"]["end"] = load_average()
    verdicts = check_targets(run["backends"])
    run["targets"] = verdicts_as_dicts(verdicts)
    # A backend without a server is skipped, not failed; a run that measured
    # nothing at all has shown nothing, so it does not pass.
    run["passed"] = bool(verdicts) and all(v.passed for v in verdicts)
    markdown = render_markdown(run, verdicts)
    path = write_results(run, markdown, args.results_dir)

    print()
    print(markdown)
    print(f"Wrote {path} and {args.results_dir / 'latest.md'}")
    return 0 if run["passed"] else 1


class _Unavailable(Exception):
    """A backend cannot be benchmarked here (no server to connect to)."""


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark the transparency log."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="grow to 10^5 entries instead of 10^6 (a smoke run)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CREDBANK_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
        help="PostgreSQL server to benchmark on, in a fresh schema "
        "(default: $CREDBANK_BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql", "both"],
        default="both",
        help="which databases to benchmark (default: both)",
    )
    parser.add_argument(
        "--proof-samples",
        type=int,
        default=PROOF_SAMPLES,
        help="timed calls per kind of proof (default: %(default)s)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=_RESULTS,
        help="where to write the results (default: bench/results)",
    )
    return parser.parse_args(argv)


_Setup = Iterator[tuple[str, str, dict[str, Any]]]


@contextmanager
def _sqlite() -> _Setup:
    with tempfile.TemporaryDirectory(prefix="credbank-bench-") as directory:
        path = Path(directory) / "credbank.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url, "SQLite file in a temporary directory (WAL, synchronous=FULL)", {}


@contextmanager
def _postgresql(postgres_url: str) -> _Setup:
    server = normalise_url(postgres_url)
    admin = create_engine(
        server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    schema = f"bench_{uuid.uuid4().hex[:16]}"
    try:
        with admin.connect() as connection:
            settings = {
                name: connection.execute(text(f"SHOW {name}")).scalar_one()
                for name in ("server_version", "synchronous_commit", "shared_buffers")
            }
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        raise _Unavailable(
            f"cannot connect to {server.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0]}"
        ) from exc

    try:
        url = server.update_query_dict({"options": f"-csearch_path={schema}"})
        rendered = url.render_as_string(hide_password=False)
        upgrade(rendered)
        shown = f"PostgreSQL {settings['server_version']}, schema {schema}"
        yield rendered, shown, {"server_settings": settings}
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _grow(
    backend: str, url: str, milestones: list[int], proof_samples: int
) -> dict[str, Any]:
    """Run bench/growth.py in a fresh process, so that its peak memory is its own."""
    with tempfile.TemporaryDirectory(prefix="credbank-bench-") as directory:
        out = Path(directory) / "growth.json"
        spec = GrowthSpec(
            database_url=url,
            data_dir=directory,
            milestones=milestones,
            window_batches=WINDOW_BATCHES,
            proof_samples=proof_samples,
            out=str(out),
            label=backend,
        )
        subprocess.run(
            [sys.executable, "-m", "bench.growth"],
            input=json.dumps(asdict(spec)),
            text=True,
            cwd=_ROOT,
            check=True,
        )
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
