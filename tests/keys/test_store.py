"""The key store: sealing at rest, binding to the row, key states, and signers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.services import LOG_KEY_OWNER, Services
from keys import (
    ACTIVE,
    COMPROMISED,
    ED25519,
    P256,
    RETIRED,
    KeyStateError,
    KeyStore,
    KeyStoreError,
    MasterKeyError,
    StoredKey,
)
from keys.signers import PrivateKey
from tests.conftest import NOW

MESSAGE = b"credbank signer test message"


@pytest.fixture
def session(services: Services) -> Iterator[Session]:
    """One write transaction on the migrated test database."""
    with services.database.transaction(write=True) as opened:
        yield opened


def _plaintext(keystore: KeyStore, key: StoredKey) -> PrivateKey:
    # The store never hands out private keys; the test peeks to know what to look for.
    return keystore._open(key)


def _secrets_of(private_key: PrivateKey) -> list[bytes]:
    """Encodings of the private key that must never be stored as they are."""
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    else:
        raw = private_key.private_numbers().private_value.to_bytes(32, "big")
    return [der, pem, raw]


def _stored_row(session: Session, key_id: str) -> list[bytes]:
    """Every column of the key's row, as the database holds it, in bytes."""
    row = session.execute(
        text("SELECT * FROM keys WHERE id = :id"), {"id": key_id}
    ).one()
    return [v if isinstance(v, bytes) else str(v).encode() for v in row]


@pytest.mark.parametrize("algorithm", [ED25519, P256])
def test_private_keys_are_encrypted_at_rest(
    services: Services, session: Session, algorithm: str
) -> None:
    keystore = services.keystore
    key = keystore.create_key(session, owner="issuer:a", algorithm=algorithm, now=NOW)

    columns = _stored_row(session, key.id)
    secrets = _secrets_of(_plaintext(keystore, key))

    for secret in secrets:
        assert not any(secret in column for column in columns)
    # nonce (12) || AES-GCM ciphertext of the PKCS#8 DER || tag (16)
    assert len(key.sealed_private_key) == 12 + len(secrets[0]) + 16


def test_two_keys_have_unrelated_sealed_blobs(
    services: Services, session: Session
) -> None:
    first = services.keystore.create_key(
        session, owner="issuer:a", algorithm=ED25519, now=NOW
    )
    second = services.keystore.create_key(
        session, owner="issuer:a", algorithm=ED25519, now=NOW
    )

    assert first.sealed_private_key != second.sealed_private_key
    assert first.sealed_private_key[:12] != second.sealed_private_key[:12]
    assert first.public_key != second.public_key


def test_sealed_blobs_swapped_between_rows_do_not_open(
    services: Services, session: Session
) -> None:
    keystore = services.keystore
    first = keystore.create_key(session, owner="issuer:a", algorithm=ED25519, now=NOW)
    second = keystore.create_key(session, owner="issuer:b", algorithm=ED25519, now=NOW)
    blobs = {first.id: second.sealed_private_key, second.id: first.sealed_private_key}
    for key_id, blob in blobs.items():
        session.execute(
            text("UPDATE keys SET sealed_private_key = :blob WHERE id = :id"),
            {"blob": blob, "id": key_id},
        )
    session.expire_all()

    for key_id in blobs:
        key = session.get(StoredKey, key_id)
        assert key is not None
        with pytest.raises(MasterKeyError, match=f"does not open key {key_id}"):
            keystore.signer(key)


def test_sealed_blob_moved_to_another_algorithm_does_not_open(
    services: Services, session: Session
) -> None:
    key = services.keystore.create_key(
        session, owner="issuer:a", algorithm=ED25519, now=NOW
    )
    session.execute(
        text("UPDATE keys SET algorithm = :alg WHERE id = :id"),
        {"alg": P256, "id": key.id},
    )
    session.expire_all()
    altered = session.get(StoredKey, key.id)
    assert altered is not None

    with pytest.raises(MasterKeyError, match="or the key row was altered"):
        services.keystore.signer(altered)


def test_a_flipped_bit_in_the_sealed_blob_does_not_open(
    services: Services, session: Session
) -> None:
    key = services.keystore.create_key(
        session, owner="issuer:a", algorithm=ED25519, now=NOW
    )
    blob = bytearray(key.sealed_private_key)
    blob[20] ^= 0x01
    key.sealed_private_key = bytes(blob)

    with pytest.raises(MasterKeyError, match=f"does not open key {key.id}"):
        services.keystore.signer(key)


