"""The database connection: engine set-up, managed transactions, retries.

SQLite is tuned for many kernels writing while a server reads:

- WAL journal: readers never block the writer and never see half a transaction;
  ``synchronous=NORMAL`` is durable across application crashes (a power cut
  may lose the last commits, never corrupt the file).
- Write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken
  up front, where SQLite's busy handler can wait for it. A deferred ``BEGIN``
  that later upgrades to a writer fails at once with "database is locked"
  when another writer is active (SQLite refuses to wait there, to avoid a
  deadlock). Reads use a plain deferred ``BEGIN`` and take no write lock.
  This is SQLAlchemy's documented pysqlite recipe: the driver's own
  transaction handling is switched off (``isolation_level = None``) and the
  ``begin`` event emits our ``BEGIN``.
- A busy wait inside SQLite (``busy_timeout``) plus bounded retries with
  jitter around it, up to ``lock_timeout`` seconds in all; then
  :class:`~trackbook.exceptions.StoreUnavailableError`, which callers turn
  into a spooled run rather than a lost one.
- Threads of one process take turns on a lock of their own before
  ``BEGIN IMMEDIATE``. SQLite's busy handler sleeps 1, 2, 5, 10 ms... between
  tries, so a writer that queued behind another thread's short transaction
  slept for longer than that transaction took; a lock hands over at once.
  Other processes still meet the busy handler.

PostgreSQL goes through the same Core code with psycopg 3.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from ..exceptions import OptionalDependencyError, StoreError, StoreUnavailableError
from .discovery import StoreLocation

T = TypeVar("T")

#: Seconds a transaction may wait for the store's write lock before giving up.
DEFAULT_LOCK_TIMEOUT_S = 10.0
#: Longest single wait inside SQLite's busy handler; the rest is our retries.
_BUSY_SLICE_S = 1.0
_WRITE_OPTION = "trackbook_write"
_SQLITE_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (extended codes keep the low byte)


def is_busy_error(exc: BaseException) -> bool:
    """True when ``exc`` means another connection holds a lock (worth retrying)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in _SQLITE_BUSY_CODES:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


