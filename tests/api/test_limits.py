"""Rate limits, trusted proxies and request size caps (api/limits.py, issue 8).

The limiter does not touch the database, so most tests here run on SQLite only,
each with an app of its own and the limit it needs. The Redis tests use the real
server at 127.0.0.1:6379 (`.ci/run` starts it), each under a key prefix of its own
that it deletes afterwards.
"""

from __future__ import annotations

import dataclasses
import io
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.config import DEFAULT_RATE_LIMIT, Config
from api.limits import DEFAULT_BODY_BYTES
from api.services import Services, open_services
from api.verification import MAX_DEPTH, too_deep
from keys.errors import ConfigError
from migrations.runner import upgrade
from tests.ci import running_in_ci
from tests.conftest import NOW, TEST_MASTER_KEY, Caller

REDIS_URL = "redis://127.0.0.1:6379/0"
BATCH_BYTES = 16 * 1024 * 1024

MakeApp = Callable[..., Flask]


@pytest.fixture
def sqlite_services(tmp_path: Path) -> Iterator[Services]:
    config = _config(tmp_path)
    upgrade(config.database_url)
    opened = open_services(config, now=NOW)
    yield opened
    opened.close()


@pytest.fixture
def make_app(tmp_path: Path, sqlite_services: Services) -> MakeApp:
    """An app over one SQLite database, with the settings the test gives."""

    def make(**settings: Any) -> Flask:
        config = dataclasses.replace(_config(tmp_path), **settings)
        app = create_app(config, services=sqlite_services)
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The local Redis; skipped without it, except under CI=true (a failure)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if running_in_ci():
            pytest.fail(f"Redis is not answering at {REDIS_URL}; .ci/run starts it")
        pytest.skip(f"needs Redis at {REDIS_URL}")
    yield REDIS_URL
    client.close()


def _config(tmp_path: Path) -> Config:
    return Config(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'credbank.sqlite3'}",
        base_url="http://credbank.test",
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
    )


def _units(client: FlaskClient, address: str = "192.0.2.10", **kw: Any) -> Any:
    return client.get("/units/ECTS", environ_overrides={"REMOTE_ADDR": address}, **kw)


# The limit itself


