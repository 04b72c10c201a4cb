"""The targets of the issuance benchmark, checked against a run, and its report.

A run's figures go to bench/results/<UTC time>-issuance-<mode>.json; the summary to
bench/results/issuance-latest.md (and to standard output).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Verdict", "check_targets", "render_markdown", "write_results"]

# The benchmark issue: vc+jwt issuance at least half the raw PyJWT signing rate.
MIN_SIGNING_RATIO = 0.5
# The benchmark issue: issue-batch of 10,000 awards at least this fast, end to end.
MIN_BATCH_PER_S = 1_000
TARGET_ROWS = 10_000

_JWT = "vc+jwt"


@dataclass(frozen=True)
class Verdict:
    """One target: what it asks, what was measured, and whether that meets it."""

    target: str
    measured: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_targets(run: dict[str, Any]) -> list[Verdict]:
    """Every target, for whatever the run measured."""
    signing = run["signing"]
    verdicts = [
        Verdict(
            f"vc+jwt: sign_vc_jwt ≥ {MIN_SIGNING_RATIO:.0%} of PyJWT jwt.encode "
            "(same payload, same Ed25519 key)",
            f"{signing['sign_vc_jwt_per_s']:,.0f}/s vs "
            f"{signing['jwt_encode_per_s']:,.0f}/s ({signing['ratio']:.0%})",
            signing["ratio"] >= MIN_SIGNING_RATIO,
        )
    ]
    batch = run["batches"][_JWT]
    rows = batch["rows"]
    short = "" if rows >= TARGET_ROWS else f" (the target is for {TARGET_ROWS:,})"
    verdicts.append(
        Verdict(
            f"vc+jwt: credbank issue-batch of {rows:,} awards into fresh SQLite, "
            f"end to end ≥ {MIN_BATCH_PER_S:,} credentials/s{short}",
            f"{batch['credentials_per_s']:,.0f}/s ({batch['wall_seconds']:.2f} s)",
            _issued_all(batch) and batch["credentials_per_s"] >= MIN_BATCH_PER_S,
        )
    )
    for form, done in run["batches"].items():
        verdicts.append(
            Verdict(
                f"{form}: every row issued, `credbank log audit` clean, "
                "sample verifies",
                f"{done['summary'] or 'no summary'}; "
                f"audit exit {done['audit']['exit_status']}; "
                f"{done['sample']['verified']} of {done['sample']['credentials']:,} "
                "verified",
                _issued_all(done) and _audit_clean(done),
            )
        )
    return verdicts


def render_markdown(run: dict[str, Any], verdicts: list[Verdict]) -> str:
    """The human-readable summary of a run."""
    machine = run["machine"]
    settings = run["settings"]
    signing = run["signing"]
    lines = [
        f"# credbank issuance benchmark: {run['mode']} run, {run['started_at']}",
        "",
        f"Machine: {machine['cpu_count']} x {machine['cpu_model']}, "
        f"{machine['memory_total_mb']:,} MB; {machine['platform']}.",
        f"Python {machine['python']}, SQLite {machine['sqlite']}, "
        f"SQLAlchemy {machine['sqlalchemy']}; commit {machine['commit']}"
        + (" with local changes" if machine["tracked_changes"] else "")
        + ".",
        f"Load average at start {run['load_average']['start']}, "
        f"at end {run['load_average']['end']}.",
        "",
        "## vc+jwt signing",
        "",
        f"One credential from the batch below ({signing['payload_bytes']:,} bytes of "
        f"JSON, a {signing['token_bytes']:,}-byte token), {signing['rounds']} rounds "
        f"of {signing['calls_per_round']:,} calls of each, alternating.",
        "",
        "| signer | tokens/s |",
        "|---|---|",
        f"| PyJWT `jwt.encode` (baseline) | {signing['jwt_encode_per_s']:,.0f} |",
        f"| `credentials.sign_vc_jwt` | {signing['sign_vc_jwt_per_s']:,.0f} |",
        "",
        f"Ratio {signing['ratio']:.3f} (per round: "
        f"{min(signing['round_ratios']):.3f} to {max(signing['round_ratios']):.3f}).",
        "",
        "## credbank issue-batch",
        "",
        "A CSV of awards (half the learners by DID, half by e-mail and name; score, "
        "award date and evidence on every row) into a fresh SQLite database, "
        "migrated and seeded with the demo issuer; wall time of the command.",
        f"Baseline: {settings['baseline']}",
        "",
        "| format | rows | wall s | credentials/s | baseline rows/s "
        "| ratio to baseline | CPU s | credentials per CPU s | audit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for form, done in run["batches"].items():
        audit = "clean" if _audit_clean(done) else "NOT CLEAN"
        lines.append(
            f"| {form} | {done['rows']:,} | {done['wall_seconds']:.2f} "
            f"| {done['credentials_per_s']:,.0f} | {done['baseline_rows_per_s']:,.0f} "
            f"| {done['ratio_to_baseline']:.3f} | {done['cpu_seconds']:.2f} "
            f"| {done['credentials_per_cpu_s']:,.0f} | {audit} |"
        )
    lines += [
        "",
        "The targets are on wall time. CPU s is the user and system time the command "
        "used: on a machine shared with other work, wall time is longer by however "
        "long the command waited for a CPU (see the load average).",
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
    """Write the run's JSON and issuance-latest.md; return the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = run["started_at"].replace("-", "").replace(":", "")
    path = directory / f"{stamp}-issuance-{run['mode']}.json"
    _write_atomically(path, json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    _write_atomically(directory / "issuance-latest.md", markdown)
    return path


def _issued_all(done: dict[str, Any]) -> bool:
    return bool(
        done["exit_status"] == 0
        and done["summary"] == done["summary_expected"]
        and done["sample"]["credentials"] == done["rows"]
    )


def _audit_clean(done: dict[str, Any]) -> bool:
    audit = done["audit"]
    return bool(
        audit["exit_status"] == 0
        and audit["output"].startswith("audit clean:")
        and "tables match the log" in audit["output"]
    )


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
