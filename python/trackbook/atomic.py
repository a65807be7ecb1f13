"""Writing a file so that readers see the old content or the new, never a part.

Used wherever trackbook writes a file a user or another process may read
while it is written: spooled runs, replays' output notebooks, audit reports.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], data: bytes, *, shared: bool = False) -> Path:
    """Write ``data`` to ``path`` through a synced temporary file in its directory and a rename.

    ``shared``: give the file the permissions of any file the user creates
    (``0644`` less the umask) instead of ``mkstemp``'s private ``0600``.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if shared:
            os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
