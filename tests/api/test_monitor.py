"""`credbank log monitor`: following a log, and catching one that misbehaves (§3).

The honest path runs against the real app over HTTP. Misbehaviour needs a log we can
make lie, so `FakeLog` serves a log from memory with a key the test holds; each attack
then rewrites what it serves. Exit codes: 0 ok, 1 misbehaved, 2 bad input, 3 no answer.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask, Response, request

from keys import LocalSigner
from ledger import (
    Checkpoint,
    MemoryTree,
    NoteVerifier,
    canonical_entry,
    consistency_proof,
    leaf_hash,
    make_entry,
    sign_note,
)
from ledger.monitor import MonitorError, MonitorState, poll_log
from tests.api.conftest import Append, RunCLI, assert_one_line_error, serve_in_thread
from tests.conftest import NOW

FAKE_ORIGIN = "fake.test/log"


def _entry(n: int, note: str = "honest") -> bytes:
    return canonical_entry(make_entry("test.note", NOW, n=n, note=note))


def _new_signer(key_id: str) -> LocalSigner:
    return LocalSigner(key_id, ed25519.Ed25519PrivateKey.generate())


class FakeLog:
    """A log served from memory: honest until a test changes what it serves.

    Pages of entries are small (PAGE) so that the monitor has to follow them.
    """

    PAGE = 2

    def __init__(self) -> None:
        self.signer = _new_signer("k-fake")
        self.checkpoint_signer = self.signer
        self.entries: list[bytes] = []
        # Index -> bytes served by /log/entries instead of the logged ones.
        self.served_instead: dict[int, bytes] = {}
        # Path -> (status, body) served instead of the real document.
        self.raw: dict[str, tuple[int, bytes]] = {}

    def add(self, count: int) -> None:
        start = len(self.entries)
        self.entries.extend(_entry(n) for n in range(start, start + count))

    @property
    def vkey(self) -> str:
        return str(NoteVerifier.from_public_key(FAKE_ORIGIN, self.signer.public_key))

    def tree(self) -> MemoryTree:
        return MemoryTree(leaf_hash(data) for data in self.entries)

    def app(self) -> Flask:
        app = Flask(__name__)

        @app.before_request
        def override() -> Response | None:
            if request.path in self.raw:
                status, body = self.raw[request.path]
                return Response(body, status=status)
            return None

        @app.get("/log/key")
        def key() -> str:
            return self.vkey + "\n"

        @app.get("/log/checkpoint")
        def checkpoint() -> str:
            tree = self.tree()
            text = Checkpoint(FAKE_ORIGIN, tree.size, tree.root()).to_text()
            return sign_note(text, FAKE_ORIGIN, self.checkpoint_signer)

        @app.get("/log/consistency")
        def consistency() -> dict[str, Any]:
            old, new = int(request.args["from"]), int(request.args["to"])
            proof = consistency_proof(old, new, self.tree())
            return {
                "from": old,
                "to": new,
                "proof": [base64.b64encode(h).decode() for h in proof],
            }

        @app.get("/log/entries")
        def entries() -> dict[str, Any]:
            start, end = int(request.args["start"]), int(request.args["end"])
            end = min(end, len(self.entries), start + self.PAGE)
            items = []
            for index in range(start, end):
                data = self.served_instead.get(index, self.entries[index])
                items.append(
                    {
                        "index": index,
                        "data": base64.b64encode(data).decode(),
                        "entry": json.loads(data),
                    }
                )
            return {"entries": items}

        return app

    def fetch(self, path: str) -> bytes:
        """What the monitor's HTTP fetcher would return, without HTTP."""
        response = self.app().test_client().get(path)
        if response.status_code != 200:
            raise MonitorError(f"GET {path} answered {response.status_code}")
        return response.get_data()


@pytest.fixture
def fake_log() -> FakeLog:
    log = FakeLog()
    log.add(5)
    return log


@pytest.fixture
def fake_url(fake_log: FakeLog) -> Iterator[str]:
    yield from serve_in_thread(fake_log.app())


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "monitor-state.json"


