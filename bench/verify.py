"""The verification benchmark: `POST /credentials/verify` under gunicorn (issue 5).

    python -m bench.verify [--quick] [--credentials N] [--seconds S]
                           [--connections C] [--postgres URL] [--results-dir DIR]

A fresh SQLite database (and, with --postgres, a fresh schema on that server) is
migrated, seeded with the demo issuer, and given N credentials by `credbank
issue-batch`, each in vc+jwt and in eddsa-rdfc-2022. `credbank serve` runs it with
two gunicorn workers, and wrk (bench/verify.lua) posts the credentials in turn from
another process: the vc+jwt forms as EnvelopedVerifiableCredentials, then the
Data Integrity ones. The baseline is `GET /healthz` through the same server and the
same wrk, measured before and after. Digital Bazaar's `verifyCredential` verifies
the same eddsa-rdfc-2022 credentials under Node (bench/verify_baseline.mjs).

The exit status is 0 when every target passed, 1 otherwise, and 2 when wrk, node or
tests/interop/node_modules is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from api.config import Config
from api.demo import seed_demo
from api.services import open_services
from bench.issuance import _write_awards
from bench.machine import describe_machine, load_average
from bench.run import _postgresql, _sqlite
from bench.verify_report import check_targets, render_markdown, write_results
from bench.workload import BASE_URL, BENCH_MASTER_KEY, LOG_ORIGIN
from issuers.issuance import JWT, RDFC, IssuedCredential

__all__ = ["main"]

FULL_CREDENTIALS = 400
QUICK_CREDENTIALS = 120
FULL_SECONDS = 20.0
QUICK_SECONDS = 5.0
WARM_UP_SECONDS = 3.0
THREADS = 2
CONNECTIONS = 32
WORKERS = 2

VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
ENVELOPE_PREFIX = "data:application/vc+jwt,"

BASELINE = (
    "GET /healthz (one SELECT 1 in a read transaction, a small JSON answer) "
    "through the same gunicorn workers and the same wrk settings, run before and "
    "after the verification loads; the ratio says what verifying costs on top of "
    "serving a request at all on this machine at that moment."
)

_ROOT = Path(__file__).resolve().parent.parent
_RESULTS = _ROOT / "bench" / "results"
_LUA = _ROOT / "bench" / "verify.lua"
_NODE_SCRIPT = _ROOT / "bench" / "verify_baseline.mjs"
_NODE_MODULES = _ROOT / "tests" / "interop" / "node_modules"
_WRK_LINE = re.compile(r"^WRK_JSON (\{.*\})$", re.MULTILINE)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    missing = _missing_tools()
    if missing:
        print(f"bench.verify cannot run: {missing}", file=sys.stderr)
        return 2
    count = args.credentials or (QUICK_CREDENTIALS if args.quick else FULL_CREDENTIALS)
    seconds = args.seconds or (QUICK_SECONDS if args.quick else FULL_SECONDS)
    run: dict[str, Any] = {
        "started_at": _utc_now(),
        "mode": "quick" if args.quick else "full",
        "load_average": {"start": load_average()},
        "machine": describe_machine(),
        "settings": {
            "credentials": count,
            "seconds": seconds,
            "warm_up_seconds": WARM_UP_SECONDS,
            "wrk": {"threads": THREADS, "connections": args.connections},
            "workers": WORKERS,
            "wrk_version": _wrk_version(),
            "baseline": BASELINE,
        },
        "backends": {},
    }

    backends = [("sqlite", _sqlite())]
    if args.postgres:
        backends.append(("postgresql", _postgresql(args.postgres)))
    node_request: dict[str, Any] | None = None
    for name, database in backends:
        with database as (url, shown, _):
            print(f"{name}: {shown}", flush=True)
            figures, request = _measure(url, count, seconds, args.connections)
        figures["database"] = shown
        run["backends"][name] = figures
        node_request = node_request or request

    assert node_request is not None
    print("Digital Bazaar verifyCredential under Node", flush=True)
    run["node"] = _node_baseline(node_request, seconds)

    run["finished_at"] = _utc_now()
    run["load_average"]["end"] = load_average()
    verdicts = check_targets(run)
    run["targets"] = [v.as_dict() for v in verdicts]
    run["passed"] = all(v.passed for v in verdicts)
    markdown = render_markdown(run, verdicts)
    path = write_results(run, markdown, args.results_dir)

    print()
    print(markdown)
    print(f"Wrote {path} and {args.results_dir / 'verify-latest.md'}")
    return 0 if run["passed"] else 1


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.verify",
        description="Benchmark POST /credentials/verify under gunicorn with wrk.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_CREDENTIALS} credentials and {QUICK_SECONDS:g} s per load "
        f"instead of {FULL_CREDENTIALS} and {FULL_SECONDS:g} s",
    )
    parser.add_argument("--credentials", type=int, help="credentials to issue")
    parser.add_argument("--seconds", type=float, help="seconds per measured load")
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help="wrk connections"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also measure on this PostgreSQL server, in a fresh schema",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=_RESULTS,
        help="where to write the results (default: bench/results)",
    )
    return parser.parse_args(argv)


def _missing_tools() -> str | None:
    if shutil.which("wrk") is None:
        return "wrk not found (Debian: apt-get install wrk)"
    if shutil.which("node") is None:
        return "node not found (Digital Bazaar's baseline runs under Node.js)"
    if not _NODE_MODULES.is_dir():
        return f"{_NODE_MODULES.relative_to(_ROOT)} missing (make interop-deps)"
    return None


# The service under load


@dataclass(frozen=True)
class _Seeded:
    environ: dict[str, str]
    tokens: list[str]
    credentials: list[dict[str, Any]]


def _measure(
    url: str, count: int, seconds: float, connections: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seed, serve and load one database; its figures, and the Node request."""
    with tempfile.TemporaryDirectory(prefix="credbank-bench-") as directory:
        folder = Path(directory)
        seeded = _seed(folder, url, count)
        jwt_bodies = folder / "vc-jwt.jsonl"
        rdfc_bodies = folder / "rdfc.jsonl"
        _write_bodies(jwt_bodies, [_enveloped(token) for token in seeded.tokens])
        _write_bodies(rdfc_bodies, seeded.credentials)

        with _server(seeded.environ, folder / "gunicorn.log") as origin:
            documents = _documents(origin, seeded.credentials)
            print("  every credential once, checking the answers", flush=True)
            checked = _check_all(origin, [jwt_bodies, rdfc_bodies])
            load = _Load(origin, seconds, connections)
            for bodies in (None, jwt_bodies, rdfc_bodies):
                load.run(bodies, WARM_UP_SECONDS)
            loads = {
                "baseline_before": load.run(None),
                JWT: load.run(jwt_bodies),
                RDFC: load.run(rdfc_bodies),
                "baseline_after": load.run(None),
            }

    request = {
        "credentials": seeded.credentials,
        "tokens": seeded.tokens,
        "documents": documents,
    }
    return {"checked": checked, "loads": loads}, request


