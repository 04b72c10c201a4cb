"""The one SQLAlchemy declarative base, engines, and transactions.

Write transactions are serialised database-wide, because every change of state appends
to the transparency log (DESIGN §3): on SQLite they open with `BEGIN IMMEDIATE`, on
PostgreSQL they take a transaction-scoped advisory lock first. Read transactions take no
lock.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, Dialect, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

__all__ = [
    "Base",
    "Database",
    "RowReader",
    "as_utc",
    "is_database_unavailable",
    "is_storage_full",
    "normalise_url",
]

# Any fixed 64-bit number will do; it only has to differ from other applications'
# advisory locks on the same PostgreSQL database. ASCII "credbank".
WRITE_LOCK_ID = 0x6372656462616E6B

# Seconds a writer waits for another writer before giving up.
LOCK_TIMEOUT_SECONDS = 30

# Seconds to wait for a PostgreSQL server that does not answer a connection
# (libpq's connect_timeout; a refused connection fails at once anyway).
CONNECT_TIMEOUT_SECONDS = 10

# PostgreSQL's disk_full condition (Appendix A, PostgreSQL Error Codes).
_PG_DISK_FULL = "53100"

_WRITE_OPTION = "credbank_write"

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Declarative base shared by every package's tables."""


def normalise_url(url: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for plain PostgreSQL URLs."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


class Database:
    """An engine plus the transaction discipline described in the module docstring."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = _create_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Session]:
        """Yield a session inside one transaction; commit on success.

        With `write=True` the transaction holds the database-wide write lock from its
        first statement, so that a read-then-append sequence cannot be overtaken.
        """
        session = self._sessions()
        try:
            if write:
                connection = session.connection(execution_options={_WRITE_OPTION: True})
                if not self.is_sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"),
                        {"id": WRITE_LOCK_ID},
                    )
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[RowReader]:
        """A read on a pooled driver connection, with no ORM session: for hot
        paths that only read (verification), where the session's own work costs
        more than their queries. It reads as `transaction()` does: from one
        snapshot on SQLite; on PostgreSQL each statement from its own snapshot, as
        read committed does, but outside a transaction block (autocommit), which
        saves the BEGIN and COMMIT round trips."""
        dialect = self.engine.dialect
        pooled = self._raw_connection()
        driver = pooled.driver_connection
        try:
            reader = RowReader(dialect, driver)
            if self.is_sqlite:
                # pysqlite's own transaction handling is off (_configure_sqlite).
                reader.rows("BEGIN", ())
            else:
                # No BEGIN or COMMIT (see above): a pipeline of reads
                # (RowReader.rows_together) then costs one round trip in all.
                driver.autocommit = True
            yield reader
            reader.commit()
        except DBAPIError as exc:
            # A connection the server dropped is not put back (as SQLAlchemy's
            # own execution does for a session).
            cause: Any = exc.orig
            if dialect.is_disconnect(cause, pooled.driver_connection, None):
                pooled.invalidate(cause)
            raise
        finally:
            if not self.is_sqlite and not driver.closed:
                driver.autocommit = False
            # Back to the pool, which rolls back a transaction left open.
            pooled.close()

    def _raw_connection(self) -> Any:
        """A pooled DBAPI connection; a failure to connect comes as SQLAlchemy's
        error, which the API answers with 503 as elsewhere (`raw_connection()`
        lets the driver's own error through; `engine.connect()` would wrap it, at
        the cost of a Connection per verification)."""
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            return self.engine.raw_connection()
        except dbapi.Error as exc:
            raise DBAPIError.instance(
                None, None, exc, dbapi.Error, hide_parameters=True
            ) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite hands back naive ones, and
    what is stored is always UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_storage_full(error: BaseException) -> bool:
    """Whether a database error says the disk under the database is full
    (SQLite's SQLITE_FULL, PostgreSQL's disk_full)."""
    cause = getattr(error, "orig", error)
    code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(code, int):
        # The low byte is the primary result code (https://www.sqlite.org/rescode.html).
        return code & 0xFF == sqlite3.SQLITE_FULL
    return getattr(cause, "sqlstate", None) == _PG_DISK_FULL


def is_database_unavailable(error: BaseException) -> bool:
    """Whether a database error means the database cannot serve for now: the
    server refused or dropped the connection, is shutting down, or a lock wait ran
    out. The same request may succeed later. (A connection lost during COMMIT
    leaves the outcome unknown to the client: idempotency keys make a resend safe.)"""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError)


class RowReader:
    """Reads on a DBAPI connection, inside its transaction: a session's own
    (`RowReader.of_session`), or one `Database.reading` checked out of the pool.

    For hot paths only (verification): SQLAlchemy's per-statement work costs ten
    times a small indexed query. SQL uses `?` placeholders. Values come as the
    driver gives them: SQLite returns dates and JSON as text, PostgreSQL as
    objects; the caller converts. Driver errors become SQLAlchemy's, so the API
    answers a database that is down with 503 as it does elsewhere.
    """

    def __init__(self, dialect: Dialect, driver: Any) -> None:
        assert driver is not None
        self._dbapi = dialect.loaded_dbapi
        self._qmark = dialect.paramstyle == "qmark"
        self._driver = driver

    @classmethod
    def of_session(cls, session: Session) -> RowReader:
        """A reader on `session`'s connection, in the session's transaction."""
        connection = session.connection()
        return cls(connection.dialect, connection.connection.driver_connection)

    def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if not self._qmark:
            sql = sql.replace("?", "%s")
        try:
            cursor = self._driver.cursor()
            try:
                cursor.execute(sql, tuple(params))
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except self._dbapi.Error as exc:
            raise DBAPIError.instance(
                sql, params, exc, self._dbapi.Error, hide_parameters=True
            ) from exc

    def rows_together(
        self, queries: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        """The rows of each of `queries`, in order, as `rows` gives them.

        On PostgreSQL the queries travel in one pipeline (libpq's pipeline mode):
        one round trip for all of them, where one each costs more than the query.
        Elsewhere, or for a single query, they run one after another.
        """
        pipeline = getattr(self._driver, "pipeline", None)
        if pipeline is None or len(queries) < 2:
            return [self.rows(sql, params) for sql, params in queries]
        cursors: list[Any] = []
        try:
            with pipeline():
                for sql, params in queries:
                    cursors.append(self._driver.cursor())
                    cursors[-1].execute(sql.replace("?", "%s"), tuple(params))
            # Leaving the pipeline waited for every answer.
            return [list(cursor.fetchall()) for cursor in cursors]
        except self._dbapi.Error as exc:
            statements = "; ".join(sql for sql, _ in queries)
            raise DBAPIError.instance(
                statements, (), exc, self._dbapi.Error, hide_parameters=True
            ) from exc
        finally:
            for cursor in cursors:
                cursor.close()

    def commit(self) -> None:
        """Commit the connection's transaction: `Database.reading` does, at the
        end; a session's reader leaves that to the session."""
        try:
            self._driver.commit()
        except self._dbapi.Error as exc:
            raise DBAPIError.instance(
                "COMMIT", (), exc, self._dbapi.Error, hide_parameters=True
            ) from exc


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        # NOTE: no pool_pre_ping: it costs a round trip on every checkout (a third
        # of a proof's time on PostgreSQL). A connection the server dropped is
        # detected on use; that request fails with 503 and the pool replaces the
        # connection, so the service recovers without a restart.
        connect_args = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        return create_engine(url, hide_parameters=True, connect_args=connect_args)

    database = url.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a database error must not write bound values (which may be
    # personal data) into a log line.
    engine = create_engine(
        url, connect_args={"timeout": LOCK_TIMEOUT_SECONDS}, hide_parameters=True
    )
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # NOTE: pysqlite's own transaction handling is switched off so that we can emit
    # BEGIN IMMEDIATE ourselves; this is SQLAlchemy's documented recipe for SQLite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    if connection.get_execution_options().get(_WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")
