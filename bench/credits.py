"""The credit conversion benchmark (issue 6): `python -m bench.credits`.

    python -m bench.credits [--seconds S] [--results-dir DIR]

One rule set of 40 rules (fixed and convert, all_of and any_of, caps, defaults,
half_up rounding to 0.5) against one learner's 200 normalised credentials, of which
some are refused at each step. A timed call is `evaluate(...)` and `to_json()`: the
decision and its output document. The target is 2,000 evaluations a second.

Baseline, in the same run and alternating with it: a pass over the same 200
credentials that decides nothing but builds the same output shape (each one
refused) and serialises it with the same `to_json`. The ratio says what deciding
costs on top of touching every credential and writing the answer.

Each round is timed twice: by the wall clock, which the target is read on, and by
the process's own CPU time, which other processes on a shared machine disturb far
less; the report gives both.

Exit status 0 when the target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench.machine import describe_machine, load_average
from credits import (
    Evaluation,
    NormalisedCredential,
    Refusal,
    RuleSet,
    evaluate,
    load_rule_set,
    read_credential,
)

__all__ = ["main"]

TARGET = 2_000  # evaluations per second (issue 6)
RULES = 40
CREDENTIALS = 200
ROUNDS = 10
ON = date(2026, 6, 15)

_RESULTS = Path(__file__).resolve().parent / "results"
_ISSUERS = ["did:web:voctech.example.org", "did:web:chamber.example.de"]
_UNITS = ["ECTS", "SCH", "QCH", "HOURS", "CN_XF"]


def build_rule_set() -> RuleSet:
    """40 rules over 120 achievements: 30 fixed (all_of, any_of), 10 convert."""
    rules: list[dict[str, Any]] = []
    for number in range(RULES):
        base = (number * 3) % 120
        items = [
            {"achievement": f"urn:ach:{base + offset}"}
            | ({"min_score": 65} if offset == 1 else {})
            for offset in range(3)
        ]
        rule: dict[str, Any] = {
            "id": f"R{number}",
            "target": {"course": f"COURSE-{number % 34}", "slot": "required"},
        }
        if number % 4 == 3:
            rule |= {"convert": True, "max": 6, "partial": True, "any_of": items}
            rule["target"]["slot"] = "elective"
        elif number % 2:
            rule |= {"credits": 3, "any_of": items, "min_count": 2}
        else:
            rule |= {"credits": 4, "all_of": items, "min_eqf": 5}
        rules.append(rule)
    return load_rule_set(
        {
            "format": "credit-rules/v1",
            "id": "bench-rules",
            "school": "did:web:school.example.edu",
            "program": {"code": "BENCH", "total_credits": 240},
            "target_unit": "ECTS",
            "effective": {"from": "2025-01-01", "until": "2028-12-31"},
            "accepted_issuers": _ISSUERS,
            "conversion": {"ECTS": "1", "SCH": "2", "QCH": "4/3", "HOURS": "1/25"},
            "rounding": {"mode": "half_up", "step": "0.5"},
            "caps": {"max_credits": 90, "max_share": "1/2"},
            "defaults": {"min_score": 50, "max_age_years": 5, "min_eqf": 4},
            "rules": rules,
        }
    )


def build_credentials() -> list[NormalisedCredential]:
    """200 credentials: most usable, a few of every kind the steps refuse."""
    credentials: list[NormalisedCredential] = []
    for number in range(CREDENTIALS):
        issued = date(2021 + number % 5, 1 + number % 12, 1 + number % 28)
        credentials.append(
            read_credential(
                {
                    "id": f"urn:uuid:cred-{number if number % 50 else number - 1}",
                    "achievement": f"urn:ach:{(number * 7) % 130}",
                    "issuer": _ISSUERS[number % 2] if number % 23 else "did:web:x",
                    "credits": ["3", "1.5", "20", "2.25", "4"][number % 5],
                    "unit": _UNITS[number % 5],
                    "eqf_level": None if number % 17 == 0 else 4 + number % 3,
                    "issued": issued.isoformat(),
                    "expires": "2026-01-01" if number % 29 == 0 else None,
                    "revoked": number % 31 == 0,
                    "score": None if number % 3 == 0 else str(40 + number % 60),
                }
            )
        )
    return credentials


def baseline_pass(credentials: list[NormalisedCredential]) -> str:
    """The output shape for the same credentials, every one refused undecided."""
    return Evaluation(
        (),
        Fraction(0),
        tuple(
            Refusal(index, credential.id, "not_needed")
            for index, credential in enumerate(credentials)
        ),
    ).to_json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.credits")
    parser.add_argument("--seconds", type=float, default=1.0, help="per round")
    parser.add_argument("--results-dir", type=Path, default=_RESULTS)
    options = parser.parse_args(argv)

    rule_set, credentials = build_rule_set(), build_credentials()
    sample = evaluate(rule_set, credentials, ON)
    started = datetime.now(UTC)
    load_before = load_average()

    def converter() -> str:
        return evaluate(rule_set, credentials, ON).to_json()

    def baseline() -> str:
        return baseline_pass(credentials)

    calls = max(1, int(options.seconds / _seconds_per_call(converter)))
    baseline_calls = max(1, int(options.seconds / _seconds_per_call(baseline)))
    rates, baseline_rates, cpu, baseline_cpu = [], [], [], []
    for _ in range(ROUNDS):
        rate, seconds = _rate(converter, calls)
        rates.append(rate)
        cpu.append(seconds)
        rate, seconds = _rate(baseline, baseline_calls)
        baseline_rates.append(rate)
        baseline_cpu.append(seconds)
    ratios = [rate / base for rate, base in zip(rates, baseline_rates, strict=True)]

    figures: dict[str, Any] = {
        "rate": statistics.median(rates),
        "baseline": statistics.median(baseline_rates),
        "cpu": statistics.median(cpu),
        "baseline_cpu": statistics.median(baseline_cpu),
        "ratio": statistics.median(ratios),
        "ratio_range": (min(ratios), max(ratios)),
        "calls": calls,
        "grants": len(sample.grants),
        "total": sample.total,
        "refused": len(sample.refused),
        "reasons": sorted({refusal.reason for refusal in sample.refused}),
    }
    report = _render(figures, started, load_before, load_average())
    options.results_dir.mkdir(parents=True, exist_ok=True)
    (options.results_dir / "credits-latest.md").write_text(report)
    print(report)
    return 0 if figures["rate"] >= TARGET else 1


def _seconds_per_call(call: Callable[[], str]) -> float:
    for _ in range(20):  # warm-up
        call()
    started = time.perf_counter()
    for _ in range(50):
        call()
    return (time.perf_counter() - started) / 50


def _rate(call: Callable[[], str], calls: int) -> tuple[float, float]:
    """Calls a wall-clock second, and CPU seconds a call."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(calls):
        call()
    cpu = time.process_time() - cpu_started
    return calls / (time.perf_counter() - started), cpu / calls


