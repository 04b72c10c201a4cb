"""The load test (issue 8): issuers and verifiers at once, under gunicorn, then audit.

    python -m bench.load [--seconds S] [--issuers N] [--verifiers N]
                         [--backend postgresql|sqlite] [--postgres URL]
                         [--results-dir DIR] [--start-delay S]

A fresh PostgreSQL schema (or SQLite file) is migrated and seeded with the demo;
`credbank serve` runs it with two gunicorn workers. Client processes, apart from
the server's, then run for S seconds (default 60): each issuer posts awards to
`POST /credentials/award` with an idempotency key of its own, each verifier posts
credentials issued before the run, in both secured forms, to
`POST /credentials/verify`. Every answer is checked (201 with a credential id; 200
with `verified: true`). The baseline is `GET /healthz` from the same client
processes for a fifth of the time, just before. Afterwards the server is stopped,
`credbank log audit` runs, and every acknowledged award must exist exactly once.

The exit status is 0 when there was no error, the audit was clean and every award
was found; 1 otherwise.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

from api.auth import ISSUER, create_token
from api.config import Config
from api.demo import seed_demo
from api.services import open_services
from bench.machine import describe_machine, load_average
from bench.run import _postgresql, _sqlite
from bench.verify import _credbank, _enveloped, _server
from bench.workload import BASE_URL, BENCH_MASTER_KEY, LOG_ORIGIN
from issuers.issuance import JWT, RDFC, IssuedCredential

__all__ = ["main"]

SECONDS = 60.0
ISSUERS = 2
VERIFIERS = 4
WORKERS = 2
# Credentials issued before the run, for the verifiers to post in turn.
POOL = 40
# A request that takes longer than this counts as an error.
TIMEOUT_S = 30.0
# Time for the client processes to start and import before the clock runs.
START_DELAY_S = 5.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

_ROOT = Path(__file__).resolve().parent.parent
_RESULTS = _ROOT / "bench" / "results"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    run: dict[str, Any] = {
        "started_at": _utc_now(),
        "load_average": {"start": load_average()},
        "machine": describe_machine(),
        "settings": {
            "seconds": args.seconds,
            "issuers": args.issuers,
            "verifiers": args.verifiers,
            "workers": WORKERS,
            "backend": args.backend,
            "baseline": "GET /healthz from the same client processes, "
            f"{args.seconds / 5:g} s just before the run",
        },
    }
    database = _postgresql(args.postgres) if args.backend == "postgresql" else _sqlite()
    with database as (url, shown, _), tempfile.TemporaryDirectory() as directory:
        print(f"{args.backend}: {shown}", flush=True)
        run["database"] = shown
        folder = Path(directory)
        environ, token = _seed(folder, url)
        with _server(environ, folder / "gunicorn.log") as origin:
            pool = _issue_pool(origin, environ, token)
            print(f"  baseline: GET /healthz for {args.seconds / 5:g} s", flush=True)
            clients = args.issuers + args.verifiers
            baseline = _drive(
                [("healthz", origin, "", [], i) for i in range(clients)],
                args.seconds / 5,
                args.start_delay,
            )
            print(
                f"  {args.issuers} issuers and {args.verifiers} verifiers "
                f"for {args.seconds:g} s",
                flush=True,
            )
            achievements = json.loads(environ["CREDBANK_LOAD_ACHIEVEMENTS"])
            # An issuer's "bodies" are the achievements it awards in turn.
            jobs = [
                ("issue", origin, token, achievements, i) for i in range(args.issuers)
            ]
            jobs += [
                ("verify", origin, "", pool[i :: args.verifiers], i)
                for i in range(args.verifiers)
            ]
            loaded = _drive(jobs, args.seconds, args.start_delay)
        run["baseline"] = baseline
        run["load"] = loaded
        run["audit"] = _audit(environ)
        run["awards"] = _count_awards(environ, loaded["issued_ids"])

    run["finished_at"] = _utc_now()
    run["load_average"]["end"] = load_average()
    del loaded["issued_ids"]
    markdown = _render(run)
    run["passed"] = _passed(run)
    path = _write(run, markdown, args.results_dir)
    print()
    print(markdown)
    print(f"Wrote {path} and {args.results_dir / 'load-latest.md'}")
    return 0 if run["passed"] else 1


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="Concurrent issuers and verifiers under gunicorn, then audit.",
    )
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--issuers", type=int, default=ISSUERS)
    parser.add_argument("--verifiers", type=int, default=VERIFIERS)
    parser.add_argument(
        "--backend", choices=("postgresql", "sqlite"), default="postgresql"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("CREDBANK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="the PostgreSQL server; the run uses a fresh schema, dropped after",
    )
    parser.add_argument("--results-dir", type=Path, default=_RESULTS)
    parser.add_argument(
        "--start-delay",
        type=float,
        default=START_DELAY_S,
        metavar="S",
        help="time for the client processes to start before the clock runs "
        f"(default {START_DELAY_S:g}; a client that starts late runs its full "
        "time from when it starts)",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.issuers < 1 or args.verifiers < 1:
        parser.error("--seconds, --issuers and --verifiers must be positive")
    if args.start_delay < 0:
        parser.error(f"--start-delay: expected 0 or more, got {args.start_delay:g}")
    return args


# Setting up


def _seed(folder: Path, url: str) -> tuple[dict[str, str], str]:
    """Seed the demo; the server's environment and an issuer token."""
    environ = {
        **os.environ,
        "CREDBANK_DATA_DIR": str(folder),
        "CREDBANK_DATABASE_URL": url,
        "CREDBANK_MASTER_KEY": BENCH_MASTER_KEY,
        "CREDBANK_BASE_URL": BASE_URL,
        "CREDBANK_LOG_ORIGIN": LOG_ORIGIN,
        "CREDBANK_WORKERS": str(WORKERS),
        # The clients all come from 127.0.0.1: a public rate limit would turn the
        # load test into a test of the limiter.
        "CREDBANK_RATE_LIMIT": "off",
    }
    services = open_services(Config.from_env(environ))
    now = datetime.now(UTC)
    try:
        seeded = seed_demo(services, now=now)
        assert seeded is not None, "a fresh database was not empty"
        with services.database.transaction(write=True) as session:
            _, token = create_token(
                session, role=ISSUER, subject=seeded.issuer_slug, now=now
            )
    finally:
        services.close()
    environ["CREDBANK_LOAD_ACHIEVEMENTS"] = json.dumps(
        [f"{BASE_URL}/achievements/{a}" for a in seeded.achievement_ids]
    )
    return environ, token


