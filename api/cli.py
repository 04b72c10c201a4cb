"""The `credbank` command line (DESIGN §9).

Every command answers bad input with one line on stderr and exit code 2; commands that
check something exit 0 when it holds and 1 when it does not.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from api.auth import ADMIN, ROLES, create_token
from api.cli_input import read_text
from api.cli_wallet import (
    print_wallet_result,
    verify_wallet_text,
    wallet_group,
    wallet_limit,
)
from api.config import Config
from credits import CreditsError, evaluate, load_credentials, load_rule_set
from issuers.batch import RowOutcome
from issuers.erasure import ERASURE_REASONS
from issuers.replay import replay_registry
from keys import CredbankError, Database, StoredKey
from keys.database import is_database_unavailable, is_storage_full
from ledger import (
    FormatError,
    LedgerError,
    NoteVerifier,
    TLogProof,
    canonical_entry,
    leaf_hash,
    verify_tlog_proof,
)
from ledger.audit import audit_log
from ledger.models import LogHead
from ledger.monitor import MonitorError, MonitorState, poll_log
from wallet.claim_links import batch_claim_urls

__all__ = ["main"]

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

# Upper bound on files the commands read (proofs, entries, keys): far above any real
# one, far below what would hurt.
_MAX_INPUT_BYTES = 1024 * 1024
# A batch of 10,000 rows at a few hundred bytes each.
_MAX_BATCH_BYTES = 32 * 1024 * 1024
# A learner's credentials for `credits evaluate`: a few thousand Open Badges
# credentials of about 4 KB each.
_MAX_CREDENTIALS_BYTES = 16 * 1024 * 1024
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `credbank` console script."""
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        code = cli.main(args=argv, prog_name="credbank", standalone_mode=False)
    except click.UsageError as exc:
        _fail(exc.format_message(), EXIT_USAGE)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        _fail("interrupted", 130)
    except CredbankError as exc:
        _fail(str(exc), EXIT_USAGE)
    except SQLAlchemyError as exc:
        _fail(_database_failure(exc), EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else 0)


def _database_failure(exc: SQLAlchemyError) -> str:
    # The class name only: a driver's message may quote values (personal data).
    if is_storage_full(exc):
        return (
            "the database's disk is full; the write that failed was rolled back: "
            "free space and run the command again"
        )
    if is_database_unavailable(exc):
        return f"cannot reach the database ({exc.__class__.__name__}); try again"
    return f"database error: {exc.__class__.__name__}"


def _fail(message: str, code: int) -> None:
    one_line = " ".join(message.split())
    click.echo(f"credbank: error: {one_line}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """credbank: credentials, credit bank and transparency log."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--dev", is_flag=True, help="Flask's development server, not gunicorn.")
def serve(host: str, port: int, dev: bool) -> None:
    """Serve the HTTP API (gunicorn; CREDBANK_WORKERS workers)."""
    from api.serve import serve as run
    from api.services import open_services

    config = Config.from_env()
    # Open once here so that a bad configuration fails before any worker starts.
    open_services(config).close()
    run(config, host=host, port=port, dev=dev)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Migrate the database to the newest schema."""
    from migrations.runner import upgrade as run_upgrade

    config = Config.from_env()
    run_upgrade(config.database_url)
    click.echo("database is at the newest revision")


@cli.command()
def demo() -> None:
    """Seed demo data into an empty database; do nothing otherwise."""
    from api.demo import seed_demo
    from api.services import open_services

    config = Config.from_env()
    services = open_services(config)
    try:
        seeded = seed_demo(services, now=datetime.now(UTC))
    finally:
        services.close()
    base = config.base_url
    if seeded is None:
        click.echo("database not empty; demo skipped")
    else:
        first = seeded.credential_ids[0]
        click.echo(
            "demo data seeded\n\n"
            "Demo tokens (shown this once; keep them):\n"
            f"  admin               {seeded.admin_token}\n"
            f"  learner 李明        {seeded.learner_token}\n"
            f"  partner school      {seeded.school_token}\n"
            f"\nA demo credential, as an employer sees it:\n"
            f"  {base}/v/{first}\n"
            f"  QR code             {base}/credentials/{first}/qr.svg\n"
            f"The learner's credit account (send the learner token as a bearer "
            f"token):\n  {base}/learners/{seeded.learner_id}/credits\n"
            f"The partner school's transfers (school token):\n"
            f"  {base}/schools/{seeded.school_id}/transfers.csv\n"
        )
    click.echo(
        f"\nOpen, once the server is up:\n"
        f"  trust list          {base}/issuers\n"
        f"  verify a credential {base}/verify\n"
        f"  partner school      {base}/schools/partner-university\n"
        f"  demo issuer         {base}/issuers/demo-college\n"
        f"  its DID document    {base}/issuers/demo-college/did.json\n"
        f"  latest checkpoint   {base}/log/checkpoint\n"
        f"  proof of entry 1    {base}/log/proof/1\n"
        f"  entries             {base}/log/entries?start=0&end=10\n"
        f"  log verifier key    {base}/log/key\n"
        f"  API description     {base}/openapi.json\n"
    )


@cli.group()
def token() -> None:
    """Bearer tokens."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--issuer", help="The issuer's slug (role issuer).")
