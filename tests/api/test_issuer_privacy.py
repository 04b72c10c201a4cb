"""PUT /issuers/<slug>/privacy: how the verification page shows learners' names.

Only the issuer itself or an admin may choose; each change is a log entry with no
personal data in it, and the audit replays it like any other registry decision.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from api.services import Services
from issuers.models import Issuer
from issuers.replay import replay_registry
from tests.conftest import Caller, logged, tree_size


def put_privacy(
    client: FlaskClient, caller: Caller | None, slug: str, body: Any
) -> Any:
    headers = caller.headers if caller else {}
    return client.put(f"/issuers/{slug}/privacy", json=body, headers=headers)


def stored_display(services: Services, slug: str) -> str:
    with services.database.transaction() as session:
        found = session.get(Issuer, slug)
        assert found is not None
        return found.learner_display


def test_a_new_issuer_masks_names(services: Services, issuer: Caller) -> None:
    assert stored_display(services, "centre-1") == "masked"


@pytest.mark.parametrize("display", ["hidden", "full", "masked"])
def test_the_issuer_chooses_and_the_change_is_logged(
    client: FlaskClient, services: Services, issuer: Caller, display: str
) -> None:
    before = tree_size(services)

    answer = put_privacy(client, issuer, "centre-1", {"learnerDisplay": display})

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"slug": "centre-1", "learnerDisplay": display}
    assert stored_display(services, "centre-1") == display
    entries = logged(services, before)
    if display == "masked":
        # Already the setting: nothing changed, nothing to log.
        assert entries == []
    else:
        (entry,) = entries
        assert {k: v for k, v in entry.items() if k != "at"} == {
            "v": 1,
            "kind": "issuer.privacy_changed",
            "issuer": "centre-1",
            "learnerDisplay": display,
        }


def test_an_admin_may_choose_for_an_issuer(
    client: FlaskClient, services: Services, admin: Caller, issuer: Caller
) -> None:
    answer = put_privacy(client, admin, "centre-1", {"learnerDisplay": "hidden"})

    assert answer.status_code == 200
    assert stored_display(services, "centre-1") == "hidden"


def test_another_issuer_may_not(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    other_issuer: Caller,
) -> None:
    answer = put_privacy(client, other_issuer, "centre-1", {"learnerDisplay": "full"})

    assert answer.status_code == 403
    assert "another issuer" in answer.get_json()["detail"]
    assert stored_display(services, "centre-1") == "masked"


@pytest.mark.parametrize("role", ["nobody", "reviewer", "learner"])
def test_other_roles_may_not(
    client: FlaskClient,
    issuer: Caller,
    reviewer: Caller,
    learner: Caller,
    role: str,
) -> None:
    caller = {"nobody": None, "reviewer": reviewer, "learner": learner}[role]

    answer = put_privacy(client, caller, "centre-1", {"learnerDisplay": "full"})

    assert answer.status_code == (401 if caller is None else 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"learnerDisplay": "everything"}, "learnerDisplay"),
        ({"learnerDisplay": None}, "learnerDisplay"),
        ({}, "learnerDisplay"),
        ({"learnerDisplay": "full", "extra": 1}, "extra"),
    ],
)
def test_a_bad_body_is_a_400(
    client: FlaskClient, issuer: Caller, body: dict[str, Any], field: str
) -> None:
    answer = put_privacy(client, issuer, "centre-1", body)

    assert answer.status_code == 400
    assert field in answer.get_json()["errors"]


def test_an_unknown_issuer_is_a_404(client: FlaskClient, admin: Caller) -> None:
    answer = put_privacy(client, admin, "centre-99", {"learnerDisplay": "full"})

    assert answer.status_code == 404


def test_the_audit_replays_the_choice(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    put_privacy(client, issuer, "centre-1", {"learnerDisplay": "full"})
    put_privacy(client, issuer, "centre-1", {"learnerDisplay": "hidden"})

    with services.database.transaction() as session:
        assert replay_registry(session) is None

    with services.database.engine.begin() as db:
        db.execute(
            update(Issuer)
            .where(Issuer.slug == "centre-1")
            .values(learner_display="full")
        )
    with services.database.transaction() as session:
        found = replay_registry(session)

    assert found is not None
    assert str(found).startswith(
        "issuer centre-1: learner_display is 'full' in the table, 'hidden' in the log"
    )
