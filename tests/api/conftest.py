"""Fixtures for the HTTP API and the command line: a live server, the CLI, appends."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from api.cli import main
from api.services import Services
from ledger import make_entry
from tests.conftest import NOW

CREDBANK = Path(sys.executable).parent / "credbank"

RunCLI = Callable[..., subprocess.CompletedProcess[str]]
Append = Callable[[int], list[int]]


class _QuietHandler(WSGIRequestHandler):
    # Keeps werkzeug's access log out of the output the CLI tests read.
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def serve_in_thread(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 until the generator is closed."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app served over real HTTP; yields its base URL."""
    yield from serve_in_thread(app)


@pytest.fixture
def cli() -> RunCLI:
    """Run the installed `credbank` console script; returns the finished process."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CREDBANK), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def run_main(capsys: pytest.CaptureFixture[str]) -> RunCLI:
    """Run `api.cli.main` in this process (fast; same error handling as the script).

    The environment is this process's; tests that need a database use `cli`.
    """

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        out, err = capsys.readouterr()
        code = exited.value.code
        return subprocess.CompletedProcess(
            list(args), code if isinstance(code, int) else 1, out, err
        )

    return run


@pytest.fixture
def append(services: Services) -> Append:
    """Append `count` test entries in one batch (one checkpoint); return indexes."""
    counter = iter(range(1_000_000))

    def add(count: int) -> list[int]:
        entries = [
            make_entry("test.note", NOW, n=next(counter), note="entry for a test")
            for _ in range(count)
        ]
        with services.database.transaction(write=True) as session:
            return services.log.append(session, entries, now=NOW)

    return add


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The CLI's contract for bad input: exit 2, one line on stderr, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("credbank: error: ")
    return lines[0]
