"""Learners awarded in a batch get a claim link too: one per learner, in each of
their rows' answers (HTTP, JSON and CSV) and in `issue-batch --claim-links FILE`."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.auth import ApiToken
from api.services import Services
from tests.api.conftest import RunCLI, assert_one_line_error
from tests.conftest import Caller
from tests.wallet.conftest import BASE
from tests.wallet.test_learner_page import learner_of
from wallet.claim_links import CLAIM_LINK_TTL, ClaimLink

CSV_HEADER = "achievement,learner_email,learner_name,score\n"


def rows(achievement: str) -> list[dict[str, Any]]:
    """Three awards to two learners (the first twice), and one that is refused."""
    a = {"email": "a@example.com", "name": "学员甲"}
    b = {"email": "b@example.com", "name": "学员乙"}
    return [
        {"achievement": achievement, "learner": a},
        {"achievement": achievement, "learner": b},
        {"achievement": achievement, "learner": a, "score": "7"},
        {"achievement": "ach-unknown", "learner": {**b, "email": "c@example.com"}},
    ]


def csv_body(achievement: str) -> str:
    return CSV_HEADER + "".join(
        f"{row['achievement']},{row['learner']['email']},{row['learner']['name']},"
        f"{row.get('score', '')}\n"
        for row in rows(achievement)
    )


def assert_links_open_each_learner_s_page(
    client: FlaskClient, services: Services, answered: list[dict[str, Any]]
) -> None:
    issued = [row for row in answered if "id" in row]
    assert len(issued) == 3
    assert "claimUrl" not in answered[3] and "error" in answered[3]
    for row in issued:
        url = row["claimUrl"]
        assert url.startswith(f"{BASE}/me/clm_")
        page = client.get(url.removeprefix(BASE) + "?lang=en")
        assert page.status_code == 200
        # The link opens the page of the row's own learner, with this credential.
        assert row["id"] in page.get_data(as_text=True)
    # One link per learner: the first and third rows are the same learner's.
    assert issued[0]["claimUrl"] == issued[2]["claimUrl"]
    assert issued[0]["claimUrl"] != issued[1]["claimUrl"]
    assert learner_of(services, issued[0]["id"]) == learner_of(
        services, issued[2]["id"]
    )


def issuer_token_ids(services: Services, slug: str) -> set[str]:
    with services.database.transaction() as session:
        return set(session.scalars(select(ApiToken.id).where(ApiToken.subject == slug)))


def stored_links(services: Services) -> list[ClaimLink]:
    with services.database.transaction() as session:
        found = list(session.scalars(select(ClaimLink)))
        session.expunge_all()
        return found


@pytest.mark.parametrize("body", ["json", "csv"])
def test_each_issued_row_answers_its_learner_s_claim_url(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    body: str,
) -> None:
    if body == "json":
        answer = client.post(
            "/credentials/batch",
            json=rows(approved_achievement),
            headers=issuer.headers,
        )
    else:
        answer = client.post(
            "/credentials/batch",
            data=csv_body(approved_achievement),
            content_type="text/csv",
            headers=issuer.headers,
        )

    assert answer.status_code == 200, answer.get_json()
    answered = answer.get_json()["rows"]
    assert_links_open_each_learner_s_page(client, services, answered)
    links = stored_links(services)
    # Stored as hashes only, for 90 days, made by the issuer's token.
    assert len(links) == 2
    secret = answered[0]["claimUrl"].rsplit("/", 1)[1]
    assert hashlib.sha256(secret.encode()).digest() in {
        link.secret_hash for link in links
    }
    tokens = issuer_token_ids(services, str(issuer.subject))
    for link in links:
        assert link.created_by in tokens
        assert link.expires_at - link.created_at == CLAIM_LINK_TTL


def test_a_batch_sent_again_answers_fresh_links(
    client: FlaskClient, services: Services, issuer: Caller, approved_achievement: str
) -> None:
    first = client.post(
        "/credentials/batch", json=rows(approved_achievement), headers=issuer.headers
    ).get_json()["rows"]

    again = client.post(
        "/credentials/batch", json=rows(approved_achievement), headers=issuer.headers
    ).get_json()["rows"]

    # The first answer may have been lost: the replay still lets learners in.
    assert [row.get("status") for row in again[:3]] == ["existing"] * 3
    assert_links_open_each_learner_s_page(client, services, again)
    assert again[0]["claimUrl"] != first[0]["claimUrl"]


def test_issue_batch_writes_the_claim_links_to_a_private_csv(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    cli: RunCLI,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    source = tmp_path / "class.csv"
    source.write_text(csv_body(approved_achievement), encoding="utf-8")
    links = tmp_path / "links.csv"
    mapping = tmp_path / "out.json"

    run = cli(
        "issue-batch", str(source), "--issuer", "centre-1",
        "--output", str(mapping), "--claim-links", str(links), env=env,
    )  # fmt: skip

    assert run.returncode == 1, run.stderr  # the fourth row is refused
    assert "clm_" not in run.stdout + run.stderr
    assert stat.S_IMODE(links.stat().st_mode) == 0o600
    table = list(csv.DictReader(io.StringIO(links.read_text(encoding="utf-8"))))
    issued = [row for row in json.loads(mapping.read_text()) if "id" in row]
    assert [(int(r["row"]), r["credential_id"]) for r in table] == [
        (row["row"], row["id"]) for row in issued
    ]
    answered = [
        {"id": r["credential_id"], "claimUrl": r["claim_url"]} for r in table
    ] + [{"error": "refused"}]
    assert_links_open_each_learner_s_page(client, services, answered)
    assert all(link.created_by == "cli:issue-batch" for link in stored_links(services))


def test_issue_batch_refuses_a_claim_links_file_it_cannot_write(
    services: Services,
    approved_achievement: str,
    cli: RunCLI,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    source = tmp_path / "class.csv"
    source.write_text(csv_body(approved_achievement), encoding="utf-8")

    run = cli(
        "issue-batch", str(source), "--issuer", "centre-1",
        "--claim-links", str(tmp_path / "missing" / "links.csv"), env=env,
    )  # fmt: skip

    assert "cannot write" in assert_one_line_error(run)
    assert stored_links(services) == []
