"""Schema revision check at open, and migrations through Alembic's Python API.

A store whose revision is not this trackbook's ``HEAD_REVISION`` is refused
with :class:`SchemaMismatchError` naming ``trackbook store upgrade``: an
upgrade rewrites tables, so it is an explicit step the user takes (after a
backup), never a side effect of opening. The one exception is a *new* store
(no tables at all), which is created at head on open.

Several kernels may open a new store at the same moment. Migrations run
under an inter-process lock (``fcntl.flock`` on ``<db>.lock`` for SQLite, an
advisory lock on PostgreSQL), and the revision is read again once the lock is
held, so exactly one process creates the tables and the others see head.
"""

from __future__ import annotations

import contextlib
import importlib.resources
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..exceptions import SchemaMismatchError
from .engine import Database, is_busy_error
from .schema import HEAD_REVISION

VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 0x7472_6B62  # "trkb": one advisory lock for trackbook migrations


def current_revision(db: Database) -> tuple[str | None, bool]:
    """The store's revision and whether the database holds no tables at all."""

    def read(conn: Connection) -> tuple[str | None, bool]:
        try:
            # A savepoint: on PostgreSQL a failed statement spoils the transaction.
            with conn.begin_nested():
                row = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
        except SQLAlchemyError as exc:
            if is_busy_error(exc):
                raise
            return None, not inspect(conn).get_table_names()
        return (None if row is None else str(row[0])), False

    return db.run(read, write=False)


def ensure_schema(db: Database) -> str:
    """Bring a new store to head; refuse any store not at head.

    Returns
    -------
    str
        The store's revision (always ``HEAD_REVISION`` on return).

    Raises
    ------
    SchemaMismatchError
        The store exists at another revision.
    """
    revision, empty = current_revision(db)
    if revision == HEAD_REVISION:
        return revision
    if revision is None:
        # Read again under the lock: the two reads above are separate statements,
        # so another process may have created the tables between them (the
        # version table missing, then the table list not empty).
        with migration_lock(db):
            revision, empty = current_revision(db)
            if revision is None and empty:
                _alembic_upgrade(db, "head")
                return HEAD_REVISION
    if revision != HEAD_REVISION:
        raise mismatch_error(db, revision)
    return HEAD_REVISION


def mismatch_error(db: Database, revision: str | None) -> SchemaMismatchError:
    """The error (with the command that fixes it) for a store not at head."""
    where = db.location.display_url
    if revision is not None and revision not in known_revisions():
        message = (
            f"the store {where} has schema revision {revision}, written by a newer trackbook "
            f"than this one (which knows up to {HEAD_REVISION}): upgrade trackbook "
            "(pip install -U trackbook)"
        )
    else:
        shown = revision or "none (before the first migration)"
        message = (
            f"the store {where} has schema revision {shown}, this trackbook needs {HEAD_REVISION}: "
            "back it up, then run `trackbook store upgrade`"
        )
    return SchemaMismatchError(message, current=revision, expected=HEAD_REVISION)


def upgrade(db: Database) -> dict[str, Any]:
    """Migrate the store to head under the migration lock.

    Returns
    -------
    dict
        ``{"store", "from_revision", "to_revision", "changed"}``.
    """
    with migration_lock(db):
        before, _ = current_revision(db)
        if before is not None and before not in known_revisions():
            raise mismatch_error(db, before)
        if before != HEAD_REVISION:
            _alembic_upgrade(db, "head")
    return {
        "store": db.location.display_url,
        "from_revision": before,
        "to_revision": HEAD_REVISION,
        "changed": before != HEAD_REVISION,
    }


def script_location() -> str:
    """The migrations directory shipped inside the package."""
    return str(importlib.resources.files("trackbook.store") / "migrations")


def alembic_config(connection: Connection | None = None) -> Any:
    """An Alembic ``Config`` for the packaged migrations, bound to ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", script_location())
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    """Every revision of the packaged migrations."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in scripts.walk_revisions()}


def _alembic_upgrade(db: Database, target: str) -> None:
    from alembic import command

    with db.transaction(write=True) as conn:
        command.upgrade(alembic_config(conn), target)


@contextlib.contextmanager
def migration_lock(db: Database) -> Iterator[None]:
    """Hold the store's inter-process migration lock."""
    if db.location.kind == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                conn.commit()
        return
    db_path = db.location.db_path
    assert db_path is not None
    with _file_lock(db_path.with_name(db_path.name + ".lock")):
        yield


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: SQLite's own locking must do
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
