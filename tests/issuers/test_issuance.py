"""Awards and status changes through `Issuance` itself (issuers/issuance.py).

The clock is an argument here, so validity periods are checked to the second; the
transaction is the caller's, so what a refused award leaves behind is checked inside
one. The HTTP answers are tested in tests/api/test_credentials_routes.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api.services import Services
from credentials import Bitstring, ControlCharacterError, credential_digest
from issuers.awards import AwardSchema, to_award
from issuers.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from issuers.issuance import Award, IssuedCredential, IssueResult, get_credential
from issuers.replay import replay_registry
from issuers.status_lists import StatusList
from keys.errors import CredbankError
from ledger import parse_entry
from ledger.models import LogEntry
from tests.conftest import (
    LEARNER_EMAIL,
    LEARNER_NAME,
    NOW,
    Caller,
    allocated_indexes,
    approve,
    award_request,
    checkpoints_signed,
    logged,
    rows_in,
    submit,
    tree_size,
)

SLUG = "centre-1"
BASE = "http://credbank.test"


def make_award(achievement: str, **overrides: Any) -> Award:
    """An `Award` as the award schema would pass it on."""
    raw = award_request(achievement, **overrides)
    return to_award(AwardSchema().load(raw), raw)


def bit(session: Session, list_id: str, index: int, *, allocated: bool = False) -> bool:
    status_list = session.get(StatusList, list_id)
    assert status_list is not None
    data = status_list.allocated if allocated else status_list.bits
    return Bitstring.from_bytes(data).get(index)


def entry_at(session: Session, index: int) -> dict[str, Any]:
    row = session.get(LogEntry, index)
    assert row is not None
    return parse_entry(row.data)


def approved(
    client: FlaskClient, issuer: Caller, reviewers: list[Caller], **kw: Any
) -> str:
    achievement = submit(client, issuer, **kw)
    approve(client, f"/achievements/{achievement}", reviewers[:2])
    return achievement


# Awarding


def test_an_award_is_a_row_a_status_index_pair_and_one_log_entry(
    services: Services, approved_achievement: str
) -> None:
    size = tree_size(services)

    with services.database.transaction(write=True) as session:
        result = services.issuance.award(
            session, SLUG, make_award(approved_achievement, score=75), now=NOW
        )
        record = result.credential
        entry = entry_at(session, record.log_index)
        for list_id, index in [
            (record.revocation_list, record.revocation_index),
            (record.suspension_list, record.suspension_index),
        ]:
            assert bit(session, list_id, index, allocated=True)
            assert not bit(session, list_id, index)
        learner = record.learner_id

    assert result.created
    assert record.status == "active"
    assert record.log_index == size
    assert tree_size(services) == size + 1
    assert (record.revocation_list, record.suspension_list) == (
        "centre-1-revocation-1",
        "centre-1-suspension-1",
    )
    assert entry == {
        "v": 1,
        "kind": "credential.issued",
        "at": "2026-12-01T09:30:00.000Z",
        "credential": record.id,
        "digest": record.digest,
        "issuer": SLUG,
        "achievement": approved_achievement,
        "learner": learner,
        "status": [
            {
                "list": "centre-1-revocation-1",
                "index": record.revocation_index,
                "purpose": "revocation",
            },
            {
                "list": "centre-1-suspension-1",
                "index": record.suspension_index,
                "purpose": "suspension",
            },
        ],
    }
    credential = record.secured["eddsa-rdfc-2022"]
    assert credential_digest(credential) == record.digest
    assert credential["validFrom"] == "2026-12-01T09:30:00Z"
    assert credential["validUntil"] == "2029-12-01T09:30:00Z"
    assert credential["awardedDate"] == "2026-12-01T09:30:00Z"


@pytest.mark.parametrize(
    ("now", "months", "valid_until"),
    [
        (datetime(2027, 1, 31, 8, 0, 5, tzinfo=UTC), 1, "2027-02-28T08:00:05Z"),
        (datetime(2027, 1, 31, 8, 0, 5, tzinfo=UTC), 13, "2028-02-29T08:00:05Z"),
        (datetime(2027, 8, 31, 23, 59, 59, tzinfo=UTC), 6, "2028-02-29T23:59:59Z"),
        (datetime(2027, 11, 30, 12, 0, tzinfo=UTC), 2, "2028-01-30T12:00:00Z"),
        (datetime(2027, 12, 15, 12, 0, tzinfo=UTC), 120, "2037-12-15T12:00:00Z"),
    ],
)
def test_valid_until_adds_calendar_months_and_keeps_to_the_month(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    reviewers: list[Caller],
    now: datetime,
    months: int,
    valid_until: str,
) -> None:
    achievement = approved(client, issuer, reviewers, validityMonths=months)

    with services.database.transaction(write=True) as session:
        record = services.issuance.award(
            session, SLUG, make_award(achievement), now=now
        ).credential

    credential = record.secured["eddsa-rdfc-2022"]
    assert credential["validFrom"] == now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert credential["validUntil"] == valid_until


def test_an_awarded_date_keeps_the_day_given(
    services: Services, approved_achievement: str
) -> None:
    with services.database.transaction(write=True) as session:
        record = services.issuance.award(
            session,
            SLUG,
            make_award(approved_achievement, awardedDate="2026-06-30"),
            now=NOW,
        ).credential

    assert record.secured["eddsa-rdfc-2022"]["awardedDate"] == "2026-06-30T09:30:00Z"


def test_an_achievement_may_be_named_by_its_url(
    services: Services, approved_achievement: str
) -> None:
    url = f"{BASE}/achievements/{approved_achievement}"

    with services.database.transaction(write=True) as session:
        record = services.issuance.award(
            session, SLUG, make_award(url), now=NOW
        ).credential

    assert record.achievement_id == approved_achievement
    subject = record.secured["eddsa-rdfc-2022"]["credentialSubject"]
    assert subject["achievement"]["id"] == url


def test_evidence_is_typed_and_carried(
    services: Services, approved_achievement: str
) -> None:
    evidence = [{"id": "https://centre1.example.cn/portfolio/17", "name": "Rack plan"}]

    with services.database.transaction(write=True) as session:
        record = services.issuance.award(
            session, SLUG, make_award(approved_achievement, evidence=evidence), now=NOW
        ).credential

    assert record.secured["eddsa-rdfc-2022"]["evidence"] == [
        {"type": ["Evidence"], **evidence[0]}
    ]


def test_a_chunk_is_one_log_append_in_order(
    services: Services, approved_achievement: str
) -> None:
    awards = [
        make_award(
            approved_achievement,
            learner={"email": f"l{n}@example.com", "name": f"L{n}"},
        )
        for n in range(5)
    ]
    size, checkpoints = tree_size(services), checkpoints_signed(services)

    with services.database.transaction(write=True) as session:
        outcomes = services.issuance.award_many(session, SLUG, awards, now=NOW)
        results = [o for o in outcomes if isinstance(o, IssueResult)]
        indexes = [r.credential.log_index for r in results]
        ids = [r.credential.id for r in results]

    assert len(results) == 5
    assert indexes == list(range(size, size + 5))
    assert [e["credential"] for e in logged(services, size)] == ids
    assert checkpoints_signed(services) == checkpoints + 1
    assert allocated_indexes(services) == 10
    assert rows_in(services, "learners") == 5


def test_a_refused_award_in_a_chunk_leaves_no_trace(
    services: Services, approved_achievement: str
) -> None:
    good = make_award(approved_achievement)
    # Past the schema (which refuses control characters), the credential check
    # refuses this one only after its learner and status indexes were made.
    late = replace(
        make_award(
            approved_achievement,
            learner={"email": "late@example.com", "name": "Late"},
        ),
        evidence=({"narrative": "racked \x07 pallets"},),
    )
    early = make_award(approved_achievement, creditsEarned=4)
    size = tree_size(services)

    with services.database.transaction(write=True) as session:
        outcomes = services.issuance.award_many(
            session, SLUG, [late, good, early, good], now=NOW
        )

    assert isinstance(outcomes[0], ControlCharacterError)
    assert isinstance(outcomes[1], IssueResult)
    assert isinstance(outcomes[2], InvalidInputError)
    assert str(outcomes[2]) == (
        "creditsEarned: expected at most the 3 ECTS the course carries, got 4"
    )
    assert isinstance(outcomes[3], IssueResult)
    assert tree_size(services) == size + 2
    assert allocated_indexes(services) == 4
    assert rows_in(services, "learners") == 1
    # The learner's data key and the service's e-mail lookup key.
    assert rows_in(services, "data_keys") == 2
    assert rows_in(services, "credentials") == 2


def test_one_key_twice_in_a_chunk_issues_once(
    services: Services, approved_achievement: str
) -> None:
    keyed = make_award(approved_achievement, idempotencyKey="k-7")
    other = make_award(approved_achievement, score=10, idempotencyKey="k-7")

    with services.database.transaction(write=True) as session:
        first, again, clash = services.issuance.award_many(
            session, SLUG, [keyed, keyed, other], now=NOW
        )

    assert isinstance(first, IssueResult)
    assert isinstance(again, IssueResult)
    assert first.created
    assert not again.created
    assert again.credential.id == first.credential.id
    assert isinstance(clash, ConflictError)
    assert str(clash) == "idempotency key 'k-7' was used for a different award"
    assert rows_in(services, "credentials") == 1


def test_a_key_used_in_an_earlier_transaction_answers_its_credential(
    services: Services, approved_achievement: str
) -> None:
    keyed = make_award(approved_achievement, idempotencyKey="k-8")
    with services.database.transaction(write=True) as session:
        first = services.issuance.award(session, SLUG, keyed, now=NOW)
        first_id = first.credential.id
    size = tree_size(services)

    with services.database.transaction(write=True) as session:
        again = services.issuance.award(session, SLUG, keyed, now=NOW)
        again_id = again.credential.id
        with pytest.raises(ConflictError, match="'k-8' was used for a different"):
            services.issuance.award(
                session, SLUG, replace(keyed, request_digest="0" * 64), now=NOW
            )

    assert not again.created
    assert again_id == first_id
    assert tree_size(services) == size


def test_a_suspended_issuer_issues_nothing(
    services: Services, approved_achievement: str
) -> None:
    with services.database.transaction(write=True) as session:
        services.registry.suspend(session, SLUG, reason="audit", now=NOW)
    size = tree_size(services)

    with (
        services.database.transaction(write=True) as session,
        pytest.raises(ForbiddenError, match="issuer centre-1 is suspended; it cannot"),
    ):
        services.issuance.award_many(
            session, SLUG, [make_award(approved_achievement)], now=NOW
        )

    assert tree_size(services) == size
    assert allocated_indexes(services) == 0


def test_an_unknown_issuer_issues_nothing(
    services: Services, approved_achievement: str
) -> None:
    with (
        services.database.transaction(write=True) as session,
        pytest.raises(NotFoundError, match="centre-9"),
    ):
        services.issuance.award(
            session, "centre-9", make_award(approved_achievement), now=NOW
        )


def test_an_issuer_without_an_active_ed25519_key_cannot_sign(
    services: Services, approved_achievement: str
) -> None:
    with services.database.transaction(write=True) as session:
        for key in services.registry.keys(session, SLUG):
            services.keystore.retire(key, now=NOW)
    size = tree_size(services)

    with (
        services.database.transaction(write=True) as session,
        pytest.raises(ConflictError, match="centre-1 has no active Ed25519 key"),
    ):
        services.issuance.award(
            session, SLUG, make_award(approved_achievement), now=NOW
        )

    assert tree_size(services) == size


# Status changes


@pytest.fixture
def credential_id(services: Services, approved_achievement: str) -> str:
    with services.database.transaction(write=True) as session:
        result = services.issuance.award(
            session, SLUG, make_award(approved_achievement), now=NOW
        )
        return result.credential.id


def change(services: Services, credential_id: str, action: str) -> IssuedCredential:
    with services.database.transaction(write=True) as session:
        return services.issuance.change_status(
            session, credential_id, action=action, reason="review", now=NOW
        )


def bits_of(services: Services, credential_id: str) -> tuple[bool, bool, int, int]:
    """(revoked bit, suspended bit, revocation list version, suspension version)."""
    with services.database.transaction() as session:
        record = get_credential(session, credential_id)
        lists = [session.get(StatusList, record.revocation_list)]
        lists.append(session.get(StatusList, record.suspension_list))
        assert lists[0] is not None
        assert lists[1] is not None
        return (
            bit(session, record.revocation_list, record.revocation_index),
            bit(session, record.suspension_list, record.suspension_index),
            lists[0].version,
            lists[1].version,
        )


@pytest.mark.parametrize(
    ("actions", "status", "bits"),
    [
        (["suspend"], "suspended", (False, True)),
        (["suspend", "reinstate"], "active", (False, False)),
        (["suspend", "reinstate", "suspend"], "suspended", (False, True)),
        (["revoke"], "revoked", (True, False)),
        (["suspend", "revoke"], "revoked", (True, True)),
    ],
)
def test_status_changes_set_the_bits_and_log_each_change(
    services: Services,
    credential_id: str,
    actions: list[str],
    status: str,
    bits: tuple[bool, bool],
) -> None:
    size = tree_size(services)

    for action in actions:
        record = change(services, credential_id, action)

    assert record.status == status
    revoked, suspended, revocation_version, suspension_version = bits_of(
        services, credential_id
    )
    assert (revoked, suspended) == bits
    # Every change flips one bit and re-signs its list under a new version.
    assert revocation_version == actions.count("revoke")
    assert suspension_version == len(actions) - actions.count("revoke")
    entries = logged(services, size)
    assert [e["kind"] for e in entries] == ["status.changed"] * len(actions)
    assert entries[-1]["status"] == status
    assert {e["credential"] for e in entries} == {credential_id}
    assert {e["reason"] for e in entries} == {"review"}


@pytest.mark.parametrize(
    ("actions", "error", "match"),
    [
        (["revoke", "revoke"], ConflictError, "is revoked for good"),
        (["revoke", "suspend"], ConflictError, "is revoked for good"),
        (["revoke", "reinstate"], ConflictError, "is revoked for good"),
        (["suspend", "suspend"], ConflictError, "is already suspended"),
        (["reinstate"], ConflictError, "expected a suspended credential to reinst"),
        (["delete"], InvalidInputError, "action: expected revoke, suspend or rein"),
    ],
)
def test_a_status_change_that_cannot_be_is_refused(
    services: Services,
    credential_id: str,
    actions: list[str],
    error: type[CredbankError],
    match: str,
) -> None:
    for action in actions[:-1]:
        change(services, credential_id, action)
    before = bits_of(services, credential_id)
    size = tree_size(services)

    with pytest.raises(error, match=match):
        change(services, credential_id, actions[-1])

    assert bits_of(services, credential_id) == before
    assert tree_size(services) == size


def test_a_credential_is_found_by_urn_or_bare_uuid(
    services: Services, credential_id: str
) -> None:
    with services.database.transaction() as session:
        by_urn = get_credential(session, credential_id)
        bare = get_credential(session, credential_id.removeprefix("urn:uuid:"))
        with pytest.raises(NotFoundError, match="no credential 'urn:uuid:nothing'"):
            get_credential(session, "nothing")

        assert by_urn is bare


# Replay: the credentials table is a projection of the log


def test_the_log_explains_every_credential_row(
    services: Services, credential_id: str, approved_achievement: str
) -> None:
    change(services, credential_id, "suspend")
    change(services, credential_id, "revoke")
    with services.database.transaction(write=True) as session:
        services.issuance.award(
            session, SLUG, make_award(approved_achievement), now=NOW
        )

    with services.database.transaction() as session:
        assert replay_registry(session) is None


def _set(**values: Any) -> Any:
    def tamper(session: Session, credential_id: str) -> None:
        session.execute(
            update(IssuedCredential)
            .where(IssuedCredential.id == credential_id)
            .values(**values)
        )

    return tamper


def _delete(session: Session, credential_id: str) -> None:
    session.execute(
        delete(IssuedCredential).where(IssuedCredential.id == credential_id)
    )


def _copy(session: Session, credential_id: str) -> None:
    row = session.get(IssuedCredential, credential_id)
    assert row is not None
    columns = {c.key: getattr(row, c.key) for c in IssuedCredential.__table__.columns}
    session.add(
        IssuedCredential(**{**columns, "id": "urn:uuid:0", "idempotency_key": "x"})
    )


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_set(status="active"), "status is 'active' in the table, 'suspended' in"),
        (_set(digest="uforged"), "digest is 'uforged' in the table"),
        (_set(learner_id="lrn_other"), "learner_id is 'lrn_other' in the table"),
        (_set(revocation_index=-1), "revocation_index is -1 in the table"),
        (_delete, "logged at entry {index}; no row"),
    ],
    ids=["status", "digest", "learner", "index", "deleted"],
)
def test_a_credential_row_changed_behind_the_log_is_named(
    services: Services, credential_id: str, tamper: Any, message: str
) -> None:
    change(services, credential_id, "suspend")
    last_change = tree_size(services) - 1
    with services.database.transaction(write=True) as session:
        tamper(session, credential_id)

    with services.database.transaction() as session:
        found = replay_registry(session)

    assert found is not None
    assert found.where == f"credential {credential_id}"
    assert found.index == last_change
    assert message.format(index=last_change) in found.message


def test_a_credential_row_the_log_never_saw_is_named(
    services: Services, credential_id: str
) -> None:
    with services.database.transaction(write=True) as session:
        _copy(session, credential_id)

    with services.database.transaction() as session:
        found = replay_registry(session)

    assert found is not None
    assert str(found) == "credential urn:uuid:0: row has no log entry"


def test_identity_fields_of_the_award_are_not_logged(
    services: Services, credential_id: str
) -> None:
    with services.database.transaction() as session:
        record = get_credential(session, credential_id)
        entry = entry_at(session, record.log_index)
        data = session.scalar(
            select(LogEntry.data).where(LogEntry.idx == record.log_index)
        )

    assert data is not None
    for secret in (LEARNER_EMAIL, LEARNER_EMAIL.lower(), LEARNER_NAME):
        assert secret.encode() not in data
    assert "identityHash" not in data.decode()
    assert entry["learner"].startswith("lrn_")


def test_an_award_keeps_formats_once_and_its_digest_ignores_the_key() -> None:
    formats = ["vc+jwt", "eddsa-rdfc-2022", "vc+jwt"]
    keyed = make_award("a", formats=formats, idempotencyKey="k-1")
    rekeyed = make_award("a", formats=formats, idempotencyKey="k-2")

    assert keyed.formats == ("vc+jwt", "eddsa-rdfc-2022")
    assert keyed.request_digest == rekeyed.request_digest
    assert keyed.request_digest == make_award("a", formats=formats).request_digest
    assert (
        keyed.request_digest != make_award("a", formats=formats, score=1).request_digest
    )
    assert make_award("a", awardedDate="2026-11-30").awarded_date == date(2026, 11, 30)
