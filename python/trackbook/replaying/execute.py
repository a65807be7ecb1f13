"""Execute a replay notebook in a child process, with a deadline.

papermill runs in ``python -m trackbook.replaying.worker`` rather than in this
process: a kernel that hangs, or a cell that never returns, is ended by
killing the child's process group, and nothing of the replay (kernel client,
papermill's memory) stays in a long-lived caller such as the server. A plain
subprocess (not ``multiprocessing``) because batch replays may run
inside Dask workers, which are daemonic and may not start
``multiprocessing`` children. The worker processes themselves are
:mod:`.workers`' (a batch keeps them between replays).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .nbfiles import read_notebook, write_notebook
from .workers import WorkerProcess, shared_pool

#: Seconds a kernel may take to start.
START_TIMEOUT_S = 60.0


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
        Called every :data:`~.workers.TICK_S` seconds while waiting: a sign of life
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
            "env": dict(env),
            "cell_timeout": timeout,
            "start_timeout": START_TIMEOUT_S,
        }
        write_notebook(notebook, work / "input.ipynb")
        request_path = work / "request.json"
        request_path.write_text(json.dumps(request), encoding="utf-8")
        last_cell: list[int] = []

        def started(cell: int) -> None:
            last_cell.append(cell)
            if on_cell is not None:
                on_cell(cell)

        pool = shared_pool()
        worker = pool.take(env) if pool is not None else WorkerProcess(env)
        ending = worker.execute(str(request_path), timeout + START_TIMEOUT_S, started, on_tick)
        stderr_tail = worker.stderr_tail() if ending != "done" else ""
        if pool is None:
            worker.close_in_background()
        else:
            pool.give_back(worker)
        output = _read_notebook(request["output"])
        where = last_cell[-1] if last_cell else None
        if ending == "timeout":
            return Execution(output, completed=False, ename="TimeoutError",
                             evalue=f"the replay did not finish within {timeout:g} s", last_cell=where)
        try:
            outcome = json.loads(Path(request["result"]).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Execution(
                output, completed=False, ename="ReplayWorkerDied",
                evalue=f"the replay process ended with status {worker.returncode}: "
                       f"{stderr_tail.strip()[-500:]}",
                last_cell=where,
            )
        return Execution(output, completed=bool(outcome["completed"]), cell_error=bool(outcome["cell_error"]),
                         ename=outcome.get("ename"), evalue=outcome.get("evalue"), last_cell=where)


def _read_notebook(path: str) -> Any:
    try:
        return read_notebook(path)
    except (OSError, ValueError):
        return None

