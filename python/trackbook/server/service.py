"""What the REST handlers call: one store, opened lazily, shared by all requests."""

from __future__ import annotations

import threading
from typing import Any

from ..store import open_store, resolve_store_url


class RegistryService:
    """The registry behind the REST API (swap it with ``TrackbookApp.service_class``)."""

    def __init__(self, store: str | None, root_dir: str) -> None:
        self.location = resolve_store_url(store, cwd=root_dir)
        self._store_ref = store
        self._root_dir = root_dir
        self._store: Any = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Any:
        # Opened on first request: a server without trackbook traffic pays nothing.
        with self._lock:
            if self._store is None:
                self._store = open_store(self._store_ref, cwd=self._root_dir)
            return self._store

    def schema_revision(self) -> str | None:
        return str(self.store.info().get("schema_revision"))

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
