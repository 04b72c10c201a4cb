"""`credbank wallet export` and `wallet sign`, and what `credbank verify` prints for
a wallet file.

Kept apart from api/cli.py, which adds the group and hands wallets over; the exit
codes are the command line's: 0 valid (warnings included), 1 invalid, 2 bad input.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from api.cli_input import read_bytes, read_text
from api.config import Config
from keys.errors import CredbankError
from wallet.clr import clr_credential
from wallet.export import export_wallet
from wallet.format import MAX_WALLET_BYTES, WalletFormatError, check_wallet
from wallet.offline import WalletResult, verify_wallet
from wallet.presentation import load_holder_key, sign_presentation

__all__ = ["print_wallet_result", "verify_wallet_text", "wallet_group"]

# A PEM Ed25519 private key is about 120 bytes.
_MAX_KEY_BYTES = 16 * 1024

_VERDICTS = {
    "valid": {"zh": "有效", "en": "VALID"},
    "invalid": {"zh": "无效", "en": "NOT VALID"},
    "valid-with-warnings": {"zh": "有效，但请注意", "en": "VALID, WITH WARNINGS"},
}
_MARKS = {
    "passed": "ok",
    "failed": "FAIL",
    "cannot-check": "??",
    "not-applicable": "--",
}
_WORDS = {
    "zh": {
        "wallet": "钱包 {format}，导出于 {exported}；状态信息截至 {as_of}（{age}）",
        "carried": "日志公钥（钱包自带；可用 --log-key 指定）：{key}",
        "pinned": "日志公钥（已指定）：{key}",
    },
    "en": {
        "wallet": "wallet {format}, exported {exported}; status as of {as_of} ({age})",
        "carried": "log key (carried by the wallet; pin it with --log-key): {key}",
        "pinned": "log key (pinned): {key}",
    },
}


@click.group("wallet")
def wallet_group() -> None:
    """The learner's portable wallet (docs/wallet-format.md)."""


@wallet_group.command("export")
@click.option("--learner", "learner_id", required=True, help="The learner's id.")
@click.option(
    "--credential",
    "credential_ids",
    multiple=True,
    help="Export only this credential; repeat for several.",
)
@click.option("--output", help="Write the wallet here (default: standard output).")
@click.option(
    "--holder-key",
    "holder_key",
    help="The learner's Ed25519 private key (PEM) to sign the presentation with.",
)
@click.option(
    "--clr",
    is_flag=True,
    help="Export a CLR 2.0 ClrCredential signed by the service instead.",
)
def export_command(
    learner_id: str,
    credential_ids: tuple[str, ...],
    output: str | None,
    holder_key: str | None,
    clr: bool,
) -> None:
    """Export a learner's credbank-wallet/v1 file from this service's database."""
    from api.services import open_services
    from api.statements import statement_signer

    if clr and holder_key:
        raise click.UsageError("--holder-key signs a wallet, not a ClrCredential")
    # Read before the database is opened: a wrong path should cost nothing.
    signer = load_holder_key(_read_bytes(holder_key)) if holder_key else None
    now = datetime.now(UTC)
    chosen = list(credential_ids) or None
    services = open_services(Config.from_env())
    try:
        # A CLR is signed by the service's key, made (and logged) on first use.
        with services.database.transaction(write=clr) as session:
            if clr:
                document = clr_credential(
                    session,
                    learner_id=learner_id,
                    signer=statement_signer(services, session, now=now),
                    credential_ids=chosen,
                    now=now,
                )
            else:
                wallet = export_wallet(
                    session,
                    log=services.log,
                    base_url=services.config.base_url,
                    learner_id=learner_id,
                    credential_ids=chosen,
                    now=now,
                )
    finally:
        services.close()
    if clr:
        _write_wallet(document, output)
        return
    if signer is not None:
        wallet = sign_presentation(wallet, signer, now=now)
    _write_wallet(wallet, output)
    if output is not None:
        signed = "signed by the holder" if signer else "unsigned presentation"
        click.echo(
            f"{len(wallet['credentials'])} credentials, "
            f"{len(wallet['statements'])} statements written to {output} ({signed})",
            err=True,
        )


