"""The master key: parsing, the key file made on first start, and refusals."""

from __future__ import annotations

import base64
import dataclasses
import os
import stat
from pathlib import Path

import pytest

from api.config import Config
from api.services import open_services
from keys import MasterKeyError, load_master_key, parse_master_key
from keys.master_key import MASTER_KEY_SIZE

KEY = bytes(range(32))
_MALFORMED = "expected 32 bytes as 64 hex digits or base64, got something else"


@pytest.mark.parametrize(
    "text",
    [
        KEY.hex(),
        KEY.hex().upper(),
        f"  {KEY.hex()}\n",
        base64.b64encode(KEY).decode(),
        base64.b64encode(KEY).decode().rstrip("="),
        base64.urlsafe_b64encode(KEY).decode(),
    ],
    ids=["hex", "HEX", "padded-hex", "base64", "base64-unpadded", "base64url"],
)
def test_parse_master_key_accepts_hex_and_base64(text: str) -> None:
    assert parse_master_key(text, source="test") == KEY


@pytest.mark.parametrize(
    "text",
    [
        "",
        "zz" * 32,
        KEY.hex()[:-2],
        KEY.hex() + "00",
        base64.b64encode(KEY[:16]).decode(),
        base64.b64encode(b"\xff" * 48).decode(),  # 64 characters, 48 bytes
        "not a key at all!",
    ],
    ids=[
        "empty",
        "not-hex",
        "31-bytes-hex",
        "33-bytes-hex",
        "16-bytes-b64",
        "48-bytes-b64",
        "prose",
    ],
)
def test_parse_master_key_refuses_malformed_keys(text: str) -> None:
    with pytest.raises(MasterKeyError, match=f"^CREDBANK_MASTER_KEY: {_MALFORMED}$"):
        parse_master_key(text, source="CREDBANK_MASTER_KEY")


def test_malformed_key_message_does_not_echo_the_value() -> None:
    secret = "s3cr3t-" * 8

    with pytest.raises(MasterKeyError) as caught:
        parse_master_key(secret, source="CREDBANK_MASTER_KEY")

    assert secret not in str(caught.value)


def test_environment_key_wins_over_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(bytes(32).hex())
    key_file.chmod(0o600)

    assert load_master_key(KEY.hex(), key_file, store_is_empty=False) == KEY


def test_key_file_is_created_0600_for_an_empty_store_and_reused(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "data" / "master.key"

    first = load_master_key(None, key_file, store_is_empty=True)
    written = key_file.read_text()
    second = load_master_key(None, key_file, store_is_empty=False)

    assert len(first) == MASTER_KEY_SIZE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert second == first
    assert key_file.read_text() == written


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(KEY.hex())
    key_file.chmod(mode)

    with pytest.raises(MasterKeyError, match=f"mode {mode:o}\\); expected 600"):
        load_master_key(None, key_file, store_is_empty=False)


def test_malformed_key_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text("short\n")
    key_file.chmod(0o600)

    with pytest.raises(MasterKeyError, match=f"master.key: {_MALFORMED}"):
        load_master_key(None, key_file, store_is_empty=True)


def test_missing_key_in_front_of_stored_keys_makes_no_new_file(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "master.key"

    with pytest.raises(MasterKeyError, match="holds keys but no master key was given"):
        load_master_key(None, key_file, store_is_empty=False)

    assert not key_file.exists()


# The same rules, as the service meets them at start on each backend.


def test_first_start_without_a_master_key_creates_the_key_file(
    migrated: Config,
) -> None:
    config = dataclasses.replace(migrated, master_key=None)

    open_services(config).close()
    mode = stat.S_IMODE(os.stat(config.master_key_file).st_mode)
    key_text = config.master_key_file.read_text()
    # A second start must open the log key sealed under the file's key.
    open_services(config).close()

    assert mode == 0o600
    assert config.master_key_file.read_text() == key_text


def test_wrong_master_key_fails_at_start(migrated: Config) -> None:
    open_services(migrated).close()
    wrong = dataclasses.replace(migrated, master_key="ff" * 32)

    with pytest.raises(MasterKeyError, match="the master key does not open key k"):
        open_services(wrong)


def test_missing_master_key_with_a_non_empty_store_fails_at_start(
    migrated: Config,
) -> None:
    open_services(migrated).close()
    keyless = dataclasses.replace(migrated, master_key=None)

    with pytest.raises(MasterKeyError, match="set CREDBANK_MASTER_KEY or restore"):
        open_services(keyless)

    assert not keyless.master_key_file.exists()


def test_key_file_readable_by_others_fails_at_start(migrated: Config) -> None:
    config = dataclasses.replace(migrated, master_key=None)
    open_services(config).close()
    config.master_key_file.chmod(0o644)

    with pytest.raises(MasterKeyError, match="readable by others"):
        open_services(config)
