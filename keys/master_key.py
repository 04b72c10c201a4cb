"""Finding the master key that encrypts every private key at rest (DESIGN §5).

The key comes from `CREDBANK_MASTER_KEY` when set, else from a key file in the data
directory. The file is created (mode 0600) only when the key store is still empty: a
missing file in front of existing keys is an error, never a reason to make a new key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from keys.errors import MasterKeyError

__all__ = ["MASTER_KEY_SIZE", "load_master_key", "parse_master_key"]

MASTER_KEY_SIZE = 32  # AES-256


def parse_master_key(value: str, *, source: str) -> bytes:
    """Decode a master key written as 64 hex digits or as base64 of 32 bytes."""
    text = value.strip()
    key: bytes | None = None
    if len(text) == 2 * MASTER_KEY_SIZE:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = None
    if key is None:
        try:
            key = base64.b64decode(
                text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                validate=True,
            )
        except (binascii.Error, ValueError):
            key = None
    if key is None or len(key) != MASTER_KEY_SIZE:
        raise MasterKeyError(
            f"{source}: expected 32 bytes as 64 hex digits or base64, "
            "got something else"
        )
    return key


def load_master_key(
    env_value: str | None, key_file: Path, *, store_is_empty: bool
) -> bytes:
    """Return the master key, creating the key file for a brand-new key store."""
    if env_value:
        return parse_master_key(env_value, source="CREDBANK_MASTER_KEY")

    if key_file.exists():
        _check_permissions(key_file)
        return parse_master_key(key_file.read_text(), source=str(key_file))

    if not store_is_empty:
        raise MasterKeyError(
            f"the key store holds keys but no master key was given: set "
            f"CREDBANK_MASTER_KEY or restore {key_file}"
        )
    return _create_key_file(key_file)


def _create_key_file(key_file: Path) -> bytes:
    key = secrets.token_bytes(MASTER_KEY_SIZE)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not both write a key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_master_key(key_file.read_text(), source=str(key_file))
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


def _check_permissions(key_file: Path) -> None:
    mode = key_file.stat().st_mode & 0o777
    if mode & 0o077:
        raise MasterKeyError(
            f"{key_file} is readable by others (mode {mode:o}); expected 600"
        )
