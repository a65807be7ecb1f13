"""Content-addressed blob store: models, figures, files, keyed by sha256.

A blob's id is the sha256 hex digest of its bytes, so the same content is
stored once and every read can prove it got what was written. Writes go to a
temporary file that is fsynced and then renamed into place (atomic on POSIX);
the caller records the referencing row only after the blob exists, so a crash
leaves at worst an unreferenced blob, never a dangling reference.

Layout (local directory and fsspec alike)::

    <root>/sha256/ab/abcdef...   one file per blob (read-only for local stores)
    <root>/tmp/                  writes in progress

:func:`open_blob_store` picks :class:`LocalBlobStore` for a plain path and
:class:`~trackbook.store.blobs_fsspec.FsspecBlobStore` for any other URL.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import hashlib
import io
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from ..exceptions import IntegrityError, UsageError

T = TypeVar("T")

_BLOB_ID = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


@dataclass(frozen=True)
class BlobRef:
    """A stored blob: its sha256 hex id and its size in bytes."""

    id: str
    size: int


def validate_blob_id(blob_id: str) -> str:
    """Return ``blob_id`` if it is 64 lowercase hex digits, else raise ``UsageError``.

    Every path is built from a validated id, so an id can never name a file
    outside the blob directory (``../``, absolute paths, separators).
    """
    if not isinstance(blob_id, str) or _BLOB_ID.fullmatch(blob_id) is None:
        raise UsageError(f"not a blob id (64 lowercase hex digits): {blob_id!r}")
    return blob_id


class BlobWriter(io.RawIOBase):
    """A write-only binary stream that hashes what passes through it.

    ``joblib.dump(model, writer)`` streams a large model straight to its
    temporary file: no second copy in memory. ``ref`` is available after the
    ``with`` block of :meth:`BlobStore.writer` ends.
    """

    def __init__(self, sink: IO[bytes]) -> None:
        super().__init__()
        self._sink = sink
        self._hash = hashlib.sha256()
        self._size = 0
        self._ref: BlobRef | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._hash.update(view)
        self._sink.write(view)
        self._size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self._size

    @property
    def ref(self) -> BlobRef:
        """The stored blob; only once the writer's ``with`` block has completed."""
        if self._ref is None:
            raise UsageError("the blob is stored only when the writer's with-block ends")
        return self._ref

    def _digest(self) -> BlobRef:
        return BlobRef(self._hash.hexdigest(), self._size)

    def _complete(self, ref: BlobRef) -> None:
        self._ref = ref


class BlobStore(abc.ABC):
    """Interface of every blob store; hashing and verification live here."""

    url: str

    @abc.abstractmethod
    def writer(self) -> contextlib.AbstractContextManager[BlobWriter]:
        """A stream to write one blob; discarded if the ``with`` block raises."""

    @abc.abstractmethod
    def _read_raw(self, blob_id: str) -> bytes:
        """The stored bytes of a validated id, unverified."""

    @abc.abstractmethod
    def _open_raw(self, blob_id: str) -> IO[bytes]:
        """A binary stream over a validated id's stored bytes."""

    @abc.abstractmethod
    def exists(self, blob_id: str) -> bool:
        """True when the blob is stored (a symlink in its place does not count)."""

    @abc.abstractmethod
    def iter_ids(self) -> Iterator[str]:
        """Every id present in the store, including ones that fail verification."""

    def put_bytes(self, data: bytes) -> BlobRef:
        """Store ``data``; returns its reference (a no-op when already stored)."""
        with self.writer() as out:
            out.write(data)
        return out.ref

    def put_file(self, path: str | os.PathLike[str]) -> BlobRef:
        """Store a file's content, streamed; returns its reference."""
        with open(path, "rb") as source, self.writer() as out:
            while chunk := source.read(_CHUNK):
                out.write(chunk)
        return out.ref

    def get_bytes(self, blob_id: str) -> bytes:
        """The blob's bytes, verified against its id.

        Raises
        ------
        IntegrityError
            The blob is missing, is not a regular file, or its content does not
            hash to its id (changed or truncated).
        UsageError
            ``blob_id`` is not a blob id.
        """
        validate_blob_id(blob_id)
        data: bytes = self._guarded(blob_id, lambda: self._read_raw(blob_id))
        actual = hashlib.sha256(data).hexdigest()
        if actual != blob_id:
            raise _corrupt(blob_id, len(data))
        return data

    def verify(self, blob_id: str) -> BlobRef:
        """Re-hash a stored blob (streamed); returns it, or raises ``IntegrityError``."""
        validate_blob_id(blob_id)
        digest = hashlib.sha256()
        size = 0

        def read() -> None:
            nonlocal size
            with self._open_raw(blob_id) as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)

        self._guarded(blob_id, read)
        if digest.hexdigest() != blob_id:
            raise _corrupt(blob_id, size)
        return BlobRef(blob_id, size)

    def open_verified(self, blob_id: str) -> IO[bytes]:
        """A stream over a blob, at its start, whose content was verified through it.

        The blob is hashed through the same open file that is returned (then
        rewound), so what a caller streams is what was verified, without
        holding a large blob in memory. The caller closes the stream.

        Raises
        ------
        IntegrityError
            Missing, not a regular file (a symlink is refused), or changed.
        UsageError
            ``blob_id`` is not a blob id.
        """
        validate_blob_id(blob_id)
        handle = self._guarded(blob_id, lambda: self._open_raw(blob_id))
        try:
            digest = hashlib.sha256()
            size = 0
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            if digest.hexdigest() != blob_id:
                raise _corrupt(blob_id, size)
            if handle.seekable():
                handle.seek(0)
                return handle
        except BaseException:
            handle.close()
            raise
        handle.close()
        return io.BytesIO(self.get_bytes(blob_id))

    def _guarded(self, blob_id: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except FileNotFoundError:
            raise IntegrityError(
                f"blob {blob_id} is missing from {self.url}", subject=blob_id
            ) from None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR):
                raise IntegrityError(
                    f"blob {blob_id} is a symbolic link, not a stored file: refusing to follow it",
                    subject=blob_id,
                ) from None
            raise


