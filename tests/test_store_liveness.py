"""Runs whose kernel died become ``interrupted``; runs of live kernels stay ``running``."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from trackbook.entities import Run, new_run_id
from trackbook.store import Store, open_store
from trackbook.store import schema as s
from trackbook.store.values import format_time

CHILD = """
import os, socket, sys, time
from trackbook.entities import Run, new_run_id
from trackbook.store import open_store
store = open_store(sys.argv[1])
run = Run(id=new_run_id(), host=socket.gethostname(), pid=os.getpid())
store.create_run(run)
print(run.id, flush=True)
time.sleep(120)
"""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store")) as opened:
        yield opened


def _start_child(path: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert run_id, "child did not create its run"
    return proc, run_id


def test_killed_kernel_run_is_interrupted_and_live_one_is_not(store: Store, tmp_path: Path) -> None:
    doomed, doomed_run = _start_child(tmp_path / "store")
    alive, alive_run = _start_child(tmp_path / "store")
    try:
        assert store.mark_interrupted() == []
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        assert store.mark_interrupted() == [doomed_run]
        interrupted = store.get_run(doomed_run)
        assert interrupted.status == "interrupted"
        assert interrupted.ended_at is not None and interrupted.ended_at >= interrupted.started_at
        assert store.get_run(alive_run).status == "running"
        assert store.mark_interrupted() == []  # idempotent
    finally:
        alive.kill()
        alive.wait(timeout=30)
        if doomed.poll() is None:
            doomed.kill()


def test_killed_but_unreaped_process_counts_as_gone(store: Store, tmp_path: Path) -> None:
    zombie, run_id = _start_child(tmp_path / "store")
    try:
        os.kill(zombie.pid, signal.SIGKILL)
        # Not waited for yet: the pid still exists as a zombie.
        for _ in range(200):
            with open(f"/proc/{zombie.pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        assert store.mark_interrupted() == [run_id]
    finally:
        zombie.wait(timeout=30)


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs /proc for process start times"
)
def test_reused_pid_is_detected_by_start_time(store: Store) -> None:
    run = Run(id=new_run_id(), host=socket.gethostname(), pid=os.getpid())
    store.create_run(run)
    assert store.mark_interrupted() == []
    with store._write() as conn:  # as if another process had owned this pid before
        conn.execute(
            update(s.runs).where(s.runs.c.id == run.id).values(proc_start=s.runs.c.proc_start - 1)
        )
    assert store.mark_interrupted() == [run.id]


def test_other_hosts_are_judged_by_heartbeat(store: Store) -> None:
    fresh = Run(id=new_run_id(), host="gpu-node-7", pid=1)
    stale = Run(id=new_run_id(), host="gpu-node-8", pid=1)
    for run in (fresh, stale):
        store.create_run(run)
    eleven_minutes_ago = format_time(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=11))
    with store._write() as conn:
        conn.execute(
            update(s.runs).where(s.runs.c.id == stale.id).values(heartbeat_at=eleven_minutes_ago)
        )
    assert store.mark_interrupted() == [stale.id]
    assert store.get_run(stale.id).ended_at == dt.datetime.fromisoformat(
        eleven_minutes_ago[:-1]
    ).replace(tzinfo=dt.timezone.utc)
    assert store.heartbeat(fresh.id) is True
    assert store.get_run(fresh.id).status == "running"


def test_a_late_finish_overrides_interrupted(store: Store) -> None:
    run = Run(id=new_run_id(), host="elsewhere", pid=1)
    store.create_run(run)
    with store._write() as conn:
        conn.execute(
            update(s.runs)
            .where(s.runs.c.id == run.id)
            .values(heartbeat_at="2000-01-01T00:00:00.000000Z")
        )
    assert store.mark_interrupted() == [run.id]
    run.status = "finished"
    run.params = {"a": 1}
    store.finish_run(run)  # e.g. delivered from a spool after a network outage
    got = store.get_run(run.id)
    assert got.status == "finished"
    assert got.params == {"a": 1}
