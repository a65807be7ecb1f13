"""What the REST handlers call: one store, opened lazily, and a small thread pool for it.

Store calls are blocking SQLite reads; handlers run them here, on the
service's own threads (:meth:`RegistryService.call`), so a slow query never
stalls the server's event loop. Methods take request models and return
response models or entities; HTTP stays in the handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, TypeVar

from pydantic import ValidationError

from .._version import __version__
from ..entities import Artifact, to_json
from ..store import Store, open_store, resolve_store_url
from ..store.run_sort import parse_sort
from ..store.runs_page import RunQuery
from .cursor import CursorCodec
from .replay_service import ReplayServiceMethods
from .schemas import (
    DescribeInfo,
    DescribeModel,
    DescribeModelSummary,
    DescribeRun,
    LatestModelVersion,
    ListModelsResponse,
    ListRunsQuery,
    ListRunsResponse,
    StoreInfo,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Threads for store calls: SQLite reads run in parallel (WAL), a few suffice.
STORE_THREADS = 4


class NotFound(LookupError):
    """A model or artifact that does not exist (the base handler answers 404)."""


class RegistryService(ReplayServiceMethods):
    """The registry behind the REST API (swap it with ``TrackbookApp.service_class``)."""

    def __init__(self, store: str | None, root_dir: str) -> None:
        self.location = resolve_store_url(store, cwd=root_dir)
        self._store_ref = store
        self._root_dir = root_dir
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="trackbook-store")
        self.cursors = CursorCodec()
        self._warmed = False

    # -- plumbing ---------------------------------------------------------------------

    @property
    def store(self) -> Store:
        # Opened on first request: a server without trackbook traffic pays nothing.
        with self._lock:
            if self._store is None:
                self._store = open_store(self._store_ref, cwd=self._root_dir)
            return self._store

    @property
    def store_open(self) -> bool:
        """True once a request has opened the store."""
        return self._store is not None

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the service's store threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # -- endpoints --------------------------------------------------------------------

    def schema_revision(self) -> str | None:
        return str(self.store.info().get("schema_revision"))

    def info(self) -> DescribeInfo:
        """The handshake; it also prepares the listing the sidebar asks for next."""
        revision = self.schema_revision()
        if not self._warmed:
            self._warmed = True
            self._executor.submit(self._prepare_listing)
        return DescribeInfo(
            version=__version__,
            store=StoreInfo(kind=self.location.kind, url=self.location.display_url),
            schema_revision=revision,
        )

    def _prepare_listing(self) -> None:
        with contextlib.suppress(Exception):  # only an optimisation; a request will say what failed
            self.store.prepare_listing()

    def list_etag(self, query: ListRunsQuery) -> str:
        """The ETag the listing would carry now (cheap: the store's change token)."""
        return self._etag(self.store.change_token(), query)

    def _etag(self, token: str, query: ListRunsQuery) -> str:
        # Same store state + same query + same cursor key = the same body.
        parts = (__version__, self.cursors.fingerprint, token, query.model_dump_json())
        text = "\0".join(parts)
        return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'

    def list_runs(self, query: ListRunsQuery) -> tuple[ListRunsResponse, str]:
        """A page of runs and its ETag."""
        sort = parse_sort(query.sort)
        after = None if query.cursor is None else self.cursors.decode(query.cursor, sort.text)
        page = self.store.query_runs(
            RunQuery(
                sort=sort,
                limit=query.limit,
                q=query.q,
                statuses=tuple(query.status),
                notebook=query.notebook,
                tags=query.tag,
                after=after,
            )
        )
        response = ListRunsResponse(
            runs=to_json(page.runs),
            next_cursor=None
            if page.next_after is None
            else self.cursors.encode(sort.text, page.next_after),
            metric_keys=page.metric_keys,
            param_keys=page.param_keys,
            tag_keys=page.tag_keys,
            total=page.total,
        )
        return response, self._etag(page.token, query)

    def describe_run(self, run_id: str) -> DescribeRun | dict[str, Any]:
        """Every facet of the run with exactly this id (RunNotFoundError: 404).

        A run whose recorded content does not fit the documented shape (a
        module ``__version__`` that is not text, say) is still served as
        recorded, with a warning in the log: it must stay viewable.
        """
        body = to_json(self.store.get_run_by_id(run_id))
        try:
            return DescribeRun.model_validate(body)
        except ValidationError as exc:
            log.warning("trackbook: run %s does not match DescribeRun: %s", run_id, exc)
            return dict(body)

    def find_artifact(self, run_id: str, artifact_id: str) -> Artifact:
        """A run's artifact record (``NotFound`` when the run has none with that id)."""
        artifact = self.store.find_artifact(run_id, artifact_id)
        if artifact is None:
            raise NotFound(f"run {run_id} has no artifact {artifact_id}")
        return artifact

    def open_blob(self, artifact_id: str) -> IO[bytes]:
        """A stream over the blob's bytes, verified against its id first (IntegrityError if not)."""
        return self.store.blobs.open_verified(artifact_id)

    def list_models(self) -> ListModelsResponse:
        return ListModelsResponse(
            models=[
                DescribeModelSummary(
                    name=m.name,
                    versions=m.versions,
                    latest=LatestModelVersion(
                        run_id=m.latest.run_id,
                        run_name=m.latest.run_name,
                        artifact_id=m.latest.artifact_id,
                        size=m.latest.size,
                        recorded_at=to_json(m.latest.recorded_at),
                    ),
                )
                for m in self.store.list_models()
            ]
        )

    def describe_model(self, name: str) -> DescribeModel:
        versions = self.store.model_versions(name)
        if not versions:
            raise NotFound(f"no recorded model is named {name[:200]!r}")
        return DescribeModel(name=name, versions=to_json(versions))

    def mark_interrupted(self) -> list[str]:
        """Housekeeping: runs whose kernel died become interrupted, replays whose process died
        failed (only once the store is open)."""
        if not self.store_open:
            return []
        return [*self.store.mark_interrupted(), *self.store.mark_abandoned_replays()]
