"""``python -m trackbook.replaying.worker --serve``: execute notebooks with papermill.

:mod:`.execute` starts this in a child process of its own, so a replay can be
stopped whatever the kernel does (killing this process group ends the
kernel too: jupyter_client starts it with ``JPY_PARENT_PID``, and ipykernel
exits when its parent goes), and so a server or a batch never holds a kernel
or papermill's memory after the replay.

The worker reads request paths from standard input, one per line, and
executes them in turn, each in a fresh kernel, until standard input closes.
A batch keeps its workers between replays, so papermill is imported once per
worker rather than once per replay (half a second of CPU each time): its
first worker imports it while the batch opens the store (``--preload``),
then forks one worker per further job (``--fork-to``, :mod:`.worker_fork`).
Kernels talk to the worker over Unix
sockets in a private temporary directory, removed when the worker ends,
whether its input closed, it was killed (SIGTERM) or its parent died.

A request is a JSON file: ``input``, ``output`` (notebook paths), ``result``
(where this process writes its outcome), ``kernel_name``, ``cwd``, ``env``
(the kernel's environment), ``cell_timeout`` and ``start_timeout`` (seconds).
Standard output carries JSON lines: ``{"cell": <index>}`` as each cell
starts, ``{"done": <request path>}`` once the outcome is written (the kernel
is stopped after that, while the caller reads the outcome).

The outcome JSON is ``{"completed": bool, "cell_error": bool, "ename": ...,
"evalue": ...}``: ``cell_error`` means a cell raised (its outputs in the
output notebook say which and how); ``ename``/``evalue`` describe any other
failure (no such kernel, the kernel died, a cell timed out).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .worker_fork import exit_if_input_closes_while, fork_workers, wait_for_forked_workers

_CELL_START = "Executing Cell "


class _ProgressHandler(logging.Handler):
    """Turns papermill's "Executing Cell N" log lines into progress lines; drops the rest."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(_CELL_START):
            return  # cell outputs, which papermill logs too: not ours to echo
        number = message[len(_CELL_START):].rstrip("-").strip()
        if number.isdigit():
            print(json.dumps({"cell": int(number) - 1}), flush=True)


def _execute(request: dict[str, Any], socket_dir: str | None = None) -> tuple[dict[str, Any], Any]:
    """The outcome, and the kernel still running (``None`` if none started)."""
    try:
        # The kernel boots in its own process while this one imports papermill
        # (half a second each, the first time): start it first.
        kernel = _start_kernel(request["kernel_name"], request["cwd"], request.get("env"), socket_dir)
    except Exception as exc:  # no such kernel, it would not start
        return {"completed": False, "cell_error": False, "ename": type(exc).__name__, "evalue": str(exc)}, None
    return _run_papermill(request, kernel), kernel


def _stop_kernel(kernel: Any) -> None:
    # nbclient leaves a kernel it did not start running, and its client
    # open: stop both now. In a replay's kernel every tracked run is written
    # before its cell returns (tracking.py), so nothing is lost by not
    # waiting for a graceful shutdown.
    try:
        asyncio.run(kernel.stop())
    except Exception:  # noqa: BLE001  (the outcome is written; a kernel that is gone already is fine)
        logging.getLogger(__name__).debug("stopping the kernel failed", exc_info=True)


def _start_kernel(kernel_name: str, cwd: str, env: dict[str, str] | None, socket_dir: str | None) -> Any:
    from .kernel import ReplayKernelManager

    kernel = ReplayKernelManager(kernel_name=kernel_name, socket_dir=socket_dir)
    # As nbclient does for kernels it starts: a replay's cells stay out of
    # the user's IPython history, and concurrent replays do not queue for
    # its SQLite file.
    arguments = ["--HistoryManager.hist_file=:memory:"] if kernel.ipykernel else []

    async def start() -> None:
        await kernel.start_kernel(cwd=cwd, extra_arguments=arguments, **({"env": env} if env is not None else {}))

    asyncio.run(start())
    return kernel


def _run_papermill(request: dict[str, Any], kernel: Any) -> dict[str, Any]:
    _skip_slow_optional_imports()
    import papermill
    from papermill.exceptions import PapermillExecutionError

    logger = logging.getLogger("papermill")
    logger.handlers[:] = [_ProgressHandler()]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        papermill.execute_notebook(
            request["input"],
            request["output"],
            kernel_name=request["kernel_name"],
            cwd=request["cwd"],
            km=kernel,
            execution_timeout=request["cell_timeout"],
            start_timeout=request["start_timeout"],
            progress_bar=False,
            # log_output makes papermill log "Executing Cell N" (our progress);
            # the cell outputs it also logs are dropped by the handler.
            log_output=True,
            request_save_on_cell_execute=True,
        )
    except PapermillExecutionError as exc:
        return {"completed": True, "cell_error": True, "ename": exc.ename, "evalue": exc.evalue}
    except Exception as exc:  # the outcome must be reported, whatever failed
        return {"completed": False, "cell_error": False, "ename": type(exc).__name__, "evalue": str(exc)}
    return {"completed": True, "cell_error": False, "ename": None, "evalue": None}


