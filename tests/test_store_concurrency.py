"""Many kernels write while a server reads: no lock error surfaces, no run is lost."""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from trackbook.entities import HistoryEntry, Metric, Run, new_run_id
from trackbook.exceptions import StoreUnavailableError
from trackbook.store import open_store

WRITERS = 8
RUNS_PER_WRITER = 50


def _writer(path: str, worker: int, errors: Any) -> None:
    try:
        with open_store(path) as store:
            history: list[HistoryEntry] = []
            for i in range(RUNS_PER_WRITER):
                history.append(HistoryEntry(i + 1, f"x = {worker} * {i}", f"cell-{i}"))
                run = Run(
                    id=new_run_id(),
                    name=f"w{worker}-{i}",
                    pid=os.getpid(),
                    code=f"x = {worker} * {i}",
                )
                store.create_run(run)
                run.status = "finished"
                run.history = list(history)
                run.params = {"worker": worker, "i": i, "lr": 0.1, "model": "rf", "depth": 3}
                run.metric_history = [Metric("loss", 1.0 / (s + 1), s) for s in range(3)]
                run.metrics = {"loss": 1.0 / 3, "score": i / RUNS_PER_WRITER}
                run.tags = {"worker": str(worker)}
                store.finish_run(run)
    except BaseException:
        errors.put(f"writer {worker}: {traceback.format_exc()}")
        raise


def _reader(path: str, stop: Any, errors: Any, reads: Any) -> None:
    count = 0
    try:
        with open_store(path) as store:
            while not stop.is_set() or count == 0:
                summaries = store.list_runs(limit=50)
                frame = store.runs_frame()
                assert len(frame) >= len(summaries)
                assert set(frame["status"]) <= {"running", "finished"}
                count += 1
    except BaseException:
        errors.put(f"reader: {traceback.format_exc()}")
        raise
    finally:
        reads.put(count)


def test_eight_writers_and_a_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    path = str(tmp_path / "store")
    open_store(path).close()  # created up front: this test is about steady-state contention

    ctx = multiprocessing.get_context("spawn")
    errors, reads, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    reader = ctx.Process(target=_reader, args=(path, stop, errors, reads))
    writers = [ctx.Process(target=_writer, args=(path, w, errors)) for w in range(WRITERS)]
    reader.start()
    for proc in writers:
        proc.start()
    for proc in writers:
        proc.join(timeout=300)
    stop.set()
    reader.join(timeout=120)

    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    assert [p.exitcode for p in writers] == [0] * WRITERS
    assert reader.exitcode == 0
    assert reads.get(timeout=10) > 0

    with open_store(path) as store:
        summaries = store.list_runs()
        assert len(summaries) == WRITERS * RUNS_PER_WRITER
        assert {s.status for s in summaries} == {"finished"}
        assert len({s.name for s in summaries}) == WRITERS * RUNS_PER_WRITER
        frame = store.runs_frame()
        assert len(frame) == WRITERS * RUNS_PER_WRITER
        assert sorted(frame.groupby("params.worker").size().tolist()) == [RUNS_PER_WRITER] * WRITERS
        last = store.get_run(f"w3-{RUNS_PER_WRITER - 1}")
        assert len(last.history) == RUNS_PER_WRITER
        assert last.metrics["loss"] == pytest.approx(1.0 / 3)
        report = store.verify()
        assert report.ok, report.problems
        assert store.spool.pending() == []


def test_threads_sharing_one_store_take_turns_to_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One open store, as a replay batch's threads and a server's handlers share it.
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store")) as store:

        def write(worker: int) -> None:
            for i in range(25):
                run = Run(id=new_run_id(), name=f"t{worker}-{i}", pid=os.getpid(), code="x = 1")
                store.create_run(run)
                run.status, run.metrics = "finished", {"i": i}
                store.finish_run(run)

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(write, range(4)))
        assert len(store.list_runs()) == 100
        assert store.verify().ok


def test_a_writer_kept_waiting_by_another_thread_gets_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store"), lock_timeout=0.2) as store:
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with store._write():
                holding.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(10)
            with pytest.raises(StoreUnavailableError, match="locked by another thread"):
                store.create_run(Run(id=new_run_id(), name="late", pid=os.getpid(), code="x = 1"))
        finally:
            release.set()
            holder.join()
        store.create_run(Run(id=new_run_id(), name="later", pid=os.getpid(), code="x = 1"))
        assert [summary.name for summary in store.list_runs()] == ["later"]
