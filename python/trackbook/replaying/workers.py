"""Worker processes that execute replay notebooks, and the pool a batch keeps them in.

A :class:`WorkerProcess` is one ``python -m trackbook.replaying.worker
--serve`` child in a process group of its own. It is handed one request at a
time and reports progress and completion on its standard output; killing its
group ends the worker and the kernel it runs, whatever they are doing.

A single replay uses a worker once. A batch (:func:`reusing_workers`) keeps
its workers between replays, one per parallel job: starting Python and
importing papermill and jupyter_client costs about a third of a second of
CPU, half a short replay's, and in a batch that CPU is what the other
replays wait for. So a batch starts one worker that imports them and then
forks the others (:class:`ForkedWorker`, POSIX; see :mod:`.worker_fork`).
Every replay still gets a fresh kernel.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
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
    preload:
        Import papermill and jupyter_client before the first request.
    forks:
        Channels of workers this one forks once its imports are done
        (``--fork-to``, POSIX; see :meth:`WorkerPool.start`).
    """

    def __init__(self, env: Mapping[str, str], preload: bool = False, forks: Sequence[ForkChannel] = ()) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trackbook.replaying.worker", "--serve", *(["--preload"] if preload else []),
             *(f"--fork-to={fork.child_arg}" for fork in forks)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=dict(env), start_new_session=os.name == "posix",
            pass_fds=[fd for fork in forks for fd in fork.child_fds],
        )
        assert self.process.stdin is not None
        self._input: IO[bytes] = self.process.stdin
        self._listen(self.process.stdout)

    def _listen(self, stream: IO[bytes] | None) -> None:
        self._events: queue.Queue[tuple[str, object]] = queue.Queue()
        self._ended = threading.Event()
        self._reported_pid: int | None = None
        self._pid_heard = threading.Event()  # set once a pid line came, or the output ended
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    # -- the process: overridden by ForkedWorker ----------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the worker ended (``None`` while it runs, or if unknown)."""
        return self.process.poll()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _wait(self, timeout: float | None) -> bool:
        """Whether the worker ended within ``timeout`` seconds."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    # -- requests -----------------------------------------------------------------------------

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
            self._input.write(request_path.encode() + b"\n")
            self._input.flush()
        except (BrokenPipeError, OSError, ValueError):
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
                    self._wait(None)
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
        if not self._wait(TERMINATE_GRACE_S):
            self.kill()
        self._reader.join(timeout=5)
        self._stderr.close()

    def end_input(self) -> None:
        """Tell the worker no request follows: it stops its last kernel and exits."""
        with contextlib.suppress(OSError):
            self._input.close()

    def close_in_background(self) -> None:
        """:meth:`close` without waiting: the caller has its outcome; the kernel stops meanwhile."""
        # Not a daemon: an interpreter exiting right after waits for the worker to be reaped.
        threading.Thread(target=self.close, name="trackbook-replay-worker-close").start()

    def kill(self) -> None:
        """End the worker and its kernel now (SIGTERM to the group, then SIGKILL)."""
        pid = self.pid
        if pid is None:  # a forked worker that never reported itself: nothing to signal
            return
        signal_group(pid, signal.SIGTERM)
        if not self._wait(TERMINATE_GRACE_S):
            signal_group(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
            self._wait(TERMINATE_GRACE_S)

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
                    elif isinstance(message.get("pid"), int):
                        self._reported_pid = message["pid"]
                        self._pid_heard.set()
            stream.close()
        self._ended.set()
        self._pid_heard.set()
        self._events.put(("eof", None))


class ForkChannel:
    """The pipes of a worker another worker forks: its input, its output (events) and a file for its stderr."""

    def __init__(self) -> None:
        self._input_read, input_write = os.pipe()
        output_read, self._output_write = os.pipe()
        self.stderr = tempfile.TemporaryFile()
        self.input = os.fdopen(input_write, "wb")
        self.output = os.fdopen(output_read, "rb")

    @property
    def child_fds(self) -> tuple[int, int, int]:
        return self._input_read, self._output_write, self.stderr.fileno()

    @property
    def child_arg(self) -> str:
        return ",".join(map(str, self.child_fds))

    def close_child_ends(self) -> None:
        """The forking worker has its copies: close ours, so the forked worker alone holds them."""
        for fd in (self._input_read, self._output_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        """No worker was started for this channel: close our ends too."""
        for handle in (self.input, self.output, self.stderr):
            with contextlib.suppress(OSError):
                handle.close()


class ForkedWorker(WorkerProcess):
    """A worker that another worker forked after its imports: not this process's child.

    Its pid comes as the first line it writes; it has ended once its output
    closes (the worker and its kernel both gone). Its exit status is not
    known here: the worker that forked it reaps it.
    """

    def __init__(self, channel: ForkChannel) -> None:  # noqa: D107 - no Popen: see the class
        self._stderr = channel.stderr
        self._input = channel.input
        self._listen(channel.output)

    @property
    def pid(self) -> int | None:
        # Reported as soon as the fork happens, after the forking worker's imports.
        self._pid_heard.wait(TERMINATE_GRACE_S)
        return self._reported_pid

    @property
    def returncode(self) -> int | None:
        return None

    @property
    def alive(self) -> bool:
        return not self._ended.is_set()

    def _wait(self, timeout: float | None) -> bool:
        return self._ended.wait(timeout)


class _Signalable(Protocol):
    pid: int

    def send_signal(self, sig: int) -> None: ...


def signal_group(process: _Signalable | int, sig: int) -> None:
    """Send ``sig`` to the process group ``process`` (a process or a pid) leads: a worker and its kernel.

    A process that is gone already is fine.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        pid = process if isinstance(process, int) else process.pid
        if os.name == "posix":
            os.killpg(pid, sig)
        elif isinstance(process, int):  # pragma: no cover - no process groups
            os.kill(pid, sig)
        else:  # pragma: no cover - no process groups
            process.send_signal(sig)


class WorkerPool:
    """Idle workers kept between replays; each is lent to one replay at a time."""

    def __init__(self) -> None:
        self._idle: list[WorkerProcess] = []
        self._workers: list[WorkerProcess] = []
        self._lock = threading.Lock()

    def start(self, count: int, env: Mapping[str, str]) -> None:
        """Start ``count`` idle workers now, importing what a replay needs while the batch prepares.

        On POSIX one worker imports, then forks the others: each further
        worker costs a fork instead of a third of a second of CPU, which the
        batch's first replays would wait for.
        """
        if count < 1:
            return
        forks = [ForkChannel() for _ in range(count - 1)] if os.name == "posix" else []
        try:
            self._add(WorkerProcess(env, preload=True, forks=forks), idle=True)
        except BaseException:
            for fork in forks:
                fork.close()
            raise
        finally:
            for fork in forks:
                fork.close_child_ends()
        for fork in forks:
            self._add(ForkedWorker(fork), idle=True)
        for _ in range(count - 1 - len(forks)):
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
    def started(self) -> list[WorkerProcess]:
        """Every worker this pool started, oldest first."""
        with self._lock:
            return list(self._workers)

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
