"""The issuance benchmark: `vc+jwt` signing, and `credbank issue-batch` end to end.

    python -m bench.issuance [--quick] [--rows N] [--rdfc-rows N] [--results-dir DIR]

(a) `sign_vc_jwt` on a credential the batch below issued, against PyJWT's
`jwt.encode` of the same payload with the same Ed25519 key, in alternating rounds.
(b) `credbank issue-batch` of a CSV of awards into a fresh SQLite database (migrated,
demo seeded), timed as a subprocess from start to exit, once in `vc+jwt` and once in
`eddsa-rdfc-2022`. Its baseline is a child process of the same interpreter that
imports the command line, reads the same CSV and validates every row with the award
schema, and stops there (bench/README.md says why). After each batch `credbank log
audit` must be clean and a sample of the credentials must verify. The exit status is
0 when every target passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from api.config import Config
from api.demo import seed_demo
from api.services import open_services
from bench.issuance_report import (
    check_targets,
    render_markdown,
    write_results,
)
from bench.machine import describe_machine, load_average
from bench.workload import BASE_URL, BENCH_MASTER_KEY, LOG_ORIGIN
from credentials import credential_digest, sign_vc_jwt, verify_proof, verify_vc_jwt
from issuers.did import jwk_method_id, multikey_method_id
from issuers.issuance import JWT, RDFC, IssuedCredential
from keys.signers import LocalSigner
from migrations.runner import upgrade

__all__ = ["main"]

# The target is set at 10,000 rows, and a smaller batch would be timed mostly
# starting Python (about 0.8 s), so a quick run issues as many.
ROWS = 10_000
# eddsa-rdfc-2022 canonicalises every credential as RDF: a smaller batch is enough
# to give its rate, and keeps the run short.
FULL_RDFC_ROWS = 1_000
QUICK_RDFC_ROWS = 200

FULL_SIGNING_ROUNDS = 20
QUICK_SIGNING_ROUNDS = 6
# Each round times this long of each signer (calibrated on PyJWT's rate).
SIGNING_ROUND_SECONDS = 0.25

# Credentials checked after each batch: signature, digest, and the status entries.
VERIFY_SAMPLE = 25

BASELINE = (
    "a child process of the same interpreter that imports the command line "
    "(api.cli), reads the same CSV with issuers.batch.rows_from_csv and loads "
    "every row with the award schema (AwardSchema, to_award), as issue-batch does "
    "before it issues; timed, like the command, from start to exit. It is the part "
    "of the command that does not issue, so the ratio says what issuing costs on "
    "top, and it cancels the machine's speed and load of the moment."
)

_ROOT = Path(__file__).resolve().parent.parent
_RESULTS = _ROOT / "bench" / "results"

_BASELINE_CHILD = """
import sys
import api.cli
from issuers.awards import AwardSchema, to_award
from issuers.batch import rows_from_csv
with open(sys.argv[1], encoding="utf-8") as handle:
    rows = rows_from_csv(handle.read())
schema = AwardSchema()
awards = [to_award(schema.load(row), row) for row in rows]
print(len(awards))
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    rows = args.rows or ROWS
    rdfc_rows = args.rdfc_rows or (QUICK_RDFC_ROWS if args.quick else FULL_RDFC_ROWS)
    rounds = QUICK_SIGNING_ROUNDS if args.quick else FULL_SIGNING_ROUNDS
    run: dict[str, Any] = {
        "started_at": _utc_now(),
        "mode": "quick" if args.quick else "full",
        "load_average": {"start": load_average()},
        "machine": describe_machine(),
        "settings": {
            "rows": {JWT: rows, RDFC: rdfc_rows},
            "signing_rounds": rounds,
            "signing_round_seconds": SIGNING_ROUND_SECONDS,
            "verify_sample": VERIFY_SAMPLE,
            "baseline": BASELINE,
        },
        "batches": {},
    }

    print(f"{JWT}: issue-batch of {rows:,} awards", flush=True)
    batch, credential = _batch(JWT, rows)
    run["batches"][JWT] = batch
    print(f"{JWT}: sign_vc_jwt against jwt.encode, {rounds} rounds", flush=True)
    run["signing"] = _signing(credential, rounds)
    print(f"{RDFC}: issue-batch of {rdfc_rows:,} awards", flush=True)
    run["batches"][RDFC], _ = _batch(RDFC, rdfc_rows)

    run["finished_at"] = _utc_now()
    run["load_average"]["end"] = load_average()
    verdicts = check_targets(run)
    run["targets"] = [v.as_dict() for v in verdicts]
    run["passed"] = all(v.passed for v in verdicts)
    markdown = render_markdown(run, verdicts)
    path = write_results(run, markdown, args.results_dir)

    print()
    print(markdown)
    print(f"Wrote {path} and {args.results_dir / 'issuance-latest.md'}")
    return 0 if run["passed"] else 1


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.issuance",
        description="Benchmark vc+jwt signing and credbank issue-batch.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_RDFC_ROWS:,} rdfc rows instead of {FULL_RDFC_ROWS:,}, and "
        f"{QUICK_SIGNING_ROUNDS} signing rounds instead of {FULL_SIGNING_ROUNDS}",
    )
    parser.add_argument("--rows", type=int, help="rows of the vc+jwt batch")
    parser.add_argument("--rdfc-rows", type=int, help="rows of the rdfc batch")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=_RESULTS,
        help="where to write the results (default: bench/results)",
    )
    return parser.parse_args(argv)


