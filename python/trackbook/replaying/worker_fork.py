"""Workers forked by a worker once its imports are done (``--fork-to``), and how they end.

A batch needs one worker per parallel job, and each worker's start-up is
mostly importing papermill and jupyter_client: a third of a second of CPU
that the batch's first replays wait for. On POSIX the first worker imports
them, then forks the others, which start with the imports done. A forked
worker is not a child of the batch's process: the batch passes it its pipes
(an ``IN,OUT,ERR`` triple of inherited descriptors), it leads a process group
of its own, so that killing it ends its kernel and nothing else, and it
reports its pid as its first line.

A forked worker's parent is the worker that forked it, not the batch, so it
cannot watch its parent to learn that the batch is gone; it watches its
input instead: input closing while a request runs means nobody waits for
the result (a batch closes the input of idle workers only).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Sequence

#: Seconds between two looks at the input while a request runs.
WATCH_S = 0.5


def fork_workers(specs: Sequence[str]) -> bool:
    """Fork a worker per ``IN,OUT,ERR`` spec: ``True`` in a forked worker, ``False`` in this one.

    Call with no thread running: only the calling thread lives on in a fork.
    """
    channels = [tuple(int(fd) for fd in spec.split(",")) for spec in specs]
    if any(len(channel) != 3 for channel in channels):
        raise ValueError(f"--fork-to takes IN,OUT,ERR descriptors, got {list(specs)}")
    passed = {fd for channel in channels for fd in channel}
    children: list[int] = []
    for stdin_fd, stdout_fd, stderr_fd in channels:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            for target, fd in ((0, stdin_fd), (1, stdout_fd), (2, stderr_fd)):
                os.dup2(fd, target)
            for fd in passed:
                os.close(fd)
            print(json.dumps({"pid": os.getpid()}), flush=True)
            return True
        children.append(pid)
    for fd in passed:
        os.close(fd)
    for pid in children:
        reaper = threading.Thread(target=_reap, args=(pid,), name="trackbook-worker-reap", daemon=True)
        reaper.start()
        _reapers.append(reaper)
    return False


_reapers: list[threading.Thread] = []


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def wait_for_forked_workers() -> None:
    """Wait until every worker this one forked has ended and is reaped.

    At the end of a batch every worker's input closes at once; the first
    worker waits for the others, so that none outlives the batch as an
    orphan. A killed worker does not wait: its forks are not its business.
    """
    for reaper in _reapers:
        reaper.join()


def exit_if_input_closes_while(busy: threading.Event, cleanup: Callable[[], None]) -> None:
    """End this process, after ``cleanup``, if standard input closes while ``busy`` is set.

    Input closing while idle is the end of a batch: the serve loop reads it
    and ends on its own.
    """
    if not hasattr(select, "poll"):  # pragma: no cover - POSIX has poll
        return
    poller = select.poll()
    poller.register(0, 0)  # hang-ups and errors are always reported

    def watch() -> None:
        while True:
            events = poller.poll(WATCH_S * 1000)
            if any(event & (select.POLLHUP | select.POLLERR) for _, event in events):
                if busy.is_set():
                    cleanup()
                    os._exit(3)
                time.sleep(WATCH_S)

    threading.Thread(target=watch, name="trackbook-replay-input", daemon=True).start()