def _corrupt(blob_id: str, size: int) -> IntegrityError:
    return IntegrityError(
        f"blob {blob_id} fails verification: its {size} bytes do not hash to its id "
        "(changed or truncated since it was stored)",
        subject=blob_id,
    )


class LocalBlobStore(BlobStore):
    """Blobs in a local directory.

    Parameters
    ----------
    root:
        The blob directory (created when missing).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(self.root)
        self._objects = self.root / "sha256"
        self._tmp = self.root / "tmp"

    def path(self, blob_id: str) -> Path:
        """Where a blob lives (validated id; the file may not exist)."""
        validate_blob_id(blob_id)
        return self._objects / blob_id[:2] / blob_id

    @contextlib.contextmanager
    def writer(self) -> Iterator[BlobWriter]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="blob-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as sink:
                out = BlobWriter(sink)
                yield out
                sink.flush()
                os.fsync(sink.fileno())
            ref = out._digest()
            self._install(tmp, ref)
            out._complete(ref)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def put_bytes(self, data: bytes) -> BlobRef:
        ref = BlobRef(hashlib.sha256(data).hexdigest(), len(data))
        if self._present(ref):
            return ref  # content-addressed: the same bytes are already there
        return super().put_bytes(data)

    def _present(self, ref: BlobRef) -> bool:
        # Same id and same size: the stored copy is taken as good (verify()
        # re-hashes everything); a wrong size heals by being replaced.
        try:
            info = os.lstat(self.path(ref.id))
        except FileNotFoundError:
            return False
        return stat.S_ISREG(info.st_mode) and info.st_size == ref.size

    def _install(self, tmp: Path, ref: BlobRef) -> None:
        if self._present(ref):
            return
        final = self.path(ref.id)
        new_dir = not final.parent.exists()
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o444)  # blobs are immutable; make accidents harder
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        if new_dir:
            _fsync_dir(final.parent.parent)

    def _open_fd(self, blob_id: str) -> int:
        # Neither the fan-out directory nor the file may be a symlink: a
        # planted link could otherwise make the store serve any file.
        dir_fd = os.open(self._objects / blob_id[:2], os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
        try:
            if not _NOFOLLOW and os.path.islink(self.path(blob_id)):  # pragma: no cover - Windows
                raise OSError(errno.ELOOP, "symbolic link")
            return os.open(blob_id, os.O_RDONLY | _NOFOLLOW, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)

    def _open_raw(self, blob_id: str) -> IO[bytes]:
        return os.fdopen(self._open_fd(blob_id), "rb")

    def _read_raw(self, blob_id: str) -> bytes:
        with self._open_raw(blob_id) as handle:
            data: bytes = handle.read()
        return data

    def exists(self, blob_id: str) -> bool:
        try:
            return stat.S_ISREG(os.lstat(self.path(blob_id)).st_mode)
        except FileNotFoundError:
            return False

    def iter_ids(self) -> Iterator[str]:
        if not self._objects.is_dir():
            return
        for fan in sorted(self._objects.iterdir()):
            if fan.is_symlink() or not fan.is_dir():
                continue
            for entry in sorted(fan.iterdir()):
                if _BLOB_ID.fullmatch(entry.name) and entry.name.startswith(fan.name):
                    yield entry.name


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    try:
        fd = os.open(path, os.O_RDONLY | _DIRECTORY)
    except OSError:  # pragma: no cover - Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def open_blob_store(url: str) -> BlobStore:
    """The blob store at ``url``: a local directory, or any fsspec URL."""
    if "://" not in url or url.startswith("file://"):
        return LocalBlobStore(url.removeprefix("file://"))
    from .blobs_fsspec import FsspecBlobStore

    return FsspecBlobStore(url)