def _issue_pool(origin: str, environ: dict[str, str], token: str) -> list[str]:
    """POOL awards, the way the issuing clients make them, before the run; the
    verification request bodies of both their forms."""
    achievements = json.loads(environ["CREDBANK_LOAD_ACHIEVEMENTS"])
    client = _Client(origin)
    bodies: list[str] = []
    for n in range(POOL):
        status, answer = client.award(token, achievements, f"pool-{n}")
        if status != 201:
            raise RuntimeError(f"a pool award answered {status}: {answer}")
        forms = answer["credential"]
        bodies.append(_body(forms[RDFC]))
        bodies.append(_body(_enveloped(forms[JWT])))
    client.close()
    return bodies


def _body(credential: Any) -> str:
    return json.dumps({"verifiableCredential": credential}, separators=(",", ":"))


# The clients


class _Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, origin: str) -> None:
        parts = urlsplit(origin)
        assert parts.hostname is not None and parts.port is not None
        self._host, self._port = parts.hostname, parts.port
        self._connection = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT_S)

    def request(
        self, method: str, path: str, body: str | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        try:
            self._connection.request(method, path, body=body, headers=headers)
            answer = self._connection.getresponse()
            return answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            # One fresh connection per failure: the next request starts clean.
            self._connection.close()
            self._connection = self._connect()
            raise

    def award(self, token: str, achievements: list[str], key: str) -> tuple[int, Any]:
        n = int(uuid.uuid4().int % 10**9)
        body = {
            "achievement": achievements[n % len(achievements)],
            "learner": {"email": f"load-{n}@example.org", "name": f"Load {n}"},
            "formats": [JWT, RDFC],
            "idempotencyKey": key,
        }
        status, data = self.request(
            "POST",
            "/credentials/award",
            json.dumps(body),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        return status, json.loads(data) if data else None

    def close(self) -> None:
        self._connection.close()


def _drive(
    jobs: list[tuple[str, str, str, list[str], int]], seconds: float, delay: float
) -> Any:
    """Run each job in a process of its own for `seconds`; their figures merged."""
    context = multiprocessing.get_context("spawn")
    # Every client starts at the same moment, once all have imported.
    start = time.time() + delay
    with context.Pool(len(jobs)) as pool:
        results = pool.starmap(_client_loop, [(*job, start, seconds) for job in jobs])
    return _merge(results, seconds)


def _client_loop(
    kind: str,
    origin: str,
    token: str,
    bodies: list[str],
    number: int,
    start: float,
    seconds: float,
) -> dict[str, Any]:
    """One client: requests back to back from `start` until the time is up."""
    client = _Client(origin)
    latencies: list[float] = []
    errors: list[str] = []
    issued: list[str] = []
    time.sleep(max(0.0, start - time.time()))
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            error = _one_request(client, kind, token, bodies, n, number)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        latencies.append(time.perf_counter() - started)
        if isinstance(error, str):
            errors.append(error)
        elif error is not None:
            issued.append(error[0])
        n += 1
    client.close()
    return {"kind": kind, "latencies": latencies, "errors": errors, "issued": issued}


def _one_request(
    client: _Client,
    kind: str,
    token: str,
    bodies: list[str],
    n: int,
    number: int,
) -> str | tuple[str] | None:
    """One request and its check: an error message, an issued id, or None."""
    if kind == "healthz":
        status, _ = client.request("GET", "/healthz", None, {})
        return None if status == 200 else f"healthz answered {status}"
    if kind == "issue":
        status, answer = client.award(token, bodies, f"load-{number}-{n}")
        if status != 201 or not isinstance(answer, dict) or "id" not in answer:
            return f"award answered {status}"
        return (str(answer["id"]),)
    status, data = client.request(
        "POST",
        "/credentials/verify",
        bodies[n % len(bodies)],
        {"Content-Type": "application/json"},
    )
    if status != 200 or json.loads(data).get("verified") is not True:
        return f"verification answered {status}"
    return None


def _merge(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    issued: list[str] = []
    for result in results:
        figures = kinds.setdefault(
            result["kind"], {"latencies": [], "errors": [], "clients": 0}
        )
        figures["latencies"] += result["latencies"]
        figures["errors"] += result["errors"]
        figures["clients"] += 1
        issued += result["issued"]
    merged: dict[str, Any] = {"issued_ids": issued}
    for kind, figures in kinds.items():
        ordered = sorted(figures["latencies"])
        merged[kind] = {
            "clients": figures["clients"],
            "requests": len(ordered),
            "per_s": len(ordered) / seconds,
            "p50_ms": _percentile(ordered, 0.50) * 1000,
            "p99_ms": _percentile(ordered, 0.99) * 1000,
            "errors": len(figures["errors"]),
            "first_errors": sorted(set(figures["errors"]))[:5],
        }
    return merged


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# Afterwards


def _audit(environ: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [*_credbank(), "log", "audit"],
        env=environ,
        cwd=_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return {"exit": done.returncode, "summary": (done.stdout + done.stderr).strip()}


def _count_awards(environ: dict[str, str], issued: list[str]) -> dict[str, Any]:
    """Each acknowledged award is stored exactly once."""
    services = open_services(Config.from_env(environ))
    try:
        with services.database.transaction() as session:
            total = session.scalar(select(func.count()).select_from(IssuedCredential))
            found = 0
            for start in range(0, len(issued), 500):
                chunk = issued[start : start + 500]
                found += (
                    session.scalar(
                        select(func.count())
                        .select_from(IssuedCredential)
                        .where(IssuedCredential.id.in_(chunk))
                    )
                    or 0
                )
    finally:
        services.close()
    return {
        "acknowledged": len(issued),
        "distinct": len(set(issued)),
        "found": found,
        "stored_in_all": total,
    }


def _passed(run: dict[str, Any]) -> bool:
    load, awards = run["load"], run["awards"]
    errors = sum(load[k]["errors"] for k in ("issue", "verify"))
    return bool(
        errors == 0
        and run["audit"]["exit"] == 0
        and awards["acknowledged"] == awards["distinct"] == awards["found"] > 0
        and load["verify"]["requests"] > 0
    )


def _render(run: dict[str, Any]) -> str:
    settings, load, base = run["settings"], run["load"], run["baseline"]["healthz"]
    lines = [
        f"# credbank load test, {run['started_at']}",
        "",
        f"Machine: {run['machine']['cpu_count']} x {run['machine']['cpu_model']}; "
        f"Python {run['machine']['python']}; {run['database']}.",
        f"Load average at start {run['load_average']['start']}, "
        f"at end {run['load_average']['end']}.",
        "",
        f"`credbank serve` with {settings['workers']} gunicorn workers; "
        f"{settings['issuers']} issuer and {settings['verifiers']} verifier client "
        f"processes, one keep-alive connection each, for {settings['seconds']:g} s. "
        "Issuers award in vc+jwt and eddsa-rdfc-2022; verifiers post "
        f"{POOL} credentials in both forms in turn. Baseline: {settings['baseline']}.",
        "",
        "| load | clients | requests | per second | ratio to baseline "
        "| p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, label in (
        ("healthz", "GET /healthz (baseline)"),
        ("issue", "POST /credentials/award"),
        ("verify", "POST /credentials/verify"),
    ):
        figures = base if kind == "healthz" else load[kind]
        lines.append(
            f"| {label} | {figures['clients']} | {figures['requests']:,} "
            f"| {figures['per_s']:,.1f} | {figures['per_s'] / base['per_s']:.3f} "
            f"| {figures['p50_ms']:.1f} | {figures['p99_ms']:.1f} "
            f"| {figures['errors']} |"
        )
    awards, audit = run["awards"], run["audit"]
    lines += [
        "",
        f"Awards acknowledged: {awards['acknowledged']:,} "
        f"({awards['distinct']:,} distinct ids), found in the database: "
        f"{awards['found']:,}; credentials stored in all: {awards['stored_in_all']:,}.",
        f"`credbank log audit`: exit {audit['exit']}: "
        f"{audit['summary'].splitlines()[-1] if audit['summary'] else ''}",
    ]
    for kind in ("issue", "verify"):
        for error in load[kind]["first_errors"]:
            lines.append(f"- {kind} error: {error}")
    return "\n".join(lines) + "\n"


def _write(run: dict[str, Any], markdown: str, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = run["started_at"].replace("-", "").replace(":", "")
    path = directory / f"{stamp}-load.json"
    path.write_text(json.dumps(run, indent=2, ensure_ascii=False), encoding="utf-8")
    (directory / "load-latest.md").write_text(markdown, encoding="utf-8")
    return path


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    sys.exit(main())
