"""How the application uses its database connections: SQLite's pragmas; on PostgreSQL,
statements prepared only where they ask, a request's first read outside a transaction and
read-only transactions ended with a commit; pooled connections pinged only after sitting idle."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError

from .extensions import PREPARE, db

_IDLE_SINCE = "marketplace.idle_since"
_WROTE = "marketplace.wrote"
# More executions than a connection lives for: psycopg then prepares only when told.
_NEVER_BY_ITSELF = 2**31 - 1
# Statements that change nothing: a transaction of only these may end with COMMIT. A WITH may
# hold an INSERT and EXPLAIN ANALYZE runs its statement, so they count as writes.
_READS = re.compile(r"\s*(SELECT\b|SHOW\b|EXPLAIN(?![^;]*\bANALYZE\b))", re.IGNORECASE)


def configure(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    _ping_idle_connections(engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
    if engine.dialect.name == "postgresql":
        _prepare_only_when_asked(engine, app.config["DATABASE_PREPARED_STATEMENTS"])
        _commit_read_only_transactions(engine)
    elif engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers go on while one process writes; the timeout waits for a lock
    # instead of failing at once with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _prepare_only_when_asked(engine: Engine, asked: bool) -> None:
    """psycopg prepares a statement run five times on a connection, and PostgreSQL then plans
    it once for any values: a search for a word then walked the listings newest first testing
    the word on each (200 ms for a rare word, against 2 ms through the full-text index).
    Planned per statement, the words' selectivity is seen. So nothing is prepared by itself,
    only the statements marked `extensions.prepared`, and those only when `asked`
    (DATABASE_PREPARED_STATEMENTS)."""

    @event.listens_for(engine, "connect")
    def _no_preparing_by_itself(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.prepare_threshold = _NEVER_BY_ITSELF if asked else None

    if not asked:
        return

    from psycopg import IsolationLevel
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "do_execute")
    def _prepare_when_asked(cursor: Any, statement: str, parameters: Any,
                            context: Any) -> bool | None:
        if not context.execution_options.get(PREPARE):
            return None
        connection = cursor.connection
        if connection.info.transaction_status != TransactionStatus.IDLE \
                or connection.isolation_level not in (None, IsolationLevel.READ_COMMITTED) \
                or not _READS.match(statement):
            cursor.execute(statement, parameters, prepare=True)
            return True
        # The first statement of a request (its user: services/session_user.py) reads alone,
        # outside a transaction: a member's kept page then costs one round trip, not three
        # (BEGIN, the statement, COMMIT). The same for what it reads: at READ COMMITTED each
        # statement sees what was committed when it began, in a transaction or not; a later
        # statement begins the transaction as before.
        connection.autocommit = True
        try:
            cursor.execute(statement, parameters, prepare=True)
        finally:
            connection.autocommit = False
        return True


def _commit_read_only_transactions(engine: Engine) -> None:
    """A transaction that only read ends with COMMIT instead of ROLLBACK (the same for the
    database): psycopg forgets every prepared statement at a rollback, and every page that
    reads ends its transaction when the request does."""
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not _READS.match(statement):
            connection.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    def _forget_writes(connection: Any) -> None:
        if not connection.invalidated:
            connection.info.pop(_WROTE, None)

    @event.listens_for(engine, "rollback")
    def _commit_instead_when_only_read(connection: Any) -> None:
        # A lost connection has nothing to end (and forgets what it held).
        if connection.invalidated or connection.info.pop(_WROTE, False):
            return
        dbapi_connection = connection.connection.dbapi_connection
        # Not after an error: PostgreSQL has then aborted the transaction, which only a
        # rollback ends.
        if dbapi_connection is not None and \
                dbapi_connection.info.transaction_status == TransactionStatus.INTRANS:
            dbapi_connection.commit()


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle longer than `idle_seconds`.

    SQLAlchemy's pool_pre_ping checks at every checkout: one more round trip on every member's
    page (a sixth of a PostgreSQL member's search page). A connection used a moment ago was
    alive a moment ago; one that sat idle may have been cut (the database restarted, a proxy's
    idle time-out) and is replaced, with every other pooled connection, before a request uses
    it. A fresh connection has no idle time and is not checked."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_when_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool connects again (up to twice) and drops its other, older connections.
            raise InvalidatePoolError(f"idle connection lost: {error}") from error
