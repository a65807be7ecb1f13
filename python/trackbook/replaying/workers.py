"""Worker processes that execute replay notebooks, and the pool a batch keeps them in.

A :class:`WorkerProcess` is one ``python -m trackbook.replaying.worker
--serve`` child in a process group of its own. It is handed one request at a
time and reports progress and completion on its standard output; killing its
group ends the worker and the kernel it runs, whatever they are doing.

A single replay uses a worker once. A batch (:func:`reusing_workers`) keeps
its workers between replays, one per parallel job: starting Python and
importing papermill and jupyter_client costs about a third of a second of
CPU, half a short replay's, and in a batch that CPU is what the other
replays wait for. Every replay still gets a fresh kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Literal, Protocol

#: Seconds the worker gets to stop after SIGTERM (or after its input closed) before it is killed.
TERMINATE_GRACE_S = 5.0
#: Seconds between two signs of life while a cell runs.
TICK_S = 60.0
#: Characters of the worker's stderr kept for an error message.
STDERR_TAIL = 2000

Ending = Literal["done", "timeout", "died"]


class WorkerProcess:
    """One worker child; :meth:`execute` runs one request in it at a time.

    Parameters
    ----------
    env:
        The worker's environment (each request also carries its kernel's).
    """

    def __init__(self, env: Mapping[str, str], preload: bool = False) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trackbook.replaying.worker", "--serve", *(["--preload"] if preload else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=dict(env), start_new_session=os.name == "posix",
        )
        self._events: queue.Queue[tuple[str, object]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def execute(
        self,
        request_path: str,
        seconds: float,
        on_cell: Callable[[int], None] | None = None,
        on_tick: Callable[[], None] | None = None,
    ) -> Ending:
        """Run one request; ``"timeout"`` kills the worker after ``seconds``, ``"died"`` means it ended early."""
        deadline = time.monotonic() + seconds
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(request_path.encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return "died"
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.kill()
                    return "timeout"
                try:
                    kind, value = self._events.get(timeout=min(remaining, TICK_S))
                except queue.Empty:
                    if on_tick is not None:
                        with contextlib.suppress(Exception):
                            on_tick()
                    continue
                if kind == "cell" and on_cell is not None and isinstance(value, int):
                    with contextlib.suppress(Exception):  # progress is a courtesy; never stop the replay
                        on_cell(value)
                elif kind == "done" and value == request_path:
                    return "done"
                elif kind == "eof":
                    self.process.wait()
                    return "died"
        except BaseException:
            self.kill()  # interrupted (Ctrl-C, a cancelled batch): leave no kernel behind
            raise

    def stderr_tail(self) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - STDERR_TAIL * 4))
        return self._stderr.read().decode("utf-8", "replace")[-STDERR_TAIL:]

    def close(self) -> None:
        """Let the worker finish (it stops its last kernel) and exit; kill it if it does not."""
        self.end_input()
        try:
            self.process.wait(timeout=TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(timeout=5)
        self._stderr.close()

    def end_input(self) -> None:
        """Tell the worker no request follows: it stops its last kernel and exits."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()

    def close_in_background(self) -> None:
        """:meth:`close` without waiting: the caller has its outcome; the kernel stops meanwhile."""
        # Not a daemon: an interpreter exiting right after waits for the worker to be reaped.
        threading.Thread(target=self.close, name="trackbook-replay-worker-close").start()

    def kill(self) -> None:
        """End the worker and its kernel now (SIGTERM to the group, then SIGKILL)."""
        signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            signal_group(self.process, getattr(signal, "SIGKILL", signal.SIGTERM))
            self.process.wait()

    def _read(self, stream: IO[bytes] | None) -> None:
        if stream is not None:
            for raw in stream:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue  # a kernel writing to the process's stdout: not ours
                if isinstance(message, dict):
                    if "cell" in message:
                        self._events.put(("cell", message["cell"]))
                    elif "done" in message:
                        self._events.put(("done", message["done"]))
        self._events.put(("eof", None))


class _Signalable(Protocol):
    pid: int

    def send_signal(self, sig: int) -> None: ...


def signal_group(process: _Signalable, sig: int) -> None:
    """Send ``sig`` to the process group ``process`` leads (a worker and its kernel); gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(process.pid, sig)
        else:  # pragma: no cover - no process groups
            process.send_signal(sig)


class WorkerPool:
    """Idle workers kept between replays; each is lent to one replay at a time."""

    def __init__(self) -> None:
        self._idle: list[WorkerProcess] = []
        self._workers: list[WorkerProcess] = []
        self._lock = threading.Lock()

    def start(self, count: int, env: Mapping[str, str]) -> None:
        """Start ``count`` idle workers now, so their interpreters start while the batch prepares."""
        for _ in range(count):
            self._add(WorkerProcess(env, preload=True), idle=True)

    def take(self, env: Mapping[str, str]) -> WorkerProcess:
        """An idle worker that is still alive, or a new one started with ``env``."""
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
        return self._add(WorkerProcess(env), idle=False)

    def give_back(self, worker: WorkerProcess) -> None:
        """``worker`` finished its replay: the next one may take it (unless it ended)."""
        if worker.alive:
            with self._lock:
                self._idle.append(worker)

    @property
    def started(self) -> list[subprocess.Popen[bytes]]:
        """Every worker process this pool started, oldest first."""
        with self._lock:
            return [worker.process for worker in self._workers]

    def close(self) -> None:
        with self._lock:
            workers, self._workers, self._idle = self._workers, [], []
        for worker in workers:
            worker.end_input()  # all at once: each then exits while the others do
        for worker in workers:
            worker.close()

    def _add(self, worker: WorkerProcess, idle: bool) -> WorkerProcess:
        with self._lock:
            self._workers.append(worker)
            if idle:
                self._idle.append(worker)
        return worker


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def shared_pool() -> WorkerPool | None:
    """The pool of the batch running in this process, if any."""
    return _pool


@contextlib.contextmanager
def reusing_workers(start: int = 0) -> Iterator[None]:
    """Within this block, replays in this process reuse idle workers.

    ``start`` workers are started at once (one per parallel job), while the
    caller opens the store and orders its runs. Nested blocks share the
    outer pool; the outermost closes it.
    """
    global _pool
    with _pool_lock:
        owner = _pool is None
        if owner:
            _pool = WorkerPool()
            _pool.start(start, os.environ)
    try:
        yield
    finally:
        if owner:
            with _pool_lock:
                pool, _pool = _pool, None
            if pool is not None:
                pool.close()
