"""`credbank serve`, started as a user starts it: development server and gunicorn."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import gunicorn.config
import pytest
from gunicorn import glogging
from prometheus_client.parser import text_string_to_metric_families

from api.config import Config
from api.logs import JSONFormatter
from api.serve import gunicorn_settings
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


@contextmanager
def _serve(env: dict[str, str], *args: str, quiet: bool = False) -> Iterator[Server]:
    """Start `credbank serve` on a free port; stop it (SIGTERM) afterwards.

    `quiet` sends its output nowhere: a load of requests writes more access lines
    than a pipe nobody reads while it runs can hold.
    """
    port = _free_port()
    output = subprocess.DEVNULL if quiet else subprocess.PIPE
    process = subprocess.Popen(
        [str(CREDBANK), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        env=env,
        stdout=output,
        stderr=output,
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
    with _serve(env, "--dev") as server:
        yield server


@pytest.fixture
def gunicorn_server(env: dict[str, str], migrated: Config) -> Iterator[Server]:
    with _serve({**env, "CREDBANK_WORKERS": "1"}) as server:
        yield server


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


# Production settings (issue 8): the configuration, the workers, their metrics.

GUNICORN = Path(sys.executable).parent / "gunicorn"


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait_for_workers(pid: int, count: int) -> list[int]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if len(_children(pid)) >= count:
            time.sleep(0.5)  # then count again: no more than `count` may start
            return _children(pid)
        time.sleep(0.2)
    pytest.fail(f"expected {count} workers within {START_TIMEOUT} s")


def _metrics_dir_of(pids: list[int]) -> Path:
    """The metrics directory, from the files a worker that counted holds open."""
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = Path(fd.readlink())
            except OSError:
                continue
            if target.parent.name.startswith("credbank-metrics-"):
                return target.parent
    pytest.fail("no worker holds a metrics file open")


def _metrics(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    _, text = _get(f"{url}/metrics")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _healthz_count(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float],
) -> float:
    labels = frozenset(
        {"endpoint": "/healthz", "method": "GET", "status": "200"}.items()
    )
    return samples.get(("credbank_http_requests_total", labels), 0.0)


def test_gunicorn_settings_follow_the_configuration(tmp_path: Path) -> None:
    config = Config.from_env(
        {
            "CREDBANK_WORKERS": "5",
            "CREDBANK_THREADS": "3",
            "CREDBANK_LOG_FORMAT": "json",
            "CREDBANK_LOG_LEVEL": "warning",
            "CREDBANK_FORWARDED_ALLOW_IPS": "10.0.0.0/8, 192.0.2.7",
        }
    )

    settings = gunicorn_settings(config, tmp_path, owned=False)

    assert settings["workers"] == 5
    assert settings["threads"] == 3
    assert settings["worker_class"] == "api.workers.ThreadWorker"
    assert settings["preload_app"] is False
    assert settings["max_requests"] == 200_000
    assert settings["max_requests_jitter"] == 20_000
    assert settings["graceful_timeout"] < settings["timeout"]
    assert settings["forwarded_allow_ips"] == "10.0.0.0/8,192.0.2.7"
    assert settings["accesslog"] is None
    assert settings["logger_class"] == "api.serve.GunicornLogger"
    assert settings["loglevel"] == "warning"
    assert settings["logconfig_dict"]["root"]["level"] == "WARNING"
    assert settings["logconfig_dict"]["formatters"]["credbank"] == {"()": JSONFormatter}
    # gunicorn calls these with (server, worker) and (server).
    settings["on_exit"](None)
    assert tmp_path.exists()  # not ours to remove


def test_gunicorn_formats_no_access_line_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = gunicorn_settings(Config.from_env({}), tmp_path, owned=False)
    cfg = gunicorn.config.Config()
    for name in ("accesslog", "logger_class", "logconfig_dict", "errorlog"):
        cfg.set(name, settings[name])
    formatted: list[object] = []
    monkeypatch.setattr(
        glogging.Logger, "atoms", lambda *args: formatted.append(args) or {}
    )
    request_time = timedelta(milliseconds=3)

    cfg.logger_class(cfg).access(None, None, {}, request_time)
    assert formatted == []
    # gunicorn's own logger, with the same settings, would have formatted one.
    glogging.Logger(cfg).access(None, None, {}, request_time)
    assert len(formatted) == 1


def test_the_config_file_reads_the_environment(env: dict[str, str]) -> None:
    script = (
        "import json, os, api.gunicorn_conf as c; "
        "print(json.dumps([c.workers, c.threads, c.worker_class, c.keepalive, "
        "os.environ['PROMETHEUS_MULTIPROC_DIR']])); c.on_exit(None)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "CREDBANK_WORKERS": "7", "CREDBANK_THREADS": "2"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    workers, threads, worker_class, keepalive, directory = json.loads(done.stdout)
    assert (workers, threads, keepalive) == (7, 2, 5)
    assert worker_class == "api.workers.ThreadWorker"
    assert Path(directory).name.startswith("credbank-metrics-")
    assert not Path(directory).exists()  # removed by on_exit


def test_gunicorn_runs_the_app_from_its_config_file(
    env: dict[str, str], migrated: Config
) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "-c",
            "python:api.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "api.wsgi:app",
        ],
        env={**env, "CREDBANK_WORKERS": "3"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, _ = _wait_for(process, f"http://127.0.0.1:{port}/healthz")
        workers = _wait_for_workers(process.pid, 3)
        samples = _metrics(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.communicate(timeout=30)

    assert status == 200
    assert len(workers) == 3
    assert samples[("credbank_database_up", frozenset())] == 1
    assert samples[("credbank_log_tree_size", frozenset())] == 1


def test_serve_runs_the_configured_workers_and_sums_their_counts(
    env: dict[str, str], migrated: Config
) -> None:
    requests = 20
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(CREDBANK), "serve", "--port", str(port)],
        env={
            **env,
            "CREDBANK_WORKERS": "2",
            "CREDBANK_LOG_FORMAT": "json",
            # Each worker exits after 4 requests: the counts of workers that are
            # gone must stay in the sum.
            "GUNICORN_CMD_ARGS": "--max-requests 4 --max-requests-jitter 0",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(process, f"{url}/healthz")
        workers = _wait_for_workers(process.pid, 2)
        directory = _metrics_dir_of(workers)
        ids = []
        for n in range(requests):
            request = urllib.request.Request(
                f"{url}/healthz", headers={"X-Request-ID": f"count-{n}"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                ids.append(response.headers["X-Request-ID"])
        samples = _metrics(url)
        files = sorted(path.name for path in directory.glob("*.db"))
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)

    assert len(workers) == 2
    assert ids == [f"count-{n}" for n in range(requests)]
    assert _healthz_count(samples) == requests + 1
    lines = [json.loads(line) for line in stderr.splitlines()]
    booted = [line for line in lines if "Booting worker" in line["message"]]
    assert len(booted) > 2  # workers were replaced while the requests ran
    access = [line["requestId"] for line in lines if line["logger"] == "api.access"]
    assert set(ids) <= set(access)
    # Exited workers' files were folded into the archives, not left behind.
    assert "counter_archive.db" in files
    assert len([name for name in files if name.startswith("counter_")]) <= 1 + 2
    assert not directory.exists()  # removed when the master exited


def _connections_held(pid: int, port: int) -> int:
    """Established TCP connections to `port` whose socket process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    held = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        # State 01 is ESTABLISHED (include/net/tcp_states.h).
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            held += 1
    return held


