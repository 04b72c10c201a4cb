"""What watching costs a request and a credential (issue 8): `python -m bench.metrics`.

    python -m bench.metrics [--requests N] [--results-dir DIR]

Run in prometheus_client's multiprocess mode (a temporary directory, as under
`credbank serve`), inside one request context of the real app on SQLite:

- per request: the hooks api/logs.py and api/metrics.py add (start the clock, count
  and observe, echo the request id), with the access line off (INFO disabled) and
  on (the JSON formatter writing to a discarded stream);
- per credential: what the issuance listener and the log hook tally, and the
  commit event that hands a 200-credential chunk's tally to the counters;
- baseline, in the same run: one whole `GET /healthz` through the Flask test client
  (routing, every hook, the view's database round trip), the cheapest request.

The target: a few microseconds per request and per credential.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["main"]

TARGET_US = 5.0
ROUNDS = 7
CHUNK = 200

_RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--results-dir", type=Path, default=_RESULTS)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="credbank-bench-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    report = _measure(args.requests)
    text = _report(report)
    print(text)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "metrics-latest.md").write_text(text)
    worst = max(report["request_us"], report["credential_us"])
    raise SystemExit(0 if worst <= TARGET_US else 1)


def _measure(requests: int) -> dict[str, float]:
    # Imported after PROMETHEUS_MULTIPROC_DIR is set: as in a gunicorn worker.
    from flask import Response
    from sqlalchemy.orm import Session

    from api.app import create_app
    from api.config import Config
    from api.logs import JSONFormatter, RequestIdFilter
    from api.metrics import MetricsListener, count_log_entries
    from bench.machine import load_average
    from migrations.runner import upgrade

    data = Path(tempfile.mkdtemp(prefix="credbank-bench-"))
    config = Config.from_env(
        {
            "CREDBANK_DATA_DIR": str(data),
            "CREDBANK_MASTER_KEY": "ab" * 32,
            "CREDBANK_RATE_LIMIT": "off",
        }
    )
    upgrade(config.database_url)
    app = create_app(config)
    client = app.test_client()
    before = [f for f in app.before_request_funcs[None] if _ours(f)]
    after = [f for f in app.after_request_funcs[None] if _ours(f)]
    access = logging.getLogger("api.access")
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RequestIdFilter())

    def hooks(n: int) -> float:
        response = Response("{}", status=200)
        with app.test_request_context("/healthz", headers={"X-Request-ID": "b-1"}):
            started = time.perf_counter()
            for _ in range(n):
                for function in before:
                    function()
                for function in after:
                    function(response)
            return time.perf_counter() - started

    def whole_requests(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            client.get("/healthz")
        return time.perf_counter() - started

    listener = MetricsListener()

    class _Record:
        def __init__(self) -> None:
            self.secured = {"eddsa-rdfc-2022": None, "vc+jwt": None}
            self.status = "revoked"

    chunk = [(_Record(), {})] * CHUNK
    entries = [{"kind": "credential.issued"}] * CHUNK

    def credentials(n: int) -> float:
        session = Session()
        now = datetime.now(UTC)
        started = time.perf_counter()
        for _ in range(n // CHUNK):
            session.begin()
            listener.on_issued(session, chunk, now)  # type: ignore[arg-type]
            count_log_entries(session, entries)
            session.commit()
        return time.perf_counter() - started

    access.setLevel(logging.WARNING)
    quiet = _best(hooks, requests)
    access.setLevel(logging.INFO)
    access.addHandler(handler)
    logged = _best(hooks, requests)
    access.removeHandler(handler)
    access.setLevel(logging.WARNING)
    baseline = _best(whole_requests, max(requests // 20, 200))
    per_credential = _best(credentials, requests)
    return {
        "request_us": quiet * 1e6,
        "request_logged_us": logged * 1e6,
        "healthz_us": baseline * 1e6,
        "credential_us": per_credential * 1e6,
        "load": load_average(),
    }


def _ours(function: object) -> bool:
    module = getattr(function, "__module__", "")
    return module in {"api.logs", "api.metrics"}


def _best(run: object, n: int) -> float:
    """Seconds per call: the median of ROUNDS rounds of n calls."""
    assert callable(run)
    run(max(n // 10, 1))  # warm up
    return statistics.median(run(n) / n for _ in range(ROUNDS))


def _report(r: dict[str, float]) -> str:
    return "\n".join(
        [
            "# What watching costs (python -m bench.metrics)",
            "",
            f"Load average at the end: {r['load']}. Multiprocess mode, SQLite.",
            "",
            "| cost | µs | ratio to one GET /healthz |",
            "|---|---|---|",
            f"| request hooks, access line off | {r['request_us']:.2f} | "
            f"{r['request_us'] / r['healthz_us']:.4f} |",
            f"| request hooks, JSON access line on | {r['request_logged_us']:.2f} | "
            f"{r['request_logged_us'] / r['healthz_us']:.4f} |",
            f"| per credential (2 formats), tally and commit | "
            f"{r['credential_us']:.2f} | {r['credential_us'] / r['healthz_us']:.4f} |",
            f"| baseline: one GET /healthz, test client | {r['healthz_us']:.0f} | 1 |",
            "",
            f"Target: at most {TARGET_US:.0f} µs per request (access line off) "
            "and per credential.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
