"""GET /metrics (DESIGN §9): requests by URL rule, latencies, issuance counted once
per credential when its transaction commits, and the log read at scrape time.

The counters belong to the test process and every test adds to them, so each test
compares two scrapes, read back with prometheus_client's own parser.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import exposition
from api.services import Services
from keys import Database
from ledger import make_entry
from ledger.models import LogCheckpoint
from tests.conftest import NOW, Caller, award, award_request, logged, tree_size

RDFC, JWT = "eddsa-rdfc-2022", "vc+jwt"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def scrape(client: FlaskClient) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=0.0.4")
    return parse(answer.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_requests_are_counted_by_url_rule_never_by_path(client: FlaskClient) -> None:
    before = scrape(client)

    for n in range(3):
        client.get(f"/credentials/urn:uuid:00000000-0000-0000-0000-00000000000{n}")
    client.get("/no/such/page")
    text = client.get("/metrics").get_data(as_text=True)
    after = parse(text)

    rule = "/credentials/<path:credential_id>"
    assert (
        grew(
            before,
            after,
            "credbank_http_requests_total",
            endpoint=rule,
            method="GET",
            status="404",
        )
        == 3
    )
    assert (
        grew(
            before,
            after,
            "credbank_http_request_duration_seconds_count",
            endpoint=rule,
            method="GET",
        )
        == 3
    )
    assert (
        grew(
            before,
            after,
            "credbank_http_requests_total",
            endpoint="unmatched",
            method="GET",
            status="404",
        )
        == 1
    )
    assert "urn:uuid:" not in text
    assert "/no/such/page" not in text


def test_a_method_outside_http_s_usual_ones_is_counted_as_other(
    client: FlaskClient,
) -> None:
    before = scrape(client)

    answer = client.open("/healthz", method="BREW")
    after = scrape(client)

    assert answer.status_code == 405
    assert (
        grew(
            before,
            after,
            "credbank_http_requests_total",
            endpoint="unmatched",  # a 405 matched no rule
            method="other",
            status="405",
        )
        == 1
    )


def test_latency_lands_in_the_buckets_and_the_sum(client: FlaskClient) -> None:
    before = scrape(client)

    client.get("/healthz")
    after = scrape(client)

    labels = {"endpoint": "/healthz", "method": "GET"}
    name = "credbank_http_request_duration_seconds"
    assert grew(before, after, f"{name}_bucket", le="+Inf", **labels) == 1
    assert grew(before, after, f"{name}_bucket", le="60.0", **labels) == 1
    assert 0 < grew(before, after, f"{name}_sum", **labels) < 60


def test_a_batch_counts_each_credential_once_per_format(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    start = tree_size(services)
    before = scrape(client)

    rows = [
        award_request(approved_achievement, formats=[RDFC, JWT], idempotencyKey=k)
        for k in ("a", "b", "c")
    ]
    answer = client.post("/credentials/batch", json=rows, headers=issuer.headers)
    again = client.post("/credentials/batch", json=rows, headers=issuer.headers)
    after = scrape(client)

    assert answer.get_json()["issued"] == 3
    assert again.get_json()["existing"] == 3
    name = "credbank_credentials_issued_total"
    assert grew(before, after, name, format=RDFC) == 3
    assert grew(before, after, name, format=JWT) == 3
    assert grew(before, after, name, format="eddsa-jcs-2022") == 0
    kinds = [entry["kind"] for entry in logged(services, start)]
    assert kinds.count("credential.issued") == 3
    for kind in set(kinds):
        assert grew(
            before, after, "credbank_log_entries_total", kind=kind
        ) == kinds.count(kind)


def test_status_changes_are_counted_by_the_status_set(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    credential_id = award(client, issuer, award_request(approved_achievement))["id"]
    before = scrape(client)

    for action in ("suspend", "reinstate", "revoke"):
        answer = client.post(
            "/credentials/status",
            json={"credentialId": credential_id, "action": action, "reason": "test"},
            headers=issuer.headers,
        )
        assert answer.status_code == 200, answer.get_json()
    refused = client.post(
        "/credentials/status",
        json={"credentialId": credential_id, "action": "suspend", "reason": "test"},
        headers=issuer.headers,
    )
    after = scrape(client)

    assert refused.status_code == 409
    name = "credbank_credential_status_changes_total"
    assert grew(before, after, name, status="suspended") == 1
    assert grew(before, after, name, status="active") == 1
    assert grew(before, after, name, status="revoked") == 1
    assert grew(before, after, "credbank_log_entries_total", kind="status.changed") == 3


def test_only_committed_entries_are_counted(
    client: FlaskClient, services: Services
) -> None:
    entry = make_entry("test.counted", NOW)
    before = scrape(client)

    with (
        pytest.raises(RuntimeError, match="abandon"),
        services.database.transaction(write=True) as session,
    ):
        services.log.append(session, [entry], now=NOW)
        raise RuntimeError("abandon")
    with (
        pytest.raises(RuntimeError, match="abandon"),
        services.database.transaction(write=True) as session,
    ):
        # A savepoint's commit is not the transaction's.
        with session.begin_nested():
            services.log.append(session, [entry], now=NOW)
        raise RuntimeError("abandon")
    with (
        services.database.transaction(write=True) as session,
        session.begin_nested(),
    ):
        services.log.append(session, [entry, entry], now=NOW)
    after = scrape(client)

    assert grew(before, after, "credbank_log_entries_total", kind="test.counted") == 2


def test_log_size_and_checkpoint_age_come_from_the_database(
    client: FlaskClient, services: Services
) -> None:
    with services.database.transaction() as session:
        newest = services.log.latest_checkpoint(session)
        signed_at = newest.signed_at
    if signed_at.tzinfo is None:  # SQLite gives back naive UTC
        signed_at = signed_at.replace(tzinfo=NOW.tzinfo)

    body, media_type = exposition(services.database, signed_at + timedelta(seconds=90))
    samples = parse(body.decode())

    assert value(samples, "credbank_database_up") == 1
    assert value(samples, "credbank_log_tree_size") == tree_size(services)
    assert value(samples, "credbank_log_checkpoint_age_seconds") == 90
    assert isinstance(newest, LogCheckpoint)
    assert media_type == "text/plain; version=0.0.4; charset=utf-8"


def test_the_scrape_answers_when_the_database_does_not(tmp_path: Path) -> None:
    gone = Database(f"sqlite:///{tmp_path / 'missing' / 'credbank.sqlite3'}")

    samples = parse(exposition(gone, NOW)[0].decode())

    assert value(samples, "credbank_database_up") == 0
    assert ("credbank_log_tree_size", frozenset()) not in samples
    gone.dispose()