def test_a_replaced_worker_gets_its_share_of_kept_alive_connections(
    env: dict[str, str], migrated: Config
) -> None:
    # api/workers.py. With gunicorn's own gthread worker, the clients of a worker
    # that exits reconnect to the one left, which keeps them alive for as long
    # as they send; the worker started in its place then gets no connection.
    clients = 16
    quiet_env = {
        **env,
        "CREDBANK_WORKERS": "2",
        "CREDBANK_THREADS": "2",
        "CREDBANK_RATE_LIMIT": "off",
    }
    start = threading.Barrier(clients + 1)
    stop = threading.Event()
    answers: list[int] = []

    def client(port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start.wait()
        while not stop.is_set():
            try:
                connection.request("GET", "/log/checkpoint")
                response = connection.getresponse()
                response.read()
            except ConnectionError:
                connection.close()  # closed by an exiting worker: connect again
                continue
            answers.append(response.status)
        connection.close()

    with _serve(quiet_env, quiet=True) as (url, process):
        port = int(url.rsplit(":", 1)[1])
        threads = [
            threading.Thread(target=client, args=(port,)) for _ in range(clients)
        ]
        try:
            _wait_for(process, f"{url}/healthz")
            first, second = _wait_for_workers(process.pid, 2)
            for thread in threads:
                thread.start()
            start.wait()
            time.sleep(1.0)
            os.kill(first, signal.SIGTERM)
            deadline = time.monotonic() + START_TIMEOUT
            while len(workers := _children(process.pid)) != 2 or first in workers:
                assert time.monotonic() < deadline, "the worker was not replaced"
                time.sleep(0.1)
            (replacement,) = set(workers) - {second}
            time.sleep(3.0)
            held = {pid: _connections_held(pid, port) for pid in (second, replacement)}
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=20)

    assert set(answers) == {200}
    # 8 of 16 would be an even share; some are reconnecting at any moment.
    assert held[replacement] >= 3, held
    assert sum(held.values()) >= clients - 2, held
