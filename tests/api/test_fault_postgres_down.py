"""PostgreSQL stopped in the middle of requests, then started again (issue 8, point 6).

The test runs a PostgreSQL of its own (initdb into a temporary directory; the
machine's shared server is never touched) and the real service on it under
`credbank serve` (gunicorn). Threads send awards and verifications while the
database is stopped with `pg_ctl stop -m immediate` and started again. Every
request that fails answers a 503 problem with Retry-After within a bound, the
same workers serve again once the database is back, every acknowledged award
exists exactly once (and so does every other one once sent again under its key),
and the log audits clean.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import create_engine, text

from api.app import create_app
from api.config import Config
from api.services import open_services
from keys.database import normalise_url
from migrations.runner import upgrade
from tests.api.conftest import CREDBANK
from tests.ci import running_in_ci
from tests.conftest import (
    TEST_MASTER_KEY,
    Caller,
    add_reviewer,
    application,
    apply,
    approve,
    award_request,
    submit,
)

# No request may take longer than this, outage or not.
REQUEST_BOUND_SECONDS = 30
THREADS = 6
OUTAGE_SECONDS = 3

pytestmark = pytest.mark.slow


def _missing(what: str) -> NoReturn:
    if running_in_ci():
        pytest.fail(f"{what}: needed by this test under CI")
    pytest.skip(what)


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if path is None:
        _missing(f"PostgreSQL's {name} is not installed")
    assert path is not None
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of this test's own, run as the postgres user when the
    test runs as root (initdb refuses root)."""

    directory: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, _postgres_bin("pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off"
        )
        log = str(self.directory / "server.log")
        self.pg_ctl("-o", options, "-l", log, "-w", "-t", "60", "start")

    def stop_immediately(self) -> None:
        # Like a crash: every backend is killed, no shutdown checkpoint.
        self.pg_ctl("-m", "immediate", "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    initdb = _postgres_bin("initdb")
    as_user: list[str] = []
    directory = Path(tempfile.mkdtemp(prefix="credbank-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(directory)
            _missing("running as root, and there is no postgres user to run initdb")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    server = PrivatePostgres(directory, _free_port(), as_user)
    subprocess.run(
        [*as_user, initdb, "-D", str(server.data), "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop_immediately()  # unless it is stopped already
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Answer:
    kind: str
    key: str
    status: int | None
    headers: dict[str, str]
    body: Any
    seconds: float
    at: float


@dataclass
class Traffic:
    """Awards and verifications from several threads, every answer kept."""

    base: str
    issuer: Caller
    achievement: str
    credential: dict[str, Any]
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, worker: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            if n % 2:
                key = f"fault-{worker}-{n}"
                body = award_request(self.achievement, idempotencyKey=key)
                self._send("award", key, "/credentials/award", body, self.issuer)
            else:
                body = {"verifiableCredential": self.credential}
                self._send("verify", "", "/credentials/verify", body, None)

    def _send(
        self, kind: str, key: str, path: str, body: Any, caller: Caller | None
    ) -> None:
        headers = {"Content-Type": "application/json"}
        if caller is not None:
            headers.update(caller.headers)
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), headers=headers
        )
        started = time.monotonic()
        status: int | None
        try:
            with urllib.request.urlopen(
                request, timeout=REQUEST_BOUND_SECONDS
            ) as response:
                status, answer_headers, data = (
                    response.status,
                    dict(response.headers),
                    response.read(),
                )
        except urllib.error.HTTPError as exc:
            status, answer_headers, data = exc.code, dict(exc.headers), exc.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            status, answer_headers, data = None, {}, str(exc).encode()
        seconds = time.monotonic() - started
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data.decode(errors="replace")
        with self.lock:
            self.answers.append(
                Answer(kind, key, status, answer_headers, parsed, seconds, started)
            )

    def successes_since(self, moment: float) -> int:
        with self.lock:
            return sum(
                1 for a in self.answers if a.at >= moment and a.status in (200, 201)
            )


def _wait_until(predicate: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _workers(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text()
    return {int(pid) for pid in children.split()}


def test_requests_fail_cleanly_and_the_service_recovers_without_a_restart(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    config = Config(
        data_dir=tmp_path / "data",
        database_url=private_postgres.url,
        base_url="http://credbank.test",
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
    )
    upgrade(config.database_url)
    services = open_services(config)
    try:
        client = create_app(config, services=services).test_client()
        reviewers = [add_reviewer(services) for _ in range(2)]
        issuer = apply(client, application(1))
        approve(client, f"/issuers/{issuer.subject}", reviewers)
        achievement = submit(client, issuer)
        approve(client, f"/achievements/{achievement}", reviewers)
    finally:
        services.close()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CREDBANK_DATA_DIR": str(config.data_dir),
        "CREDBANK_DATABASE_URL": config.database_url,
        "CREDBANK_BASE_URL": config.base_url,
        "CREDBANK_LOG_ORIGIN": config.log_origin,
        "CREDBANK_MASTER_KEY": TEST_MASTER_KEY,
        "CREDBANK_WORKERS": "1",
        "CREDBANK_THREADS": str(THREADS),
        "CREDBANK_RATE_LIMIT": "off",
    }
    server_log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(CREDBANK), "serve", "--port", str(port)],
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until(lambda: _healthy(base), 60, "credbank serve to answer")
        workers = _workers(server.pid)
        first = _post(base, "/credentials/award", award_request(achievement), issuer)
        traffic = Traffic(
            base, issuer, achievement, first["credential"]["eddsa-rdfc-2022"]
        )
        threads = [
            threading.Thread(target=traffic.run, args=(n,), daemon=True)
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        try:
            _wait_until(lambda: traffic.successes_since(0) >= 10, 60, "traffic")
            private_postgres.stop_immediately()
            time.sleep(OUTAGE_SECONDS)
            private_postgres.start()
            restarted = time.monotonic()
            _wait_until(
                lambda: traffic.successes_since(restarted) >= 10,
                60,
                "the service to serve again",
            )
        finally:
            traffic.stop.set()
            for thread in threads:
                thread.join(timeout=REQUEST_BOUND_SECONDS + 5)

        # The same processes serve: nothing was restarted.
        assert server.poll() is None
        assert _workers(server.pid) == workers
        answers = traffic.answers
        _check_answers(answers)

        # Every award the service acknowledged exists once; every other one is
        # there at most once, and sent again under its key exists exactly once.
        counts = _credentials_by_key(config.database_url)
        acknowledged = {a.key for a in answers if a.kind == "award" and a.status == 201}
        refused = {a.key for a in answers if a.kind == "award" and a.status != 201}
        assert acknowledged and refused
        assert all(counts.get(key) == 1 for key in acknowledged)
        assert all(counts.get(key, 0) <= 1 for key in refused)
        for key in sorted(refused):
            again = _post_status(
                base,
                "/credentials/award",
                award_request(achievement, idempotencyKey=key),
                issuer,
            )
            assert again in (200, 201)
        counts = _credentials_by_key(config.database_url)
        assert all(counts[key] == 1 for key in acknowledged | refused)
        assert _nothing_half_written(config.database_url)
    finally:
        server.terminate()
        server.wait(timeout=60)
        server_log.close()

    audit = subprocess.run(
        [str(CREDBANK), "log", "audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "tables match the log" in audit.stdout


def _check_answers(answers: list[Answer]) -> None:
    """Each answer a success or a 503 problem, each within the bound."""
    assert answers
    failed = [a for a in answers if a.status not in (200, 201)]
    # The outage was seen, by awards and by verifications.
    assert {a.kind for a in failed} == {"award", "verify"}, [
        (a.kind, a.status, a.body) for a in failed[:5]
    ]
    for answer in answers:
        assert answer.seconds < REQUEST_BOUND_SECONDS
        if answer.status in (200, 201):
            continue
        assert answer.status == 503, (answer.kind, answer.status, answer.body)
        assert answer.headers.get("Content-Type") == "application/problem+json"
        assert answer.headers.get("Retry-After") == "5"
        assert isinstance(answer.body, dict)
        assert answer.body["status"] == 503
        assert answer.body["type"].endswith("/problems#unavailable")
        assert "Traceback" not in json.dumps(answer.body)
    verified = [a for a in answers if a.kind == "verify" and a.status == 200]
    assert verified
    assert all(a.body["verified"] is True for a in verified)


def _credentials_by_key(url: str) -> dict[str, int]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT idempotency_key, count(*) FROM credentials "
                    "WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key"
                )
            )
            return {key: count for key, count in rows}
    finally:
        engine.dispose()


def _nothing_half_written(url: str) -> bool:
    """Every credential has its deposit and its log entry, and nothing else has."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as db:
            credentials = db.scalar(text("SELECT count(*) FROM credentials"))
            deposits = db.scalar(text("SELECT count(*) FROM credit_deposits"))
            issued = db.scalar(
                text(
                    "SELECT count(*) FROM log_entries "
                    "WHERE position('credential.issued' in convert_from(data, "
                    "'UTF8')) > 0"
                )
            )
        return bool(credentials == deposits == issued)
    finally:
        engine.dispose()


def _post(base: str, path: str, body: Any, caller: Caller) -> Any:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **caller.headers},
    )
    with urllib.request.urlopen(request, timeout=REQUEST_BOUND_SECONDS) as answer:
        return json.loads(answer.read())


def _post_status(base: str, path: str, body: Any, caller: Caller) -> int:
    try:
        _post(base, path, body, caller)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200
