"""Opening the service: database, key store and log, checked before any request.

Everything that can be wrong at start (unmigrated database, missing or wrong master
key, a changed log origin) fails here with a `CredbankError`, never later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from api.config import Config
from api.metrics import MetricsListener, count_log_entries
from credits.bank import CreditBank
from issuers.catalogue import Catalogue
from issuers.issuance import Issuance
from issuers.registry import Registry, key_added_entry
from keys import (
    ED25519,
    Database,
    DatabaseNotReadyError,
    KeyStore,
    StoredKey,
    load_master_key,
)
from ledger import TransparencyLog
from migrations.runner import current_revision, head_revision

__all__ = ["LOG_KEY_OWNER", "Services", "open_services"]

LOG_KEY_OWNER = "log"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What every request and command needs, opened once per process."""

    config: Config
    database: Database
    keystore: KeyStore
    log: TransparencyLog
    registry: Registry
    catalogue: Catalogue
    issuance: Issuance
    bank: CreditBank

    def close(self) -> None:
        self.database.dispose()


def open_services(config: Config, *, now: datetime | None = None) -> Services:
    """Open the database and key store, creating the log key on first start."""
    now = now or datetime.now(UTC)
    database = Database(config.database_url)
    try:
        check_schema(database)
        with database.transaction(write=True) as session:
            empty = session.scalar(select(func.count()).select_from(StoredKey)) == 0
            master_key = load_master_key(
                config.master_key, config.master_key_file, store_is_empty=empty
            )
            keystore = KeyStore(master_key)
            keystore.check_master_key(session)

            key = keystore.active_key(session, LOG_KEY_OWNER)
            created = key is None
            if key is None:
                key = keystore.create_key(
                    session, owner=LOG_KEY_OWNER, algorithm=ED25519, now=now
                )
            log = TransparencyLog(
                config.log_origin, keystore.signer(key), on_append=count_log_entries
            )
            log.initialise(session, now=now)
            if created:
                log.append(session, [key_added_entry(key, now)], now=now)
    except BaseException:
        database.dispose()
        raise
    registry = Registry(log, keystore, config.base_url, config.review_quorum)
    catalogue = Catalogue(registry)
    # The credit bank deposits and withdraws in the issuance's transactions.
    bank = CreditBank(log, config.trusted_platforms)
    return Services(
        config,
        database,
        keystore,
        log,
        registry,
        catalogue,
        Issuance(catalogue, listeners=(bank, MetricsListener())),
        bank,
    )


def check_schema(database: Database) -> None:
    """Refuse a database that is not migrated to this code's newest revision."""
    expected = head_revision()
    try:
        with database.engine.connect() as connection:
            actual = current_revision(connection)
    except (OperationalError, ProgrammingError) as exc:
        raise DatabaseNotReadyError(
            f"cannot open the database: {exc.orig.__class__.__name__}"
        ) from exc
    if actual != expected:
        raise DatabaseNotReadyError(
            f"expected database revision {expected}, got {actual}: "
            "run `credbank db upgrade`"
        )
