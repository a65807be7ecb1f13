"""The store facade: metadata database + blob store + spool, entities in and out.

Every method is one managed transaction (``Database.run``: commit, rollback,
retry while locked, errors translated once). The work itself lives in small
modules: ``runs_write``, ``runs_read``, ``frame``, ``liveness``, ``verify``;
replays and the audit log are the mixin in ``store_replays.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..entities import Artifact, CellRun, Environment, Run, RunSummary, RunWarning
from ..exceptions import StoreError, StoreNotFoundError, StoreUnavailableError
from . import frame, liveness, migrate, model_files, runs_page, runs_read, runs_write
from . import schema as s
from .audit_log import AuditChain
from .blobs import BlobStore, open_blob_store
from .discovery import StoreLocation, resolve_store_url
from .engine import DEFAULT_LOCK_TIMEOUT_S, Database
from .model_files import RecordedModel, RecordedModelVersion
from .run_index import RunIndex, change_token
from .runs_page import RunPage, RunQuery
from .spool import Spool, default_spool_dir
from .store_replays import ReplayStoreMethods
from .verify import VerifyReport, verify_store

if TYPE_CHECKING:
    import pandas
    from typing_extensions import Self


_KNOWN_SOURCES_MAX = 100_000


class Store(ReplayStoreMethods):
    """One trackbook store. Use :func:`open_store` rather than constructing it.

    Attributes
    ----------
    location:
        Where the database and blobs are.
    blobs:
        The content-addressed blob store.
    spool:
        Finished runs waiting for this store.
    """

    def __init__(
        self, location: StoreLocation, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S
    ) -> None:
        self.location = location
        self._db = Database(location, lock_timeout=lock_timeout)
        self.blobs: BlobStore = open_blob_store(location.blobs_url)
        self.spool = Spool(default_spool_dir(location.db_url))
        # Source hashes this process has committed: a session's history is
        # resent with every run, but only new inputs need writing.
        self._known_sources: set[str] = set()
        # Filterable fields of every run, built by the first filtered listing.
        self._run_index = RunIndex()

    # -- managed transactions --------------------------------------------------------

    def _write(self) -> contextlib.AbstractContextManager[Connection]:
        """``with store._write() as conn``: one write transaction (BEGIN IMMEDIATE on SQLite)."""
        return self._db.transaction(write=True)

    def _read(self) -> contextlib.AbstractContextManager[Connection]:
        """``with store._read() as conn``: one read transaction (a consistent snapshot)."""
        return self._db.transaction(write=False)

    # -- writing runs -----------------------------------------------------------------

    def create_run(self, run: Run) -> None:
        """Insert ``run`` with status ``running`` (before the cell body executes)."""
        self._db.run(lambda conn: runs_write.create_run(conn, run), write=True)

    def finish_run(self, run: Run) -> None:
        """Record the finished ``run`` with every facet, then deliver any spooled runs.

        Raises
        ------
        StoreUnavailableError
            The store could not be written (locked too long, unreachable).
        """
        self._record_finished(run)
        self._deliver_spooled()

    def finish_or_spool(self, run: Run) -> bool:
        """:meth:`finish_run`, or spool the run locally when the store cannot take it.

        Returns
        -------
        bool
            True when written to the store, False when spooled (delivered by a later write).
        """
        try:
            self._record_finished(run)
        except (StoreError, OSError) as exc:
            note = RunWarning(
                "spooled",
                f"the store could not be written ({exc}); this run was spooled and delivered later",
            )
            self.spool.put(dataclasses.replace(run, warnings=[*run.warnings, note]))
            return False
        self._deliver_spooled()
        return True

    def finish_runs(self, runs: Iterable[Run]) -> int:
        """Record many finished runs in one transaction (imports, fixtures, benchmarks).

        Same result as :meth:`finish_run` per run (audit entries included),
        without the per-run commit; spooled runs are not delivered. Returns
        how many runs were written.
        """
        dialect = self._db.dialect
        batch = list(runs)
        known: set[str] = set()

        def write(conn: Connection) -> int:
            known.clear()  # a retried transaction starts again from nothing
            chain = AuditChain(conn)
            for run in batch:
                known.update(runs_write.finish_run(conn, run, dialect, known, chain))
            return len(batch)

        return self._db.run(write, write=True)

    def _record_finished(self, run: Run) -> None:
        dialect = self._db.dialect
        known = self._known_sources
        written = self._db.run(
            lambda conn: runs_write.finish_run(conn, run, dialect, known), write=True
        )
        if len(known) > _KNOWN_SOURCES_MAX:
            known.clear()
        known.update(written)

    def _deliver_spooled(self) -> None:
        if not self.spool.pending():  # one directory listing; nothing when empty
            return
        with contextlib.suppress(StoreError, OSError):
            self.spool.deliver(self)

    def heartbeat(self, run_id: str) -> bool:
        """Record that the run's owner is alive; False when the run is no longer running."""
        return self._db.run(lambda conn: runs_write.heartbeat(conn, run_id), write=True)

    def mark_interrupted(self) -> list[str]:
        """Mark ``running`` runs whose owner is gone as ``interrupted``; returns their ids.

        Reads first and takes the write lock only when there is something to
        mark, so calling it on every open costs one indexed query.
        """
        orphans = self._db.run(liveness.orphaned_runs, write=False)
        if not orphans:
            return []
        return self._db.run(lambda conn: liveness.interrupt(conn, orphans), write=True)

    # -- environments -------------------------------------------------------------------

    def put_environment(self, env: Environment) -> None:
        """Store an environment document (once per content hash)."""
        dialect = self._db.dialect
        self._db.run(lambda conn: runs_write.put_environment(conn, env, dialect), write=True)

    def get_environment(self, env_id: str) -> Environment | None:
        """The environment with that id, or ``None``."""
        return self._db.run(lambda conn: runs_read.get_environment(conn, env_id), write=False)

    # -- reading runs ---------------------------------------------------------------------

    def get_run(self, ref: str) -> Run:
        """One run with every facet.

        Parameters
        ----------
        ref:
            Full run id, a unique id prefix (at least 6 characters, any case),
            or a run name (the newest run with that name).

        Raises
        ------
        RunNotFoundError, AmbiguousRunError
        """

        def read(conn: Connection) -> Run:
            return runs_read.load_run(conn, runs_read.resolve_ref(conn, ref))

        return self._db.run(read, write=False)

    def list_runs(
        self,
        *,
        q: str | None = None,
        status: str | Iterable[str] | None = None,
        notebook: str | None = None,
        tags: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RunSummary]:
        """Run summaries, newest first.

        Parameters
        ----------
        q:
            Case-insensitive text in the name, notebook path or code, or an id prefix.
        status:
            One status, a comma-separated list, or an iterable of statuses.
        notebook:
            Exact notebook path.
        tags:
            Every ``key: value`` must be set on the run.
        limit, offset:
            Paging.
        """

        def read(conn: Connection) -> list[RunSummary]:
            return runs_read.list_runs(
                conn, q=q, status=status, notebook=notebook, tags=tags, limit=limit, offset=offset
            )

        return self._db.run(read, write=False)

    def get_run_by_id(self, run_id: str) -> Run:
        """The run with exactly this id (no prefix or name lookup).

        Raises
        ------
        RunNotFoundError
        """
        return self._db.run(lambda conn: runs_read.load_run(conn, run_id), write=False)

    def cell_runs(self, notebook: str | None, *, limit: int) -> list[CellRun]:
        """Which cell each of the newest ``limit`` runs of ``notebook`` recorded, newest first (one read)."""
        return self._db.run(lambda conn: runs_read.cell_runs(conn, notebook, limit), write=False)

    def replay_workloads(self, run_ids: Iterable[str]) -> dict[str, tuple[float, int]]:
        """``{run id: (recorded seconds, history entries)}`` for the runs that exist, in one read."""
        ids = list(run_ids)
        return self._db.run(lambda conn: runs_read.replay_workloads(conn, ids), write=False)

    def query_runs(self, query: RunQuery) -> RunPage:
        """One page of a filtered, sorted listing with keyset pagination (the REST list).

        See :class:`~trackbook.store.runs_page.RunQuery` for the filters and
        :mod:`trackbook.store.run_sort` for the sorts. Reads in one transaction.

        Raises
        ------
        UsageError
            A limit, status or position that does not fit the sort.
        """
        return self._db.run(
            lambda conn: runs_page.query_runs(conn, self._run_index, query), write=False
        )

    def prepare_listing(self) -> None:
        """Build the in-memory filter snapshot now, so the first filtered listing is fast."""
        self._db.run(
            lambda conn: self._run_index.refresh(conn, change_token(conn)), write=False
        )

    def change_token(self) -> str:
        """A short text that changes whenever a run is added, finishes or is interrupted."""
        return str(self._db.run(change_token, write=False))

    def list_models(self) -> list[RecordedModel]:
        """Model files recorded by runs, one entry per name (see :mod:`.model_files`)."""
        return self._db.run(model_files.list_models, write=False)

    def model_versions(self, name: str) -> list[RecordedModelVersion]:
        """Every version of the recorded model ``name``, newest first (empty if none)."""
        return self._db.run(lambda conn: model_files.model_versions(conn, name), write=False)

    def find_artifact(self, run_id: str, artifact_id: str) -> Artifact | None:
        """The artifact ``artifact_id`` (blob id) of run ``run_id``, or ``None``."""
        return self._db.run(
            lambda conn: model_files.find_artifact(conn, run_id, artifact_id), write=False
        )

    def runs_frame(
        self,
        *,
        q: str | None = None,
        status: str | Iterable[str] | None = None,
        notebook: str | None = None,
        tags: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pandas.DataFrame:
        """Runs as a DataFrame, newest first (same filters as :meth:`list_runs`).

        Columns ``run_id, name, status, notebook, started_at`` (UTC),
        ``duration_s``, then ``params.*``, ``metrics.*`` (latest step) and ``tags.*``.
        """

        def read(conn: Connection) -> pandas.DataFrame:
            return frame.runs_frame(
                conn, q=q, status=status, notebook=notebook, tags=tags, limit=limit, offset=offset
            )

        return self._db.run(read, write=False)

    # -- the store itself -------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Where the store is and what it holds."""

        def read(conn: Connection) -> dict[str, Any]:
            counts: dict[str, int] = dict(
                conn.execute(select(s.runs.c.status, func.count()).group_by(s.runs.c.status)).all()
            )
            blob_count, blob_bytes = conn.execute(
                select(func.count(), func.coalesce(func.sum(s.blobs.c.size), 0))
            ).one()
            return {"runs": counts, "blob_count": blob_count, "blob_bytes": blob_bytes}

        revision, _ = migrate.current_revision(self._db)
        content = self._db.run(read, write=False)
        return {
            "store": self.location.display_url,
            "kind": self.location.kind,
            "blobs": self.location.blobs_url,
            "schema_revision": revision,
            "runs_total": sum(content["runs"].values()),
            "runs_by_status": content["runs"],
            "blob_count": int(content["blob_count"]),
            "blob_bytes": int(content["blob_bytes"]),
            "spool_pending": len(self.spool.pending()),
            "spool_failed": len(self.spool.failed()),
            "spool_dir": str(self.spool.directory),
        }

    def verify(self) -> VerifyReport:
        """Check the store is intact (``trackbook store verify``).

        The database, the schema revision, every blob's hash and every
        reference, the audit log's chain, and every run and replay against
        its latest audit entry (see :mod:`.verify`).
        """
        return verify_store(self._db, self.blobs)

    def upgrade(self) -> dict[str, Any]:
        """Migrate the store to this trackbook's schema (``trackbook store upgrade``)."""
        return migrate.upgrade(self._db)

    def close(self) -> None:
        """Release the store's connections."""
        self._db.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.location.display_url}>"


