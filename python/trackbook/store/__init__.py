"""trackbook's store: run metadata in SQL (SQLite or PostgreSQL) and blobs by content hash.

``open_store()`` returns a :class:`Store`; entities go in and come out, rows
never leave the package. Module map::

    discovery.py    which store (TRACKBOOK_STORE, .trackbook/ upwards, ...)
    engine.py       SQLite tuning, managed transactions, lock retries
    schema.py       tables (Core); migrations/ holds the Alembic history
    migrate.py      schema check at open, upgrade, migration lock
    blobs.py        content-addressed blob store (local dir); blobs_fsspec.py (any URL)
    runs_write.py   create / finish / heartbeat
    runs_read.py    get_run, list_runs, reference resolution
    runs_page.py    filtered, sorted pages of runs (REST listing); run_index.py,
                    run_sort.py keep them fast on large stores
    model_files.py  model files recorded by runs
    frame.py        runs as a pandas DataFrame
    liveness.py     runs whose kernel died -> interrupted; replays whose process died
    replays.py      replay records; store_replays.py is their part of the facade
    audit_log.py    the append-only, hash-chained audit log; digests.py what it hashes
    spool.py        runs waiting for an unreachable store; codec.py is their format
    verify.py       ``trackbook store verify``; verify_audit.py checks the chain
    fastexec.py     precompiled statements for the record path; fastread.py for reads
    store.py        the facade tying these together
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the redundant aliases mark the names as exported
    from .blobs import BlobRef as BlobRef
    from .blobs import BlobStore as BlobStore
    from .blobs import BlobWriter as BlobWriter
    from .blobs import LocalBlobStore as LocalBlobStore
    from .blobs import open_blob_store as open_blob_store
    from .codec import run_from_dict as run_from_dict
    from .codec import run_to_dict as run_to_dict
    from .discovery import StoreLocation as StoreLocation
    from .discovery import resolve_store_url as resolve_store_url
    from .spool import Spool as Spool
    from .store import Store as Store
    from .store import open_store as open_store
    from .store import upgrade_store as upgrade_store
    from .verify import VerifyReport as VerifyReport

#: Public name -> the module defining it. Loaded on first use: a kernel that
#: only needs discovery (the summary under the first cell names the store)
#: must not pay for importing SQLAlchemy before its run is recorded.
_EXPORTS = {
    "BlobRef": "blobs",
    "BlobStore": "blobs",
    "BlobWriter": "blobs",
    "LocalBlobStore": "blobs",
    "open_blob_store": "blobs",
    "run_from_dict": "codec",
    "run_to_dict": "codec",
    "StoreLocation": "discovery",
    "resolve_store_url": "discovery",
    "Spool": "spool",
    "Store": "store",
    "open_store": "store",
    "upgrade_store": "store",
    "VerifyReport": "verify",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
