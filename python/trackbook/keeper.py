"""Background work for runs in progress: their ``running`` row and heartbeats.

A run's ``running`` row exists so that a kernel dying mid-cell leaves a
trace, which is later marked ``interrupted``. Writing it costs a store
transaction, about as much as the whole final record of a short cell, and
most cells are short. So the row is written by this thread, once a cell has
run for :data:`CREATE_AFTER_S`; a shorter cell is written once, when it
finishes. A kernel that dies within that first fraction of a second leaves
no row: nothing ran long enough to produce a result worth auditing.

Long cells also get a heartbeat every :data:`HEARTBEAT_INTERVAL_S`, which
proves to readers on other hosts that the kernel is alive.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

#: A cell running this long (seconds) gets its ``running`` row.
CREATE_AFTER_S = 0.2
#: How often a running run proves its kernel is alive (seconds).
HEARTBEAT_INTERVAL_S = 60.0


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
    """One daemon thread per tracker that writes running rows late and heartbeats.

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
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, run: KeptRun) -> None:
        """Start keeping ``run`` (at begin, before the cell body executes)."""
        with self._wake:
            self._runs.append(run)
            if self._thread is None or not self._thread.is_alive():
                self._closed = False
                self._thread = threading.Thread(target=self._loop, name="trackbook-keeper", daemon=True)
                self._thread.start()
            self._wake.notify()

    def settle(self, run: KeptRun) -> None:
        """Stop keeping ``run`` (at finish); waits while its row is being written."""
        with run.lock:
            run.settled = True
        with self._wake:
            with contextlib.suppress(ValueError):
                self._runs.remove(run)

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    # -- the thread ---------------------------------------------------------------

    def _loop(self) -> None:
        last_beat = time.monotonic()
        while True:
            with self._wake:
                if self._closed:
                    return
                self._wake.wait(self._seconds_to_next(last_beat))
                if self._closed:
                    return
                runs = list(self._runs)
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

    def _seconds_to_next(self, last_beat: float) -> float:
        waits = [HEARTBEAT_INTERVAL_S - (time.monotonic() - last_beat)]
        now = time.perf_counter()
        waits.extend(run.started + CREATE_AFTER_S - now for run in self._runs if not run.create_tried)
        return max(0.0, min(waits))

    def _create_row(self, run: KeptRun) -> None:
        with run.lock:
            if run.settled or run.create_tried:
                return
            run.create_tried = True
            self._create(run)