@click.option("--school", help="The school's id (role school).")
@click.option("--learner", help="The learner's id (role learner).")
@click.option("--reviewer", help="The reviewer's id (role reviewer).")
def token_create(
    role: str,
    issuer: str | None,
    school: str | None,
    learner: str | None,
    reviewer: str | None,
) -> None:
    """Create a token and print it once; only its hash is stored."""
    from api.services import open_services

    bindings = {
        "issuer": issuer,
        "school": school,
        "learner": learner,
        "reviewer": reviewer,
    }
    given = {name: value for name, value in bindings.items() if value}
    if len(given) > 1:
        raise click.UsageError("give at most one of --issuer, --school, --learner")
    if given and role not in given:
        raise click.UsageError(
            f"a {role} token cannot be bound with --{next(iter(given))}"
        )
    if role != ADMIN and not given:
        raise click.UsageError(f"a {role} token needs --{role} ID")
    subject = given.get(role)

    services = open_services(Config.from_env())
    try:
        with services.database.transaction(write=True) as session:
            record, secret = create_token(
                session, role=role, subject=subject, now=datetime.now(UTC)
            )
    finally:
        services.close()
    click.echo(secret)
    click.echo(f"token {record.id} ({role}); shown once, store it now", err=True)


@cli.command("issue-batch")
@click.argument("batch_file", metavar="FILE")
@click.option("--issuer", "slug", required=True, help="The issuing issuer's slug.")
@click.option(
    "--output", "output", help="Write each row's credential or error (JSON) here."
)
@click.option(
    "--claim-links",
    "claim_links",
    help="Write each issued row's claim link (CSV: row, credential_id, claim_url; "
    "mode 0600) here, to send to the learners.",
)
def issue_batch_command(
    batch_file: str, slug: str, output: str | None, claim_links: str | None
) -> int:
    """Issue every award in a CSV or JSON file; rows are idempotent.

    Exit 0 when every row was issued (or had been), 1 when some row was refused.
    """
    from api.services import open_services
    from issuers.batch import MAX_ROWS, issue_batch, rows_from_csv

    # A spreadsheet saves its CSV with a byte order mark, as the HTTP route allows.
    text = _read_text(batch_file, limit=_MAX_BATCH_BYTES).removeprefix("\ufeff")
    is_json = batch_file.endswith(".json") or (
        not batch_file.endswith(".csv") and text.lstrip().startswith("[")
    )
    if is_json:
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.UsageError(f"{batch_file}: not JSON ({exc.msg})") from exc
        if not isinstance(rows, list):
            kind = "an object" if isinstance(rows, dict) else type(rows).__name__
            raise click.UsageError(
                f"{batch_file}: expected a JSON list of awards, got {kind}"
            )
    else:
        rows = rows_from_csv(text)
    # Refused before the progress bar starts, so the error stays one line.
    if len(rows) > MAX_ROWS:
        raise click.UsageError(
            f"rows: expected at most {MAX_ROWS} rows, got {len(rows)}"
        )
    for path in (output, claim_links):
        if path:
            _check_writable(path)

    now = datetime.now(UTC)
    links: dict[int, str] = {}
    services = open_services(Config.from_env())
    try:
        with services.database.transaction() as session:
            services.registry.issuer(session, slug)  # NotFoundError: exit 2
        with click.progressbar(
            length=len(rows), label="issuing", file=sys.stderr
        ) as bar:
            outcomes = issue_batch(
                services.database,
                services.issuance,
                slug,
                rows,
                now=now,
                progress=bar.update,
            )
        if claim_links:
            links = batch_claim_urls(
                services.database,
                outcomes,
                base_url=services.config.base_url,
                created_by="cli:issue-batch",
                now=now,
            )
    finally:
        services.close()
    failed = [o for o in outcomes if o.error is not None]
    issued = sum(1 for o in outcomes if o.result and o.result.created)
    existing = len(outcomes) - issued - len(failed)
    if output:
        _write_outcomes(output, outcomes)
    if claim_links:
        _write_claim_links(claim_links, outcomes, links)
    for outcome in failed[:20]:
        click.echo(f"row {outcome.row}: {outcome.error}", err=True)
    click.echo(
        f"{issued} issued, {existing} already issued, {len(failed)} refused "
        f"of {len(outcomes)} rows"
    )
    return EXIT_INVALID if failed else 0


