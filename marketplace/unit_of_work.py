"""Units of work: the outermost one commits, the service calls inside it join it.

    @atomic
    def approve_listing(actor, listing): ...   # its own unit, or part of its caller's

    with unit_of_work():                       # two service calls, one transaction
        approve_listing(admin, first)
        approve_listing(admin, second)

The outermost unit commits when its block ends and rolls back on any exception (a DomainError
included), which it re-raises; a nested unit neither commits nor rolls back (an outer block
that catches its error and goes on keeps what it wrote: a step that may fail alone belongs in a
savepoint). `after_commit(fn)` runs `fn` once the outermost unit has committed (nothing runs
after a rollback). `savepoint()`
lets a block fail on its own (a unique key lost to a concurrent insert) while the unit goes on.
`each_in_own_unit(rows, step)` gives each row of a batch (cron tasks, digests, purging) its own
unit, so one row's failure undoes no other and locks are held briefly.

The depth is kept in the session's `info`: db.session is one Session per application context,
so each request, CLI command, sender round and test counts its own units.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_DEPTH = "unit_of_work.depth"
_AFTER_COMMIT = "unit_of_work.after_commit"


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction: committed at the end of the outermost block, rolled back (and the error
    re-raised) when any exception leaves it; a block inside another joins the outer one."""
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()  # inside the try: a commit that fails is rolled back too
    except BaseException:
        if depth == 0:
            session.info.pop(_AFTER_COMMIT, None)
            try:
                session.rollback()
            except Exception:  # a lost connection: the error that ended the unit matters more
                log.warning("Could not roll back a unit of work", exc_info=True)
        raise
    finally:
        session.info[_DEPTH] = depth
    if depth == 0:
        _run_after_commit(session)


def atomic(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` in a unit of work (its own, or its caller's); a generator function's
    unit lasts until the generator is done (closed early, it rolls back)."""
    if inspect.isgeneratorfunction(function):

        @wraps(function)
        def steps_in_unit_of_work(*args: P.args, **kwargs: P.kwargs) -> Iterator[Any]:
            with unit_of_work():
                yield from function(*args, **kwargs)

        return cast("Callable[P, R]", steps_in_unit_of_work)

    @wraps(function)
    def in_unit_of_work(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return function(*args, **kwargs)

    return in_unit_of_work


class Skip(Exception):
    """Raised by a step of `each_in_own_unit` to roll its row's unit back and go on."""


def each_in_own_unit(rows: Iterable[T], step: Callable[[T], bool]) -> int:
    """Run `step(row)` for each row in a unit of work of its own; returns how many steps
    returned True. A step that raises Skip is rolled back and the loop goes on; any other
    exception stops it (the rows before stay committed). Raises RuntimeError inside a unit of
    work, where the rows could not commit one by one."""
    if in_unit_of_work():
        raise RuntimeError("each_in_own_unit() commits per row: call it outside a unit of work")
    done = 0
    for row in rows:
        try:
            with unit_of_work():
                done += bool(step(row))
        except Skip:
            continue
    return done


def in_unit_of_work() -> bool:
    """Whether a unit of work is open in this application context."""
    return bool(db.session().info.get(_DEPTH))


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the outermost unit of work has committed, outside any unit (open one
    to write); dropped if it rolls back. Raises RuntimeError outside a unit of work."""
    session = db.session()
    if not session.info.get(_DEPTH):
        raise RuntimeError("after_commit() needs an open unit of work")
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        try:
            callback()
        except Exception:
            # The change is committed: the caller must not take it for a failure.
            log.exception("A callback after a commit failed")


@contextmanager
def savepoint() -> Iterator[None]:
    """A block that may fail alone: an exception rolls back to the savepoint and is re-raised,
    and the unit of work around it goes on (catch the error, typically an IntegrityError)."""
    session = db.session()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        # pysqlite opens a transaction only before an INSERT, UPDATE or DELETE; a SAVEPOINT
        # before any would open one of its own, which its RELEASE then commits. So the
        # transaction is opened here first, IMMEDIATE (taking the write lock the savepoint is
        # for, waiting busy_timeout for it). SQLAlchemy's documented fix, a BEGIN for every
        # transaction, is not used: reads would open transactions too, and a reader that then
        # writes fails at once (SQLITE_BUSY) instead of waiting for the lock.
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    with session.begin_nested():
        yield
