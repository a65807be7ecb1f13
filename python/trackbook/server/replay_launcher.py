"""Start replays in child processes, a few at a time, and reap every one of them.

``POST .../replays`` stores a ``queued`` replay and hands its id here. At
most ``max_running`` runners (``python -m trackbook.server.replay_runner``)
run at once; the others wait here, in order, their records still
``queued`` and owned by the server process (if the server dies, nothing is
left open that ``mark_abandoned_replays`` would not close). When
``max_running + max_queued`` replays are running or waiting,
:meth:`ReplayLauncher.reserve` refuses and the request gets a 429.

Each runner is started with asyncio's subprocess API and awaited in a task,
so the event loop never blocks, every child is reaped (no zombies), and
nothing about a replay stays in the server once its runner exited. Runners
get a session of their own: a Ctrl-C in the server's terminal does not
reach them, and a server that crashes leaves them to finish and record
their verdict.

A runner that ends without a verdict (it crashed, was killed, or overran its
deadline) has its replay closed as ``failed`` through ``close_replay``, so
no record stays open. When the server stops, waiting replays are closed as
failed and running ones get SIGTERM: the runner records "stopped" and exits
(SIGKILL after a grace period).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import IO

from ..replaying.workers import signal_group
from .replay_runner import EXIT_NOT_RUNNABLE, EXIT_RECORDED

#: Records a replay as failed with (ename, evalue) if it is still open.
CloseReplay = Callable[[str, str, str], Awaitable[None]]

RUNNER_MODULE = "trackbook.server.replay_runner"
#: Seconds a runner may take beyond its replay's timeout (kernel start, comparison, report).
RUNNER_GRACE_S = 300.0
#: Seconds a runner gets to record "stopped" after SIGTERM before it is killed.
STOP_GRACE_S = 15.0
#: ``ReplayFailure.ename`` of the failures this module records.
PROCESS_DIED, STOPPED, TIMED_OUT = "ReplayProcessDied", "ReplayStopped", "TimeoutError"
_STDERR_TAIL = 4000



class ReplayQueueFull(Exception):
    """As many replays as the server allows are running or waiting."""


@dataclass(frozen=True)
class _Job:
    replay_id: str
    timeout: float


class ReplayLauncher:
    """Runs queued replays in child processes, ``max_running`` at a time.

    Parameters
    ----------
    env:
        Environment of the runners (``TRACKBOOK_STORE`` names the store).
    cwd:
        Working directory of the runners (the server's root).
    max_running, max_queued:
        Runners at once; replays that may wait for one.
    default_timeout:
        Seconds a replay may run when its request gives none.
    close_replay:
        Records a replay as failed if it is still open (called after a
        runner ended without a verdict, or for a waiting replay at stop).
    log:
        Where runner starts, exits and failures are logged (the server's log).
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        cwd: str,
        max_running: int,
        max_queued: int,
        default_timeout: float,
        close_replay: CloseReplay,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
    ) -> None:
        if max_running < 1 or max_queued < 0:
            raise ValueError("max_running must be >= 1 and max_queued >= 0")
        self._env, self._cwd = dict(env), cwd
        self.max_running, self.max_queued = max_running, max_queued
        self.default_timeout = default_timeout
        self._close_replay = close_replay
        self._waiting: deque[_Job] = deque()
        self._reserved = 0
        self._running: dict[str, asyncio.subprocess.Process | None] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.log = log or logging.getLogger(__name__)

    # -- state -----------------------------------------------------------------------

    @property
    def running(self) -> int:
        """Runners started and not yet reaped."""
        return len(self._running)

    @property
    def waiting(self) -> int:
        """Replays waiting for a runner."""
        return len(self._waiting)

    # -- requests --------------------------------------------------------------------

    def reserve(self) -> None:
        """Hold a place for a replay about to be created (``ReplayQueueFull`` if none is left).

        Synchronous, so two requests served concurrently cannot both take
        the last place; :meth:`submit` uses the place, :meth:`release`
        gives it back.
        """
        if self._stopping:
            raise ReplayQueueFull("the server is stopping; start the replay again once it is back")
        taken = self.running + self.waiting + self._reserved
        if taken >= self.max_running + self.max_queued:
            raise ReplayQueueFull(
                f"{taken} replays are running or waiting, the most this server takes "
                f"({self.max_running} at a time, {self.max_queued} waiting); "
                "try again when one has finished"
            )
        self._reserved += 1

    def release(self) -> None:
        """Give back a place :meth:`reserve` held (the replay was not created)."""
        self._reserved = max(0, self._reserved - 1)

    def submit(self, replay_id: str, timeout: float | None = None) -> None:
        """Run a stored ``queued`` replay now, or when a runner is free.

        It takes the place :meth:`reserve` held for it.
        """
        self.release()
        self._waiting.append(_Job(replay_id, self.default_timeout if timeout is None else timeout))
        self._start_waiting()

    # -- running -----------------------------------------------------------------------

    def _start_waiting(self) -> None:
        while self._waiting and self.running < self.max_running and not self._stopping:
            job = self._waiting.popleft()
            self._running[job.replay_id] = None  # holds the place until the process exists
            task = asyncio.get_running_loop().create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, job: _Job) -> None:
        try:
            failure = await self._execute(job)
            if failure is not None:
                await self._close_replay(job.replay_id, *failure)
        except Exception:  # a replay's trouble must never reach the event loop
            self.log.exception("trackbook: replay %s: runner not run or reaped", job.replay_id)
            with contextlib.suppress(Exception):
                await self._close_replay(
                    job.replay_id,
                    PROCESS_DIED,
                    "the server could not start the replay process; its log says why",
                )
        finally:
            self._running.pop(job.replay_id, None)
            self._start_waiting()

    async def _execute(self, job: _Job) -> tuple[str, str] | None:
        """Run one runner to its end; the failure to record when it left no verdict."""
        timeout = repr(job.timeout)
        command = [sys.executable, "-m", RUNNER_MODULE, job.replay_id, "--timeout", timeout]
        with tempfile.TemporaryFile() as stderr:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,
                env=self._env,
                cwd=self._cwd,
                start_new_session=os.name == "posix",
            )
            self._running[job.replay_id] = process
            self.log.info("trackbook: replay %s started (pid %d)", job.replay_id, process.pid)
            try:
                await asyncio.wait_for(process.wait(), job.timeout + RUNNER_GRACE_S)
                timed_out = False
            except asyncio.TimeoutError:
                timed_out = True
                await _terminate(process)
            code = process.returncode
            tail = _tail(stderr)
        self.log.info("trackbook: replay %s: runner exited (%s)", job.replay_id, code)
        if timed_out:
            limit = job.timeout + RUNNER_GRACE_S
            return TIMED_OUT, f"the replay did not finish within {limit:g} s and was stopped"
        if code in (EXIT_RECORDED, EXIT_NOT_RUNNABLE):
            if code == EXIT_NOT_RUNNABLE:
                reason = tail.strip()[-300:]
                self.log.warning("trackbook: replay %s not run: %s", job.replay_id, reason)
            return None  # recorded, or not this runner's to record
        if tail.strip():
            self.log.warning("trackbook: replay %s: runner exit %s:\n%s", job.replay_id, code, tail)
        if self._stopping:
            return STOPPED, "the Jupyter server stopped while the replay ran; start it again"
        return PROCESS_DIED, _died(code, tail)

    # -- stopping ----------------------------------------------------------------------

    async def stop(self) -> None:
        """Close waiting replays as failed, stop running ones, and reap every runner."""
        self._stopping = True
        waiting, self._waiting = list(self._waiting), deque()
        for job in waiting:
            with contextlib.suppress(Exception):
                await self._close_replay(
                    job.replay_id,
                    STOPPED,
                    "the Jupyter server stopped before the replay started; start it again",
                )
        if not self._tasks:
            return
        for process in self._running.values():
            if process is not None:
                signal_group(process, signal.SIGTERM)
        _, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE_S)
        if pending:
            for process in self._running.values():
                if process is not None:
                    signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))
            await asyncio.wait(pending, timeout=STOP_GRACE_S)


async def _terminate(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the runner's process group; SIGKILL it after :data:`STOP_GRACE_S`."""
    signal_group(process, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_GRACE_S)
    except asyncio.TimeoutError:
        signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))
        await process.wait()


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - _STDERR_TAIL))
    return stream.read().decode("utf-8", "replace")


def _died(code: int | None, stderr_tail: str) -> str:
    """Why a runner ended without a verdict: how it exited, and its stderr's last line."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the replay process was killed ({name}) before it recorded a verdict"
    lines = [line.strip() for line in stderr_tail.splitlines() if line.strip()]
    last = f": {lines[-1][:300]}" if lines else ""
    return f"the replay process ended with status {code} before it recorded a verdict{last}"