@cli.group()
def learner() -> None:
    """Learners' personal data."""


@learner.command("erase")
@click.argument("learner_id", metavar="ID")
@click.option(
    "--reason",
    required=True,
    type=click.Choice(ERASURE_REASONS),
    help="The ground of the erasure (a code: it is logged).",
)
def learner_erase(learner_id: str, reason: str) -> None:
    """Erase a learner's personal data for good; their credentials still verify.

    Erasing a learner again changes nothing and prints the first erasure.
    """
    from api.erasure import erase_learner_everywhere
    from api.services import open_services

    services = open_services(Config.from_env())
    try:
        erasure = erase_learner_everywhere(
            services, learner_id, reason=reason, now=datetime.now(UTC)
        )
    finally:
        services.close()
    stamp = erasure.erased_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = "erased" if erasure.created else "was already erased"
    click.echo(
        f"learner {erasure.learner_id} {done} at {stamp} ({erasure.reason}), "
        f"log entry {erasure.log_index}"
    )


def _check_writable(path: str) -> None:
    # Before issuing: a typo in --output must not cost the mapping of a whole batch.
    try:
        with open(path, "a"):
            pass
    except OSError as exc:
        raise click.UsageError(f"cannot write {path}: {exc.strerror}") from exc


def _write_outcomes(path: str, outcomes: list[RowOutcome]) -> None:
    rows = [
        {
            "row": o.row,
            "id": o.result.credential.id,
            "digest": o.result.credential.digest,
        }
        if o.result
        else {"row": o.row, "error": str(o.error)}
        for o in outcomes
    ]
    try:
        Path(path).write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    except OSError as exc:
        raise click.UsageError(f"cannot write {path}: {exc.strerror}") from exc


