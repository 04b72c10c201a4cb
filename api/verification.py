"""Running the verification procedure against this service's registry and log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from api.services import Services
from credits.bank import trusted_hosts
from keys.database import RowReader
from verify.facts import NO_FACTS
from verify.local import ServiceFacts, service_resolver
from verify.procedure import verify_credential
from verify.resolver import Resolver
from verify.result import VerificationResult

__all__ = [
    "JSON_TOO_DEEP",
    "MAX_DEPTH",
    "allowed_hosts",
    "service_facts",
    "too_deep",
    "verify_here",
    "verify_offline",
]

# Real credentials nest six or seven levels deep; a wallet a few more.
MAX_DEPTH = 32
JSON_TOO_DEEP = f"expected JSON nested at most {MAX_DEPTH} levels deep"


def verify_here(
    app: Services,
    given: Any,
    *,
    now: datetime | None = None,
    learner_names: bool = True,
) -> VerificationResult:
    """Verify `given` with everything this service knows, in one read.

    `learner_names=False` leaves the learner out of the summary (the VC-API does
    not show it), which saves decrypting it.
    """
    with service_facts(app, learner_names=learner_names) as facts:
        resolver = service_resolver(facts, app.config.base_url, allowed_hosts(app))
        return verify_credential(
            given, resolver=resolver, facts=facts, now=now or datetime.now(UTC)
        )


@contextmanager
def service_facts(
    app: Services, *, learner_names: bool = False
) -> Iterator[ServiceFacts]:
    """This service's facts: read on a driver connection from the pool
    (`Database.reading`), or, to show learners' names (the ORM decrypts them), in
    a session's transaction."""
    if not learner_names:
        with app.database.reading() as reader:
            yield ServiceFacts(
                reader,
                base_url=app.config.base_url,
                log=app.log,
                keystore=app.keystore,
            )
        return
    with app.database.transaction() as session:
        yield ServiceFacts(
            RowReader.of_session(session),
            base_url=app.config.base_url,
            log=app.log,
            keystore=app.keystore,
            session=session,
        )


def verify_offline(given: Any, *, now: datetime | None = None) -> VerificationResult:
    """Verify with only what `given` carries: did:key issuers, no status, no log."""
    return verify_credential(
        given, resolver=Resolver(), facts=NO_FACTS, now=now or datetime.now(UTC)
    )


def allowed_hosts(app: Services) -> tuple[str, ...]:
    """did:web hosts verification may fetch: the configured allow-list, and the
    hosts of the platforms the credit bank trusts."""
    return app.config.did_web_hosts + trusted_hosts(app.config.trusted_platforms)


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in `value` nest deeper than `limit`, found by an
    iterative walk (a recursive one is what deep nesting attacks). Only containers
    are queued, told apart by exact type first: parsed JSON has no other kinds."""
    if not isinstance(value, dict | list):
        return False
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            kind = type(child)
            if (
                kind is dict
                or kind is list
                or (kind is not str and isinstance(child, dict | list))
            ):
                pending.append((child, depth + 1))
    return False
