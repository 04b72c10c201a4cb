"""What the benchmarks append: realistic log entries, and the service they go into.

Entries look like the ones issuance will write (DESIGN §3, §4): a credential's id and
multibase SHA-256 digest, about 190 bytes of canonical JSON.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.config import Config
from ledger import make_entry

__all__ = [
    "BASE_URL",
    "BATCH_SIZE",
    "BENCH_MASTER_KEY",
    "LOG_ORIGIN",
    "START",
    "EntryFactory",
    "bench_config",
]

# The issue fixes the batch: 256 entries per write transaction.
BATCH_SIZE = 256

# A fixed master key, for benchmarks only (64 hex digits, as the key store expects).
BENCH_MASTER_KEY = "be1c4b5e" * 8

BASE_URL = "http://credbank.bench"
LOG_ORIGIN = "credbank.bench/log"

# Entry times start here and move on one millisecond per batch, so that runs are
# reproducible and no entry depends on the clock.
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class EntryFactory:
    """Makes batches of `credential.issued` entries, the same on every run."""

    def __init__(self, seed: int = 9162) -> None:
        self._random = random.Random(seed)
        self._batches = 0

    def batch(self, size: int = BATCH_SIZE) -> tuple[datetime, list[dict[str, Any]]]:
        """The next batch's time and its entries."""
        at = START + timedelta(milliseconds=self._batches)
        self._batches += 1
        return at, [self._entry(at) for _ in range(size)]

    def _entry(self, at: datetime) -> dict[str, Any]:
        credential_id = uuid.UUID(int=self._random.getrandbits(128), version=4)
        digest = hashlib.sha256(credential_id.bytes).digest()
        return make_entry(
            "credential.issued",
            at,
            credential={
                "id": f"urn:uuid:{credential_id}",
                # Multibase base64url ('u') of the SHA-256 digest (DESIGN §4).
                "digest": "u" + base64.urlsafe_b64encode(digest).decode().rstrip("="),
            },
        )


def bench_config(data_dir: Path, database_url: str) -> Config:
    """The service configuration every benchmark opens."""
    return Config(
        data_dir=data_dir,
        database_url=database_url,
        base_url=BASE_URL,
        log_origin=LOG_ORIGIN,
        master_key=BENCH_MASTER_KEY,
    )
