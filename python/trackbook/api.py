"""The public Python API (``import trackbook``).

Inside a kernel that ran ``%load_ext trackbook`` the logging functions
attach to the tracked cell being executed; the query functions open the
same store the magic writes to. Outside a kernel they open the store found
by DESIGN's discovery rules (or the one given with ``store=``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .entities import Artifact, Replay, Run

if TYPE_CHECKING:
    import pandas

    from .tracking import Tracker

_kernel_tracker: Tracker | None = None
_fallback_tracker: Tracker | None = None


def _set_kernel_tracker(tracker: Tracker | None) -> None:
    global _kernel_tracker
    _kernel_tracker = tracker


def _tracker() -> Tracker:
    global _fallback_tracker
    if _kernel_tracker is not None:
        return _kernel_tracker
    if _fallback_tracker is None:
        from .tracking import Tracker

        _fallback_tracker = Tracker(cwd=os.getcwd())
    return _fallback_tracker


def _store(store: str | None) -> Any:
    # Runs this process finished are recorded by a background thread: a
    # query must see them (read-your-writes), whichever store it asks.
    flush()
    if store is None:
        return _tracker().store
    from .store import open_store

    return open_store(store)


# -- logging, inside a %%track cell -------------------------------------------


def log_param(key: str, value: Any) -> None:
    """Record a parameter of the tracked cell being executed."""
    _tracker().log_param(key, value)


def log_params(params: dict[str, Any]) -> None:
    """Record several parameters of the tracked cell being executed."""
    for key, value in params.items():
        _tracker().log_param(key, value)


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Record a metric value; successive calls without ``step`` count 0, 1, 2, ..."""
    _tracker().log_metric(key, value, step)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Record several metrics at the same step."""
    for key, value in metrics.items():
        _tracker().log_metric(key, value, step)


def log_artifact(path_or_bytes: str | os.PathLike[str] | bytes, name: str | None = None) -> Artifact:
    """Store a file (or bytes) as an artifact of the tracked cell being executed."""
    return _tracker().log_artifact(path_or_bytes, name)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the tracked cell being executed."""
    _tracker().set_tag(key, value)


# -- queries -----------------------------------------------------------------------


def runs(store: str | None = None, **filters: Any) -> pandas.DataFrame:
    """All runs as a DataFrame, newest first.

    Columns ``run_id, name, status, notebook, started_at, duration_s``, then
    ``params.*``, ``metrics.*`` and ``tags.*``.

    Parameters
    ----------
    store:
        Store path or URL; default: the kernel's store.
    **filters:
        ``q`` (text in name, notebook or code), ``status``, ``notebook``,
        ``tags`` (dict), ``limit``.
    """
    return _store(store).runs_frame(**filters)


def get_run(run_id: str, store: str | None = None) -> Run:
    """One run with every facet; ``run_id`` may be a unique prefix or a run name."""
    found: Run = _store(store).get_run(run_id)
    return found


def flush(timeout: float | None = None) -> bool:
    """Wait until every run this process finished is in its store; False on timeout.

    ``%%track`` writes a run's final record in a background thread right after
    the cell; the query functions here wait for it themselves. Call this
    before reading the store some other way (another process, raw SQL).
    """
    tracker = _kernel_tracker or _fallback_tracker
    return True if tracker is None else tracker.flush(timeout)


def last_run(store: str | None = None) -> Run | None:
    """The run this kernel tracked last, else the newest run in the store."""
    tracker = _tracker()
    flush()
    if store is None and tracker.last_run is not None:
        return tracker.last_run
    newest = _store(store).list_runs(limit=1)
    return _store(store).get_run(newest[0].id) if newest else None


def compare(run_ids: list[str], store: str | None = None) -> pandas.DataFrame:
    """Runs side by side: one column per run, one row per field, param and metric."""
    from .comparison import compare_frame

    target = _store(store)
    return compare_frame([target.get_run(ref) for ref in run_ids])


# -- replay ----------------------------------------------------------------------------


def replay(
    run_id: str,
    *,
    mode: str = "history",
    overrides: dict[str, Any] | None = None,
    rtol: float = 0.0,
    atol: float = 0.0,
    timeout: float | None = None,
    store: str | None = None,
) -> Replay:
    """Re-execute a recorded run in a fresh kernel and judge whether it reproduces.

    The run's notebook is rebuilt (``mode="history"``: the recorded execution
    order; ``"notebook"``: the saved notebook top to bottom), executed with
    papermill in a child process with the run's seeds, and the run it records
    is compared with the original.

    Parameters
    ----------
    run_id:
        Run id, unique id prefix or run name.
    mode:
        ``"history"`` (default) or ``"notebook"``.
    overrides:
        Parameters to change (JSON values, e.g. ``{"lr": 0.01}``): a variant
        linked to the original.
    rtol, atol:
        Tolerance for metrics (default exact).
    timeout:
        Seconds the replay may run once its kernel started (default 30 minutes).
    store:
        Store path or URL; default: the kernel's store.

    Returns
    -------
    Replay
        With ``verdict`` (``reproduced``, ``reproduced_within_tolerance``,
        ``differs``, ``failed``), ``differences`` (each with its likely
        cause), ``failure`` and ``replay_run_id``.
    """
    from .replaying.engine import DEFAULT_TIMEOUT_S, replay_run

    return replay_run(
        _store(store), run_id, mode=mode, overrides=overrides, rtol=rtol, atol=atol,
        timeout=DEFAULT_TIMEOUT_S if timeout is None else timeout,
    )
