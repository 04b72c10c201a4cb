"""`credbank serve`, started as a user starts it: development server and gunicorn."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from api.config import Config
from api.services import Services
from ledger import NoteVerifier, open_checkpoint
from tests.api.conftest import CREDBANK, RunCLI, assert_one_line_error

START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def _wait_for(process: subprocess.Popen[str], url: str) -> tuple[int, str]:
    """GET `url` once the server answers; fail if it exits or never answers."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"server exited with {process.returncode}: {err}")
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail(f"no answer from {url} within {START_TIMEOUT} s")


Server = tuple[str, subprocess.Popen[str]]


def _serve(env: dict[str, str], *args: str) -> Iterator[Server]:
    """Start `credbank serve` on a free port; stop it (SIGTERM) afterwards."""
    port = _free_port()
    process = subprocess.Popen(
        [str(CREDBANK), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture
def dev_server(env: dict[str, str], migrated: Config) -> Iterator[Server]:
    yield from _serve(env, "--dev")


@pytest.fixture
def gunicorn_server(env: dict[str, str], migrated: Config) -> Iterator[Server]:
    yield from _serve({**env, "CREDBANK_WORKERS": "1"})


def test_dev_server_answers_healthz(
    dev_server: Server,
) -> None:
    url, process = dev_server

    status, body = _wait_for(process, f"{url}/healthz")

    assert status == 200
    assert body.strip() == '{"status":"ok"}'


def test_gunicorn_serves_a_checkpoint_that_verifies(
    gunicorn_server: Server,
) -> None:
    url, process = gunicorn_server

    status, note = _wait_for(process, f"{url}/log/checkpoint")
    _, key = _get(f"{url}/log/key")
    checkpoint = open_checkpoint(note, NoteVerifier.parse(key))

    assert status == 200
    assert checkpoint.origin == "credbank.test/log"
    assert checkpoint.size == 1


def test_serve_refuses_a_wrong_master_key_before_starting(
    cli: RunCLI, env: dict[str, str], services: Services
) -> None:
    wrong = {**env, "CREDBANK_MASTER_KEY": "ee" * 32}

    line = assert_one_line_error(
        cli("serve", "--port", str(_free_port()), env=wrong, timeout=30)
    )

    assert "the master key does not open key" in line
