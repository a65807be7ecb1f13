"""Background work for runs: ``running`` rows, heartbeats and final records.

A tracked cell should cost its user nothing they can feel, so the store is
never written on the cell's critical path when it need not be:

* A run's ``running`` row exists so that a kernel dying mid-cell leaves a
  trace, which is later marked ``interrupted``. Writing it costs a store
  transaction, and most cells are short. So this thread writes it once a
  cell has run for :data:`CREATE_AFTER_S`; a shorter cell gets no running row.
  A kernel that dies within that first fraction of a second leaves no row:
  nothing ran long enough to produce a result worth auditing.
* Long cells get a heartbeat every :data:`HEARTBEAT_INTERVAL_S`, which proves
  to readers on other hosts that the kernel is alive.
* The final record (the environment reference and the store transaction) is
  a *job* this thread runs just after the cell returned, while the user
  reads the output, as IPython's own history thread does with the cell's
  input. A job waits :data:`JOB_DELAY_S` first: started at once, it would
  compete for the GIL with the kernel still sending the cell's reply.
  Jobs run in submission order, after any running row of the same run (one
  thread does both). :meth:`RunKeeper.flush` runs them at once and waits:
  readers in the same process call it first, and so does interpreter exit.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

#: A cell running this long (seconds) gets its ``running`` row.
CREATE_AFTER_S = 0.2
#: How often a running run proves its kernel is alive (seconds).
HEARTBEAT_INTERVAL_S = 60.0
#: How long a job waits before it runs unless flushed (seconds): long enough
#: for the kernel to reply and go idle, too short for anyone to notice.
JOB_DELAY_S = 0.02
#: How long interpreter exit waits for final records still queued (seconds).
EXIT_FLUSH_S = 30.0


class KeptRun(Protocol):
    """What the keeper needs of a run in progress (``tracking.ActiveRun``)."""

    started: float  # time.perf_counter() at begin
    created: bool  # its running row is in the store
    settled: bool  # finish has taken over: leave it alone
    create_tried: bool
    lock: threading.Lock  # held while the row is written, so finish waits for it

    @property
    def run_id(self) -> str: ...


class RunKeeper:
    """One daemon thread per tracker: late running rows, heartbeats, queued jobs.

    Parameters
    ----------
    create:
        Writes the run's ``running`` row; sets ``created`` when it succeeded
        (failures are the caller's to report, and are not retried).
    heartbeat:
        Records that the run with this id is still running.
    """

    def __init__(self, create: Callable[[KeptRun], None], heartbeat: Callable[[str], None]) -> None:
        self._create = create
        self._heartbeat = heartbeat
        self._runs: list[KeptRun] = []
        self._jobs: collections.deque[tuple[float, Callable[[], None]]] = collections.deque()
        self._busy = False  # a job taken off the queue is running
        self._hurry = False  # a flush is waiting: run jobs without their delay
        lock = threading.Lock()
        self._wake = threading.Condition(lock)  # new runs or jobs, or close
        self._idle = threading.Condition(lock)  # the job queue ran empty
        self._thread: threading.Thread | None = None
        self._closed = False
        self._exit_hook_registered = False

    def add(self, run: KeptRun) -> None:
        """Start keeping ``run`` (at begin, before the cell body executes)."""
        with self._wake:
            self._runs.append(run)
            self._ensure_thread()
            self._wake.notify()

    def settle(self, run: KeptRun) -> None:
        """Stop keeping ``run`` (at finish); waits while its row is being written."""
        with run.lock:
            run.settled = True
        with self._wake:
            with contextlib.suppress(ValueError):
                self._runs.remove(run)

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the keeper thread after every job submitted before it.

        ``job`` must not raise (an exception is swallowed: the thread
        survives, the caller's guard should have turned it into a warning).
        """
        with self._wake:
            self._jobs.append((time.monotonic() + JOB_DELAY_S, job))
            self._ensure_thread()
            self._wake.notify()

    def flush(self, timeout: float | None = None) -> bool:
        """Run every submitted job now and wait for them; False if ``timeout`` passed first."""
        if threading.current_thread() is self._thread:
            return not self._jobs  # a job flushing itself would wait forever
        with self._wake:
            if not self._jobs and not self._busy:
                return True
            self._hurry = True
            self._wake.notify()
            return self._idle.wait_for(lambda: not self._jobs and not self._busy, timeout)

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet."""
        with self._wake:
            return len(self._jobs) + int(self._busy)

    def close(self, timeout: float | None = EXIT_FLUSH_S) -> None:
        """Run the jobs still queued, then stop the thread."""
        self.flush(timeout)
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._exit_hook_registered:
            atexit.unregister(self._flush_at_exit)
            self._exit_hook_registered = False

    # -- the thread ---------------------------------------------------------------

    def _ensure_thread(self) -> None:
        # Called with self._wake held.
        if self._thread is None or not self._thread.is_alive():
            self._closed = False
            self._thread = threading.Thread(target=self._loop, name="trackbook-keeper", daemon=True)
            self._thread.start()
        if not self._exit_hook_registered:
            # Daemon threads are stopped abruptly at exit: wait for queued
            # records first (atexit runs while the thread is still alive).
            atexit.register(self._flush_at_exit)
            self._exit_hook_registered = True

    def _flush_at_exit(self) -> None:
        self.flush(EXIT_FLUSH_S)

    def _loop(self) -> None:
        last_beat = time.monotonic()
        while True:
            with self._wake:
                if self._closed and not self._jobs:
                    return
                if not self._job_due():
                    self._wake.wait(self._seconds_to_next(last_beat))
                if self._closed and not self._jobs:
                    return
                job = self._jobs.popleft()[1] if self._job_due() else None
                self._busy = job is not None
                runs = list(self._runs)
            if job is not None:
                self._run_job(job)
            now = time.perf_counter()
            for run in runs:
                if not run.create_tried and now - run.started >= CREATE_AFTER_S:
                    self._create_row(run)
            if time.monotonic() - last_beat >= HEARTBEAT_INTERVAL_S:
                last_beat = time.monotonic()
                for run in runs:
                    if run.created and not run.settled:
                        with contextlib.suppress(Exception):
                            self._heartbeat(run.run_id)

    def _run_job(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:  # noqa: BLE001,S110  (jobs report their own failures; the thread must live on)
            pass
        finally:
            with self._wake:
                self._busy = False
                if not self._jobs:
                    self._hurry = False
                    self._idle.notify_all()

    def _job_due(self) -> bool:
        # Called with self._wake held.
        return bool(self._jobs) and (self._hurry or self._closed or self._jobs[0][0] <= time.monotonic())

    def _seconds_to_next(self, last_beat: float) -> float:
        waits = [HEARTBEAT_INTERVAL_S - (time.monotonic() - last_beat)]
        if self._jobs:
            waits.append(self._jobs[0][0] - time.monotonic())
        now = time.perf_counter()
        waits.extend(run.started + CREATE_AFTER_S - now for run in self._runs if not run.create_tried)
        return max(0.0, min(waits))

    def _create_row(self, run: KeptRun) -> None:
        with run.lock:
            if run.settled or run.create_tried:
                return
            run.create_tried = True
            self._create(run)
