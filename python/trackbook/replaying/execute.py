"""Execute a replay notebook in a child process, with a deadline.

papermill runs in ``python -m trackbook.replaying.worker`` rather than in this
process: a kernel that hangs, or a cell that never returns, is ended by
killing the child's process group, and nothing of the replay (kernel client,
papermill's memory) stays in a long-lived caller such as the server. A plain
subprocess (not ``multiprocessing``) because batch replays run inside
joblib and Dask workers, which are daemonic and may not start
``multiprocessing`` children.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .nbfiles import read_notebook, write_notebook

#: Seconds a kernel may take to start.
START_TIMEOUT_S = 60.0
#: Seconds the worker gets to stop after SIGTERM before it is killed.
TERMINATE_GRACE_S = 5.0
#: Seconds between two signs of life while a cell runs.
TICK_S = 60.0
#: Characters of the worker's stderr kept for an error message.
STDERR_TAIL = 2000


@dataclass
class Execution:
    """What happened when the notebook ran.

    Attributes
    ----------
    output:
        The executed notebook as papermill left it (``None`` if it never wrote one).
    completed:
        papermill returned (possibly after a cell raised).
    cell_error:
        A cell raised: the output notebook's error outputs say which.
    ename, evalue:
        Any other failure: no such kernel, the kernel died, a timeout.
    last_cell:
        Index of the last cell that started (where a timeout struck).
    """

    output: Any
    completed: bool
    cell_error: bool = False
    ename: str | None = None
    evalue: str | None = None
    last_cell: int | None = None


def execute_notebook(
    notebook: Any,
    *,
    kernel_name: str,
    cwd: str,
    env: Mapping[str, str],
    timeout: float,
    on_cell: Callable[[int], None] | None = None,
    on_tick: Callable[[], None] | None = None,
) -> Execution:
    """Execute ``notebook`` (nbformat v4) with papermill in a child process.

    Parameters
    ----------
    notebook:
        The notebook to execute; it is not modified.
    kernel_name:
        Kernel spec to start.
    cwd:
        Working directory of the kernel.
    env:
        Environment of the child process and so of the kernel.
    timeout:
        Seconds for the whole execution after the kernel started; the child
        process group is killed when it passes.
    on_cell:
        Called with each cell's index as it starts (from a reader thread).
    on_tick:
        Called every :data:`TICK_S` seconds while waiting: a sign of life
        for a long cell that reports no progress.
    """
    with tempfile.TemporaryDirectory(prefix="trackbook-replay-") as tmp:
        work = Path(tmp)
        request: dict[str, Any] = {
            "input": str(work / "input.ipynb"),
            "output": str(work / "output.ipynb"),
            "result": str(work / "result.json"),
            "kernel_name": kernel_name,
            "cwd": cwd,
            "cell_timeout": timeout,
            "start_timeout": START_TIMEOUT_S,
        }
        write_notebook(notebook, work / "input.ipynb")
        (work / "request.json").write_text(json.dumps(request), encoding="utf-8")
        last_cell: list[int] = []
        with open(work / "stderr.txt", "w+b") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "trackbook.replaying.worker", str(work / "request.json")],
                stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                env=dict(env), start_new_session=os.name == "posix",
            )
            reader = threading.Thread(
                target=_read_progress, args=(process.stdout, last_cell, on_cell), daemon=True
            )
            reader.start()
            timed_out = _wait(process, timeout + START_TIMEOUT_S, on_tick)
            reader.join(timeout=5)
            stderr.seek(0)
            stderr_tail = stderr.read().decode("utf-8", "replace")[-STDERR_TAIL:]
        output = _read_notebook(request["output"])
        where = last_cell[-1] if last_cell else None
        if timed_out:
            return Execution(output, completed=False, ename="TimeoutError",
                             evalue=f"the replay did not finish within {timeout:g} s", last_cell=where)
        try:
            outcome = json.loads(Path(request["result"]).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Execution(
                output, completed=False, ename="ReplayWorkerDied",
                evalue=f"the replay process ended with status {process.returncode}: {stderr_tail.strip()[-500:]}",
                last_cell=where,
            )
        return Execution(output, completed=bool(outcome["completed"]), cell_error=bool(outcome["cell_error"]),
                         ename=outcome.get("ename"), evalue=outcome.get("evalue"), last_cell=where)


def _wait(process: subprocess.Popen[bytes], seconds: float, on_tick: Callable[[], None] | None) -> bool:
    """Wait for the child; True when it had to be killed for taking too long."""
    deadline = time.monotonic() + seconds
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _stop(process)
                return True
            try:
                process.wait(timeout=min(remaining, TICK_S))
                return False
            except subprocess.TimeoutExpired:
                if on_tick is not None:
                    with contextlib.suppress(Exception):
                        on_tick()
    except BaseException:
        _stop(process)  # interrupted (Ctrl-C, a cancelled batch): leave no kernel behind
        raise


def _stop(process: subprocess.Popen[bytes]) -> None:
    _signal(process, signal.SIGTERM)
    try:
        process.wait(timeout=TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal(process, getattr(signal, "SIGKILL", signal.SIGTERM))
        process.wait()


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(process.pid, sig)
        else:  # pragma: no cover - no process groups
            process.send_signal(sig)


def _read_progress(stream: IO[bytes] | None, last_cell: list[int], on_cell: Callable[[int], None] | None) -> None:
    if stream is None:
        return
    for raw in stream:
        try:
            cell = int(json.loads(raw)["cell"])
        except (ValueError, KeyError, TypeError):
            continue
        last_cell.append(cell)
        if on_cell is not None:
            with contextlib.suppress(Exception):  # progress is a courtesy; never stop the replay
                on_cell(cell)


def _read_notebook(path: str) -> Any:
    try:
        return read_notebook(path)
    except (OSError, ValueError):
        return None