def _monitor(
    cli: RunCLI, url: str, state: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return cli("log", "monitor", url, "--state", str(state), *extra)


def _state(path: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(path.read_text())
    return state


# The honest path, against the real app.


def test_monitor_follows_the_real_log(
    cli: RunCLI, live_server: str, append: Append, state_file: Path
) -> None:
    first = _monitor(cli, live_server, state_file)
    first_state = _state(state_file)
    append(5)
    append(3)
    second = _monitor(cli, live_server, state_file)
    third = _monitor(cli, live_server, state_file)

    assert first.returncode == 0, (first.stdout, first.stderr)
    assert first.stdout == (
        "ok: credbank.test/log at tree size 1 (was 0), signed and consistent\n"
    )
    assert first_state["format"] == "credbank-monitor-state/v1"
    assert first_state["size"] == 1
    assert first_state["vkey"].startswith("credbank.test/log+")
    assert second.returncode == 0, (second.stdout, second.stderr)
    assert "at tree size 9 (was 1)" in second.stdout
    assert _state(state_file)["size"] == 9
    assert third.returncode == 0
    assert "at tree size 9 (was 9)" in third.stdout


def test_monitor_state_holds_the_verified_checkpoint(
    cli: RunCLI, live_server: str, append: Append, state_file: Path
) -> None:
    append(6)

    assert _monitor(cli, live_server, state_file).returncode == 0
    state = MonitorState.from_json(_state(state_file))

    assert state.size == 7
    assert state.note.startswith("credbank.test/log\n7\n")
    assert state.root_hash == base64.b64decode(state.note.split("\n")[2])


# A log that lies. Rewritten history goes through the installed script; the other
# attacks call `api.cli.main` in this process (the same code, without a process start).


def test_rewritten_history_is_caught(
    cli: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    assert _monitor(cli, fake_url, state_file).returncode == 0
    before = state_file.read_bytes()
    # A different entry at an old index, signed by the same key, with more after it.
    fake_log.entries[2] = _entry(2, note="rewritten")
    fake_log.add(2)

    result = _monitor(cli, fake_url, state_file)

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout.startswith(
        "log misbehaved: checkpoint at size 7 is not consistent with the one at size 5"
    )
    assert state_file.read_bytes() == before


def test_same_size_with_another_root_is_caught(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    assert _monitor(run_main, fake_url, state_file).returncode == 0
    fake_log.entries[4] = _entry(4, note="rewritten")

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1
    assert result.stdout == (
        "log misbehaved: two different roots signed for tree size 5\n"
    )


def test_shrinking_tree_is_caught(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    assert _monitor(run_main, fake_url, state_file).returncode == 0
    del fake_log.entries[3:]

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1
    assert result.stdout == (
        "log misbehaved: log shrank: expected tree size >= 5, got 3\n"
    )


def test_checkpoint_signed_by_another_key_is_caught(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    assert _monitor(run_main, fake_url, state_file).returncode == 0
    fake_log.add(1)
    fake_log.checkpoint_signer = _new_signer("k-intruder")

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1
    assert result.stdout == (
        "log misbehaved: checkpoint rejected: note is not signed by any trusted key\n"
    )


def test_log_that_swaps_its_key_is_caught(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    assert _monitor(run_main, fake_url, state_file).returncode == 0
    # The key document changes too: the state file's pinned key still rules.
    fake_log.signer = fake_log.checkpoint_signer = _new_signer("k-new")
    fake_log.add(1)

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1
    assert "checkpoint rejected: note is not signed by any trusted key" in result.stdout


def test_entries_that_do_not_hash_to_the_root_are_caught(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    assert _monitor(run_main, fake_url, state_file).returncode == 0
    before = state_file.read_bytes()
    fake_log.add(3)
    # The checkpoint and the consistency proof stay honest; one entry served is not.
    fake_log.served_instead[6] = _entry(6, note="altered")

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1
    assert result.stdout == (
        "log misbehaved: entries 5..7 do not hash to the root of the checkpoint at "
        "size 8\n"
    )
    assert state_file.read_bytes() == before


def test_first_sight_of_altered_entries_is_caught(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    fake_log.served_instead[0] = _entry(0, note="altered")

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1
    assert "entries 0..4 do not hash to the root" in result.stdout
    assert not state_file.exists()


def test_pinned_key_of_another_log_is_refused(
    run_main: RunCLI, fake_url: str, state_file: Path
) -> None:
    other = NoteVerifier.from_public_key(FAKE_ORIGIN, _new_signer("k").public_key)

    result = _monitor(run_main, fake_url, state_file, "--vkey", str(other))

    assert result.returncode == 1
    assert "checkpoint rejected: note is not signed by any trusted key" in result.stdout
    assert not state_file.exists()


def test_pinned_key_of_the_log_is_accepted(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    result = _monitor(run_main, fake_url, state_file, "--vkey", fake_log.vkey)

    assert result.returncode == 0, (result.stdout, result.stderr)
    assert _state(state_file)["vkey"] == fake_log.vkey


def test_server_errors_are_misbehaviour(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    fake_log.raw["/log/checkpoint"] = (500, b"oops")

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1
    assert result.stdout == "log misbehaved: GET /log/checkpoint answered 500\n"


def test_a_checkpoint_that_is_not_text_is_misbehaviour(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    fake_log.raw["/log/checkpoint"] = (200, b"\xff\xfe not utf-8 \x80")

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == (
        "log misbehaved: GET /log/checkpoint answered something that is not UTF-8\n"
    )
    assert "Traceback" not in result.stderr


def test_a_malformed_published_key_is_misbehaviour(
    run_main: RunCLI, fake_log: FakeLog, fake_url: str, state_file: Path
) -> None:
    fake_log.raw["/log/key"] = (200, b"this is not a key\n")

    result = _monitor(run_main, fake_url, state_file)

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == (
        "log misbehaved: published key rejected: expected a verifier key "
        "name+hex8+base64\n"
    )
    assert "Traceback" not in result.stderr


def test_polls_repeat_at_the_interval(
    run_main: RunCLI, fake_url: str, state_file: Path
) -> None:
    result = _monitor(run_main, fake_url, state_file, "--interval", "1", "--polls", "2")

    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "ok: fake.test/log at tree size 5 (was 0), signed and consistent",
        "ok: fake.test/log at tree size 5 (was 5), signed and consistent",
    ]


# No answer, or bad input.


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_log_exits_3(cli: RunCLI, state_file: Path) -> None:
    result = _monitor(cli, f"http://127.0.0.1:{_closed_port()}", state_file)

    assert result.returncode == 3, (result.stdout, result.stderr)
    assert result.stderr.startswith("cannot read the log: GET /log/key: ")
    assert len(result.stderr.splitlines()) == 1
    assert not state_file.exists()


@pytest.mark.parametrize(
    "url", ["ftp://example.org", "example.org", "http://", "localhost:8000", ""]
)
def test_malformed_url_exits_2(run_main: RunCLI, url: str, state_file: Path) -> None:
    line = assert_one_line_error(
        run_main("log", "monitor", url, "--state", str(state_file))
    )

    assert line == f"credbank: error: expected an http(s) URL, got {url!r}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ("{}", "monitor state is malformed"),
        ('{"format": "other"}', "expected state format credbank-monitor-state/v1"),
    ],
)
def test_malformed_state_file_exits_2(
    run_main: RunCLI, fake_url: str, state_file: Path, content: str, message: str
) -> None:
    state_file.write_text(content)

    line = assert_one_line_error(
        run_main("log", "monitor", fake_url, "--state", str(state_file))
    )

    assert message in line


def test_state_whose_border_does_not_match_its_root_exits_2(
    run_main: RunCLI, fake_url: str, state_file: Path
) -> None:
    assert (
        run_main("log", "monitor", fake_url, "--state", str(state_file)).returncode == 0
    )
    state = _state(state_file)
    state["rootHash"] = base64.b64encode(bytes(32)).decode()
    state_file.write_text(json.dumps(state))

    line = assert_one_line_error(
        run_main("log", "monitor", fake_url, "--state", str(state_file))
    )

    assert line.endswith("monitor state's border does not match its root")


def test_state_in_a_missing_directory_exits_2(
    run_main: RunCLI, fake_url: str, tmp_path: Path
) -> None:
    state = tmp_path / "absent" / "state.json"

    line = assert_one_line_error(
        run_main("log", "monitor", fake_url, "--state", str(state))
    )

    assert line == f"credbank: error: cannot write {state}: No such file or directory"


def test_state_that_is_a_directory_exits_2(
    run_main: RunCLI, fake_url: str, tmp_path: Path
) -> None:
    line = assert_one_line_error(
        run_main("log", "monitor", fake_url, "--state", str(tmp_path))
    )

    assert line == f"credbank: error: cannot read {tmp_path}: Is a directory"


def test_malformed_pinned_key_exits_2(
    run_main: RunCLI, fake_url: str, state_file: Path
) -> None:
    line = assert_one_line_error(
        run_main(
            "log", "monitor", fake_url, "--state", str(state_file), "--vkey", "a+b"
        )
    )

    assert line == "credbank: error: expected a verifier key name+hex8+base64"


# poll_log itself, with an in-process fetch.


def test_poll_log_from_nothing_and_onwards(fake_log: FakeLog) -> None:
    first = poll_log(fake_log.fetch, None, None)
    fake_log.add(4)
    second = poll_log(fake_log.fetch, first.state, None)

    assert (first.old_size, first.checkpoint.size) == (0, 5)
    assert (second.old_size, second.checkpoint.size) == (5, 9)
    assert second.state.root_hash == fake_log.tree().root()
    assert MonitorState.from_json(second.state.to_json()) == second.state


def test_poll_log_refuses_a_pinned_key_that_differs_from_the_state(
    fake_log: FakeLog,
) -> None:
    state = poll_log(fake_log.fetch, None, None).state
    other = NoteVerifier.from_public_key(FAKE_ORIGIN, _new_signer("k").public_key)

    with pytest.raises(MonitorError, match="--vkey differs from the key pinned"):
        poll_log(fake_log.fetch, state, str(other))


def test_poll_log_refuses_entry_bytes_that_are_not_canonical(
    fake_log: FakeLog,
) -> None:
    fake_log.served_instead[3] = b'{"v":1, "kind":"test.note","at":"x"}'

    with pytest.raises(MonitorError, match="not in RFC 8785 canonical form"):
        poll_log(fake_log.fetch, None, None)


def test_poll_log_refuses_entries_out_of_order(fake_log: FakeLog) -> None:
    page = fake_log.fetch("/log/entries?start=0&end=2")
    body = json.loads(page)
    body["entries"].reverse()
    fake_log.raw["/log/entries"] = (200, json.dumps(body).encode())

    with pytest.raises(MonitorError, match="expected entry index 0, got 1"):
        poll_log(fake_log.fetch, None, None)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/log/entries", b'{"entries": []}', "log returned no entries from index 0"),
        ("/log/entries", b"[1, 2]", "malformed entries page at 0"),
        ("/log/entries", b"<html>", "log answered something that is not JSON"),
        ("/log/consistency", b'{"from": 1, "to": 6, "proof": []}', "other tree sizes"),
        ("/log/consistency", b'{"from": 5, "to": 6, "proof": ["!"]}', "malformed"),
    ],
)
def test_poll_log_refuses_malformed_documents(
    fake_log: FakeLog, path: str, body: bytes, message: str
) -> None:
    state = None
    if path == "/log/consistency":
        state = poll_log(fake_log.fetch, None, None).state
        fake_log.add(1)
    fake_log.raw[path] = (200, body)

    with pytest.raises(MonitorError, match=message):
        poll_log(fake_log.fetch, state, None)
