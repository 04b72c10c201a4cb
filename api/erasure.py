"""Erasing a learner everywhere, for `POST /learners/<id>/erasure` and
`credbank learner erase` (issue 8).

One write transaction does it all: issuers.erasure destroys the personal data and
logs `learner.erased`; then every way in to the learner's account closes: their
claim links, unused consent codes and pending DID challenges are deleted and their
tokens revoked. The copies kept of credentials they deposited from other platforms
(which name them) are dropped; their credentials, deposits and committed transfers
stay: they hold no personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, null, update

from api.auth import LEARNER, ApiToken
from api.services import Services
from credits.models import ConsentCode, Deposit
from issuers.erasure import Erasure, erase_learner, reclaim_erased_space
from wallet.claim_links import revoke_claim_links
from wallet.holder_did import DIDChallenge

__all__ = ["erase_learner_everywhere"]

logger = logging.getLogger(__name__)


def erase_learner_everywhere(
    app: Services, learner_id: str, *, reason: str, now: datetime
) -> Erasure:
    """Erase the learner (or answer their earlier erasure, changing nothing)."""
    with app.database.transaction(write=True) as session:
        erasure = erase_learner(session, app.log, learner_id, reason=reason, now=now)
        if not erasure.created:
            return erasure
        links = revoke_claim_links(session, learner_id)
        session.execute(
            delete(ConsentCode).where(
                ConsentCode.learner_id == learner_id, ConsentCode.used_at.is_(None)
            )
        )
        session.execute(
            delete(DIDChallenge).where(DIDChallenge.learner_id == learner_id)
        )
        # Another platform's credential names its subject; the deposit's credits,
        # unit and digest stay, as for credentials issued here.
        session.execute(
            update(Deposit)
            .where(Deposit.learner_id == learner_id, Deposit.credential.is_not(None))
            .values(credential=null())
        )
        session.execute(
            update(ApiToken)
            .where(
                ApiToken.role == LEARNER,
                ApiToken.subject == learner_id,
                ApiToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    reclaim_erased_space(app.database)
    logger.info("learner %s: %d claim links deleted, tokens revoked", learner_id, links)
    return erasure