def open_store(
    store: str | os.PathLike[str] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    create: bool = True,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
    check_schema: bool = True,
) -> Store:
    """Open the store DESIGN's discovery rules select.

    Parameters
    ----------
    store:
        Directory, SQLite file, ``sqlite:///`` or ``postgresql://`` URL; ``None``
        for ``TRACKBOOK_STORE`` or discovery from ``cwd``.
    cwd:
        Where relative paths and discovery start.
    create:
        Create a missing local store (directory, database, blob directory).
        When False a missing store raises :class:`StoreNotFoundError`.
    lock_timeout:
        Seconds a transaction may wait for a lock before ``StoreUnavailableError``.
    check_schema:
        Refuse a store whose schema revision differs from this trackbook's
        (a new, empty store is migrated either way).

    Raises
    ------
    StoreNotFoundError, SchemaMismatchError, StoreUnavailableError, OptionalDependencyError
    """
    location = resolve_store_url(store, cwd=cwd)
    _prepare_local(location, create)
    result = Store(location, lock_timeout=lock_timeout)
    try:
        if check_schema:
            migrate.ensure_schema(result._db)
    except BaseException:
        result.close()
        raise
    return result


def upgrade_store(
    store: str | os.PathLike[str] | None = None, *, cwd: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """``trackbook store upgrade``: migrate an existing store to this trackbook's schema."""
    with open_store(store, cwd=cwd, create=False, check_schema=False) as target:
        return target.upgrade()


def _prepare_local(location: StoreLocation, create: bool) -> None:
    db_path = location.db_path
    if db_path is None:
        return
    if not db_path.exists():
        if not create:
            raise StoreNotFoundError(
                f"no trackbook store at {location.display_url}: run a %%track cell "
                "or pass --store / set TRACKBOOK_STORE"
            )
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailableError(
                f"cannot create the store at {db_path.parent}: {exc}"
            ) from exc
    if location.blobs_are_local:
        with contextlib.suppress(OSError):
            os.makedirs(location.blobs_url, exist_ok=True)