def test_a_public_endpoint_answers_429_past_the_limit_as_a_problem(
    make_app: MakeApp,
) -> None:
    client = make_app(rate_limit="3/minute").test_client()

    answers = [_units(client).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    refused = _units(client)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert body["status"] == 429
    assert body["title"] == "Too Many Requests"
    assert body["detail"].startswith("expected at most 3/minute requests")
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60


def test_the_budget_is_shared_by_every_public_endpoint_and_kept_per_address(
    make_app: MakeApp,
) -> None:
    client = make_app(rate_limit="3/minute").test_client()
    env = {"REMOTE_ADDR": "192.0.2.10"}

    assert client.get("/log/key", environ_overrides=env).status_code == 200
    assert client.get("/issuers", environ_overrides=env).status_code == 200
    assert _units(client).status_code == 200
    assert client.get("/verify", environ_overrides=env).status_code == 429
    assert _units(client, "192.0.2.11").status_code == 200


def test_the_limit_resets_when_its_window_ends(make_app: MakeApp) -> None:
    client = make_app(rate_limit="2 per 2 seconds").test_client()

    assert [_units(client).status_code for _ in range(3)] == [200, 200, 429]
    wait = int(_units(client).headers["Retry-After"])
    assert 1 <= wait <= 2
    time.sleep(wait + 0.1)

    assert _units(client).status_code == 200


def test_authenticated_endpoints_and_healthz_are_not_counted(
    make_app: MakeApp,
) -> None:
    client = make_app(rate_limit="2/minute").test_client()

    for _ in range(5):
        # No token: a 401 from the view, not a 429 from the limiter.
        assert client.post("/credentials/award", json={}).status_code == 401
        assert client.get("/reviews/pending").status_code == 401
        assert client.get("/healthz").status_code == 200

    assert [_units(client).status_code for _ in range(3)] == [200, 200, 429]


def test_off_turns_every_limit_off(make_app: MakeApp) -> None:
    client = make_app(rate_limit=None).test_client()

    assert {_units(client).status_code for _ in range(50)} == {200}


def test_the_default_limit_is_generous_for_one_address(make_app: MakeApp) -> None:
    client = make_app().test_client()

    assert {_units(client).status_code for _ in range(120)} == {200}
    assert DEFAULT_RATE_LIMIT == "600/minute"


# Whose address


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    make_app: MakeApp,
) -> None:
    client = make_app(rate_limit="2/minute").test_client()

    answers = [
        _units(client, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(3)
    ]

    assert answers == [200, 200, 429]


def test_behind_one_proxy_the_address_it_saw_is_the_client(
    make_app: MakeApp,
) -> None:
    client = make_app(rate_limit="2/minute", proxies=1).test_client()
    proxy = "10.0.0.5"

    # Each client gets a budget of its own, named by the proxy's own entry (the
    # last); what a client wrote before it is not believed.
    for client_address in ("198.51.100.1", "198.51.100.2"):
        forwarded = {"X-Forwarded-For": f"203.0.113.99, {client_address}"}
        answers = [
            _units(client, proxy, headers=forwarded).status_code for _ in range(3)
        ]
        assert answers == [200, 200, 429]


# Redis


def _redis_config(
    tmp_path: Path, redis_url: str, prefix: str, **settings: Any
) -> Config:
    return dataclasses.replace(
        _config(tmp_path),
        redis_url=redis_url,
        log_origin=f"{prefix}.test/log",
        **settings,
    )


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A log origin no other test uses, whose counters are deleted afterwards."""
    prefix = f"limits-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_two_apps_sharing_redis_count_together(
    tmp_path: Path, sqlite_services: Services, redis_url: str, redis_prefix: str
) -> None:
    config = _redis_config(tmp_path, redis_url, redis_prefix, rate_limit="4/minute")
    first = create_app(config, services=sqlite_services).test_client()
    second = create_app(config, services=sqlite_services).test_client()

    answers = [_units(app).status_code for app in (first, second, first, second)]
    assert answers == [200, 200, 200, 200]

    assert _units(first).status_code == 429
    assert _units(second).status_code == 429
    stored = redis.Redis.from_url(redis_url)
    keys = [key.decode() for key in stored.scan_iter(match=f"*{redis_prefix}*")]
    stored.close()
    assert len(keys) == 1
    assert "192.0.2.10" in keys[0]


def test_another_deployment_on_the_same_redis_counts_apart(
    tmp_path: Path, sqlite_services: Services, redis_url: str, redis_prefix: str
) -> None:
    ours = _redis_config(tmp_path, redis_url, redis_prefix, rate_limit="2/minute")
    theirs = dataclasses.replace(ours, log_origin=f"{redis_prefix}.other.test/log")
    first = create_app(ours, services=sqlite_services).test_client()
    other = create_app(theirs, services=sqlite_services).test_client()

    assert [_units(first).status_code for _ in range(3)] == [200, 200, 429]
    assert _units(other).status_code == 200


def test_with_redis_down_each_process_counts_in_memory(make_app: MakeApp) -> None:
    # Nothing listens on port 1: the limiter falls back, and the service answers.
    client = make_app(
        rate_limit="2/minute", redis_url="redis://127.0.0.1:1/0"
    ).test_client()

    assert [_units(client).status_code for _ in range(3)] == [200, 200, 429]


# Settings


def test_rate_limit_and_proxies_are_read_from_the_environment() -> None:
    config = Config.from_env(
        {"CREDBANK_RATE_LIMIT": "100/minute;10/second", "CREDBANK_PROXIES": "2"}
    )

    assert config.rate_limit == "100/minute;10/second"
    assert config.proxies == 2
    assert Config.from_env({}).rate_limit == DEFAULT_RATE_LIMIT
    assert Config.from_env({}).proxies == 0
    assert Config.from_env({"CREDBANK_RATE_LIMIT": "off"}).rate_limit is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CREDBANK_RATE_LIMIT", "fast", "expected a rate such as '600/minute'"),
        ("CREDBANK_RATE_LIMIT", "600/fortnight", "expected a rate such as"),
        ("CREDBANK_PROXIES", "-1", "expected a whole number, got '-1'"),
        ("CREDBANK_PROXIES", "one", "expected a whole number, got 'one'"),
        ("CREDBANK_REDIS_URL", "http://cache:6379", "got http://"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=f"{name}: .*{message}"):
        Config.from_env({name: value})


def test_a_redis_password_stays_out_of_the_message() -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env({"CREDBANK_REDIS_URL": "mysql://user:s3cret@cache/0"})

    assert "s3cret" not in str(refused.value)


# Request size caps


def _post(client: FlaskClient, path: str, size: int, **kw: Any) -> Any:
    return client.post(path, data=b" " * size, content_type="application/json", **kw)


@pytest.mark.parametrize(
    "path",
    [
        "/credentials/award",
        "/credentials/issue",
        "/credentials/verify",
        "/presentations/verify",
        "/issuers",
        "/learners/learner-1/deposits",
    ],
)
def test_json_endpoints_refuse_more_than_one_mebibyte(
    make_app: MakeApp, path: str
) -> None:
    client = make_app(rate_limit=None).test_client()

    refused = _post(client, path, DEFAULT_BODY_BYTES + 1)
    allowed = _post(client, path, DEFAULT_BODY_BYTES)

    assert refused.status_code == 413
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 413
    assert refused.get_json()["detail"].startswith(
        f"expected at most {DEFAULT_BODY_BYTES} bytes"
    )
    # At the cap the body is read: an empty JSON document, or no token.
    assert allowed.status_code in {400, 401}


def test_a_batch_may_be_sixteen_mebibytes_and_no_more(make_app: MakeApp) -> None:
    client = make_app(rate_limit=None).test_client()

    refused = _post(client, "/credentials/batch", BATCH_BYTES + 1)
    allowed = _post(client, "/credentials/batch", 4 * DEFAULT_BODY_BYTES)

    assert refused.status_code == 413
    assert refused.get_json()["detail"] == (
        f"expected at most {BATCH_BYTES} bytes, got {BATCH_BYTES + 1}"
    )
    assert allowed.status_code == 401


def test_a_chunked_body_is_cut_off_at_the_cap(make_app: MakeApp) -> None:
    # No Content-Length to check first: the stream itself stops at the cap.
    client = make_app(rate_limit=None).test_client()

    answer = client.post(
        "/issuers",
        input_stream=io.BytesIO(b"[" + b" " * (2 * DEFAULT_BODY_BYTES) + b"]"),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert answer.status_code == 413
    assert answer.mimetype == "application/problem+json"


def test_the_verification_page_keeps_its_own_answer_to_a_large_upload(
    make_app: MakeApp,
) -> None:
    client = make_app(rate_limit=None).test_client()

    answer = client.post(
        "/verify",
        data={"credential": "x" * (DEFAULT_BODY_BYTES + 10)},
        headers={"Accept-Language": "en"},
    )

    assert answer.status_code == 413
    assert answer.mimetype == "text/html"


# JSON nesting


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("depth", [33, 5_000, 100_000])
def test_a_schema_endpoint_refuses_json_nested_too_deep(
    make_app: MakeApp, depth: int
) -> None:
    client = make_app(rate_limit=None).test_client()

    answer = client.post(
        "/issuers", data=_nested(depth), content_type="application/json"
    )

    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {
        "body": ["expected JSON nested at most 32 levels deep"]
    }


@pytest.mark.parametrize("path", ["/credentials/issue", "/credentials/batch"])
def test_issuance_refuses_json_nested_too_deep(
    client: FlaskClient, issuer: Caller, path: str
) -> None:
    deep = b'{"credential": ' + _nested(40) + b"}"
    if path.endswith("batch"):
        deep = b"[" + _nested(40) + b"]"

    for body in (deep, b"[" * 100_000 + b"]" * 100_000):
        answer = client.post(
            path, data=body, content_type="application/json", headers=issuer.headers
        )
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert "nested at most 32 levels" in answer.get_json()["detail"]


def _containers(depth: int, kind: str) -> Any:
    """A value whose containers nest exactly `depth` levels, with scalars beside."""
    value: Any = "leaf"
    for level in range(depth):
        value = {"n": value, "s": "x", "i": level} if kind == "dict" else [1, value]
    return value


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_nesting_is_counted_by_containers_up_to_the_limit(kind: str) -> None:
    assert not too_deep(_containers(MAX_DEPTH, kind))
    assert too_deep(_containers(MAX_DEPTH + 1, kind))
    # The deepest branch counts, wherever it is.
    assert too_deep({"a": [_containers(MAX_DEPTH - 1, kind)], "b": 1})
    assert not too_deep("just a string")
    assert not too_deep(_containers(3, kind), limit=3)
    assert too_deep(_containers(4, kind), limit=3)
