"""The `credbank` console script, run as a user runs it (DESIGN §9).

Contract (api/cli.py): bad input exits 2 with one line on stderr; a check that fails
exits 1 and says why; never a stack trace.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask.testing import FlaskClient
from sqlalchemy import text

from api.config import Config
from api.services import Services, open_services
from keys import LocalSigner
from ledger import (
    Checkpoint,
    MemoryTree,
    NoteVerifier,
    TLogProof,
    canonical_entry,
    inclusion_proof,
    leaf_hash,
    make_entry,
    sign_note,
)
from tests.api.conftest import Append, RunCLI, assert_one_line_error
from tests.conftest import NOW, TEST_MASTER_KEY

ORIGIN = "offline.test/log"

# Well formed, but the key ID is not the one its name and key give (signed-note).
MISMATCHED_VKEY = f"{ORIGIN}+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode()

FileContent = str | bytes | Callable[[str], str]


def _first_line(output: str) -> str:
    return output.splitlines()[0] if output else ""


@pytest.fixture
def bare_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no database of its own, for start-up failures."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("CREDBANK_")}
    return {
        **keep,
        "CREDBANK_DATA_DIR": str(tmp_path / "data"),
        "CREDBANK_MASTER_KEY": TEST_MASTER_KEY,
    }


# db upgrade, demo, start-up failures


def _log_size(config: Config) -> int:
    services = open_services(config, now=NOW)
    try:
        with services.database.transaction() as session:
            return services.log.head(session).size
    finally:
        services.close()


def test_db_upgrade_then_demo_seeds_once(
    cli: RunCLI, env: dict[str, str], config: Config
) -> None:
    upgraded = cli("db", "upgrade", env=env)
    first = cli("demo", env=env)
    seeded_size = _log_size(config)
    second = cli("demo", env=env)

    assert (upgraded.returncode, upgraded.stdout) == (
        0,
        "database is at the newest revision\n",
    )
    assert first.returncode == 0, first.stderr
    assert _first_line(first.stdout) == "demo data seeded"
    assert second.returncode == 0, second.stderr
    assert _first_line(second.stdout) == "database not empty; demo skipped"
    # More than the log key's own entry was written, and nothing the second time.
    assert seeded_size > 1
    assert _log_size(config) == seeded_size


def test_db_upgrade_twice_is_harmless(cli: RunCLI, env: dict[str, str]) -> None:
    assert cli("db", "upgrade", env=env).returncode == 0

    again = cli("db", "upgrade", env=env)

    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("command", [["demo"], ["log", "audit"]])
def test_unmigrated_database_says_to_run_db_upgrade(
    cli: RunCLI, env: dict[str, str], command: list[str]
) -> None:
    line = assert_one_line_error(cli(*command, env=env))

    assert re.search(r"expected database revision \w+, got None", line)
    assert line.endswith("run `credbank db upgrade`")


def test_start_with_a_wrong_master_key_fails_in_one_line(
    cli: RunCLI, env: dict[str, str], services: Services
) -> None:
    wrong = {**env, "CREDBANK_MASTER_KEY": "ff" * 32}

    line = assert_one_line_error(cli("demo", env=wrong))

    assert "the master key does not open key k" in line
    assert "CREDBANK_MASTER_KEY" in line
    assert "ff" * 32 not in line


def test_start_with_a_malformed_master_key_fails_in_one_line(
    cli: RunCLI, env: dict[str, str], migrated: Config
) -> None:
    malformed = {**env, "CREDBANK_MASTER_KEY": "not-a-key"}

    line = assert_one_line_error(cli("demo", env=malformed))

    assert line == (
        "credbank: error: CREDBANK_MASTER_KEY: expected 32 bytes as 64 hex digits "
        "or base64, got something else"
    )


def test_start_without_a_master_key_in_front_of_keys_fails_in_one_line(
    cli: RunCLI, env: dict[str, str], services: Services
) -> None:
    keyless = {k: v for k, v in env.items() if k != "CREDBANK_MASTER_KEY"}

    line = assert_one_line_error(cli("demo", env=keyless))

    assert "the key store holds keys but no master key was given" in line
    assert not services.config.master_key_file.exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CREDBANK_BASE_URL", "ftp://x", "expected an http(s) URL, got 'ftp://x'"),
        (
            "CREDBANK_WORKERS",
            "\u00b2",
            "expected a positive whole number, got '\u00b2'",
        ),
        ("CREDBANK_DATABASE_URL", "mysql://u:pw@db/x", "expected a sqlite:// or"),
    ],
)
def test_bad_configuration_fails_in_one_line(
    cli: RunCLI, bare_env: dict[str, str], name: str, value: str, message: str
) -> None:
    line = assert_one_line_error(cli("demo", env={**bare_env, name: value}))

    assert line.startswith(f"credbank: error: {name}: {message}")


def test_unreachable_database_fails_in_one_line(
    cli: RunCLI, bare_env: dict[str, str]
) -> None:
    closed = {**bare_env, "CREDBANK_DATABASE_URL": "postgresql://u@127.0.0.1:1/none"}

    line = assert_one_line_error(cli("demo", env=closed))

    assert line == "credbank: error: cannot open the database: OperationalError"


# log audit


def test_log_audit_is_clean_in_one_summary_line(
    cli: RunCLI, env: dict[str, str], services: Services, append: Append
) -> None:
    append(5)
    append(2)
    with services.database.transaction() as session:
        root = base64.b64encode(services.log.head(session).root_hash).decode()

    result = cli("log", "audit", env=env)

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith(
        f"audit clean: log credbank.test/log, 8 entries, 4 checkpoints, root {root}"
    )
    assert result.stderr == ""


def test_log_audit_reports_an_altered_entry(
    cli: RunCLI, env: dict[str, str], services: Services, append: Append, backend: str
) -> None:
    append(3)
    forged = canonical_entry(make_entry("test.note", NOW, n=99, note="forged"))
    # Only someone bypassing the append-only triggers can do this.
    trigger = {
        "sqlite": "DROP TRIGGER log_entries_no_update",
        "postgresql": "DROP TRIGGER log_entries_append_only ON log_entries",
    }[backend]
    with services.database.transaction(write=True) as session:
        session.execute(text(trigger))
        session.execute(
            text("UPDATE log_entries SET data = :data WHERE idx = 2"), {"data": forged}
        )

    result = cli("log", "audit", env=env)

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout.startswith("audit failed: ")
    assert "2" in result.stdout
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr


# log verify-proof, with proofs served by the app


@dataclass
class ServedProof:
    proof: Path
    entry: Path
    leaf_hex: str
    vkey: str
    other_leaf_hex: str


@pytest.fixture
def served_proof(client: FlaskClient, append: Append, tmp_path: Path) -> ServedProof:
    """A tlog-proof of entry 3 from the app, with its entry and the log's key."""
    append(6)
    items = client.get("/log/entries?start=3&end=5").get_json()["entries"]
    proof = tmp_path / "entry-3.tlog-proof"
    proof.write_text(client.get("/log/proof/3").get_data(as_text=True))
    entry = tmp_path / "entry-3.json"
    # Pretty-printed on purpose: the command re-canonicalises (RFC 8785).
    entry.write_text(json.dumps(items[0]["entry"], indent=2))
    return ServedProof(
        proof=proof,
        entry=entry,
        leaf_hex=leaf_hash(base64.b64decode(items[0]["data"])).hex(),
        vkey=client.get("/log/key").get_data(as_text=True).strip(),
        other_leaf_hex=leaf_hash(base64.b64decode(items[1]["data"])).hex(),
    )


