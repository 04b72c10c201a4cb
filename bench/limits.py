"""What the limits and headers of issue 8 cost a request: `python -m bench.limits`.

    python -m bench.limits [--requests N] [--rounds R] [--results-dir DIR]

In one process, through Flask's test client (no network), `GET /units/ECTS`, the
cheapest public endpoint, so that the hooks are most of what is timed. Four apps
over one SQLite database, alternating round by round so that a change of load
falls on all of them:

- baseline: no rate limit and no security-headers hook (the app before issue 8);
- headers: the security and CORS headers only (`CREDBANK_RATE_LIMIT=off`);
- memory: headers and a rate limit counted in memory (the default storage);
- redis: headers and a rate limit counted in the local Redis, when it answers.

The limit is set far above what a run sends, so nothing is refused. Each round is
timed by the wall clock and by the process's CPU time; other processes on a shared
machine disturb the second far less, and the target is read on it: the headers and
the memory limiter together add at most 100 CPU µs a request, a tenth of what a
verification may take at the 1,000 requests/s of issue 5.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from flask import Flask

from api.app import create_app
from api.config import Config
from api.services import open_services
from bench.machine import describe_machine, load_average
from migrations.runner import upgrade

__all__ = ["main"]

TARGET_US = 100.0
REDIS_URL = "redis://127.0.0.1:6379/0"
_RESULTS = Path(__file__).resolve().parent / "results"
_MASTER_KEY = "ab" * 32
_UNLIMITED = "100000000/hour"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.limits")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--results-dir", type=Path, default=_RESULTS)
    options = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        run = _measure(Path(folder), options.requests, options.rounds)
    report = _report(run)
    print(report)
    options.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (options.results_dir / f"{stamp}-limits.json").write_text(
        json.dumps(run, indent=2) + "\n"
    )
    (options.results_dir / "limits-latest.md").write_text(report)
    return 0 if run["met"] else 1


def _measure(folder: Path, requests: int, rounds: int) -> dict[str, Any]:
    config = Config(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'credbank.sqlite3'}",
        base_url="http://bench.test",
        log_origin=f"bench-limits-{time.time_ns()}.test/log",
        master_key=_MASTER_KEY,
    )
    upgrade(config.database_url)
    services = open_services(config)
    apps = {
        "baseline": _without_headers(
            create_app(dataclasses.replace(config, rate_limit=None), services=services)
        ),
        "headers": create_app(
            dataclasses.replace(config, rate_limit=None), services=services
        ),
        "memory": create_app(
            dataclasses.replace(config, rate_limit=_UNLIMITED), services=services
        ),
    }
    if _redis_answers():
        apps["redis"] = create_app(
            dataclasses.replace(config, rate_limit=_UNLIMITED, redis_url=REDIS_URL),
            services=services,
        )
    started = load_average()
    wall: dict[str, list[float]] = {name: [] for name in apps}
    cpu: dict[str, list[float]] = {name: [] for name in apps}
    try:
        for app in apps.values():
            _round(app, 200)  # warm up: routes, caches, connections
        for _ in range(rounds):
            for name, app in apps.items():
                seconds, cpu_seconds = _round(app, requests)
                wall[name].append(seconds / requests * 1e6)
                cpu[name].append(cpu_seconds / requests * 1e6)
    finally:
        _forget_counts(config.log_origin)
        services.close()

    base, base_cpu = (
        statistics.median(wall["baseline"]),
        statistics.median(cpu["baseline"]),
    )
    figures = {
        name: {
            "wall_us_per_request": round(statistics.median(wall[name]), 1),
            "cpu_us_per_request": round(statistics.median(cpu[name]), 1),
            "added_wall_us": round(statistics.median(wall[name]) - base, 1),
            "added_cpu_us": round(statistics.median(cpu[name]) - base_cpu, 1),
            "rate_ratio_to_baseline": round(base / statistics.median(wall[name]), 3),
        }
        for name in apps
    }
    added = figures["memory"]["added_cpu_us"]
    return {
        "machine": describe_machine(),
        "load_average": {"start": started, "end": load_average()},
        "requests_per_round": requests,
        "rounds": rounds,
        "figures": figures,
        "target_us": TARGET_US,
        "met": added <= TARGET_US,
    }


def _round(app: Flask, requests: int) -> tuple[float, float]:
    client = app.test_client()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        answer = client.get("/units/ECTS")
        if answer.status_code != 200:
            raise SystemExit(f"expected 200, got {answer.status_code}")
    return time.perf_counter() - wall, time.process_time() - cpu


def _without_headers(app: Flask) -> Flask:
    hooks = app.after_request_funcs.get(None, [])
    app.after_request_funcs[None] = [
        hook for hook in hooks if hook.__name__ != "add_security_headers"
    ]
    return app


def _redis_answers() -> bool:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


def _forget_counts(origin: str) -> None:
    if not _redis_answers():
        return
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{origin}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _report(run: dict[str, Any]) -> str:
    lines = [
        "# Limits and headers: cost per request (`python -m bench.limits`)",
        "",
        f"GET /units/ECTS through the test client, {run['rounds']} rounds of "
        f"{run['requests_per_round']} requests per app, medians; load average "
        f"{run['load_average']['start']} at the start, "
        f"{run['load_average']['end']} at the end.",
        "",
        "| app | wall µs a request | CPU µs | added wall µs | added CPU µs "
        "| rate ratio to baseline |",
        "|---|---|---|---|---|---|",
    ]
    for name, f in run["figures"].items():
        lines.append(
            f"| {name} | {f['wall_us_per_request']} | {f['cpu_us_per_request']} | "
            f"{f['added_wall_us']} | {f['added_cpu_us']} | "
            f"{f['rate_ratio_to_baseline']} |"
        )
    verdict = "met" if run["met"] else "not met"
    added = run["figures"]["memory"]["added_cpu_us"]
    lines += [
        "",
        f"Target: headers and the memory limiter add at most {run['target_us']:.0f} "
        f"CPU µs a request: {added} µs, {verdict}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
