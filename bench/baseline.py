"""The baseline every append rate is divided by: INSERT-only writes of the same rows.

A batch of the baseline stores the canonical bytes of 256 entries like the log's, in
a plain table shaped like log_entries (no nodes, no hashing, no checkpoint), in one
write transaction of the same `Database`: same engine, same pragmas, same lock, same
commit and fsync. It is the floor that storing the entries at all costs on this
machine at this moment, so the ratio of the log's rate to it cancels out most of what
a shared, noisy machine does to both (CPU steal, disk latency).
"""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, Table, insert

from bench.workload import BATCH_SIZE, EntryFactory
from keys.database import Database
from ledger import canonical_entry

__all__ = ["BaselineTable"]

_metadata = MetaData()

# Kept apart from the service's tables: not in the declarative base, no migration.
_baseline = Table(
    "bench_baseline",
    _metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)


class BaselineTable:
    """The plain table, created on first use in the benchmark's own database."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._entries = EntryFactory(seed=8259)
        self._size = 0
        _metadata.create_all(database.engine)

    def time_batches(self, count: int) -> list[float]:
        """Insert `count` batches, one write transaction each; their durations."""
        durations = []
        for _ in range(count):
            _, entries = self._entries.batch()
            rows = [
                {"idx": self._size + i, "data": canonical_entry(entry)}
                for i, entry in enumerate(entries)
            ]

            started = time.perf_counter()
            with self._database.transaction(write=True) as session:
                session.execute(insert(_baseline), rows)
            durations.append(time.perf_counter() - started)

            self._size += BATCH_SIZE
        return durations
