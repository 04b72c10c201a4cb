"""The targets of the verification benchmark, checked against a run, and its report.

A run's figures go to bench/results/<UTC time>-verify-<mode>.json; the summary to
bench/results/verify-latest.md (and to standard output).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Verdict", "check_targets", "render_markdown", "write_results"]

# The benchmark issue: vc+jwt verifications per second through the HTTP API.
MIN_JWT_PER_S = 1_000
# The benchmark issue: eddsa-rdfc-2022 verifications at least this many times
# Digital Bazaar's verifyCredential rate on the same credentials.
MIN_RDFC_RATIO = 5.0

_JWT = "vc+jwt"
_RDFC = "eddsa-rdfc-2022"
_LOADS = ("baseline_before", _JWT, _RDFC, "baseline_after")


@dataclass(frozen=True)
class Verdict:
    """One target: what it asks, what was measured, and whether that meets it."""

    target: str
    measured: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def baseline_rate(loads: dict[str, Any]) -> float:
    """GET /healthz per second, the mean of the runs before and after."""
    before = loads["baseline_before"]["requests_per_s"]
    after = loads["baseline_after"]["requests_per_s"]
    return float(before + after) / 2


def check_targets(run: dict[str, Any]) -> list[Verdict]:
    """Every target, on every backend the run measured."""
    node_rate = run["node"]["results"]["di"]["rate"]
    verdicts = []
    for backend, figures in run["backends"].items():
        loads = figures["loads"]
        jwt_rate = loads[_JWT]["requests_per_s"]
        rdfc_rate = loads[_RDFC]["requests_per_s"]
        verdicts += [
            Verdict(
                f"{backend}: vc+jwt ≥ {MIN_JWT_PER_S:,} verifications/s",
                f"{jwt_rate:,.0f}/s",
                jwt_rate >= MIN_JWT_PER_S,
            ),
            Verdict(
                f"{backend}: eddsa-rdfc-2022 ≥ {MIN_RDFC_RATIO:g} × Digital Bazaar's "
                "verifyCredential (same credentials, same run)",
                f"{rdfc_rate:,.0f}/s vs {node_rate:,.1f}/s "
                f"({rdfc_rate / node_rate:.1f} ×)",
                rdfc_rate >= MIN_RDFC_RATIO * node_rate,
            ),
            Verdict(
                f"{backend}: every answer 2xx, every verification answer verified true",
                f"{sum(loads[name]['failed'] for name in _LOADS)} failed of "
                f"{sum(loads[name]['requests'] for name in _LOADS):,}; "
                f"{figures['checked']['verified']:,} checked one by one",
                all(loads[name]["failed"] == 0 for name in _LOADS),
            ),
        ]
    return verdicts


def render_markdown(run: dict[str, Any], verdicts: list[Verdict]) -> str:
    """The human-readable summary of a run."""
    machine = run["machine"]
    settings = run["settings"]
    node = run["node"]
    lines = [
        f"# credbank verification benchmark: {run['mode']} run, {run['started_at']}",
        "",
        f"Machine: {machine['cpu_count']} x {machine['cpu_model']}, "
        f"{machine['memory_total_mb']:,} MB; {machine['platform']}.",
        f"Python {machine['python']}, SQLite {machine['sqlite']}, "
        f"SQLAlchemy {machine['sqlalchemy']}, {settings['wrk_version']}, "
        f"Node {node['node']}; commit {machine['commit']}"
        + (" with local changes" if machine["tracked_changes"] else "")
        + ".",
        f"Load average at start {run['load_average']['start']}, "
        f"at end {run['load_average']['end']}.",
        "",
        f"{settings['credentials']:,} credentials of the demo issuer issued by "
        "`credbank issue-batch`, each in vc+jwt and in eddsa-rdfc-2022; "
        f"`credbank serve` with {settings['workers']} gunicorn workers; wrk with "
        f"{settings['wrk']['threads']} threads and {settings['wrk']['connections']} "
        f"connections, {settings['seconds']:g} s per load after "
        f"{settings['warm_up_seconds']:g} s of warm-up, posting the credentials in "
        "turn (vc+jwt as an EnvelopedVerifiableCredential).",
        f"Baseline: {settings['baseline']}",
        "",
        "| backend | load | requests/s | ratio to baseline | p50 ms | p99 ms "
        "| failed | load average before |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend, figures in run["backends"].items():
        loads = figures["loads"]
        baseline = baseline_rate(loads)
        for name in _LOADS:
            load = loads[name]
            latency = load["latency_us"]
            label = "GET /healthz" if name.startswith("baseline") else name
            when = " (before)" if name.endswith("before") else ""
            when = " (after)" if name.endswith("after") else when
            lines.append(
                f"| {backend} | {label}{when} | {load['requests_per_s']:,.0f} "
                f"| {load['requests_per_s'] / baseline:.3f} "
                f"| {latency['p50'] / 1000:.2f} | {latency['p99'] / 1000:.2f} "
                f"| {load['failed']} | {load['load_average_before'][0]} |"
            )
    results = node["results"]
    lines += [
        "",
        "## Digital Bazaar, same credentials",
        "",
        "One Node process, one verification at a time, each mode for "
        f"{settings['seconds']:g} s after a warm-up (bench/verify_baseline.mjs), "
        "run after the HTTP loads with the service stopped. Documents (contexts, "
        "the issuer's DID document, the status list credentials) are served from "
        "memory.",
        "",
        "| verifier | verifications/s |",
        "|---|---|",
        f"| `verifyCredential`, proof and data model, status not read (the target's "
        f"baseline) | {results['di']['rate']:,.1f} |",
        f"| `verifyCredential` with vc-bitstring-status-list `checkStatus` "
        f"(verifies both status list credentials too) "
        f"| {results['di-status']['rate']:,.1f} |",
        f"| jose `jwtVerify` of the vc+jwt forms, signature only (reference) "
        f"| {results['jwt']['rate']:,.0f} |",
        "",
        "credbank's figures above are the whole ten steps of DESIGN §6 over HTTP, "
        "status and log inclusion proof included.",
        "",
        "## Targets",
        "",
        "| target | measured | result |",
        "|---|---|---|",
    ]
    lines += [
        f"| {v.target} | {v.measured} | {'PASS' if v.passed else 'FAIL'} |"
        for v in verdicts
    ]
    lines.append("")
    return "\n".join(lines)


def write_results(run: dict[str, Any], markdown: str, directory: Path) -> Path:
    """Write the run's JSON and verify-latest.md; return the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = run["started_at"].replace("-", "").replace(":", "")
    path = directory / f"{stamp}-verify-{run['mode']}.json"
    _write_atomically(path, json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    _write_atomically(directory / "verify-latest.md", markdown)
    return path


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
