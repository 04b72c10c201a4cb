"""The growth run: one log grown batch by batch, measured around each milestone.

It runs in a process of its own (`python -m bench.growth`, its spec as JSON on stdin,
its result as a JSON file) so that the peak resident memory it reports belongs to the
append path alone. Around each milestone it times a window of batches, each one
preceded by a batch of the INSERT-only baseline (bench/baseline.py), so that the two
rates are taken under the same load on a shared machine. At the end it times proofs
at the final size (bench/proofs.py).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.services import Services, open_services
from bench.baseline import BaselineTable
from bench.proofs import check_proofs, time_proofs
from bench.workload import BATCH_SIZE, START, EntryFactory, bench_config

__all__ = ["GrowthSpec", "max_rss_bytes", "run_growth"]

# Batches per point of the growth curve kept in the result (~16k entries each).
CURVE_BATCHES = 64


@dataclass(frozen=True)
class GrowthSpec:
    """What the parent process asks for."""

    database_url: str
    data_dir: str
    milestones: list[int]
    window_batches: int
    proof_samples: int
    out: str
    label: str


def max_rss_bytes() -> int:
    """This process's peak resident set size so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    return peak if sys.platform == "darwin" else peak * 1024


def run_growth(spec: GrowthSpec) -> dict[str, Any]:
    """Grow one log through every milestone; return the measurements."""
    config = bench_config(Path(spec.data_dir), spec.database_url)
    services = open_services(config, now=START)
    try:
        return _Grower(services, spec).run()
    finally:
        services.close()


class _Grower:
    def __init__(self, services: Services, spec: GrowthSpec) -> None:
        self._services = services
        self._spec = spec
        self._entries = EntryFactory()
        self._baseline = BaselineTable(services.database)
        self._durations = array("d")
        with services.database.transaction() as session:
            self._size = services.log.head(session).size

    def run(self) -> dict[str, Any]:
        rss_at_start = max_rss_bytes()
        started = time.perf_counter()
        milestones = [self._measure_milestone(m) for m in self._spec.milestones]
        growth_seconds = time.perf_counter() - started
        rss_after_growth = max_rss_bytes()

        check_proofs(self._services)
        proofs = time_proofs(self._services, self._spec.proof_samples)
        appended = len(self._durations) * BATCH_SIZE
        return {
            "final_size": self._size,
            "batches": len(self._durations),
            "wall_seconds": growth_seconds,
            "appends_per_s_overall": appended / sum(self._durations),
            "milestones": milestones,
            "curve_batches": CURVE_BATCHES,
            "curve": self._curve(),
            "memory": {
                "max_rss_bytes_before_growth": rss_at_start,
                "max_rss_bytes_after_growth": rss_after_growth,
            },
            "proofs": proofs,
        }

    def _measure_milestone(self, milestone: int) -> dict[str, Any]:
        # The window is centred on the milestone where the log allows it. Its batches
        # alternate with baseline batches, so that both rates are taken over the same
        # seconds of a shared machine.
        half = self._spec.window_batches * BATCH_SIZE // 2
        self._grow_to(max(milestone - half, self._size))
        start_size = self._size
        window, baseline = [], []
        for _ in range(self._spec.window_batches):
            baseline += self._baseline.time_batches(1)
            window.append(self._append_batch())

        rate = len(window) * BATCH_SIZE / sum(window)
        baseline_rate = len(baseline) * BATCH_SIZE / sum(baseline)
        median = sorted(window)[len(window) // 2]
        _progress(
            f"{self._spec.label}: at {milestone:,} entries {rate:,.0f} appends/s, "
            f"baseline {baseline_rate:,.0f} rows/s, "
            f"ratio {rate / baseline_rate:.3f}"
        )
        return {
            "milestone": milestone,
            "window": [start_size, self._size],
            "appends_per_s": rate,
            "appends_per_s_median_batch": BATCH_SIZE / median,
            "baseline_rows_per_s": baseline_rate,
            "ratio_to_baseline": rate / baseline_rate,
        }

    def _grow_to(self, size: int) -> None:
        next_report = (self._size // 100_000 + 1) * 100_000
        while self._size < size:
            self._append_batch()
            if self._size >= next_report:
                recent = self._durations[-CURVE_BATCHES:]
                rate = len(recent) * BATCH_SIZE / sum(recent)
                _progress(f"{self._spec.label}: {self._size:,} entries, {rate:,.0f}/s")
                next_report += 100_000

    def _append_batch(self) -> float:
        at, entries = self._entries.batch()
        database, log = self._services.database, self._services.log

        started = time.perf_counter()
        with database.transaction(write=True) as session:
            indexes = log.append(session, entries, now=at)
        elapsed = time.perf_counter() - started

        if indexes[0] != self._size:
            raise RuntimeError(f"expected index {self._size}, got {indexes[0]}")
        self._size += len(indexes)
        self._durations.append(elapsed)
        return elapsed

    def _curve(self) -> list[dict[str, float]]:
        points = []
        # Batches are appended from the size the service started with (its own
        # key.added entry), so batch i ends at size first + (i + 1) * BATCH_SIZE.
        first = self._size - len(self._durations) * BATCH_SIZE
        for end in range(CURVE_BATCHES, len(self._durations) + 1, CURVE_BATCHES):
            chunk = self._durations[end - CURVE_BATCHES : end]
            points.append(
                {
                    "size": first + end * BATCH_SIZE,
                    "appends_per_s": len(chunk) * BATCH_SIZE / sum(chunk),
                }
            )
        return points


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def main() -> int:
    spec = GrowthSpec(**json.load(sys.stdin))
    result = run_growth(spec)
    Path(spec.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
