"""Where and with what a replay kernel runs: working directory, kernel spec, environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..entities import Run

#: Kernel spec used when the run recorded none.
FALLBACK_KERNEL = "python3"


def kernel_name(run: Run) -> str:
    """The kernel spec the run recorded, else ``python3``."""
    recorded = run.environment.kernel if run.environment is not None else None
    return recorded or FALLBACK_KERNEL


def working_directory(run: Run, location: Any) -> tuple[str, str | None]:
    """The original notebook's directory, and a note when it had to fall back.

    Relative paths in the notebook (``pd.read_csv("data.csv")``) resolve as
    they did in the original session only there. When it is gone, the
    directory holding the store (the Jupyter root a ``.trackbook/`` lives
    in), else the current directory.
    """
    if run.notebook:
        directory = Path(run.notebook).parent
        if directory.is_absolute() and directory.is_dir():
            return str(directory), None
        if not directory.is_absolute() and location.root is not None:
            candidate = Path(location.root).parent / directory
            if candidate.is_dir():
                return str(candidate), None
    fallback = str(Path(location.root).parent) if location.root is not None else os.getcwd()
    why = f"the notebook's directory ({Path(run.notebook).parent}) is gone" if run.notebook else "the run recorded no notebook"
    return fallback, f"ran in {fallback}: {why}"


#: Set in a replay's kernel: a recorded ``trackbook.replay(...)`` call replayed
#: there would start replays of replays (and repeat any file edits between them).
IN_REPLAY_ENV = "TRACKBOOK_IN_REPLAY"
#: A directory where a replay's kernel leaves the run it records, as a spool
#: file, instead of writing the store: the replaying process delivers it. The
#: kernel so never imports SQLAlchemy or opens the database, a fifth of a
#: short replay's CPU.
OUTBOX_ENV = "TRACKBOOK_REPLAY_OUTBOX"


def kernel_env(location: Any, run: Run, kernel: str, outbox: str | None = None) -> dict[str, str]:
    """Environment of the replay process and kernel: this one, pointed at the same store.

    ``outbox`` is where the kernel leaves its run (:data:`OUTBOX_ENV`).

    ``JPY_SESSION_NAME`` makes the replayed run name the original notebook;
    ``PYTHONHASHSEED`` is restored when the original recorded one (string
    hashing, so set iteration order, depends on it).
    """
    from ..store.discovery import BLOBS_ENV, STORE_ENV

    env = dict(os.environ)
    env[STORE_ENV] = location.export_value
    env[BLOBS_ENV] = location.blobs_url
    env["TRACKBOOK_KERNEL_NAME"] = kernel
    env[IN_REPLAY_ENV] = "1"
    env.pop(OUTBOX_ENV, None)
    if outbox is not None:
        env[OUTBOX_ENV] = outbox
    env.pop("JPY_SESSION_NAME", None)
    if run.notebook:
        env["JPY_SESSION_NAME"] = run.notebook
    hash_seed = run.seeds.get("PYTHONHASHSEED")
    if hash_seed not in (None, ""):
        env["PYTHONHASHSEED"] = str(hash_seed)
    return env
