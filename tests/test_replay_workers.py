"""Replay worker processes: real papermill and kernels, one worker per replay or kept by a batch."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest

from trackbook.replaying.execute import execute_notebook
from trackbook.replaying.workers import ForkedWorker, WorkerProcess, reusing_workers, shared_pool

from test_kernel import notebook

pytestmark = pytest.mark.kernel


def run(nb: Any, tmp_path: Path, timeout: float = 120, **env: str) -> Any:
    return execute_notebook(nb, kernel_name="python3", cwd=str(tmp_path), env={**os.environ, **env}, timeout=timeout)


def printed(execution: Any) -> str:
    texts = (o.get("text", "") for cell in execution.output["cells"] for o in cell.get("outputs", []))
    return "".join(text if isinstance(text, str) else "".join(text) for text in texts)


def test_a_batch_reuses_its_worker_and_each_replay_gets_its_own_kernel_environment(tmp_path: Path) -> None:
    nb = notebook("import os\nprint(os.environ['REPLAY_MARK'], os.getpid())")
    with reusing_workers():
        first = run(nb, tmp_path, REPLAY_MARK="first")
        second = run(nb, tmp_path, REPLAY_MARK="second")
        pool = shared_pool()
        assert pool is not None
        (worker,) = pool.started
    assert first.completed and second.completed
    (mark1, pid1), (mark2, pid2) = printed(first).split(), printed(second).split()
    assert (mark1, mark2) == ("first", "second")
    assert pid1 != pid2  # a fresh kernel per replay
    assert worker.returncode == 0  # the batch's end closed the worker
    # The first kernel was stopped while the second replay ran, the second before the worker exited.
    assert not any(psutil.pid_exists(int(pid)) for pid in (pid1, pid2))
    assert shared_pool() is None


def test_a_batch_starts_its_workers_ahead_and_lends_each_to_one_replay_at_a_time(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    nb = notebook("import os\nprint(os.getppid())")  # the kernel's parent: the worker that ran it
    with reusing_workers(start=2):
        pool = shared_pool()
        assert pool is not None
        first, forked = pool.started
        ahead = {first.pid, forked.pid}
        assert len(ahead) == 2  # before any replay asked for one
        # The first imports papermill meanwhile, then forks the second, which starts with the imports done.
        assert isinstance(first, WorkerProcess) and isinstance(forked, ForkedWorker)
        assert "--preload" in first.process.args and any(a.startswith("--fork-to=") for a in first.process.args)
        assert forked.pid is not None and psutil.Process(forked.pid).ppid() == first.pid
        assert os.getpgid(forked.pid) == forked.pid  # its own group: killing it spares the others
        with ThreadPoolExecutor(max_workers=2) as threads:
            executions = list(threads.map(lambda _: run(nb, tmp_path), range(6)))
        assert {worker.pid for worker in pool.started} == ahead  # reused, none added
    assert all(execution.completed for execution in executions)
    assert {int(printed(execution)) for execution in executions} <= ahead
    assert not any(psutil.pid_exists(pid) for pid in ahead if pid is not None)


def test_a_worker_that_died_is_replaced(tmp_path: Path) -> None:
    with reusing_workers():
        pool = shared_pool()
        assert pool is not None
        assert run(notebook("x = 1"), tmp_path).completed
        (first,) = pool.started
        first.kill()
        assert not first.alive
        after = run(notebook("print('after')"), tmp_path)
        assert pool.started[0] is first and len(pool.started) == 2
    assert after.completed and printed(after).strip() == "after"


def _request(tmp_path: Path, code: str) -> str:
    nbformat.write(notebook(code), str(tmp_path / "input.ipynb"))
    request = {"input": str(tmp_path / "input.ipynb"), "output": str(tmp_path / "output.ipynb"),
               "result": str(tmp_path / "result.json"), "kernel_name": "python3", "cwd": str(tmp_path),
               "env": dict(os.environ), "cell_timeout": 300, "start_timeout": 60}
    (tmp_path / "request.json").write_text(json.dumps(request), encoding="utf-8")
    return str(tmp_path / "request.json")


@pytest.fixture
def two_workers() -> Iterator[tuple[WorkerProcess, WorkerProcess]]:
    """A batch's two workers: the first, and the one it forked."""
    with reusing_workers(start=2):
        pool = shared_pool()
        assert pool is not None
        first, forked = pool.started
        yield first, forked


def test_a_forked_worker_past_its_deadline_is_killed_alone(
    tmp_path: Path, two_workers: tuple[WorkerProcess, WorkerProcess]
) -> None:
    first, forked = two_workers
    request = _request(tmp_path, "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(120)")
    assert forked.execute(request, 8) == "timeout"
    assert not forked.alive and first.alive
    assert run(notebook("print('still here')"), tmp_path).completed  # the first worker serves on


def test_a_forked_worker_ends_when_its_input_closes_during_a_request(
    tmp_path: Path, two_workers: tuple[WorkerProcess, WorkerProcess]
) -> None:
    # The batch that feeds a forked worker is gone: nobody waits for the result.
    _, forked = two_workers
    request = _request(tmp_path, "import time\ntime.sleep(120)")
    cells: list[int] = []
    outcome: list[str] = []
    runner = threading.Thread(target=lambda: outcome.append(forked.execute(request, 60, on_cell=cells.append)))
    runner.start()
    deadline = time.monotonic() + 60
    while not cells and time.monotonic() < deadline:
        time.sleep(0.05)
    forked.end_input()
    runner.join(timeout=30)
    assert outcome == ["died"] and not forked.alive


def test_a_worker_past_its_deadline_is_killed(tmp_path: Path) -> None:
    request = _request(tmp_path, "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(120)")
    sockets = tmp_path / "tmp"
    sockets.mkdir()
    worker = WorkerProcess({**os.environ, "TMPDIR": str(sockets)})
    cells: list[int] = []
    assert worker.execute(request, 8, on_cell=cells.append) == "timeout"
    assert not worker.alive and cells == [0]
    assert not (tmp_path / "result.json").exists()
    worker.close()
    assert list(sockets.iterdir()) == []  # the killed worker removed its kernel's socket directory


def test_kernels_talk_over_unix_sockets_in_a_private_directory_removed_at_the_end(tmp_path: Path) -> None:
    code = ("import json, os, stat, sys\npath = sys.argv[sys.argv.index('-f') + 1]\n"
            "print(json.load(open(path))['transport'], oct(os.stat(os.path.dirname(path)).st_mode & 0o777))")
    sockets = tmp_path / "tmp"
    sockets.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(sockets))  # the worker's temporary directory
        with reusing_workers(start=1):
            execution = run(notebook(code), tmp_path)
            assert len(list(sockets.iterdir())) == 1
    assert execution.completed and printed(execution).split() == ["ipc", "0o700"]
    assert list(sockets.iterdir()) == []


def test_a_single_replay_reports_a_cell_error(tmp_path: Path) -> None:
    execution = run(notebook("x = 1", "raise ValueError('now fails')"), tmp_path)
    assert execution.completed and execution.cell_error
    assert execution.last_cell == 1


def test_a_replay_leaves_the_users_ipython_history_alone(tmp_path: Path) -> None:
    ipython_dir = tmp_path / "ipython"
    execution = run(notebook("secret_step = 1\nprint('replayed')"), tmp_path, IPYTHONDIR=str(ipython_dir))
    assert execution.completed and printed(execution).strip() == "replayed"
    assert not list(ipython_dir.rglob("history.sqlite"))  # kept in memory, as nbclient's own kernels do