def _write_claim_links(
    path: str, outcomes: list[RowOutcome], links: dict[int, str]
) -> None:
    # The links open the learners' pages: readable by this user only.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["row", "credential_id", "claim_url"])
    for outcome in outcomes:
        if outcome.result is not None and outcome.row in links:
            writer.writerow(
                [outcome.row, outcome.result.credential.id, links[outcome.row]]
            )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.chmod(path, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(buffer.getvalue())
    except OSError as exc:
        raise click.UsageError(f"cannot write {path}: {exc.strerror}") from exc


@cli.command("verify")
@click.argument("source", metavar="FILE|-|URL")
@click.option(
    "--offline",
    is_flag=True,
    help="Use only what the credential carries: no database, no network.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    help="Language of the messages (default: from LANG, else Chinese).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--log-key",
    "log_key",
    help="A wallet's log verifier key must be this one (a key, or a file).",
)
def verify_command(
    source: str, offline: bool, lang: str | None, as_json: bool, log_key: str | None
) -> int:
    """Verify a credential (JSON or JWT) or a wallet and print every check: exit
    0 when valid, 1 when invalid.

    A FILE, or - for standard input, is checked against this service's database
    (the CREDBANK_* settings); a URL (a verification page /v/<id>, or where a
    credential is served) is checked by the server that serves it. A wallet
    (credbank-wallet/v1) is always checked with only what it carries.
    """
    from api.services import open_services
    from api.verification import verify_here, verify_offline

    lang = lang or _cli_language()
    text = "" if _is_url(source) else _read_text(source, limit=wallet_limit())
    wallet = _wallet_in(text, source)
    if wallet is not None:
        return _verify_wallet(wallet, lang, as_json, log_key)
    if _is_url(source):
        credential, server = _fetch_credential(source)
        if offline:
            result = verify_offline(credential).to_json()
        else:
            result = _remote_verify(server, credential)
    else:
        credential = text
        if offline:
            result = verify_offline(credential).to_json()
        else:
            services = open_services(Config.from_env())
            try:
                result = verify_here(services, credential).to_json()
            finally:
                services.close()
    first = result["checks"][0] if result["checks"] else {}
    if first.get("code") == "format.malformed":
        # Not a credential at all: bad input, not an invalid credential.
        raise click.UsageError(f"{source}: {first.get('detail') or 'not a credential'}")
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_result(result, lang)
    return 0 if result["verified"] else EXIT_INVALID


_VERDICT_WORDS = {
    "valid": {"zh": "有效", "en": "VALID"},
    "invalid": {"zh": "无效", "en": "NOT VALID"},
    "valid-with-warnings": {"zh": "有效，但请注意", "en": "VALID, WITH WARNINGS"},
}
_OUTCOME_MARKS = {
    "passed": "ok",
    "failed": "FAIL",
    "cannot-check": "??",
    "not-applicable": "--",
}


def _wallet_in(text: str, source: str) -> Any | None:
    """The parsed wallet in `text`, or None when it holds something else (which
    may then be no larger than a credential)."""
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            value = None
        # Any version: one this code does not read is refused as bad input.
        kind = value.get("format") if isinstance(value, dict) else None
        if isinstance(kind, str) and kind.startswith("credbank-wallet/"):
            return value
    if len(text.encode()) > _MAX_INPUT_BYTES:
        raise click.UsageError(f"{source} is larger than {_MAX_INPUT_BYTES} bytes")
    return None


def _verify_wallet(wallet: Any, lang: str, as_json: bool, log_key: str | None) -> int:
    result = verify_wallet_text(wallet, _vkey_text(log_key) if log_key else None)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print_wallet_result(result, lang)
    return 0 if result.verified else EXIT_INVALID


def _print_result(result: dict[str, Any], lang: str) -> None:
    click.echo(_VERDICT_WORDS[result["verdict"]][lang])
    for check in result["checks"]:
        mark = _OUTCOME_MARKS.get(check["outcome"], check["outcome"])
        click.echo(
            f"{check['step']:>2} {mark:<4} {check['code']:<34} {check['message'][lang]}"
        )
        if check["outcome"] in {"failed", "cannot-check"} and check["detail"]:
            click.echo(f"{'':8}{_one_line(check['detail'])}")


def _one_line(text: str) -> str:
    # Details quote the credential: keep a crafted value from forging extra lines
    # or moving the terminal's cursor.
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:300]


def _cli_language() -> str:
    wanted = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "en" if wanted.startswith("en") else "zh"


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _fetch_credential(url: str) -> tuple[str, str]:
    """The credential at `url` and the base URL of the server serving it.

    A verification page URL, <base>/v/<id>, is read as <base>/credentials/<id>.
    """
    parts = urlsplit(url)
    if not parts.netloc:
        raise click.UsageError(f"expected an http(s) URL, got {url!r}")
    path = parts.path
    if "/v/" in path:
        prefix, credential_id = path.split("/v/", 1)
        path = f"{prefix}/credentials/{credential_id}"
    else:
        prefix = path.split("/credentials/", 1)[0] if "/credentials/" in path else ""
    server = f"{parts.scheme}://{parts.netloc}{prefix}"
    fetch = _http_fetcher(f"{parts.scheme}://{parts.netloc}")
    try:
        data = fetch(path + (f"?{parts.query}" if parts.query else ""))
    except MonitorError as exc:
        raise click.UsageError(f"cannot fetch the credential: {exc}") from exc
    if len(data) > _MAX_INPUT_BYTES:
        raise click.UsageError(f"{url} answered more than {_MAX_INPUT_BYTES} bytes")
    try:
        return data.decode(), server
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{url} did not answer UTF-8 text") from exc