def _seed(folder: Path, url: str, count: int) -> _Seeded:
    """Migrated already: seed the demo, issue `count` awards in both forms."""
    environ = {
        **os.environ,
        "CREDBANK_DATA_DIR": str(folder),
        "CREDBANK_DATABASE_URL": url,
        "CREDBANK_MASTER_KEY": BENCH_MASTER_KEY,
        "CREDBANK_BASE_URL": BASE_URL,
        "CREDBANK_LOG_ORIGIN": LOG_ORIGIN,
        "CREDBANK_WORKERS": str(WORKERS),
        # wrk sends everything from 127.0.0.1: a public rate limit would measure
        # the limiter's refusals rather than verification.
        "CREDBANK_RATE_LIMIT": "off",
    }
    config = Config.from_env(environ)
    services = open_services(config)
    try:
        seeded = seed_demo(services, now=datetime.now(UTC))
        assert seeded is not None, "a fresh database was not empty"
        urls = [f"{BASE_URL}/achievements/{a}" for a in seeded.achievement_ids]
        csv_path = folder / "awards.csv"
        _write_awards(csv_path, urls, count, f"{JWT};{RDFC}")
        print(f"  issue-batch of {count} awards in {JWT} and {RDFC}", flush=True)
        subprocess.run(
            [
                *_credbank(),
                "issue-batch",
                str(csv_path),
                "--issuer",
                seeded.issuer_slug,
            ],
            env=environ,
            cwd=_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with services.database.transaction() as session:
            # The demo's own credentials are left out: only the batch is loaded.
            records = list(
                session.scalars(
                    select(IssuedCredential)
                    .where(IssuedCredential.id.not_in(seeded.credential_ids))
                    .order_by(IssuedCredential.id)
                )
            )
            secured = [record.secured for record in records]
    finally:
        services.close()
    if len(secured) != count:
        raise RuntimeError(f"expected {count} credentials, found {len(secured)}")
    return _Seeded(
        environ,
        tokens=[forms[JWT] for forms in secured],
        credentials=[forms[RDFC] for forms in secured],
    )


def _enveloped(token: str) -> dict[str, Any]:
    # VC Data Model 2.0 §4.13: a vc+jwt carried in an enveloped credential.
    return {
        "@context": [VC2_CONTEXT],
        "id": f"{ENVELOPE_PREFIX}{token}",
        "type": "EnvelopedVerifiableCredential",
    }


def _write_bodies(path: Path, credentials: list[dict[str, Any]]) -> None:
    lines = [
        json.dumps(
            {"verifiableCredential": c}, ensure_ascii=False, separators=(",", ":")
        )
        for c in credentials
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def _server(environ: dict[str, str], log_path: Path) -> Iterator[str]:
    """`credbank serve` on a free port, until /healthz answers; stopped after."""
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*_credbank(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environ,
            cwd=_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_up(origin, process, log_path)
            yield origin
        finally:
            # gunicorn stops its workers on SIGTERM; its own process only.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_until_up(origin: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"credbank serve exited ({process.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(f"{origin}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"credbank serve did not answer /healthz at {origin} in 60 s")


def _documents(origin: str, credentials: list[dict[str, Any]]) -> dict[str, Any]:
    """The issuer's DID document and the status list credentials, as the service
    serves them, keyed by the URL a verifier would fetch them from."""
    documents: dict[str, Any] = {}
    for credential in credentials:
        issuer = credential["issuer"]
        urls = [issuer["id"] if isinstance(issuer, dict) else issuer]
        urls += [s["statusListCredential"] for s in credential["credentialStatus"]]
        for url in urls:
            if url not in documents:
                documents[url] = _get_json(origin + _local_path(url))
    return documents


def _local_path(url: str) -> str:
    # did:web §3.2.1: did:web:<host>:a:b is https://<host>/a/b/did.json.
    if url.startswith("did:web:"):
        return "/" + "/".join(url.split(":")[3:]) + "/did.json"
    return url.removeprefix(BASE_URL)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def _check_all(origin: str, files: list[Path]) -> dict[str, int]:
    """Post every body once (this warms the workers up too): each answer must be
    200 with verified true and a valid verdict."""
    checked = 0
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            request = urllib.request.Request(
                f"{origin}/credentials/verify",
                data=line.encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                result = json.loads(answer.read())
            if result.get("verified") is not True or result.get("verdict") != "valid":
                failed = [
                    c for c in result.get("checks", []) if c.get("outcome") != "passed"
                ]
                raise RuntimeError(f"a credential did not verify: {failed}")
            checked += 1
    return {"verified": checked}


class _Load:
    """wrk against one server, with the settings of the run."""

    def __init__(self, origin: str, seconds: float, connections: int) -> None:
        self._origin = origin
        self._seconds = seconds
        self._connections = connections

    def run(self, bodies: Path | None, seconds: float | None = None) -> dict[str, Any]:
        """POST the bodies to /credentials/verify, or GET /healthz without them."""
        duration = seconds or self._seconds
        path = "/healthz" if bodies is None else "/credentials/verify"
        argv = [
            "wrk",
            f"-t{THREADS}",
            f"-c{self._connections}",
            f"-d{duration:g}s",
            "--timeout",
            "10s",
            "-s",
            str(_LUA),
            self._origin + path,
        ]
        if bodies is not None:
            argv += ["--", str(bodies)]
        load_before = load_average()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        found = _WRK_LINE.search(done.stdout)
        if done.returncode != 0 or found is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}")
        figures: dict[str, Any] = json.loads(found.group(1))
        figures["path"] = path
        figures["requests_per_s"] = figures["requests"] / (figures["duration_us"] / 1e6)
        figures["load_average_before"] = load_before
        errors = sum(
            figures[name]
            for name in ("non_2xx", "connect_errors", "read_errors", "write_errors")
        )
        figures["failed"] = errors + figures["timeouts"] + figures["not_verified"]
        if seconds is None:
            print(
                f"  {path} {bodies.name if bodies else ''}: "
                f"{figures['requests_per_s']:,.0f}/s, "
                f"p50 {figures['latency_us']['p50'] / 1000:.1f} ms, "
                f"p99 {figures['latency_us']['p99'] / 1000:.1f} ms, "
                f"{figures['failed']} failed",
                flush=True,
            )
        return figures


# Digital Bazaar


def _node_baseline(request: dict[str, Any], seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="credbank-bench-") as directory:
        path = Path(directory) / "request.json"
        path.write_text(json.dumps({**request, "seconds": seconds}), encoding="utf-8")
        done = subprocess.run(
            ["node", str(_NODE_SCRIPT), str(path)],
            capture_output=True,
            text=True,
            timeout=3 * seconds + 300,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{_NODE_SCRIPT.name} failed: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    for mode, figures in result["results"].items():
        print(f"  {mode}: {figures['rate']:,.1f}/s", flush=True)
    return result


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0]


def _credbank() -> list[str]:
    """The installed `credbank` console script, or the same entry point."""
    script = Path(sys.executable).with_name("credbank")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from api.cli import main; main()"]


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    raise SystemExit(main())
