"""The gunicorn worker class of `credbank serve`: gthread, fair between workers.

gunicorn's gthread worker accepts every connection it is offered and keeps it
alive between requests. All workers wait on one listening socket, so when a
worker exits (max_requests, a timeout) its kept-alive clients reconnect to the
workers left, and the worker started in its place gets no connection for as long
as they keep sending; when clients connect at once (a proxy opening its pool, a
load generator) the first worker to wake can take most of them. Measured on two
cores with 32 keep-alive clients: one worker of two busy, half the throughput,
for whole minutes.

`ThreadWorker` changes two things:

- It takes a new connection at once only while one of its threads is free to
  serve it; a busy worker leaves the listening socket to the others, as
  gunicorn's sync worker does by nature. A busy worker still takes a waiting
  connection after a short delay that grows with the connections it holds
  (`ACCEPT_DELAY_PER_CONNECTION`, at most `MAX_ACCEPT_DELAY`), so no client waits
  in the listen queue for long and the worker holding fewer takes it first.
- While requests wait for its threads, it answers one of them with
  "Connection: close" every `HAND_BACK_INTERVAL`; that client connects again and
  lands on whichever worker has room. Connections drift to where they are served
  fastest, a replaced worker gets its share within seconds, and a worker keeping
  up with its clients keeps them.

The connections a worker holds are otherwise served as gthread serves them:
requests on them queue for its threads, and idle kept-alive connections wait in
its poller and hold no thread.

It overrides four methods of gunicorn's gthread worker (`enqueue_req`,
`finish_request` and `set_accept_enabled` on the worker's main thread, where the
counts change; `handle_request` on a pool thread, which only reads them).
pyproject.toml pins the gunicorn series they belong to; tests/api/test_serve.py
checks that a replaced worker gets its share of 16 kept-alive clients.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers import gthread

__all__ = [
    "ACCEPT_DELAY_PER_CONNECTION",
    "HAND_BACK_INTERVAL",
    "MAX_ACCEPT_DELAY",
    "ThreadWorker",
]

# How long a worker with no free thread leaves a waiting connection to the
# others, per connection it holds, and at most (seconds).
ACCEPT_DELAY_PER_CONNECTION = 0.0005
MAX_ACCEPT_DELAY = 0.01
# How often a worker with requests waiting for a thread closes one of its
# kept-alive connections after answering on it (seconds).
HAND_BACK_INTERVAL = 0.25


class ThreadWorker(gthread.ThreadWorker):  # type: ignore[misc]
    """gthread that takes new connections while it has room, and hands some back
    while it has not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Requests handed to the thread pool and not finished yet.
        self.in_flight = 0
        # When this worker last stopped accepting because no thread was free.
        self.busy_since = 0.0
        # When this worker last closed a kept-alive connection to hand it back.
        self.last_handed_back = 0.0

    def enqueue_req(self, conn: Any) -> None:
        self.in_flight += 1
        if self.in_flight >= self.cfg.threads and self._accepting:
            self.busy_since = time.monotonic()
            super().set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        # The main loop asks to accept again on its next turn
        # (set_accept_enabled below), now that a thread is free.
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def handle_request(self, req: Any, conn: Any) -> Any:
        # Runs on a pool thread: the counts it reads may be a moment old, which
        # is as good as exact for spreading connections.
        now = time.monotonic()
        waiting = self.in_flight > self.cfg.threads  # requests wait for a thread
        if waiting and now - self.last_handed_back >= HAND_BACK_INTERVAL:
            # The answer says "Connection: close" (RFC 9112 §9.6); the client's
            # next connection goes to whichever worker takes it first.
            self.last_handed_back = now
            req.must_close = True
        return super().handle_request(req, conn)

    def set_accept_enabled(self, enabled: bool) -> None:
        if enabled and self.in_flight >= self.cfg.threads:
            delay = min(ACCEPT_DELAY_PER_CONNECTION * self.nr_conns, MAX_ACCEPT_DELAY)
            enabled = time.monotonic() - self.busy_since >= delay
        super().set_accept_enabled(enabled)