def test_verify_proof_with_leaf_hash(cli: RunCLI, served_proof: ServedProof) -> None:
    result = cli(
        "log", "verify-proof", str(served_proof.proof),
        "--vkey", served_proof.vkey,
        "--leaf-hash", served_proof.leaf_hex,
    )  # fmt: skip

    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout == "valid: entry 3 is in credbank.test/log at tree size 7\n"


def test_verify_proof_with_entry_and_vkey_file(
    cli: RunCLI, served_proof: ServedProof, tmp_path: Path
) -> None:
    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(served_proof.vkey + "\n")

    result = cli(
        "log", "verify-proof", str(served_proof.proof),
        "--vkey", str(vkey_file),
        "--entry", str(served_proof.entry),
    )  # fmt: skip

    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.startswith("valid: entry 3 is in credbank.test/log")


def test_verify_proof_of_the_wrong_leaf_is_invalid(
    cli: RunCLI, served_proof: ServedProof
) -> None:
    result = cli(
        "log", "verify-proof", str(served_proof.proof),
        "--vkey", served_proof.vkey,
        "--leaf-hash", served_proof.other_leaf_hex,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stdout == (
        "invalid: inclusion proof does not lead to the expected root\n"
    )
    assert "Traceback" not in result.stderr


def test_verify_proof_with_a_tampered_hash_is_invalid(
    cli: RunCLI, served_proof: ServedProof
) -> None:
    lines = served_proof.proof.read_text().split("\n")
    assert lines[1] == "index 3"
    lines[2] = base64.b64encode(b"\x42" * 32).decode()
    served_proof.proof.write_text("\n".join(lines))

    result = cli(
        "log", "verify-proof", str(served_proof.proof),
        "--vkey", served_proof.vkey,
        "--leaf-hash", served_proof.leaf_hex,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stdout.startswith("invalid: inclusion proof does not lead")


def test_verify_proof_with_another_logs_key_is_invalid(
    cli: RunCLI, served_proof: ServedProof
) -> None:
    name = served_proof.vkey.split("+")[0]
    stranger = ed25519.Ed25519PrivateKey.generate()
    other = NoteVerifier.from_public_key(name, LocalSigner("k", stranger).public_key)

    result = cli(
        "log", "verify-proof", str(served_proof.proof),
        "--vkey", str(other),
        "--leaf-hash", served_proof.leaf_hex,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stdout == "invalid: note is not signed by any trusted key\n"


# log verify-proof, bad input (no database needed)


@dataclass
class OfflineProof:
    proof: Path
    vkey: str
    leaf_hex: str
    entry: Path


@pytest.fixture
def offline_proof(tmp_path: Path) -> OfflineProof:
    """A valid tlog-proof of entry 2 of a 5-entry log built in memory."""
    signer = LocalSigner("k-offline", ed25519.Ed25519PrivateKey.generate())
    entries = [make_entry("test.note", NOW, n=n) for n in range(5)]
    tree = MemoryTree(leaf_hash(canonical_entry(e)) for e in entries)
    note = sign_note(Checkpoint(ORIGIN, 5, tree.root()).to_text(), ORIGIN, signer)
    proof = TLogProof(2, tuple(inclusion_proof(2, 5, tree)), note)
    proof_file = tmp_path / "proof.txt"
    proof_file.write_text(proof.to_text())
    entry_file = tmp_path / "entry.json"
    entry_file.write_text(json.dumps(entries[2]))
    return OfflineProof(
        proof=proof_file,
        vkey=str(NoteVerifier.from_public_key(ORIGIN, signer.public_key)),
        leaf_hex=leaf_hash(canonical_entry(entries[2])).hex(),
        entry=entry_file,
    )


def test_offline_proof_is_valid(cli: RunCLI, offline_proof: OfflineProof) -> None:
    # The baseline for the bad-input cases below: each changes one thing.
    result = cli(
        "log", "verify-proof", str(offline_proof.proof),
        "--vkey", offline_proof.vkey, "--entry", str(offline_proof.entry),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"valid: entry 2 is in {ORIGIN} at tree size 5\n"


def _tampered(old: str, new: str) -> Callable[[str], str]:
    """A file made from the valid proof's text, with `old` replaced by `new`."""
    return lambda proof_text: proof_text.replace(old, new, 1)


# Each case changes the valid call `verify-proof proof.txt --vkey V --leaf-hash L`
# (None drops an option) after writing the files it names; paths are relative to
# the test's directory, which also holds proof.txt and entry.json.
BAD_INPUT: dict[str, tuple[dict[str, str | None], dict[str, FileContent], str]] = {
    "missing-proof-file": (
        {"proof": "absent.txt"},
        {},
        "cannot read absent.txt: No such file or directory",
    ),
    "proof-file-is-a-directory": ({"proof": "."}, {}, "cannot read .: Is a directory"),
    "both-leaf-and-entry": (
        {"--entry": "entry.json"},
        {},
        "give exactly one of --leaf-hash and --entry",
    ),
    "neither-leaf-nor-entry": (
        {"--leaf-hash": None},
        {},
        "give exactly one of --leaf-hash and --entry",
    ),
    "leaf-not-hex": (
        {"--leaf-hash": "zz" * 32},
        {},
        "--leaf-hash: expected hexadecimal",
    ),
    "leaf-too-short": (
        {"--leaf-hash": "ab" * 31},
        {},
        "--leaf-hash: expected 32 bytes, got 31",
    ),
    "leaf-too-long": (
        {"--leaf-hash": "ab" * 33},
        {},
        "--leaf-hash: expected 32 bytes, got 33",
    ),
    "proof-not-a-proof": (
        {"proof": "hello.txt"},
        {"hello.txt": "hello\n"},
        "expected a blank line before the checkpoint",
    ),
    "proof-wrong-header": (
        {"proof": "v2.txt"},
        {"v2.txt": _tampered("@v1", "@v2")},
        "expected first line 'c2sp.org/tlog-proof@v1'",
    ),
    "proof-hash-not-base64": (
        {"proof": "b64.txt"},
        {"b64.txt": _tampered("index 2\n", "index 2\n!!\n")},
        "proof hash is not base64",
    ),
    "proof-index-not-decimal": (
        {"proof": "index.txt"},
        {"index.txt": _tampered("index 2\n", "index 02\n")},
        "expected a decimal index, got '02'",
    ),
    "proof-not-utf8": (
        {"proof": "bin.txt"},
        {"bin.txt": b"\xff\xfe\x00junk"},
        "bin.txt is not UTF-8 text",
    ),
    "proof-too-large": (
        {"proof": "big.txt"},
        {"big.txt": "a" * (1024 * 1024 + 1)},
        "big.txt is larger than 1048576 bytes",
    ),
    "vkey-malformed": (
        {"--vkey": "a+b+c"},
        {},
        "verifier key has a malformed key ID or key",
    ),
    "vkey-two-parts": (
        {"--vkey": "log+abcd"},
        {},
        "expected a verifier key name+hex8+base64",
    ),
    "vkey-id-mismatch": (
        {"--vkey": MISMATCHED_VKEY},
        {},
        f"verifier key for {ORIGIN}: key ID does not match the key",
    ),
    "vkey-file-missing": (
        {"--vkey": "no-such.vkey"},
        {},
        "cannot read no-such.vkey: No such file or directory",
    ),
    "entry-not-json": (
        {"--leaf-hash": None, "--entry": "e.json"},
        {"e.json": "{oops"},
        "e.json: not JSON (Expecting property name enclosed in double quotes)",
    ),
    "entry-not-object": (
        {"--leaf-hash": None, "--entry": "e.json"},
        {"e.json": "[]"},
        "e.json: expected a JSON object",
    ),
    "entry-not-an-entry": (
        {"--leaf-hash": None, "--entry": "e.json"},
        {"e.json": '{"v": 2}'},
        "e.json: expected entry version 1, got 2",
    ),
    "entry-file-missing": (
        {"--leaf-hash": None, "--entry": "none.json"},
        {},
        "cannot read none.json: No such file or directory",
    ),
    "vkey-option-missing": (
        {"--vkey": None},
        {},
        "Missing option '--vkey'.",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_verify_proof_bad_input_is_one_line_exit_2(
    run_main: RunCLI,
    offline_proof: OfflineProof,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    changes, files, message = BAD_INPUT[case]
    monkeypatch.chdir(offline_proof.proof.parent)
    for name, content in files.items():
        if callable(content):
            content = content(offline_proof.proof.read_text())
        if isinstance(content, bytes):
            Path(name).write_bytes(content)
        else:
            Path(name).write_text(content)
    options: dict[str, str | None] = {
        "--vkey": offline_proof.vkey,
        "--leaf-hash": offline_proof.leaf_hex,
        **changes,
    }
    args = [str(changes.get("proof", offline_proof.proof.name))]
    for option, value in options.items():
        if option.startswith("--") and value is not None:
            args += [option, value]

    result = run_main("log", "verify-proof", *args)

    assert assert_one_line_error(result) == f"credbank: error: {message}"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No such command 'nope'"),
        (["log", "nope"], "No such command 'nope'"),
        (["db", "downgrade"], "No such command 'downgrade'"),
        (["serve", "--port", "0"], "Invalid value for '--port'"),
        (["log", "monitor"], "Missing argument 'URL'"),
        (
            ["log", "verify-proof", "p.txt", "--leaf", "00"],
            "No such option '--leaf'. Did you mean '--leaf-hash'?",
        ),
    ],
)
def test_unknown_commands_and_bad_arguments_are_one_line_exit_2(
    run_main: RunCLI, args: list[str], message: str
) -> None:
    line = assert_one_line_error(run_main(*args))

    assert message in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No such command 'nope'."),
        (
            ["log", "verify-proof", "absent.txt", "--vkey", "a+b+c", "--entry", "x"],
            "verifier key has a malformed key ID or key",
        ),
    ],
)
def test_the_installed_script_answers_bad_input_in_one_line(
    cli: RunCLI, args: list[str], message: str
) -> None:
    line = assert_one_line_error(cli(*args))

    assert line == f"credbank: error: {message}"


def test_help_exits_0(cli: RunCLI) -> None:
    result = cli("--help")

    assert result.returncode == 0
    for command in ("serve", "db", "demo", "log"):
        assert command in result.stdout