def _render(
    figures: dict[str, Any],
    started: datetime,
    load_before: list[float],
    load_after: list[float],
) -> str:
    machine = describe_machine()
    low, high = figures["ratio_range"]
    met = "met" if figures["rate"] >= TARGET else "NOT met"
    return "\n".join(
        [
            f"# credbank credit conversion benchmark, {started:%Y-%m-%dT%H:%M:%SZ}",
            "",
            f"Machine: {machine.get('cpu_count')} x {machine.get('cpu_model')}; "
            f"Python {machine.get('python')}; commit {machine.get('commit')}.",
            f"Load average at start {load_before}, at end {load_after}.",
            "",
            f"A rule set of {RULES} rules against {CREDENTIALS} normalised "
            f"credentials on {ON.isoformat()}: {figures['grants']} grants, total "
            f"{figures['total']} ECTS, {figures['refused']} refused "
            f"({', '.join(figures['reasons'])}). One call is `evaluate` and "
            f"`to_json`; {ROUNDS} rounds of {figures['calls']:,} calls, alternating "
            "with the baseline.",
            "Baseline: the same 200 credentials made into the output document "
            "without deciding anything (each refused), serialised by the same "
            "`to_json`.",
            "",
            "| measure, median of rounds | per wall-clock second | CPU ms a call "
            "| per CPU second |",
            "|---|---|---|---|",
            _row("`evaluate` + `to_json`", figures["rate"], figures["cpu"]),
            _row("baseline", figures["baseline"], figures["baseline_cpu"]),
            "",
            f"Ratio to baseline {figures['ratio']:.3f} "
            f"(per round {low:.3f} to {high:.3f}).",
            "",
            f"Target: at least {TARGET:,} evaluations a second: {met}.",
            "",
        ]
    )


def _row(name: str, rate: float, cpu: float) -> str:
    return f"| {name} | {rate:,.0f} | {cpu * 1000:.3f} | {1 / cpu:,.0f} |"


if __name__ == "__main__":
    raise SystemExit(main())
