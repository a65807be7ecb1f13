"""One replay, start to finish (DESIGN, Replay steps 1-6).

:func:`replay_run` = :func:`prepare_replay` (check the request, no side
effect) + ``store.create_replay`` + :func:`run_replay`. A server that answers
``202`` first creates the record, then calls :func:`run_replay` in the
background.

:func:`run_replay` is a template method: whatever happens between
``start_replay`` and ``finish_replay`` (a kernel that dies, a timeout, a bug,
Ctrl-C), the ``finally`` path records a finished replay with a verdict, so
no replay is left half-written; a process killed outright leaves a
``running`` record that ``store.mark_abandoned_replays()`` turns into
``failed``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from ..atomic import write_atomically
from ..entities import Replay, ReplayFailure, Run, current_user, new_run_id, utcnow
from ..exceptions import UsageError
from ..store.spool import Spool
from .compare import compare
from .environment import IN_REPLAY_ENV, kernel_env, kernel_name, working_directory
from .execute import execute_notebook
from .notebook import (
    ReplayNotebook,
    build_notebook,
    history_cells,
    notebook_cells,
    resolve_notebook_path,
)
from .outcome import analyse, find_replayed_run
from .parameters import normalise_overrides
from .session import earlier_runs

#: Default seconds a replay may run once its kernel started.
DEFAULT_TIMEOUT_S = 1800.0
MODES = ("history", "notebook")
#: Seconds between two progress writes of one replay to the store.
PROGRESS_INTERVAL_S = 0.5

Progress = Callable[[str], None]


def prepare_replay(
    store: Any,
    run_ref: str,
    *,
    mode: str = "history",
    overrides: dict[str, Any] | None = None,
    rtol: float = 0.0,
    atol: float = 0.0,
) -> Replay:
    """Check a replay request and return its (not yet stored) ``queued`` record.

    Raises
    ------
    UsageError
        Unknown mode, bad overrides or tolerances, or a run that cannot be
        replayed in this mode (no history; notebook gone).
    RunNotFoundError, AmbiguousRunError
        ``run_ref`` names no run, or several.
    """
    if os.environ.get(IN_REPLAY_ENV):
        raise UsageError("this kernel is itself replaying a run: replays are not started from inside a replay")
    if mode not in MODES:
        raise UsageError(f"mode must be history or notebook, got {mode!r}")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
            raise UsageError(f"{name} must be a number >= 0, got {value!r}")
    checked = normalise_overrides(overrides)
    run: Run = store.get_run(run_ref)
    replay = Replay(
        id=new_run_id(), run_id=run.id, mode=mode, overrides=checked,  # type: ignore[arg-type]
        rtol=float(rtol), atol=float(atol),
        user=current_user(), host=socket.gethostname(), pid=os.getpid(),
    )
    _build(store, run, replay, seeds_of_earlier_runs=False)  # fail now, not in the background
    return replay


def replay_run(
    store: Any,
    run_id: str,
    *,
    mode: str = "history",
    overrides: dict[str, Any] | None = None,
    rtol: float = 0.0,
    atol: float = 0.0,
    timeout: float = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
    output_path: str | os.PathLike[str] | None = None,
) -> Replay:
    """Replay a recorded run in a fresh kernel and judge whether it reproduces.

    Parameters
    ----------
    store:
        An open :class:`~trackbook.store.Store`.
    run_id:
        Run id, unique id prefix or run name.
    mode:
        ``history`` (the recorded execution order) or ``notebook`` (the saved
        notebook top to bottom).
    overrides:
        Parameters to change (JSON values): a variant linked to the original.
    rtol, atol:
        Tolerance for metrics (0: exact).
    timeout:
        Seconds the execution may take once the kernel started.
    progress:
        Called with a short message at each step (also stored on the replay).
    output_path:
        Also write the executed notebook there (atomically).

    Returns
    -------
    Replay
        Finished (``status == "done"``) with its verdict.
    """
    replay = prepare_replay(store, run_id, mode=mode, overrides=overrides, rtol=rtol, atol=atol)
    store.create_replay(replay)
    return run_replay(store, replay, timeout=timeout, progress=progress, output_path=output_path)


def run_replay(
    store: Any,
    replay: Replay,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
    output_path: str | os.PathLike[str] | None = None,
) -> Replay:
    """Execute a created replay and record its verdict (see :func:`replay_run`)."""
    if not timeout > 0:
        raise UsageError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    report = _Reporter(store, replay, progress)
    store.start_replay(replay.id, "preparing the notebook")
    replay.status, replay.started_at = "running", utcnow()
    try:
        _replay(store, replay, timeout, report, output_path)
    except BaseException as exc:
        replay.verdict = "failed"
        replay.failure = ReplayFailure(None, type(exc).__name__, str(exc) or "the replay was interrupted")
        replay.message = f"the replay stopped: {type(exc).__name__}: {exc}"
        if not isinstance(exc, Exception):  # Ctrl-C, SystemExit: record, then stop
            report.close()
            _finish(store, replay)
            raise
    report.close()
    _finish(store, replay)
    return replay


def _finish(store: Any, replay: Replay) -> None:
    replay.status, replay.ended_at = "done", utcnow()
    store.finish_replay(replay)


def _replay(store: Any, replay: Replay, timeout: float, report: _Reporter, output_path: Any) -> None:
    original: Run = store.get_run_by_id(replay.run_id)
    built = _build(store, original, replay)
    cwd, cwd_note = working_directory(original, store.location)
    kernel = kernel_name(original)
    notes = list(built.notes) + ([cwd_note] if cwd_note else [])
    cells = len(built.notebook["cells"])
    report(f"starting a {kernel} kernel in {cwd}")
    with tempfile.TemporaryDirectory(prefix="trackbook-outbox-") as outbox:
        execution = execute_notebook(
            built.notebook, kernel_name=kernel, cwd=cwd,
            env=kernel_env(store.location, original, kernel, outbox=outbox), timeout=timeout,
            on_cell=lambda index: report(f"executing cell {index + 1} of {cells}"),
            on_tick=report.again,
        )
        # The run the kernel recorded (also one from a replay that then failed).
        Spool(outbox).deliver(store)
    report("comparing with the original run")
    outcome = analyse(execution, built)
    notes += outcome.notes
    if outcome.notebook is not None:
        data = outcome.notebook_bytes()
        replay.notebook_artifact = store.blobs.put_bytes(data).id
        if output_path is not None:
            write_atomically(output_path, data)
    replayed = find_replayed_run(store, replay)
    replay.replay_run_id = replayed.id if replayed is not None else None
    replay.message = "; ".join(notes) or None
    if outcome.failure is not None:
        replay.verdict, replay.failure = "failed", outcome.failure
        return
    if replayed is None:
        replay.verdict = "failed"
        replay.failure = ReplayFailure(
            built.target_index, "ReplayRunMissing",
            "the tracked cell ran but recorded no run: is trackbook installed in the kernel's environment?",
        )
        return
    comparison = compare(original, replayed, rtol=replay.rtol, atol=replay.atol, overrides=replay.overrides)
    replay.differences = comparison.differences
    replay.verdict = comparison.verdict


def _build(store: Any, original: Run, replay: Replay, seeds_of_earlier_runs: bool = True) -> ReplayNotebook:
    if replay.mode == "notebook":
        path = resolve_notebook_path(original, store.location.root)
        if path is None:
            raise UsageError(
                f"run {original.id} has no saved notebook to replay"
                + (f" ({original.notebook} is gone)" if original.notebook else "")
                + ": use --mode history"
            )
        cells = notebook_cells(original, path)
    else:
        cells = history_cells(original)
    return build_notebook(
        original, cells, replay_id=replay.id, overrides=replay.overrides,
        earlier_runs=earlier_runs(store, original, cells) if seeds_of_earlier_runs else None,
        kernel_name=kernel_name(original),
    )


class _Reporter:
    """Sends progress to the caller at once and to the store (for the sidebar) at a pace.

    A replay of a long history starts a cell every few milliseconds; a store
    transaction per cell would make parallel replays queue for the write
    lock. The store gets the latest message at most every
    :data:`PROGRESS_INTERVAL_S`, and a message that had to wait is written
    when its turn comes (a timer), so the last cell's is never lost.
    """

    def __init__(self, store: Any, replay: Replay, progress: Progress | None) -> None:
        self.store, self.replay, self.progress = store, replay, progress
        self._lock = threading.Lock()
        self._written_at = 0.0
        self._timer: threading.Timer | None = None

    def __call__(self, message: str) -> None:
        self.replay.message = message
        with self._lock:
            wait = self._written_at + PROGRESS_INTERVAL_S - time.monotonic()
            if wait > 0:
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._write_latest)
                    self._timer.daemon = True
                    self._timer.start()
            else:
                self._write(message)
        if self.progress is not None:
            self.progress(message)

    def again(self) -> None:
        """Repeat the last message: a sign of life while a long cell runs."""
        with self._lock:
            self._write(self.replay.message or "running")

    def close(self) -> None:
        """No more progress: cancel a write still waiting (the verdict follows)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _write_latest(self) -> None:
        with self._lock:
            if self._timer is None:
                return  # closed meanwhile
            self._timer = None
            with contextlib.suppress(Exception):  # progress is a courtesy: the replay goes on
                self._write(self.replay.message or "running")

    def _write(self, message: str) -> None:
        # Called with self._lock held.
        self._written_at = time.monotonic()
        self.store.update_replay_progress(self.replay.id, message)
