"""Prometheus metrics at GET /metrics: requests, latencies, issuance and the log.

Requests are counted by URL rule (never the raw path), method and status. Domain
events are counted once each, where they happen, and only when their transaction
commits: the issuance listener and the log's append hook add to a tally kept in the
session's `info`, which the session's `after_commit` event hands to the counters
(and `after_rollback` drops). The log's size and the age of its newest checkpoint
are read from the database at scrape time, so every worker answers the same.

Under gunicorn the counters live in prometheus_client's multiprocess files, one set
per worker in a directory the serve command makes; a scrape sums them all, and a
worker's files are folded into an archive when it exits. Instruments are made in
the process that builds the app (a worker), never in gunicorn's master.
"""

from __future__ import annotations

import glob
import logging
import os
from collections import Counter as Tally
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from issuers.issuance import IssuedCredential
from keys import Database
from ledger.models import LogCheckpoint

__all__ = [
    "MULTIPROC_ENV",
    "MetricsListener",
    "count_log_entries",
    "enable_metrics",
    "exposition",
    "observe_request",
    "retire_worker_files",
    "use_multiprocess_dir",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Seconds. From a cached checkpoint (~1 ms) to a 10,000-row batch (tens of s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# Any other method (a client may send any token) is counted as "other".
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_TALLY_KEY = "credbank_metrics"
# prometheus_client's multiprocess file, which has no typed interface.
_MMAP_FILE: Any = MmapedDict
_ISSUED, _STATUS, _ENTRIES = "issued", "status", "entries"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Instruments:
    requests: Counter
    latency: Histogram
    issued: Counter
    status_changes: Counter
    log_entries: Counter
    registry: CollectorRegistry


_instruments: _Instruments | None = None
# (route, method, status) -> (requests child, latency child): labels() takes a
# lock and builds a tuple; a dict lookup is cheaper on every request.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def use_multiprocess_dir(directory: Path) -> None:
    """Keep this process's (and its children's) counters in `directory`."""
    if _instruments is not None:
        raise RuntimeError("metrics were made before their directory was chosen")
    os.environ[MULTIPROC_ENV] = str(directory)
    # NOTE: prometheus_client picks its value storage when it is first imported,
    # which the `credbank` command does before `serve` can choose the directory.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def enable_metrics() -> None:
    """Make the instruments, once per process (called by `create_app`)."""
    global _instruments
    if _instruments is not None:
        return
    registry = CollectorRegistry(auto_describe=False)
    _instruments = _Instruments(
        requests=Counter(
            "credbank_http_requests",
            "HTTP requests answered, by URL rule, method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        ),
        latency=Histogram(
            "credbank_http_request_duration_seconds",
            "Time from the first request hook to the response, by URL rule.",
            ["endpoint", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        issued=Counter(
            "credbank_credentials_issued",
            "Credentials issued, by securing format: a credential issued in two "
            "formats counts once in each.",
            ["format"],
            registry=registry,
        ),
        status_changes=Counter(
            "credbank_credential_status_changes",
            "Credential status changes, by the status set.",
            ["status"],
            registry=registry,
        ),
        log_entries=Counter(
            "credbank_log_entries",
            "Entries appended to the transparency log, by kind "
            "(credits.deposited, transfer.committed, ...).",
            ["kind"],
            registry=registry,
        ),
        registry=registry,
    )


def observe_request(
    route: str, method: str, status: int, seconds: float | None
) -> None:
    """Count one response and observe its latency (api/logs.py's hook calls it)."""
    method = method if method in _METHODS else "other"
    key = (route, method, status)
    children = _children.get(key)
    if children is None:
        assert _instruments is not None, "enable_metrics() was not called"
        children = (
            _instruments.requests.labels(route, method, str(status)),
            _instruments.latency.labels(route, method),
        )
        _children[key] = children
    children[0].inc()
    if seconds is not None:
        children[1].observe(seconds)


class MetricsListener:
    """An issuance listener that tallies new credentials and status changes."""

    def on_issued(
        self,
        session: Session,
        issued: Sequence[tuple[IssuedCredential, Mapping[str, Any]]],
        now: datetime,
    ) -> list[Any]:
        tally = _tally(session)
        for record, _ in issued:
            for form in record.secured:
                tally[(_ISSUED, form)] += 1
        return []

    def on_status_changed(
        self, session: Session, record: IssuedCredential, now: datetime
    ) -> list[Any]:
        _tally(session)[(_STATUS, record.status)] += 1
        return []


def count_log_entries(session: Session, entries: Sequence[Mapping[str, Any]]) -> None:
    """The log's append hook: tally the entries by kind."""
    tally = _tally(session)
    for entry in entries:
        tally[(_ENTRIES, str(entry.get("kind")))] += 1


def exposition(
    database: Database, now: datetime, accept: str = ""
) -> tuple[bytes, str]:
    """Every worker's metrics, summed, and their media type.

    The format follows the scraper's Accept header: Prometheus text 0.0.4 unless
    it asks for text 1.0.0 or OpenMetrics.
    """
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    elif _instruments is not None:
        registry.register(_instruments.registry)
    registry.register(_LogCollector(database, now))
    encode, media_type = choose_encoder(accept)
    return encode(registry), media_type


def retire_worker_files(directory: Path, pid: int) -> None:
    """Fold an exited worker's counters into the archive files, then drop them.

    Without this, every worker gunicorn restarts (max_requests) would leave files
    that each scrape reads again. A scrape running at that very moment may count
    the worker's values twice or not at all, once.
    """
    for path in glob.glob(str(directory / f"*_{pid}.db")):
        kind = Path(path).name.split("_", 1)[0]
        if kind not in {"counter", "histogram"}:
            os.remove(path)
            continue
        archive = _MMAP_FILE(str(directory / f"{kind}_archive.db"))
        try:
            # Rows are (key, value, timestamp, position).
            rows = _MMAP_FILE.read_all_values_from_file(path)
            for key, value, *_ in rows:
                total, _ = archive.read_value(key)
                archive.write_value(key, total + value, 0.0)
        finally:
            archive.close()
        os.remove(path)


class _LogCollector:
    """The log's size and the age of its newest checkpoint, read at scrape time."""

    def __init__(self, database: Database, now: datetime) -> None:
        self._database = database
        self._now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "credbank_database_up", "1 when the database answered this scrape."
        )
        try:
            with self._database.transaction() as session:
                # Every append signs a checkpoint at the new head: the largest
                # checkpoint is the head.
                row = session.execute(
                    select(LogCheckpoint.tree_size, LogCheckpoint.signed_at)
                    .order_by(LogCheckpoint.tree_size.desc())
                    .limit(1)
                ).first()
        except SQLAlchemyError as exc:
            logger.warning("metrics: database unavailable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        if row is None:
            return
        yield GaugeMetricFamily(
            "credbank_log_tree_size",
            "Entries in the transparency log (its newest checkpoint's size).",
            value=row.tree_size,
        )
        yield GaugeMetricFamily(
            "credbank_log_checkpoint_age_seconds",
            "Seconds since the newest checkpoint was signed.",
            value=(self._now - _aware(row.signed_at, self._now)).total_seconds(),
        )


def _tally(session: Session) -> Tally[tuple[str, str]]:
    tally: Tally[tuple[str, str]] | None = session.info.get(_TALLY_KEY)
    if tally is None:
        tally = session.info[_TALLY_KEY] = Tally()
    return tally


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    # A savepoint's commit fires this event too; its events wait for the
    # outer transaction.
    if session.in_nested_transaction():
        return
    tally: Tally[tuple[str, str]] | None = session.info.pop(_TALLY_KEY, None)
    if not tally or _instruments is None:
        return
    counters = {
        _ISSUED: _instruments.issued,
        _STATUS: _instruments.status_changes,
        _ENTRIES: _instruments.log_entries,
    }
    for (family, label), count in tally.items():
        counters[family].labels(label).inc(count)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_TALLY_KEY, None)


def _aware(moment: datetime, now: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=now.tzinfo)
