"""Demo data for `make run`: seeded into an empty database, never twice.

For now the demo is a handful of log entries; later features extend it with issuers,
credentials and transfers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from api.services import Services
from ledger import make_entry, parse_entry

__all__ = ["seed_demo"]

# Entries the service writes for itself at first start; a log holding only these is
# still empty as far as the demo is concerned.
_BOOTSTRAP_KINDS = {"key.added"}

_DEMO_NOTES = (
    "Demo log entry: the review committee's first meeting",
    "Demo log entry: a training provider applies",
    "Demo log entry: a course is submitted for review",
)

logger = logging.getLogger(__name__)


def seed_demo(services: Services, *, now: datetime) -> bool:
    """Seed the demo if the database is empty; return whether anything was written."""
    log = services.log
    with services.database.transaction(write=True) as session:
        size = log.head(session).size
        if size and not _only_bootstrap(services, size):
            return False
        entries = [
            make_entry("demo.note", now, n=n, note=note)
            for n, note in enumerate(_DEMO_NOTES, start=1)
        ]
        log.append(session, entries, now=now)
    logger.info("seeded demo data")
    return True


def _only_bootstrap(services: Services, size: int) -> bool:
    with services.database.transaction() as session:
        rows = services.log.read_entries(session, 0, size)
    return len(rows) == size and all(
        parse_entry(row.data)["kind"] in _BOOTSTRAP_KINDS for row in rows
    )