def test_another_master_key_does_not_open_the_store(
    services: Services, session: Session
) -> None:
    other = KeyStore(bytes(32))

    with pytest.raises(MasterKeyError, match="wrong CREDBANK_MASTER_KEY or key file"):
        other.check_master_key(session)
    services.keystore.check_master_key(session)  # the right one does


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_keystore_refuses_a_master_key_of_the_wrong_size(size: int) -> None:
    with pytest.raises(MasterKeyError, match=f"32-byte master key, got {size}$"):
        KeyStore(bytes(size))


def test_unknown_algorithm_is_refused(services: Services, session: Session) -> None:
    with pytest.raises(KeyStoreError, match="or P-256, got 'RSA-2048'"):
        services.keystore.create_key(
            session, owner="issuer:a", algorithm="RSA-2048", now=NOW
        )


@pytest.mark.parametrize("state", [RETIRED, COMPROMISED])
def test_retired_and_compromised_keys_refuse_to_sign(
    services: Services, session: Session, state: str
) -> None:
    key = services.keystore.create_key(
        session, owner="issuer:a", algorithm=ED25519, now=NOW
    )
    key.state = state
    session.flush()

    with pytest.raises(KeyStateError, match=f"is {state}; expected an active key") as e:
        services.keystore.signer(key)

    assert (e.value.key_id, e.value.state) == (key.id, state)
    assert services.keystore.active_key(session, "issuer:a") is None
    assert services.keystore.keys_of(session, "issuer:a") == [key]


def test_active_key_is_the_newest_active_one(
    services: Services, session: Session
) -> None:
    keystore = services.keystore
    old = keystore.create_key(session, owner="issuer:a", algorithm=ED25519, now=NOW)
    later = NOW.replace(year=NOW.year + 1)
    new = keystore.create_key(session, owner="issuer:a", algorithm=P256, now=later)

    assert keystore.active_key(session, "issuer:a") == new
    new.state = RETIRED
    session.flush()
    assert keystore.active_key(session, "issuer:a") == old
    assert [k.id for k in keystore.keys_of(session, "issuer:a")] == [old.id, new.id]


def test_the_log_key_was_created_at_first_start(
    services: Services, session: Session
) -> None:
    keys = services.keystore.keys_of(session, LOG_KEY_OWNER)

    assert [(k.algorithm, k.state) for k in keys] == [(ED25519, ACTIVE)]
    assert services.log.verifier.public_key == keys[0].public_key


def test_ed25519_signatures_verify_with_the_stored_public_key(
    services: Services, session: Session
) -> None:
    key = services.keystore.create_key(
        session, owner="issuer:a", algorithm=ED25519, now=NOW
    )
    session.expire_all()
    reloaded = session.scalars(select(StoredKey).where(StoredKey.id == key.id)).one()

    signer = services.keystore.signer(reloaded)
    signature = signer.sign(MESSAGE)
    public_key = ed25519.Ed25519PublicKey.from_public_bytes(reloaded.public_key)

    assert (signer.key_id, signer.algorithm) == (key.id, ED25519)
    assert len(signature) == 64
    public_key.verify(signature, MESSAGE)
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, MESSAGE + b".")


def test_p256_signatures_verify_with_the_stored_public_key(
    services: Services, session: Session
) -> None:
    key = services.keystore.create_key(
        session, owner="issuer:a", algorithm=P256, now=NOW
    )

    signer = services.keystore.signer(key)
    signature = signer.sign(MESSAGE)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), key.public_key
    )

    assert signer.algorithm == P256
    assert len(signature) == 64
    assert len(key.public_key) == 65 and key.public_key[0] == 4
    public_key.verify(der, MESSAGE, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public_key.verify(der, MESSAGE + b".", ec.ECDSA(hashes.SHA256()))


def test_reprs_show_no_key_material(services: Services, session: Session) -> None:
    key = services.keystore.create_key(
        session, owner="issuer:a", algorithm=ED25519, now=NOW
    )
    signer = services.keystore.signer(key)
    raw = _secrets_of(_plaintext(services.keystore, key))[2]
    shown = " ".join([repr(services.keystore), repr(signer), repr(key)])

    assert raw.hex() not in shown
    assert "sealed" in repr(services.keystore)
    assert key.id in repr(signer)