# (b) issue-batch


@dataclass(frozen=True)
class _Service:
    """A migrated, demo-seeded service in a temporary directory."""

    environ: dict[str, str]
    achievement_urls: list[str]
    slug: str
    demo_credentials: list[str]


@contextmanager
def _fresh_service() -> Iterator[_Service]:
    with tempfile.TemporaryDirectory(prefix="credbank-bench-") as directory:
        environ = {
            **os.environ,
            "CREDBANK_DATA_DIR": directory,
            "CREDBANK_MASTER_KEY": BENCH_MASTER_KEY,
            "CREDBANK_BASE_URL": BASE_URL,
            "CREDBANK_LOG_ORIGIN": LOG_ORIGIN,
        }
        environ.pop("CREDBANK_DATABASE_URL", None)
        config = Config.from_env(environ)
        upgrade(config.database_url)
        services = open_services(config)
        try:
            seeded = seed_demo(services, now=datetime.now(UTC))
        finally:
            services.close()
        assert seeded is not None, "a fresh database was not empty"
        urls = [f"{BASE_URL}/achievements/{a}" for a in seeded.achievement_ids]
        yield _Service(environ, urls, seeded.issuer_slug, seeded.credential_ids)


def _batch(form: str, rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Issue `rows` awards in `form` into a fresh database; the figures, and one
    credential it issued."""
    with _fresh_service() as service:
        csv_path = Path(service.environ["CREDBANK_DATA_DIR"]) / "awards.csv"
        _write_awards(csv_path, service.achievement_urls, rows, form)
        # Baseline before and after, so that a change of load shows as a spread.
        before = _timed([sys.executable, "-c", _BASELINE_CHILD, str(csv_path)], service)
        issued = _timed(
            [*_credbank(), "issue-batch", str(csv_path), "--issuer", service.slug],
            service,
        )
        after = _timed([sys.executable, "-c", _BASELINE_CHILD, str(csv_path)], service)
        audit = _timed([*_credbank(), "log", "audit"], service)
        sample, credential = _verify_sample(service, form, rows)

    expected = f"{rows} issued, 0 already issued, 0 refused of {rows} rows"
    for done in (before, after):
        if done.stdout.strip() != str(rows):
            raise RuntimeError(f"the baseline read {done.stdout.strip()!r} rows")
    baseline_seconds = statistics.fmean([before.seconds, after.seconds])
    rate = rows / issued.seconds
    baseline_rate = rows / baseline_seconds
    return {
        "format": form,
        "rows": rows,
        "exit_status": issued.status,
        "summary": issued.stdout.strip(),
        "summary_expected": expected,
        "wall_seconds": issued.seconds,
        "cpu_seconds": issued.cpu_seconds,
        "credentials_per_s": rate,
        "credentials_per_cpu_s": rows / issued.cpu_seconds,
        "baseline_seconds": [before.seconds, after.seconds],
        "baseline_cpu_seconds": [before.cpu_seconds, after.cpu_seconds],
        "baseline_rows_per_s": baseline_rate,
        "ratio_to_baseline": rate / baseline_rate,
        "audit": {
            "exit_status": audit.status,
            "output": audit.stdout.strip(),
            "seconds": audit.seconds,
        },
        "sample": sample,
    }, credential


def _write_awards(path: Path, urls: list[str], rows: int, form: str) -> None:
    """A class list as a registrar would send it, the same on every run: half the
    learners known by a DID, half by e-mail address and name; scores, award dates
    and evidence links on every row."""
    chooser = random.Random(2022)
    first = date(2026, 6, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "achievement",
                "learner_did",
                "learner_email",
                "learner_name",
                "score",
                "awarded_date",
                "evidence_url",
                "formats",
            ]
        )
        for row in range(rows):
            did = email = name = ""
            if row % 2:
                did = "did:key:z6Mk" + "".join(
                    chooser.choices(
                        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijk", k=44
                    )
                )
            else:
                email = f"learner{row:05d}@students.demo-college.example.cn"
                name = f"学员{row:05d} Learner {row}"
            writer.writerow(
                [
                    urls[row % len(urls)],
                    did,
                    email,
                    name,
                    chooser.randint(60, 100),
                    (first + timedelta(days=row % 30)).isoformat(),
                    f"https://demo-college.example.cn/portfolio/{row:05d}",
                    form,
                ]
            )


@dataclass(frozen=True)
class _Done:
    seconds: float
    cpu_seconds: float
    status: int
    stdout: str


def _timed(argv: list[str], service: _Service) -> _Done:
    """Run a command; its wall time, and the CPU time (user and system) it used."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        env=service.environ,
        cwd=_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    cpu_seconds = _children_cpu() - cpu_before
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return _Done(seconds, cpu_seconds, done.returncode, done.stdout)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _credbank() -> list[str]:
    """The installed `credbank` console script, or the same entry point."""
    script = Path(sys.executable).with_name("credbank")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from api.cli import main; main()"]


def _verify_sample(
    service: _Service, form: str, rows: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Count the credentials, and verify a random sample of them: signature by the
    issuer's key, digest as logged, one revocation and one suspension entry."""
    services = open_services(Config.from_env(service.environ))
    try:
        with services.database.transaction() as session:
            # The demo's own credentials are not the batch's.
            batch = IssuedCredential.id.not_in(service.demo_credentials)
            count = session.scalar(
                select(func.count()).select_from(IssuedCredential).where(batch)
            )
            did = services.registry.did(service.slug)
            keys: dict[str, tuple[str, bytes]] = {}
            for key in services.registry.keys(session, service.slug):
                for method in (jwk_method_id, multikey_method_id):
                    keys[method(did, key.id)] = (key.algorithm, key.public_key)
            records = list(session.scalars(select(IssuedCredential).where(batch)))
            sample = random.Random(rows).sample(records, min(VERIFY_SAMPLE, count or 0))
            checked = [_verify_one(record, form, keys) for record in sample]
    finally:
        services.close()
    return {"credentials": count, "verified": len(checked)}, checked[0]


def _verify_one(
    record: IssuedCredential, form: str, keys: Mapping[str, tuple[str, bytes]]
) -> dict[str, Any]:
    secured = record.secured[form]
    if form == JWT:
        credential = verify_vc_jwt(secured, keys.__getitem__)
    else:
        verify_proof(secured, keys.__getitem__)
        credential = {k: v for k, v in secured.items() if k != "proof"}
    if credential_digest(credential) != record.digest:
        raise RuntimeError(f"credential {record.id}: digest differs from the log's")
    purposes = sorted(s["statusPurpose"] for s in credential["credentialStatus"])
    if purposes != ["revocation", "suspension"]:
        raise RuntimeError(f"credential {record.id}: status entries {purposes}")
    return credential


# (a) signing


def _signing(credential: dict[str, Any], rounds: int) -> dict[str, Any]:
    """sign_vc_jwt against jwt.encode: same payload, same Ed25519 key, same header."""
    private_key = Ed25519PrivateKey.generate()
    signer = LocalSigner("bench-signing", private_key)
    kid = "did:web:credbank.bench:issuers:demo-college#bench-signing"
    headers = {"typ": "vc+jwt", "cty": "vc", "kid": kid}

    def ours() -> str:
        return sign_vc_jwt(credential, signer, kid=kid)

    def pyjwt() -> str:
        return jwt.encode(credential, private_key, algorithm="EdDSA", headers=headers)

    # Both tokens carry the same credential, and both verify with the key.
    public_key = private_key.public_key()
    for token in (ours(), pyjwt()):
        decoded = jwt.decode(token, public_key, algorithms=["EdDSA"])
        if decoded != credential:
            raise RuntimeError("a signed token does not carry the credential")

    calls = max(50, round(SIGNING_ROUND_SECONDS * _rate(pyjwt, 200)))
    ours_seconds: list[float] = []
    pyjwt_seconds: list[float] = []
    for _ in range(rounds):
        pyjwt_seconds.append(_time_calls(pyjwt, calls))
        ours_seconds.append(_time_calls(ours, calls))
    ours_rate = calls * rounds / sum(ours_seconds)
    pyjwt_rate = calls * rounds / sum(pyjwt_seconds)
    return {
        "payload_bytes": len(json.dumps(credential, separators=(",", ":"))),
        "token_bytes": len(ours()),
        "calls_per_round": calls,
        "rounds": rounds,
        "sign_vc_jwt_per_s": ours_rate,
        "jwt_encode_per_s": pyjwt_rate,
        "ratio": ours_rate / pyjwt_rate,
        "round_ratios": [
            p / o for o, p in zip(ours_seconds, pyjwt_seconds, strict=True)
        ],
    }


def _rate(call: Any, count: int) -> float:
    return count / _time_calls(call, count)


def _time_calls(call: Any, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return time.perf_counter() - started


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    raise SystemExit(main())
