"""The key store: private keys encrypted at rest, handed out only as signers.

Each private key is stored as PKCS#8 DER sealed with AES-256-GCM under the master key
(NIST SP 800-38D), with the key's id and algorithm as associated data so that a sealed
key cannot be moved to another row. A key is active, retired (verifies, never signs
again) or compromised (with the time it was reported).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import DateTime, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from keys.database import Base
from keys.errors import KeyStateError, KeyStoreError, MasterKeyError
from keys.master_key import MASTER_KEY_SIZE
from keys.signers import ED25519, P256, LocalSigner, PrivateKey, public_key_bytes

__all__ = ["ACTIVE", "COMPROMISED", "RETIRED", "DataKey", "KeyStore", "StoredKey"]

ACTIVE = "active"
RETIRED = "retired"
COMPROMISED = "compromised"

_NONCE_SIZE = 12  # the GCM nonce length SP 800-38D §5.2.1.1 recommends

logger = logging.getLogger(__name__)


class StoredKey(Base):
    """One key pair; the private half sealed under the master key."""

    __tablename__ = "keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    compromised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"StoredKey(id={self.id!r}, owner={self.owner!r}, state={self.state!r})"


class DataKey(Base):
    """A 256-bit key that encrypts one owner's personal data (a learner's record).

    Destroying the row makes that data unreadable for good (erasure), while the log,
    which never holds personal data, stays whole.
    """

    __tablename__ = "data_keys"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KeyStore:
    """Creates, seals, opens and retires keys; never returns a private key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != MASTER_KEY_SIZE:
            raise MasterKeyError(
                f"expected a {MASTER_KEY_SIZE}-byte master key, got {len(master_key)}"
            )
        self._aead = AESGCM(master_key)

    def __repr__(self) -> str:
        return "KeyStore(<sealed>)"

    def create_key(
        self, session: Session, *, owner: str, algorithm: str, now: datetime
    ) -> StoredKey:
        """Generate a key pair for `owner`, seal it and add it to the session."""
        private_key = _generate(algorithm)
        key = StoredKey(
            id="k" + secrets.token_hex(12),
            owner=owner,
            algorithm=algorithm,
            public_key=public_key_bytes(private_key),
            state=ACTIVE,
            created_at=now,
        )
        key.sealed_private_key = self._seal(key, private_key)
        session.add(key)
        session.flush()
        logger.info("created %s key %s for %s", algorithm, key.id, owner)
        return key

    def active_key(self, session: Session, owner: str) -> StoredKey | None:
        """The newest active key of `owner`, if it has one."""
        return session.scalars(
            select(StoredKey)
            .where(StoredKey.owner == owner, StoredKey.state == ACTIVE)
            .order_by(StoredKey.created_at.desc(), StoredKey.id)
            .limit(1)
        ).first()

    def keys_of(self, session: Session, owner: str) -> list[StoredKey]:
        """Every key `owner` ever had, oldest first, whatever its state."""
        return list(
            session.scalars(
                select(StoredKey)
                .where(StoredKey.owner == owner)
                .order_by(StoredKey.created_at, StoredKey.id)
            )
        )

    def signer(self, key: StoredKey) -> LocalSigner:
        """Open `key` for signing; retired and compromised keys refuse."""
        if key.state != ACTIVE:
            raise KeyStateError(key.id, key.state)
        return LocalSigner(key.id, self._open(key))

    def retire(self, key: StoredKey, *, now: datetime) -> None:
        """Stop `key` signing; it still verifies what it signed."""
        if key.state != ACTIVE:
            raise KeyStateError(key.id, key.state)
        key.state = RETIRED
        key.retired_at = now
        logger.info("retired key %s", key.id)

    def mark_compromised(self, key: StoredKey, *, now: datetime) -> None:
        """Record that `key` was reported compromised at `now`; it never signs again."""
        if key.state == COMPROMISED:
            raise KeyStateError(key.id, key.state)
        key.state = COMPROMISED
        key.compromised_at = now
        logger.warning("key %s reported compromised", key.id)

    def data_key(self, session: Session, owner: str, *, now: datetime) -> bytes:
        """`owner`'s data key, created on first use."""
        found = session.get(DataKey, owner)
        if found is None:
            row, key = self.new_data_key(owner, now=now)
            session.add(row)
            session.flush()
            return key
        return self._open_data_key(found)

    def new_data_key(self, owner: str, *, now: datetime) -> tuple[DataKey, bytes]:
        """A data key for an owner known to have none, and its sealed row.

        The row is not added to a session, so a caller making many adds them at once.
        """
        key = secrets.token_bytes(32)
        nonce = secrets.token_bytes(_NONCE_SIZE)
        sealed = nonce + self._aead.encrypt(nonce, key, _data_key_aad(owner))
        return DataKey(owner=owner, sealed_key=sealed, created_at=now), key

    def existing_data_key(self, session: Session, owner: str) -> bytes | None:
        """`owner`'s data key, or None if it was never made or was destroyed."""
        found = session.get(DataKey, owner)
        return None if found is None else self._open_data_key(found)

    def _open_data_key(self, found: DataKey) -> bytes:
        nonce, ciphertext = (
            found.sealed_key[:_NONCE_SIZE],
            found.sealed_key[_NONCE_SIZE:],
        )
        try:
            return self._aead.decrypt(nonce, ciphertext, _data_key_aad(found.owner))
        except InvalidTag as exc:
            raise MasterKeyError(
                f"the master key does not open the data key of {found.owner}"
            ) from exc

    def check_master_key(self, session: Session) -> None:
        """Prove the master key opens the store, so a wrong one fails at start."""
        oldest = session.scalars(
            select(StoredKey).order_by(StoredKey.created_at, StoredKey.id).limit(1)
        ).first()
        if oldest is not None:
            self._open(oldest)

    def _seal(self, key: StoredKey, private_key: PrivateKey) -> bytes:
        der = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        nonce = secrets.token_bytes(_NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, der, _associated_data(key))

    def _open(self, key: StoredKey) -> PrivateKey:
        sealed = key.sealed_private_key
        nonce, ciphertext = sealed[:_NONCE_SIZE], sealed[_NONCE_SIZE:]
        try:
            der = self._aead.decrypt(nonce, ciphertext, _associated_data(key))
        except InvalidTag as exc:
            raise MasterKeyError(
                f"the master key does not open key {key.id}: wrong "
                "CREDBANK_MASTER_KEY or key file, or the key row was altered"
            ) from exc
        private_key = serialization.load_der_private_key(der, password=None)
        if not isinstance(
            private_key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
        ):
            raise KeyStoreError(f"key {key.id} holds an unsupported key type")
        return private_key


def _generate(algorithm: str) -> PrivateKey:
    if algorithm == ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == P256:
        return ec.generate_private_key(ec.SECP256R1())
    raise KeyStoreError(f"expected algorithm {ED25519} or {P256}, got {algorithm!r}")


def _data_key_aad(owner: str) -> bytes:
    return f"credbank-data-key/v1:{owner}".encode()


def _associated_data(key: StoredKey) -> bytes:
    return f"credbank-key/v1:{key.id}:{key.algorithm}".encode()