#: Modules jsonschema imports, if installed, only to check string formats.
_FORMAT_CHECK_MODULES = (
    "rfc3987_syntax", "rfc3987", "rfc3986_validator", "rfc3339_validator", "arrow", "isoduration",
    "fqdn", "webcolors", "uri_template", "jsonpointer",
)


def _skip_slow_optional_imports() -> None:
    """Keep seconds of imports this process never uses out of every replay.

    A module set to ``None`` in ``sys.modules`` fails to import, and both
    importers below treat that as "not installed". This process only runs
    papermill on local files; the kernel is a process of its own and is not
    affected.
    """
    # jsonschema imports these for its optional "format" checks, which
    # notebook validation never runs (a fifth of papermill's import time);
    # rfc3987_syntax also builds a parser grammar at import
    # (python-jsonschema/jsonschema#1521).
    for name in _FORMAT_CHECK_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    # papermill's iorw imports pyarrow.fs for its optional HDFS handler.
    sys.modules.setdefault("pyarrow", None)  # type: ignore[arg-type]


def _preload() -> None:
    """Import what a request needs now, while the batch that started this worker prepares its first."""
    _skip_slow_optional_imports()
    import papermill  # noqa: F401

    from .kernel import prepare_to_launch

    prepare_to_launch()

    # The imported modules live as long as the process: keep the garbage
    # collector from walking them again at every full collection, and, in
    # workers forked from this one, from writing to (and so copying) their
    # shared pages.
    gc.freeze()


def _exit_with_parent(cleanup: Callable[[], None]) -> None:
    """End this process (and so its kernel) if the replaying process dies, after ``cleanup``.

    The replay record is then closed as failed by ``mark_abandoned_replays``;
    a kernel left running would record a run nobody waits for.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                cleanup()
                os._exit(3)

    threading.Thread(target=watch, name="trackbook-replay-parent", daemon=True).start()


def serve(requests: Iterable[str], socket_dir: str | None = None, busy: threading.Event | None = None) -> None:
    """Execute each request path in turn (one per line), until ``requests`` ends.

    A finished request's kernel is stopped in a thread of its own, while
    the next request starts. Every kernel is stopped before this returns.
    ``socket_dir``: where kernels put their IPC sockets (TCP without one);
    ``busy`` is set while a request runs.
    """
    stopping: list[threading.Thread] = []
    try:
        for line in requests:
            path = line.strip()
            if not path:
                continue
            if busy is not None:
                busy.set()
            with open(path, encoding="utf-8") as handle:
                request = json.load(handle)
            outcome, kernel = _execute(request, socket_dir)
            _write_outcome(request["result"], outcome)
            print(json.dumps({"done": path}), flush=True)
            if busy is not None:
                busy.clear()
            if kernel is not None:
                stopping = [thread for thread in stopping if thread.is_alive()]
                stopping.append(threading.Thread(target=_stop_kernel, args=(kernel,), name="trackbook-kernel-stop"))
                stopping[-1].start()
    finally:
        for thread in stopping:
            thread.join()


def _write_outcome(path: str, outcome: dict[str, Any]) -> None:
    from ..atomic import write_atomically

    write_atomically(path, json.dumps(outcome).encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``--serve [--preload] [--fork-to=IN,OUT,ERR ...]`` or one ``REQUEST.json``."""
    args = list(sys.argv[1:] if argv is None else argv)
    serving = args[:1] == ["--serve"]
    options = args[1:] if serving else []
    forks = [option.partition("=")[2] for option in options if option.startswith("--fork-to=")]
    unknown = [option for option in options if option != "--preload" and not option.startswith("--fork-to=")]
    if unknown or (not serving and (len(args) != 1 or args[0].startswith("-"))):
        print("usage: python -m trackbook.replaying.worker --serve [--preload] [--fork-to=IN,OUT,ERR ...]"
              " | REQUEST.json", file=sys.stderr)
        return 2
    if "--preload" in options:
        _preload()
    forked = fork_workers(forks)  # after the imports: each fork starts with them
    status = _serve(sys.stdin if serving else [args[0]], forked)
    wait_for_forked_workers()
    return status


def _serve(requests: Iterable[str], forked: bool) -> int:
    busy = threading.Event()
    # Private (0700): the kernels' IPC sockets. Removed however this process
    # ends: at the end of its input, when killed (SIGTERM), or when the
    # batch that feeds it is gone.
    with tempfile.TemporaryDirectory(prefix="tb-") as sockets:
        cleanup = functools.partial(shutil.rmtree, sockets, ignore_errors=True)
        if forked:
            exit_if_input_closes_while(busy, cleanup)
        else:
            _exit_with_parent(cleanup)
        signal.signal(signal.SIGTERM, _leave)
        serve(requests, sockets, busy)
    return 0


def _leave(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds serve(), which stops its kernels


def _exit_now(status: int) -> None:
    """Leave without tearing the interpreter down.

    Every outcome is on disk and the last kernel is stopped when :func:`serve`
    returns; unloading papermill, nbclient and zmq would only cost another
    0.2 s of CPU, which the other replays of a batch are waiting for.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover - run as a process
    _exit_now(main())