def _remote_verify(server: str, credential: str) -> dict[str, Any]:
    text = credential.strip()
    given: Any = text
    if not text.startswith("ey"):
        try:
            given = json.loads(text)
        except ValueError as exc:
            raise click.UsageError("the server answered no credential") from exc
    body = json.dumps({"verifiableCredential": given}).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked
        f"{server}/credentials/verify",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer = json.loads(response.read(_MAX_INPUT_BYTES))
    except urllib.error.HTTPError as exc:
        raise click.UsageError(f"the server refused to verify: {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise click.UsageError(f"cannot reach {server}: {exc}") from exc
    if not isinstance(answer, dict) or not {"verified", "verdict", "checks"} <= set(
        answer
    ):
        raise click.UsageError("the server did not answer a verification result")
    return answer


@cli.group()
def log() -> None:
    """The transparency log."""


@log.command()
def audit() -> int:
    """Re-hash every entry, rebuild the tree, check every checkpoint, then replay
    the entries and compare the registry's tables with them."""
    from api.services import LOG_KEY_OWNER, check_schema

    database = Database(Config.from_env().database_url)
    try:
        check_schema(database)
        with database.transaction() as session:
            head_origin = session.scalar(select(LogHead.origin))
            if head_origin is None:
                raise CredbankError("the log has not been created yet")
            verifiers = [
                NoteVerifier.from_public_key(head_origin, key.public_key)
                for key in session.scalars(
                    select(StoredKey).where(StoredKey.owner == LOG_KEY_OWNER)
                )
            ]
            report = audit_log(session, verifiers)
            # The tables are checked against the log only once the log holds.
            projection = None if report.discrepancy else replay_registry(session)
    finally:
        database.dispose()
    discrepancy = report.discrepancy or projection
    if discrepancy is not None:
        click.echo(f"audit failed: {discrepancy}")
        return EXIT_INVALID
    root = base64.b64encode(report.root_hash).decode()
    click.echo(
        f"audit clean: log {head_origin}, {report.entries} entries, "
        f"{report.checkpoints} checkpoints, root {root}; tables match the log"
    )
    return 0


@log.command("verify-proof")
@click.argument("proof_file", metavar="FILE")
@click.option("--vkey", required=True, help="Verifier key, or a file holding it.")
@click.option("--leaf-hash", "leaf_hex", help="The entry's leaf hash, in hex.")
@click.option("--entry", "entry_file", help="A file with the entry's JSON.")
def verify_proof(
    proof_file: str, vkey: str, leaf_hex: str | None, entry_file: str | None
) -> int:
    """Check a tlog-proof offline: exit 0 if valid, 1 if not."""
    if (leaf_hex is None) == (entry_file is None):
        raise click.UsageError("give exactly one of --leaf-hash and --entry")
    verifier = NoteVerifier.parse(_vkey_text(vkey))
    proof = TLogProof.from_text(_read_text(proof_file))
    leaf = _leaf_from_hex(leaf_hex) if leaf_hex else _leaf_from_entry(entry_file)
    try:
        checkpoint = verify_tlog_proof(proof, leaf, verifier)
    except LedgerError as exc:
        click.echo(f"invalid: {exc}")
        return EXIT_INVALID
    click.echo(
        f"valid: entry {proof.index} is in {checkpoint.origin} "
        f"at tree size {checkpoint.size}"
    )
    return 0


@log.command()
@click.argument("url")
@click.option(
    "--state",
    "state_file",
    default="credbank-monitor.json",
    show_default=True,
    help="Where the last verified checkpoint is kept.",
)
@click.option("--vkey", help="Pin this verifier key (default: trust the first seen).")
@click.option(
    "--interval", type=click.FloatRange(min=1), help="Keep polling every N seconds."
)
@click.option("--polls", type=click.IntRange(min=1), help="Stop after N polls.")
def monitor(
    url: str,
    state_file: str,
    vkey: str | None,
    interval: float | None,
    polls: int | None,
) -> int:
    """Follow a remote credbank log; exit non-zero as soon as it misbehaves."""
    fetch = _http_fetcher(url)
    path = Path(state_file)
    pinned = _vkey_text(vkey) if vkey else None
    if pinned is not None:
        NoteVerifier.parse(pinned)
    count = 0
    while True:
        try:
            state = MonitorState.load(path)
        except OSError as exc:
            raise click.UsageError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            result = poll_log(fetch, state, pinned)
        except _Unreachable as exc:
            click.echo(f"cannot read the log: {exc}", err=True)
            return EXIT_UNREACHABLE
        except MonitorError as exc:
            click.echo(f"log misbehaved: {exc}")
            return EXIT_INVALID
        try:
            result.state.save(path)
        except OSError as exc:
            raise click.UsageError(f"cannot write {path}: {exc.strerror}") from exc
        click.echo(
            f"ok: {result.checkpoint.origin} at tree size {result.checkpoint.size} "
            f"(was {result.old_size}), signed and consistent"
        )
        count += 1
        if interval is None or (polls is not None and count >= polls):
            return 0
        time.sleep(interval)


class _Unreachable(MonitorError):
    pass


cli.add_command(wallet_group)


@cli.group("credits")
def credits_group() -> None:
    """Partner-school credit conversion (credit-rules.md)."""


@credits_group.command("evaluate")
@click.option("--rules", "rules_file", required=True, help="Rule set, YAML or JSON.")
@click.option(
    "--credentials",
    "credentials_file",
    required=True,
    help="JSON list of normalised or Open Badges 3.0 credentials.",
)
@click.option("--on", "on_text", required=True, help="Evaluation date, YYYY-MM-DD.")
def credits_evaluate(rules_file: str, credentials_file: str, on_text: str) -> int:
    """Print which courses the credentials earn under the rules on that day.

    Open Badges credentials are taken as not revoked: check their status first.
    """
    on = _iso_date(on_text, "--on")
    try:
        rule_set = load_rule_set(_read_text(rules_file))
    except CreditsError as exc:
        raise click.UsageError(f"{rules_file}: {exc}") from exc
    try:
        found = load_credentials(
            _read_text(credentials_file, limit=_MAX_CREDENTIALS_BYTES)
        )
    except CreditsError as exc:
        raise click.UsageError(f"{credentials_file}: {exc}") from exc
    click.echo(evaluate(rule_set, found, on).to_json())
    return 0


def _http_fetcher(url: str) -> Callable[[str], bytes]:
    base = url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise click.UsageError(f"expected an http(s) URL, got {url!r}")

    def fetch(path: str) -> bytes:
        # The scheme is checked above: only http and https reach urlopen.
        request = urllib.request.Request(base + path)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return bytes(response.read(64 * 1024 * 1024))
        except urllib.error.HTTPError as exc:
            raise MonitorError(f"GET {path} answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise _Unreachable(f"GET {path}: {exc}") from exc

    return fetch


def _read_text(name: str, limit: int = _MAX_INPUT_BYTES) -> str:
    return read_text(name, limit)


def _iso_date(value: str, option: str) -> date:
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise click.UsageError(f"{option}: expected a date YYYY-MM-DD, got {value!r}")


def _vkey_text(value: str) -> str:
    if "+" in value:
        return value.strip()
    return _read_text(value).strip()


def _leaf_from_hex(value: str) -> bytes:
    try:
        leaf = bytes.fromhex(value)
    except ValueError as exc:
        raise click.UsageError("--leaf-hash: expected hexadecimal") from exc
    if len(leaf) != 32:
        raise click.UsageError(f"--leaf-hash: expected 32 bytes, got {len(leaf)}")
    return leaf


def _leaf_from_entry(name: str | None) -> bytes:
    assert name is not None
    try:
        entry = json.loads(_read_text(name))
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"{name}: not JSON ({exc.msg})") from exc
    if not isinstance(entry, dict):
        raise click.UsageError(f"{name}: expected a JSON object")
    try:
        return leaf_hash(canonical_entry(entry))
    except FormatError as exc:
        raise click.UsageError(f"{name}: {exc}") from exc
    except LedgerError as exc:
        raise click.UsageError(f"{name}: {exc}") from exc
