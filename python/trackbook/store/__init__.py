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

from .blobs import BlobRef, BlobStore, BlobWriter, LocalBlobStore, open_blob_store
from .codec import run_from_dict, run_to_dict
from .discovery import StoreLocation, resolve_store_url
from .spool import Spool
from .store import Store, open_store, upgrade_store
from .verify import VerifyReport

__all__ = [
    "BlobRef",
    "BlobStore",
    "BlobWriter",
    "LocalBlobStore",
    "Spool",
    "Store",
    "StoreLocation",
    "VerifyReport",
    "open_blob_store",
    "open_store",
    "resolve_store_url",
    "run_from_dict",
    "run_to_dict",
    "upgrade_store",
]
