"""Alembic environment for trackbook's store.

trackbook runs migrations through Alembic's Python API (``store/migrate.py``)
and hands over an open connection in ``config.attributes["connection"]``, so
the migration runs inside the caller's transaction and lock. Running the
``alembic`` command line against a store works too: pass
``-x url=sqlite:///path/to/trackbook.db``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from trackbook.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the caller's connection, or one opened from ``-x url=``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit(
            "give the store database: alembic -x url=sqlite:///path/to/trackbook.db ..."
        )
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("trackbook migrations run online only: use `trackbook store upgrade`")
run_migrations_online()
