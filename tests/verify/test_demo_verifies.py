"""The demo's credentials verify: issued in the same second as the accreditation."""

from __future__ import annotations

from api.demo import seed_demo
from api.services import Services
from api.verification import verify_here
from issuers.issuance import get_credential
from tests.conftest import NOW


def test_every_demo_credential_is_valid_in_every_form(services: Services) -> None:
    # A time with microseconds, as datetime.now() gives: log entries keep whole
    # seconds, the registry's tables keep microseconds.
    seeded = seed_demo(services, now=NOW.replace(microsecond=654_321))
    assert seeded is not None

    for credential_id in seeded.credential_ids:
        with services.database.transaction() as session:
            secured = dict(get_credential(session, credential_id).secured)
        for form, credential in secured.items():
            result = verify_here(services, credential, now=NOW)

            lines = {c.check: c.code for c in result.checks}
            assert result.verdict == "valid", (form, lines)
            # Accreditation and award share a timestamp: the log's order decides.
            assert lines["issuer"] == "issuer.accredited"
