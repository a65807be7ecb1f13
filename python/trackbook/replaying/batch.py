"""Replay many runs in parallel: threads on this machine, or a Dask cluster.

Both executors run the same function, :func:`replay_in`, on an open store
(a Dask worker opens it by URL, :func:`replay_by_url`; a local batch shares
one), so a replay on a Dask worker is the replay that runs here. Each
replay executes its notebook in a child process of the worker
(:mod:`.execute`), so the parallelism is one kernel per job; a local batch
keeps those worker processes between replays (:mod:`.workers`).
On this machine the jobs are threads: the work happens in those child
processes, and a process per job would pay another interpreter start and
store import, a tenth of a short replay's CPU.

A Dask cluster's workers must reach the same store: a shared directory (the
same path on every worker) or a PostgreSQL store with ``TRACKBOOK_BLOBS``
set on the workers; trackbook must be installed there.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from ..entities import Replay
from ..exceptions import OptionalDependencyError, UsageError
from .engine import DEFAULT_TIMEOUT_S, replay_run
from .workers import reusing_workers

#: Executor URL schemes that name a Dask scheduler (``dask://`` is trackbook's spelling of ``tcp://``).
_DASK_SCHEMES = {"dask": "tcp", "tcp": "tcp", "tls": "tls"}


@dataclass(frozen=True)
class ReplayOptions:
    """How every run of a batch is replayed (see :func:`~.engine.replay_run`)."""

    mode: str = "history"
    overrides: dict[str, Any] = field(default_factory=dict)
    rtol: float = 0.0
    atol: float = 0.0
    timeout: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class BatchResult:
    """One run of a batch: its finished replay, or why no replay could be made."""

    run_id: str
    replay: Replay | None = None
    error: str | None = None

    @property
    def reproduced(self) -> bool:
        """True for ``reproduced`` and ``reproduced_within_tolerance``."""
        return self.replay is not None and self.replay.verdict in ("reproduced", "reproduced_within_tolerance")


def replay_by_url(store_url: str, run_id: str, options: ReplayOptions) -> BatchResult:
    """Replay ``run_id`` of the store at ``store_url`` in this process (what Dask workers run).

    Errors that prevent a replay record (the run is gone, the store cannot be
    opened) come back as :attr:`BatchResult.error`, so one bad run does not
    stop a batch.
    """
    from ..store import open_store

    try:
        with open_store(store_url, create=False) as store:
            return replay_in(store, run_id, options)
    except Exception as exc:  # one bad run must not end the batch; its reason is reported
        return _error(run_id, exc)


def replay_in(store: Any, run_id: str, options: ReplayOptions) -> BatchResult:
    """Replay ``run_id`` of an open store; errors come back as :attr:`BatchResult.error`."""
    try:
        replay = replay_run(
            store, run_id, mode=options.mode, overrides=options.overrides,
            rtol=options.rtol, atol=options.atol, timeout=options.timeout,
        )
        return BatchResult(run_id, replay)
    except Exception as exc:  # one bad run must not end the batch; its reason is reported
        return _error(run_id, exc)


def _error(run_id: str, exc: Exception) -> BatchResult:
    return BatchResult(run_id, error=f"{type(exc).__name__}: {exc}")


def replay_many(
    store_url: str,
    run_ids: Sequence[str],
    options: ReplayOptions,
    *,
    jobs: int = 1,
    executor: str | None = None,
    progress: bool = True,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Replay ``run_ids`` (full ids) with ``jobs`` parallel replays, or on a Dask scheduler.

    Parameters
    ----------
    store_url:
        The store as workers open it (``store.location.export_value``).
    run_ids:
        Runs to replay.
    options:
        Mode, overrides, tolerances and timeout for every replay.
    jobs:
        Replays at a time on this machine (threads when > 1).
    executor:
        ``dask://HOST:PORT`` (or ``tcp://``/``tls://``): run on that Dask scheduler instead.
    progress:
        Show a progress bar on stderr.
    on_result:
        Called with each result as it arrives.

    Returns
    -------
    list[BatchResult]
        In the order of ``run_ids``.
    """
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    address = _dask_address(executor) if executor is not None else None
    from tqdm import tqdm

    by_run: dict[str, BatchResult] = {}
    # Local replays keep one worker process per job between replays
    # (workers.py); they start first, so their interpreters start while
    # the store is opened and the runs ordered.
    local_jobs = 0 if address is not None else min(jobs, len(run_ids))
    with reusing_workers(start=local_jobs), tqdm(
        total=len(run_ids), desc="replaying", unit="run", file=sys.stderr, disable=not progress
    ) as bar:
        if address is not None:
            results = _on_dask(address, store_url, longest_first(store_url, run_ids), options)
        else:
            results = _here(jobs, store_url, run_ids, options)
        for result in results:
            by_run[result.run_id] = result
            if result.replay is not None:
                bar.set_postfix_str(f"{result.run_id[:10]} {result.replay.verdict}")
            bar.update()
            if on_result is not None:
                on_result(result)
    return [by_run[run_id] for run_id in run_ids]


