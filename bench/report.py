"""The targets of the benchmark issue, checked against a run, and the run's report.

A run's figures go to bench/results/<UTC time>-<mode>.json; the human-readable
summary to bench/results/latest.md (and to standard output).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Verdict",
    "check_targets",
    "render_markdown",
    "verdicts_as_dicts",
    "write_results",
]

MIN_SQLITE_APPENDS_PER_S = 10_000

# "Cost does not grow with size": the rate at the largest milestone may be at most
# this much below the rate at the smallest.
MAX_SLOWDOWN = 0.20

MAX_PROOF_MEDIAN_MS = 1.0

# Peak resident memory of the process that appended every entry; 1 MB = 10**6 bytes.
MAX_RSS_MB = 200

_BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Verdict:
    """One target: what it asks, what was measured, and whether that meets it."""

    backend: str
    target: str
    measured: str
    passed: bool


def check_targets(backends: dict[str, dict[str, Any]]) -> list[Verdict]:
    """Every target for every backend that ran."""
    verdicts = []
    for backend, result in backends.items():
        if "skipped" in result:
            continue
        verdicts.extend(_backend_verdicts(backend, result))
    return verdicts


def verdicts_as_dicts(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """Verdicts as JSON-ready dictionaries."""
    return [asdict(v) for v in verdicts]


def render_markdown(run: dict[str, Any], verdicts: list[Verdict]) -> str:
    """The human-readable summary of a run."""
    machine = run["machine"]
    settings = run["settings"]
    lines = [
        f"# credbank log benchmark: {run['mode']} run, {run['started_at']}",
        "",
        f"Machine: {machine['cpu_count']} x {machine['cpu_model']}, "
        f"{machine['memory_total_mb']:,} MB; {machine['platform']}.",
        f"Python {machine['python']}, SQLite {machine['sqlite']}, "
        f"SQLAlchemy {machine['sqlalchemy']}, psycopg {machine['psycopg']}; "
        f"commit {machine['commit']}"
        + (" with local changes" if machine["tracked_changes"] else "")
        + ".",
        f"Load average at start {run['load_average']['start']}, "
        f"at end {run['load_average']['end']}; raw SHA-256 leaf hashes "
        f"{machine['sha256_leaf_hashes_per_s']:,.0f}/s.",
        "",
        f"Batches of {settings['batch_size']} entries, one write transaction each. "
        f"Each milestone's rate is taken over {settings['window_batches']} batches "
        "centred on it.",
        f"Baseline: {settings['baseline']}",
        "",
    ]
    for backend, result in run["backends"].items():
        lines += _backend_section(_BACKEND_NAMES[backend], result)
    lines += [
        "## Targets",
        "",
        "| backend | target | measured | result |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {v.backend} | {v.target} | {v.measured} | "
        f"{'PASS' if v.passed else 'FAIL'} |"
        for v in verdicts
    ]
    if not verdicts:
        lines.append("| - | no backend ran | - | FAIL |")
    lines.append("")
    return "\n".join(lines)


def write_results(run: dict[str, Any], markdown: str, directory: Path) -> Path:
    """Write the run's JSON and latest.md, each atomically; return the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = run["started_at"].replace("-", "").replace(":", "")
    path = directory / f"{stamp}-{run['mode']}.json"
    _write_atomically(path, json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    _write_atomically(directory / "latest.md", markdown)
    return path


def _backend_verdicts(backend: str, result: dict[str, Any]) -> list[Verdict]:
    name = _BACKEND_NAMES[backend]
    milestones = result["milestones"]
    first, last = milestones[0], milestones[-1]
    verdicts = []

    if backend == "sqlite":
        slowest = min(milestones, key=lambda m: m["appends_per_s"])
        verdicts.append(
            Verdict(
                name,
                f"appends/s ≥ {MIN_SQLITE_APPENDS_PER_S:,} at every milestone",
                f"slowest {slowest['appends_per_s']:,.0f}/s "
                f"at {_size(slowest['milestone'])}",
                slowest["appends_per_s"] >= MIN_SQLITE_APPENDS_PER_S,
            )
        )
    for figure, what, form in (
        ("appends_per_s", "appends/s", ",.0f"),
        ("ratio_to_baseline", "ratio to baseline (noise-normalised)", ".3f"),
    ):
        change = last[figure] / first[figure] - 1
        verdicts.append(
            Verdict(
                name,
                f"{what} at {_size(last['milestone'])} at most "
                f"{MAX_SLOWDOWN:.0%} below {_size(first['milestone'])}",
                f"{last[figure]:{form}} vs {first[figure]:{form}} ({change:+.1%})",
                change >= -MAX_SLOWDOWN,
            )
        )
    proofs = result["proofs"]
    for kind in ("inclusion", "consistency"):
        median = proofs[kind]["own_transaction"]["median_ms"]
        verdicts.append(
            Verdict(
                name,
                f"{kind} proof at {_size(proofs['size'])}, own read "
                f"transaction: median ≤ {MAX_PROOF_MEDIAN_MS:g} ms",
                f"{median:.3f} ms",
                median <= MAX_PROOF_MEDIAN_MS,
            )
        )
    rss_mb = result["memory"]["max_rss_bytes_after_growth"] / 1e6
    verdicts.append(
        Verdict(
            name,
            f"peak RSS appending {result['final_size']:,} entries ≤ {MAX_RSS_MB} MB",
            f"{rss_mb:.1f} MB",
            rss_mb <= MAX_RSS_MB,
        )
    )
    return verdicts


def _backend_section(name: str, result: dict[str, Any]) -> list[str]:
    if "skipped" in result:
        return [f"## {name}", "", f"Skipped: {result['skipped']}", ""]

    lines = [
        f"## {name}",
        "",
        f"Database: {result['database']}. Grew to {result['final_size']:,} entries "
        f"in {result['wall_seconds']:.0f} s "
        f"({result['appends_per_s_overall']:,.0f} appends/s over all batches).",
        "",
        "| entries in log | window | appends/s | appends/s (median batch) "
        "| baseline rows/s | ratio to baseline |",
        "|---|---|---|---|---|---|",
    ]
    for m in result["milestones"]:
        start, end = m["window"]
        lines.append(
            f"| {_size(m['milestone'])} | {start:,} to {end:,} "
            f"| {m['appends_per_s']:,.0f} | {m['appends_per_s_median_batch']:,.0f} "
            f"| {m['baseline_rows_per_s']:,.0f} | {m['ratio_to_baseline']:.3f} |"
        )
    curve = [point["appends_per_s"] for point in result["curve"]]
    if curve:
        lines += [
            "",
            f"Growth curve ({len(curve)} points of {result['curve_batches']} "
            "batches each): "
            f"slowest {min(curve):,.0f}/s, fastest {max(curve):,.0f}/s.",
        ]

    proofs = result["proofs"]
    lines += [
        "",
        f"Proofs at {proofs['size']:,} entries, {proofs['samples']:,} random "
        "calls each (ms):",
        "",
        "| proof | transaction | median | p90 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("inclusion", "consistency"):
        for how in ("own_transaction", "shared_transaction"):
            t = proofs[kind][how]
            lines.append(
                f"| {kind} | {how.replace('_', ' ')} | {t['median_ms']:.3f} "
                f"| {t['p90_ms']:.3f} | {t['p99_ms']:.3f} | {t['max_ms']:.3f} |"
            )
    head = proofs["head_only"]
    lines += [
        f"| (head read only) | own transaction | {head['median_ms']:.3f} "
        f"| {head['p90_ms']:.3f} | {head['p99_ms']:.3f} | {head['max_ms']:.3f} |"
    ]
    memory = result["memory"]
    lines += [
        "",
        "Peak resident memory of the growth process: "
        f"{memory['max_rss_bytes_before_growth'] / 1e6:.1f} MB before the first "
        f"append, {memory['max_rss_bytes_after_growth'] / 1e6:.1f} MB after the last.",
        "",
    ]
    return lines


def _size(n: int) -> str:
    exponent = len(str(n)) - 1
    return f"10^{exponent}" if n == 10**exponent else f"{n:,}"


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
