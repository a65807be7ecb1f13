"""Blob store on any fsspec filesystem (``s3://``, ``gcs://``, ``memory://`` ...).

Same layout and guarantees as the local store, as far as the filesystem
offers them: the blob is written under ``tmp/`` and moved into place once
complete, so a reader never sees a partial blob under its final name (on
object stores the move is a copy and a delete, still complete-or-absent).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import IO, Any

from .blobs import _BLOB_ID, BlobStore, BlobWriter, validate_blob_id


class FsspecBlobStore(BlobStore):
    """Blobs under an fsspec URL.

    Parameters
    ----------
    url:
        Root of the blob store, e.g. ``s3://bucket/trackbook/blobs``.
    storage_options:
        Passed to the fsspec filesystem (credentials come from its usual sources).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec.core

        self.url = url
        self.fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self._root = root.rstrip("/")
        self._objects = f"{self._root}/sha256"
        self._tmp = f"{self._root}/tmp"

    def path(self, blob_id: str) -> str:
        """The filesystem path of a blob (validated id)."""
        validate_blob_id(blob_id)
        return f"{self._objects}/{blob_id[:2]}/{blob_id}"

    @contextlib.contextmanager
    def writer(self) -> Iterator[BlobWriter]:
        tmp = f"{self._tmp}/blob-{uuid.uuid4().hex}"
        self.fs.makedirs(self._tmp, exist_ok=True)
        completed = False
        try:
            with self.fs.open(tmp, "wb") as sink:
                out = BlobWriter(sink)
                yield out
            ref = out._digest()
            final = self.path(ref.id)
            if not self._present(final, ref.size):
                self.fs.makedirs(f"{self._objects}/{ref.id[:2]}", exist_ok=True)
                self.fs.mv(tmp, final)
                completed = True
            out._complete(ref)
        finally:
            if not completed:
                with contextlib.suppress(FileNotFoundError, OSError):
                    self.fs.rm(tmp)

    def _present(self, path: str, size: int) -> bool:
        try:
            return int(self.fs.size(path)) == size
        except FileNotFoundError:
            return False

    def _read_raw(self, blob_id: str) -> bytes:
        return bytes(self.fs.cat_file(self.path(blob_id)))

    def _open_raw(self, blob_id: str) -> IO[bytes]:
        handle: IO[bytes] = self.fs.open(self.path(blob_id), "rb")
        return handle

    def exists(self, blob_id: str) -> bool:
        return bool(self.fs.isfile(self.path(blob_id)))

    def iter_ids(self) -> Iterator[str]:
        if not self.fs.exists(self._objects):
            return
        for path in sorted(self.fs.find(self._objects)):
            name = str(path).rstrip("/").rsplit("/", 1)[-1]
            parent = str(path).rstrip("/").rsplit("/", 2)[-2]
            if _BLOB_ID.fullmatch(name) and name.startswith(parent):
                yield name