class Database:
    """One store's engine, with managed transactions that retry on lock contention.

    Parameters
    ----------
    location:
        Where the database is.
    lock_timeout:
        Seconds a transaction may wait (in all) for a lock before
        :class:`StoreUnavailableError` is raised.
    """

    def __init__(
        self, location: StoreLocation, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S
    ) -> None:
        self.location = location
        self.lock_timeout = max(0.0, float(lock_timeout))
        self.engine = _create_engine(location, self.lock_timeout)
        self.dialect = self.engine.dialect.name
        # Re-entrant: a thread inside a write transaction is not stopped by
        # its own turn (SQLite itself then reports the nested writer busy).
        self._writers = threading.RLock() if self.dialect == "sqlite" else None
        _dispose_in_forked_children(self.engine)

    # -- transactions ---------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        Acquiring the transaction (the write lock, for ``write=True``) is retried
        within ``lock_timeout``; errors from the body are translated into
        trackbook's :class:`StoreError` tree but not retried (use :meth:`run`).
        """
        deadline = time.monotonic() + self.lock_timeout
        with self._turn(write, deadline):
            conn = self._begin_with_retry(write, deadline)
            try:
                try:
                    yield conn
                    conn.commit()
                except BaseException:
                    with contextlib.suppress(Exception):
                        conn.rollback()
                    raise
            except (SQLAlchemyError, OSError) as exc:
                raise self.translate(exc, write) from exc
            finally:
                conn.close()

    def run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``fn(conn)`` in one transaction, retrying the whole of it while the store is busy."""
        deadline = time.monotonic() + self.lock_timeout
        with self._turn(write, deadline):
            return self._run_with_retry(fn, write, deadline)

    def _run_with_retry(self, fn: Callable[[Connection], T], write: bool, deadline: float) -> T:
        attempt = 0
        while True:
            try:
                conn = self._connect(write)
            except (SQLAlchemyError, OSError) as exc:
                if self._should_retry(exc, deadline, attempt):
                    attempt += 1
                    continue
                raise self.translate(exc, write) from exc
            try:
                try:
                    conn.begin()
                    result = fn(conn)
                    conn.commit()
                    return result
                except BaseException:
                    with contextlib.suppress(Exception):
                        conn.rollback()
                    raise
            except (SQLAlchemyError, OSError) as exc:
                if self._should_retry(exc, deadline, attempt):
                    attempt += 1
                    continue
                raise self.translate(exc, write) from exc
            finally:
                conn.close()

    @contextlib.contextmanager
    def _turn(self, write: bool, deadline: float) -> Iterator[None]:
        """This thread's turn to write, among this process's threads (SQLite only)."""
        if not write or self._writers is None:
            yield
            return
        if not self._writers.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise StoreUnavailableError(
                f"the store {self.location.display_url} stayed locked by another thread for {self.lock_timeout:g} s"
            )
        try:
            yield
        finally:
            self._writers.release()

    def _begin_with_retry(self, write: bool, deadline: float) -> Connection:
        attempt = 0
        while True:
            conn: Connection | None = None
            try:
                conn = self._connect(write)
                conn.begin()
                return conn
            except (SQLAlchemyError, OSError) as exc:
                if conn is not None:
                    conn.close()
                if self._should_retry(exc, deadline, attempt):
                    attempt += 1
                    continue
                raise self.translate(exc, write) from exc

    def _connect(self, write: bool) -> Connection:
        return self.engine.connect().execution_options(**{_WRITE_OPTION: write})

    def _should_retry(self, exc: BaseException, deadline: float, attempt: int) -> bool:
        """Sleep with jittered backoff and say yes, while the lock is busy and time remains."""
        if not is_busy_error(exc):
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        # Full jitter: processes that collided once do not collide again in step.
        delay = random.uniform(0.0, min(0.2, 0.005 * (2**attempt)))
        time.sleep(min(delay, remaining))
        return True

    def translate(self, exc: BaseException, write: bool) -> StoreError:
        """Map a database error onto trackbook's exception tree (once, here)."""
        where = self.location.display_url
        if is_busy_error(exc):
            return StoreUnavailableError(
                f"the store {where} stayed locked by another process for {self.lock_timeout:g} s"
            )
        if isinstance(exc, IntegrityError):
            return StoreError(f"the store {where} rejected the change: {exc.orig}")
        if isinstance(exc, (OperationalError, OSError)):
            action = "write to" if write else "read"
            detail = exc.orig if isinstance(exc, DBAPIError) else exc
            return StoreUnavailableError(f"cannot {action} the store {where}: {detail}")
        return StoreError(f"store {where}: {exc}")

    def dispose(self) -> None:
        """Checkpoint the SQLite WAL into the database file, then close every pooled connection.

        ``TRUNCATE`` empties the WAL file when no other connection is reading,
        so a closed store is one self-contained file (and superseded page
        versions do not linger in the WAL).
        """
        if self.dialect == "sqlite":
            with contextlib.suppress(Exception):
                raw = self.engine.raw_connection()
                try:
                    # On the driver connection: outside any transaction, as a checkpoint must be.
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
                finally:
                    raw.close()
        self.engine.dispose()


def _create_engine(location: StoreLocation, lock_timeout: float) -> Engine:
    if location.kind == "postgresql":
        if importlib.util.find_spec("psycopg") is None:
            raise OptionalDependencyError("psycopg", "postgres")
        return create_engine(location.db_url, pool_pre_ping=True)
    busy_s = min(_BUSY_SLICE_S, lock_timeout)
    engine = create_engine(
        location.db_url,
        # Python's sqlite3 "timeout" is SQLite's busy_timeout. Pooled connections
        # move between threads (the heartbeat thread), one at a time.
        connect_args={"timeout": busy_s, "check_same_thread": False},
    )
    _install_sqlite_hooks(engine, busy_s)
    return engine


def _install_sqlite_hooks(engine: Engine, busy_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # The driver must not issue its own BEGIN; ours (below) says what kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_s * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # Overwritten and deleted content is zeroed, not left in free space:
            # code and output are redacted at finish, after the run row was created.
            cursor.execute("PRAGMA secure_delete = ON")
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                # Persistent in the file: only the first connection to a new store pays.
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _dispose_in_forked_children(engine: Engine) -> None:
    # A forked child must not reuse the parent's SQLite connections (undefined
    # behaviour in SQLite); drop them from the pool without closing them.
    ref = weakref.ref(engine)

    def _after_fork() -> None:
        target = ref()
        if target is not None:
            target.dispose(close=False)

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)
