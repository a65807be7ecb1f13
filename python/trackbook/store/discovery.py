"""Which store a process uses: DESIGN's discovery rules, first match wins.

1. the explicit ``store`` argument (``--store``, ``open_store("...")``);
2. the environment variable ``TRACKBOOK_STORE``;
3. a ``.trackbook/`` directory found walking up from the working directory;
4. ``.trackbook/`` in the working directory (created when the store is opened).

A value is a directory path (a *directory store*: ``<dir>/trackbook.db`` and
``<dir>/blobs/``), a path to an SQLite file, a ``sqlite:///...`` URL or a
``postgresql://...`` URL. URL stores keep blobs beside the database file
(``<db dir>/blobs``) unless ``TRACKBOOK_BLOBS`` names a directory or any
fsspec URL; a PostgreSQL store has no local directory, so it requires
``TRACKBOOK_BLOBS``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from ..exceptions import UsageError

STORE_ENV = "TRACKBOOK_STORE"
BLOBS_ENV = "TRACKBOOK_BLOBS"
STORE_DIRNAME = ".trackbook"
DB_FILENAME = "trackbook.db"
BLOBS_DIRNAME = "blobs"

StoreKind = Literal["sqlite", "postgresql"]

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


@dataclass(frozen=True)
class StoreLocation:
    """Where one store's metadata and blobs live.

    Attributes
    ----------
    db_url:
        SQLAlchemy URL of the metadata database (absolute path for SQLite).
    blobs_url:
        Local directory path or fsspec URL of the blob store.
    root:
        The store directory for a directory store, else ``None``. Files under
        it belong to trackbook (capture ignores reads from there).
    kind:
        ``"sqlite"`` or ``"postgresql"``.
    source:
        Which rule selected the store: ``argument``, ``env``, ``found`` or ``default``.
    export_value:
        The value to put in ``TRACKBOOK_STORE`` so child processes open this store.
    """

    db_url: str
    blobs_url: str
    root: Path | None
    kind: StoreKind
    source: str
    export_value: str

    @property
    def display_url(self) -> str:
        """The database URL for humans and logs, any password masked."""
        return mask_password(self.db_url)

    @property
    def db_path(self) -> Path | None:
        """The SQLite database file, or ``None`` for a server database."""
        if self.kind != "sqlite":
            return None
        return Path(self.db_url[len("sqlite:///") :])

    @property
    def blobs_are_local(self) -> bool:
        """True when blobs are a plain local directory (not an fsspec URL)."""
        return "://" not in self.blobs_url


def mask_password(url: str) -> str:
    """Return ``url`` with the password of its authority replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def resolve_store_url(
    store: str | os.PathLike[str] | None = None, cwd: str | os.PathLike[str] | None = None
) -> StoreLocation:
    """Find the store this process should use (DESIGN's discovery rules).

    Parameters
    ----------
    store:
        Explicit store: directory, SQLite file, ``sqlite:///`` or ``postgresql://`` URL.
        ``None`` falls back to ``TRACKBOOK_STORE``, then discovery from ``cwd``.
    cwd:
        Directory relative paths and discovery start from (default: the process's).

    Returns
    -------
    StoreLocation
        Where the database and the blobs are. Nothing is created or opened.

    Raises
    ------
    UsageError
        The value is not a path or a supported URL, or a PostgreSQL store has no
        ``TRACKBOOK_BLOBS``.
    """
    base = Path(cwd) if cwd is not None else Path.cwd()
    if store is not None and str(store).strip():
        return _from_value(str(store), base, "argument")
    env_value = os.environ.get(STORE_ENV, "").strip()
    if env_value:
        return _from_value(env_value, base, "env")
    found = find_store_dir(base)
    if found is not None:
        return _directory_store(found, "found")
    return _directory_store((base / STORE_DIRNAME).absolute(), "default")


def find_store_dir(start: Path) -> Path | None:
    """The nearest ``.trackbook/`` directory in ``start`` or one of its parents."""
    current = start.absolute()
    for directory in (current, *current.parents):
        candidate = directory / STORE_DIRNAME
        if candidate.is_dir():
            return candidate
    return None


def _from_value(value: str, base: Path, source: str) -> StoreLocation:
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme.startswith("sqlite"):
        return _sqlite_url_store(value, base, source)
    if scheme.startswith("postgres"):
        return _postgres_store(value, source)
    if scheme:
        raise UsageError(
            f"unsupported store URL scheme {scheme!r}: use a directory, sqlite:///PATH or postgresql://..."
        )
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    path = path.absolute()
    if path.is_file() or (not path.is_dir() and path.suffix.lower() in _SQLITE_SUFFIXES):
        return _sqlite_file_store(path, source, export_value=str(path))
    return _directory_store(path, source)


def _directory_store(directory: Path, source: str) -> StoreLocation:
    return StoreLocation(
        db_url=f"sqlite:///{directory / DB_FILENAME}",
        blobs_url=str(directory / BLOBS_DIRNAME),
        root=directory,
        kind="sqlite",
        source=source,
        export_value=str(directory),
    )


def _sqlite_url_store(url: str, base: Path, source: str) -> StoreLocation:
    prefix, _, raw_path = url.partition(":///")
    if not raw_path or raw_path.startswith(":memory:") or "?" in raw_path:
        raise UsageError(f"{url!r}: give an SQLite file, e.g. sqlite:///runs/trackbook.db")
    if prefix.lower() not in ("sqlite", "sqlite+pysqlite"):
        raise UsageError(f"{url!r}: only the standard sqlite driver is supported")
    path = Path(raw_path).expanduser()
    if not path.is_absolute():
        path = base / path
    path = path.absolute()
    return _sqlite_file_store(path, source, export_value=f"sqlite:///{path}")


def _sqlite_file_store(path: Path, source: str, export_value: str) -> StoreLocation:
    blobs = os.environ.get(BLOBS_ENV, "").strip() or str(path.parent / BLOBS_DIRNAME)
    return StoreLocation(
        db_url=f"sqlite:///{path}",
        blobs_url=blobs,
        root=None,
        kind="sqlite",
        source=source,
        export_value=export_value,
    )


def _postgres_store(url: str, source: str) -> StoreLocation:
    blobs = os.environ.get(BLOBS_ENV, "").strip()
    if not blobs:
        raise UsageError(
            f"a PostgreSQL store ({mask_password(url)}) keeps no local files: set {BLOBS_ENV} "
            "to a blob location every user can reach (a shared directory or an fsspec URL such as s3://bucket/trackbook)"
        )
    scheme, rest = url.split("://", 1)
    # SQLAlchemy's default PostgreSQL driver is psycopg2; trackbook uses psycopg 3.
    driver_url = (
        f"postgresql+psycopg://{rest}" if scheme.lower() in ("postgres", "postgresql") else url
    )
    return StoreLocation(
        db_url=driver_url,
        blobs_url=blobs,
        root=None,
        kind="postgresql",
        source=source,
        export_value=url,
    )
