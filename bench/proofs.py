"""Timing inclusion and consistency proofs at the size the growth run reached.

Each proof is timed two ways: in a read transaction of its own (what one HTTP request
costs: session, BEGIN, the head read, the node read, COMMIT) and inside one read
transaction shared by all the calls (the proof's own queries only). The targets are
checked against the first. For scale, the head read alone is timed in a transaction
of its own too: the floor under any request that reads the log. Indexes and sizes
are drawn at random, so the proofs have the lengths a follower of the log would see.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from api.services import Services
from bench.workload import BATCH_SIZE
from ledger import leaf_hash, verify_consistency, verify_inclusion

__all__ = ["check_proofs", "time_proofs"]

# Calls made before timing starts: fills the statement cache and the page cache, as
# on a server that has been up for a while.
WARM_UP_CALLS = 50

# How many proofs `check_proofs` verifies before anything is timed.
CHECKED_PROOFS = 20

# `TransparencyLog.inclusion_proof(session, index, size)` or
# `TransparencyLog.consistency_proof(session, old_size, new_size)`.
_ProofMethod = Callable[[Session, int, int], object]


def time_proofs(services: Services, samples: int, seed: int = 2) -> dict[str, Any]:
    """Median and tail latencies of random inclusion and consistency proofs."""
    log, database = services.log, services.database
    with database.transaction() as session:
        size = log.head(session).size
    rng = random.Random(seed)

    inclusion, consistency = [], []
    for _ in range(WARM_UP_CALLS + samples):
        tree = rng.randint(1, size)
        inclusion.append((rng.randrange(tree), tree))
        new = rng.randint(1, size)
        consistency.append((rng.randint(1, new), new))
    return {
        "size": size,
        "samples": samples,
        "inclusion": _time_both(services, log.inclusion_proof, inclusion),
        "consistency": _time_both(services, log.consistency_proof, consistency),
        "head_only": _time_own(services, _read_head(services), inclusion),
    }


def check_proofs(services: Services, seed: int = 1) -> None:
    """Verify some proofs against signed checkpoints, so that what is timed is right.

    The service's own entry comes first; then every batch of the growth run signed
    a checkpoint, at sizes 1 + k * BATCH_SIZE.
    """
    log, database = services.log, services.database
    rng = random.Random(seed)
    with database.transaction() as session:
        batches = (log.head(session).size - 1) // BATCH_SIZE
        for _ in range(CHECKED_PROOFS):
            new = log.checkpoint(session, 1 + rng.randint(1, batches) * BATCH_SIZE)
            old = log.checkpoint(session, 1 + rng.randint(0, batches) * BATCH_SIZE)
            old, new = sorted((old, new), key=lambda c: c.tree_size)

            index = rng.randrange(new.tree_size)
            (entry,) = log.read_entries(session, index, index + 1)
            proof = log.inclusion_proof(session, index, new.tree_size)
            verify_inclusion(
                leaf_hash(entry.data), index, new.tree_size, proof, new.root_hash
            )
            proof = log.consistency_proof(session, old.tree_size, new.tree_size)
            verify_consistency(
                old.tree_size, new.tree_size, proof, old.root_hash, new.root_hash
            )


def _time_both(
    services: Services, method: _ProofMethod, calls: list[tuple[int, int]]
) -> dict[str, dict[str, float]]:
    return {
        "own_transaction": _time_own(services, method, calls),
        "shared_transaction": _time_shared(services, method, calls),
    }


def _time_own(
    services: Services, method: _ProofMethod, calls: list[tuple[int, int]]
) -> dict[str, float]:
    durations = []
    for first, second in calls:
        started = time.perf_counter()
        with services.database.transaction() as session:
            method(session, first, second)
        durations.append(time.perf_counter() - started)
    return _latencies(durations[WARM_UP_CALLS:])


def _time_shared(
    services: Services, method: _ProofMethod, calls: list[tuple[int, int]]
) -> dict[str, float]:
    durations = []
    with services.database.transaction() as session:
        for first, second in calls:
            started = time.perf_counter()
            method(session, first, second)
            durations.append(time.perf_counter() - started)
    return _latencies(durations[WARM_UP_CALLS:])


def _read_head(services: Services) -> _ProofMethod:
    def read_head(session: Session, _first: int, _second: int) -> object:
        return services.log.head(session)

    return read_head


def _latencies(durations: list[float]) -> dict[str, float]:
    ordered = sorted(durations)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p90_ms": cuts[89] * 1000,
        "p99_ms": cuts[98] * 1000,
        "max_ms": ordered[-1] * 1000,
    }
