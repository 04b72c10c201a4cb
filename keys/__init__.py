"""Keys: the key store, signers, the database base and the project's root error."""

from keys.database import Base, Database
from keys.errors import (
    ConfigError,
    CredbankError,
    DatabaseNotReadyError,
    KeyStateError,
    KeyStoreError,
    MasterKeyError,
)
from keys.master_key import load_master_key, parse_master_key
from keys.signers import ED25519, P256, LocalSigner, Signer
from keys.store import ACTIVE, COMPROMISED, RETIRED, KeyStore, StoredKey

__all__ = [
    "ACTIVE",
    "COMPROMISED",
    "ED25519",
    "P256",
    "RETIRED",
    "Base",
    "ConfigError",
    "CredbankError",
    "Database",
    "DatabaseNotReadyError",
    "KeyStateError",
    "KeyStore",
    "KeyStoreError",
    "LocalSigner",
    "MasterKeyError",
    "Signer",
    "StoredKey",
    "load_master_key",
    "parse_master_key",
]
