"""Running the verification procedure against this service's registry and log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.services import Services
from verify.facts import NO_FACTS
from verify.local import ServiceFacts, service_resolver
from verify.procedure import verify_credential
from verify.resolver import Resolver
from verify.result import VerificationResult

__all__ = ["verify_here", "verify_offline"]


def verify_here(
    app: Services, given: Any, *, now: datetime | None = None
) -> VerificationResult:
    """Verify `given` with everything this service knows, in one read transaction."""
    with app.database.transaction() as session:
        facts = ServiceFacts(
            session,
            base_url=app.config.base_url,
            log=app.log,
            keystore=app.keystore,
        )
        resolver = service_resolver(
            facts, app.config.base_url, app.config.did_web_hosts
        )
        return verify_credential(
            given, resolver=resolver, facts=facts, now=now or datetime.now(UTC)
        )


def verify_offline(given: Any, *, now: datetime | None = None) -> VerificationResult:
    """Verify with only what `given` carries: did:key issuers, no status, no log."""
    return verify_credential(
        given, resolver=Resolver(), facts=NO_FACTS, now=now or datetime.now(UTC)
    )