#: Seconds a replay spends per history entry it re-executes (papermill's round trip), for ordering.
_SECONDS_PER_CELL = 0.03


def longest_first(store_url: str, run_ids: Sequence[str]) -> list[str]:
    """``run_ids`` with the replays expected to take longest first.

    Parallel replays finish together when the long ones start early and the
    short ones fill the gaps at the end (longest-processing-time-first); in
    submission order, the batch ends with one job running alone. A replay's
    cost: the tracked cell's recorded duration plus a round trip per history
    entry it re-executes. Runs that cannot be read keep their place at the end.
    """
    from ..store import open_store

    try:
        with open_store(store_url, create=False) as store:
            return _longest_first_in(store, run_ids)
    except Exception:  # noqa: BLE001  (ordering is an optimisation: never fail the batch for it)
        return list(run_ids)


def _longest_first_in(store: Any, run_ids: Sequence[str]) -> list[str]:
    try:
        workloads = store.replay_workloads(run_ids)
    except Exception:  # noqa: BLE001  (ordering is an optimisation: never fail the batch for it)
        return list(run_ids)
    costs = {run_id: seconds + _SECONDS_PER_CELL * entries for run_id, (seconds, entries) in workloads.items()}
    return sorted(run_ids, key=lambda run_id: -costs.get(run_id, -1.0))


def _here(jobs: int, store_url: str, run_ids: Sequence[str], options: ReplayOptions) -> Iterator[BatchResult]:
    """Replays on this machine, sharing one open store.

    One store for the whole batch, rather than one per replay: its threads
    take turns to write without SQLite's busy sleeps, and the store's
    write-ahead log is checkpointed once, at the end, instead of after each
    replay while the others write.
    """
    from ..store import open_store

    try:
        store = open_store(store_url, create=False)
    except Exception as exc:  # every run gets the reason, as each would have alone
        yield from (_error(run_id, exc) for run_id in run_ids)
        return
    with store:
        if jobs == 1 or len(run_ids) <= 1:
            yield from (replay_in(store, run_id, options) for run_id in run_ids)
        else:
            yield from _on_threads(jobs, store, _longest_first_in(store, run_ids), options)


def _on_threads(jobs: int, store: Any, run_ids: Sequence[str], options: ReplayOptions) -> Iterator[BatchResult]:
    """Each result as its replay ends; the runs start in the order given."""
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="trackbook-replay")
    try:
        futures = [pool.submit(replay_in, store, run_id, options) for run_id in run_ids]
        for future in as_completed(futures):
            yield future.result()  # replay_in reports its own errors
    finally:
        # A batch stopped early (Ctrl-C) starts nothing more; closing the
        # worker pool then ends the replays under way.
        pool.shutdown(wait=False, cancel_futures=True)


def _dask_address(executor: str) -> str:
    scheme, sep, rest = executor.partition("://")
    if not sep or scheme.lower() not in _DASK_SCHEMES or not rest:
        raise UsageError(f"--executor {executor!r}: give a Dask scheduler as dask://HOST:PORT")
    return f"{_DASK_SCHEMES[scheme.lower()]}://{rest}"


def _on_dask(address: str, store_url: str, run_ids: Sequence[str], options: ReplayOptions) -> Iterator[BatchResult]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise OptionalDependencyError("distributed", "dask") from None
    batch = uuid.uuid4().hex[:8]
    with Client(address, timeout=30) as client:  # type: ignore[no-untyped-call]
        futures = {
            client.submit(replay_by_url, store_url, run_id, options, pure=False,
                          key=f"trackbook-replay-{batch}-{run_id}"): run_id
            for run_id in run_ids
        }
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            try:
                yield future.result()
            except Exception as exc:  # a worker died or could not import trackbook
                yield BatchResult(futures[future], error=f"{type(exc).__name__}: {exc}")
