"""Learners: a pseudonymous id, personal data sealed under the learner's own data key.

The raw rows are read back with plain SQL and searched byte by byte for the name and
the e-mail address; destroying the data key must leave the data unreadable and the
learner's credentials, which never held it, verifiable.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from api.services import Services
from credentials import credential_digest, verify_proof, verify_vc_jwt
from issuers.learners import Learner, find_or_create_learner, learner_profile
from keys import KeyStoreError
from keys.database import Base
from keys.store import DataKey
from tests.conftest import (
    LEARNER_EMAIL,
    LEARNER_NAME,
    NOW,
    Caller,
    award,
    award_request,
    issuer_keys,
    logged,
    rows_in,
)

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def learner(services: Services, session: Session, **who: str | None) -> Learner:
    fields: dict[str, Any] = {"did": None, "email": None, "name": None, **who}
    return find_or_create_learner(session, services.keystore, now=NOW, **fields)


def secrets_of(email: str, name: str) -> list[bytes]:
    """The personal data as it could sit in a column: UTF-8, JSON-escaped, GBK."""
    found = [email.encode(), email.lower().encode(), name.encode("utf-8")]
    found.append(name.encode("unicode_escape"))
    found.append(name.encode("gbk"))
    return found


def every_stored_value(services: Services) -> list[bytes]:
    """Every value of every row of every table, as bytes."""
    values: list[bytes] = []
    with services.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f"SELECT * FROM {table.name}")):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        values.append(bytes(value))
                    elif value is not None:
                        values.append(str(value).encode())
    return values


def test_the_row_holds_no_personal_data_and_the_profile_opens(
    services: Services,
) -> None:
    with services.database.transaction(write=True) as session:
        made = learner(services, session, email=LEARNER_EMAIL, name=LEARNER_NAME)
        learner_id = made.id

    with services.database.engine.connect() as connection:
        row = connection.execute(
            text("SELECT * FROM learners WHERE id = :id"), {"id": learner_id}
        ).one()
    raw = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
        for v in row
        if v is not None
    )
    for secret in secrets_of(LEARNER_EMAIL, LEARNER_NAME):
        assert secret not in raw
    # Found again by a keyed hash, not by one anybody could compute from the address.
    assert row.email_lookup != hashlib.sha256(LEARNER_EMAIL.lower().encode()).digest()
    assert len(row.email_lookup) == 32
    assert learner_id.startswith("lrn_")

    with services.database.transaction() as session:
        stored = session.get(Learner, learner_id)
        assert stored is not None
        profile = learner_profile(session, services.keystore, stored)

    assert profile is not None
    assert (profile.name, profile.email) == (LEARNER_NAME, LEARNER_EMAIL)
    assert repr(profile) == "LearnerProfile(<personal data>)"
    assert LEARNER_NAME not in repr(profile)


def test_an_award_stores_personal_data_nowhere_in_the_clear(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    award(
        client,
        issuer,
        award_request(
            approved_achievement,
            formats=["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"],
        ),
    )

    stored = every_stored_value(services)

    assert len(stored) > 100
    for secret in secrets_of(LEARNER_EMAIL, LEARNER_NAME):
        assert not [value for value in stored if secret in value]


@pytest.mark.parametrize(
    "again",
    [
        LEARNER_EMAIL,
        LEARNER_EMAIL.lower(),
        LEARNER_EMAIL.upper(),
        f"  {LEARNER_EMAIL}\t",
    ],
    ids=["same", "lower", "upper", "spaces"],
)
def test_the_same_e_mail_address_is_the_same_learner(
    services: Services, again: str
) -> None:
    with services.database.transaction(write=True) as session:
        first = learner(services, session, email=LEARNER_EMAIL, name=LEARNER_NAME)
        second = learner(services, session, email=again, name="王芳")
        other = learner(services, session, email="someone@example.com", name="X")
        profile = learner_profile(session, services.keystore, second)

    assert second.id == first.id
    assert other.id != first.id
    assert profile is not None
    # The newest name given is the one kept.
    assert profile.name == "王芳"
    assert rows_in(services, "learners") == 2


def test_the_same_did_is_the_same_learner_with_no_profile(services: Services) -> None:
    with services.database.transaction(write=True) as session:
        first = learner(services, session, did=DID)
        second = learner(services, session, did=DID)
        other = learner(services, session, did=DID + "x")
        profile = learner_profile(session, services.keystore, first)

    assert second.id == first.id
    assert other.id != first.id
    assert first.did == DID
    assert first.sealed_profile is None
    assert profile is None
    assert rows_in(services, "data_keys") == 0


def test_each_learner_has_a_data_key_of_their_own(services: Services) -> None:
    with services.database.transaction(write=True) as session:
        one = learner(services, session, email="one@example.com", name="One")
        two = learner(services, session, email="two@example.com", name="Two")
        owners = {key.owner for key in session.query(DataKey)}

    assert {f"learner:{one.id}", f"learner:{two.id}"} <= owners
    assert len(owners) == 3  # and the service's e-mail lookup key


def test_a_profile_moved_to_another_learner_does_not_open(services: Services) -> None:
    with services.database.transaction(write=True) as session:
        one = learner(services, session, email="one@example.com", name="One")
        two = learner(services, session, email="two@example.com", name="Two")
        two.sealed_profile = one.sealed_profile
        session.flush()

        with pytest.raises(
            KeyStoreError, match=f"profile of learner {two.id} does not"
        ):
            learner_profile(session, services.keystore, two)


def test_destroying_the_data_key_erases_the_data_but_not_the_credential(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    body = award(
        client,
        issuer,
        award_request(approved_achievement, formats=["eddsa-rdfc-2022", "vc+jwt"]),
    )
    (issued,) = [e for e in logged(services) if e["kind"] == "credential.issued"]
    learner_id = issued["learner"]
    size = rows_in(services, "learners")

    with services.database.transaction(write=True) as session:
        session.execute(delete(DataKey).where(DataKey.owner == f"learner:{learner_id}"))

    with services.database.transaction() as session:
        stored = session.get(Learner, learner_id)
        assert stored is not None
        assert stored.sealed_profile is not None
        assert learner_profile(session, services.keystore, stored) is None
    assert rows_in(services, "learners") == size
    keys = issuer_keys(client, "centre-1")
    served = client.get(f"/credentials/{body['id']}?format=eddsa-rdfc-2022")
    verify_proof(served.get_json(), keys.__getitem__)
    token = client.get(f"/credentials/{body['id']}?format=vc%2Bjwt")
    payload = verify_vc_jwt(token.get_data(as_text=True), keys.__getitem__)
    assert credential_digest(payload) == body["digest"] == issued["digest"]


def test_a_learner_without_a_profile_has_none(services: Services) -> None:
    with services.database.transaction(write=True) as session:
        made = learner(services, session, did=DID)

        assert learner_profile(session, services.keystore, made) is None