@wallet_group.command("sign")
@click.argument("wallet_file", metavar="WALLET")
@click.option(
    "--holder-key",
    "holder_key",
    required=True,
    help="The learner's Ed25519 private key (PEM, PKCS #8, unencrypted).",
)
@click.option("--output", help="Write the signed wallet here (default: over WALLET).")
def sign_command(wallet_file: str, holder_key: str, output: str | None) -> None:
    """Sign a wallet's presentation with the learner's own key, on this machine.

    Needs no database and no network: the key never leaves this machine. The key
    must be the one behind the wallet's holder, the did:key the learner
    registered; a proof already there is replaced.
    """
    signer = load_holder_key(_read_bytes(holder_key))
    wallet = _read_wallet(wallet_file)
    signed = sign_presentation(wallet, signer, now=datetime.now(UTC))
    _write_wallet(signed, output or wallet_file)
    click.echo(
        f"presentation of {len(signed['credentials'])} credentials signed by "
        f"{signed['holder']}, written to {output or wallet_file}",
        err=True,
    )


def verify_wallet_text(wallet: Any, log_key: str | None) -> WalletResult:
    """Verify a parsed wallet now; a malformed one is bad input (exit 2)."""
    try:
        return verify_wallet(wallet, now=datetime.now(UTC), log_key=log_key)
    except WalletFormatError as exc:
        raise click.UsageError(f"not a credbank-wallet/v1 file: {exc}") from exc
    except CredbankError as exc:
        raise click.UsageError(str(exc)) from exc


def print_wallet_result(result: WalletResult, lang: str) -> None:
    """A header, the wallet's own lines, then one block per item."""
    words = _WORDS[lang]
    click.echo(
        words["wallet"].format(
            format="credbank-wallet/v1",
            exported=result.exported_at,
            as_of=result.status_as_of,
            age=result.status_age(lang),
        )
    )
    key_line = words["pinned"] if result.log_key_pinned else words["carried"]
    click.echo(key_line.format(key=result.log_key))
    click.echo(_VERDICTS[result.verdict][lang])
    for check in result.checks:
        mark = _MARKS[check.outcome]
        click.echo(f"   {mark:<4} {check.code:<34} {check.message(lang)}")
        if check.outcome in {"failed", "cannot-check"} and check.detail:
            click.echo(f"{'':8}{_one_line(check.detail)}")
    for number, item in enumerate(result.items, start=1):
        click.echo("")
        click.echo(
            f"[{number}] {item.kind} {_one_line(item.id)}: "
            f"{_VERDICTS[item.verdict][lang]}"
        )
        for position, (form, verified) in enumerate(item.forms):
            click.echo(f"  {form}: {_VERDICTS[verified.verdict][lang]}")
            for line in verified.checks:
                # Every line of the first form; of the others, what differs.
                if position and line.outcome == "passed" and not line.warning:
                    continue
                mark = _MARKS[line.outcome]
                click.echo(
                    f"  {line.step:>2} {mark:<4} {line.code:<34} {line.message(lang)}"
                )
                if line.outcome in {"failed", "cannot-check"} and line.detail:
                    click.echo(f"{'':10}{_one_line(line.detail)}")


def wallet_limit() -> int:
    return MAX_WALLET_BYTES


def _one_line(text: str) -> str:
    # Ids and details come from the file: keep them from forging lines.
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:300]


def _read_wallet(name: str) -> dict[str, Any]:
    """A wallet file, parsed and its shape checked; anything else is bad input."""
    text = read_text(name, MAX_WALLET_BYTES, encoding="utf-8-sig")
    try:
        wallet = json.loads(text)
    except RecursionError as exc:
        raise click.UsageError(f"{name}: JSON nested too deeply") from exc
    except ValueError as exc:
        raise click.UsageError(f"{name}: not JSON") from exc
    try:
        check_wallet(wallet)
    except WalletFormatError as exc:
        raise click.UsageError(f"not a credbank-wallet/v1 file: {exc}") from exc
    result: dict[str, Any] = wallet
    return result


def _write_wallet(wallet: dict[str, Any], output: str | None) -> None:
    """The wallet (or a CLR) as JSON on standard output, or written whole to `output` (a
    file being replaced is never left half-written)."""
    text = json.dumps(wallet, ensure_ascii=False, indent=1) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    target = Path(output)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror}") from exc


def _read_bytes(name: str) -> bytes:
    return read_bytes(name, _MAX_KEY_BYTES)
