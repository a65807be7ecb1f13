"""Local spool: finished runs that could not be written wait here, as JSON.

When the database is locked for too long or unreachable, a finished run is
written to ``<spool dir>/<run id>.json`` (atomically: temp file, fsync,
rename) and delivered by the next successful write to the same store.
Each store has its own directory: ``$TRACKBOOK_SPOOL_DIR`` (default
``~/.cache/trackbook/spool``) plus the first 16 hex digits of the sha256
of the store's database URL, so runs can never be delivered to the wrong store.

Delivery is idempotent (a run finished twice keeps the last finish), so two
processes delivering the same file at once do no harm. A file that cannot be
delivered for a reason other than the store being unavailable is renamed
``.failed`` and kept, never deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import write_atomically
from ..entities import Run
from ..exceptions import StoreError, StoreUnavailableError
from .codec import run_from_dict, run_to_dict

if TYPE_CHECKING:
    from .store import Store

SPOOL_ENV = "TRACKBOOK_SPOOL_DIR"
_SUFFIX = ".json"
_FAILED = ".failed"


def default_spool_dir(db_url: str) -> Path:
    """The spool directory of the store whose database is ``db_url``."""
    base = os.environ.get(SPOOL_ENV, "").strip()
    if base:
        root = Path(base).expanduser()
    else:
        cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
        root = Path(cache) / "trackbook" / "spool"
    return root / hashlib.sha256(db_url.encode()).hexdigest()[:16]


class Spool:
    """Finished runs waiting for their store.

    Parameters
    ----------
    directory:
        This store's spool directory (created on the first :meth:`put`).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def put(self, run: Run) -> Path:
        """Write ``run`` to the spool, atomically; returns its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{run.id}{_SUFFIX}"
        payload = json.dumps(run_to_dict(run), ensure_ascii=False).encode()
        write_atomically(target, payload)
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return target

    def pending(self) -> list[Path]:
        """Spooled runs waiting for delivery, oldest run id first."""
        try:
            with os.scandir(self.directory) as entries:
                names = [
                    e.name
                    for e in entries
                    if e.name.endswith(_SUFFIX) and not e.name.startswith(".")
                ]
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [self.directory / name for name in sorted(names)]

    def failed(self) -> list[Path]:
        """Spooled runs the store rejected (kept for a person to look at)."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{_SUFFIX}{_FAILED}"))

    def load(self, path: Path) -> Run:
        """The run in one spool file."""
        return run_from_dict(json.loads(path.read_text(encoding="utf-8")))

    def deliver(self, store: Store) -> int:
        """Write every pending run to ``store``; returns how many were delivered.

        Stops quietly at the first :class:`StoreUnavailableError` (the store
        is still unreachable: the rest stays spooled).
        """
        delivered = 0
        for path in self.pending():
            try:
                run = self.load(path)
            except FileNotFoundError:
                continue  # another process delivered it
            except (ValueError, TypeError, KeyError) as exc:
                self._set_aside(path, f"unreadable spool file: {exc}")
                continue
            try:
                store._record_finished(run)
            except StoreUnavailableError:
                break
            except StoreError as exc:
                self._set_aside(path, str(exc))
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            delivered += 1
        return delivered

    def _set_aside(self, path: Path, reason: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, path.with_name(path.name + _FAILED))
            path.with_name(path.name + _FAILED + ".reason").write_text(
                reason + "\n", encoding="utf-8"
            )
