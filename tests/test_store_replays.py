"""Replays in the store: queued -> running -> done, and replays whose process died."""

from __future__ import annotations

import datetime as dt
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from trackbook.entities import Difference, Replay, ReplayFailure, Run, new_run_id
from trackbook.exceptions import ReplayNotFoundError, RunNotFoundError, UsageError
from trackbook.store import Store, open_store
from trackbook.store import replays as replay_rows
from trackbook.store import schema as s
from trackbook.store.values import format_time

# Opens the store, starts the replay (so this process owns it), then dies
# without finishing it, as a replay process killed mid-run would.
START_AND_DIE = """
import os, sys
from trackbook.store import open_store
store = open_store(sys.argv[1])
store.start_replay(sys.argv[2], "executing cell 1 of 3")
os._exit(0)
"""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store")) as opened:
        yield opened


@pytest.fixture
def run_id(store: Store) -> str:
    run = Run(id=new_run_id(), name="train", status="finished", metrics={"acc": 0.9})
    store.finish_run(run)
    return run.id


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


def test_a_replay_goes_from_queued_to_done_with_its_verdict(store: Store, run_id: str) -> None:
    replay = Replay(id=new_run_id(), run_id=run_id, overrides={"lr": 0.2}, rtol=1e-6)
    store.create_replay(replay)
    queued = store.get_replay(replay.id)
    assert queued.status == "queued"
    assert (queued.pid, queued.host) == (os.getpid(), socket.gethostname())
    assert queued.overrides == {"lr": 0.2} and queued.rtol == 1e-6
    assert queued.started_at is None and queued.verdict is None

    store.start_replay(replay.id, "starting a kernel")
    running = store.get_replay(replay.id)
    assert running.status == "running"
    assert running.started_at is not None and running.started_at >= running.requested_at
    assert running.message == "starting a kernel"
    store.update_replay_progress(replay.id, "executing cell 2 of 5")
    assert store.get_replay(replay.id).message == "executing cell 2 of 5"
    assert store.audit_log(replay.id) == []  # nothing to attest until it is done

    notebook = store.blobs.put_bytes(b'{"cells": []}')
    replayed_run = Run(id=new_run_id(), status="finished", replay_of=run_id)
    store.finish_run(replayed_run)
    replay.verdict = "differs"
    replay.replay_run_id = replayed_run.id
    replay.notebook_artifact = notebook.id
    replay.message = "1 difference"
    replay.differences = [
        Difference("metric", "acc", 0.9, math.nan, "unseeded_randomness", "acc is NaN now"),
        Difference("input", "train.csv", "sha256:aa", "sha256:bb", "input_data_changed", "edited"),
    ]
    store.finish_replay(replay)

    done = store.get_replay(replay.id)
    assert done.status == "done" and done.verdict == "differs"
    assert done.started_at == running.started_at  # kept from start_replay
    assert done.ended_at is not None and done.ended_at >= done.started_at
    assert done.replay_run_id == replayed_run.id
    assert done.notebook_artifact == notebook.id and done.report_artifact is None
    assert [d.key for d in done.differences] == ["acc", "train.csv"]
    assert math.isnan(done.differences[0].replayed)  # NaN survives the round trip
    assert done.differences[1].cause == "input_data_changed"
    assert done.failure is None
    entries = store.audit_log(replay.id)
    assert [(e.kind, e.subject) for e in entries] == [("replay_verdict", replay.id)]

    store.update_replay_progress(replay.id, "late progress")  # ignored once done
    assert store.get_replay(replay.id).message == "1 difference"
    assert store.verify().ok


def test_a_failed_replay_keeps_where_it_stopped(store: Store, run_id: str) -> None:
    replay = Replay(id=new_run_id(), run_id=run_id, mode="notebook")
    store.create_replay(replay)
    store.start_replay(replay.id)
    replay.verdict = "failed"
    replay.failure = ReplayFailure(cell_index=3, ename="ValueError", evalue="bad \"input\"\n")
    store.finish_replay(replay)
    done = store.get_replay(replay.id)
    assert done.mode == "notebook"
    assert done.failure == ReplayFailure(3, "ValueError", "bad \"input\"\n")


def test_listing_is_newest_first_and_per_run(store: Store, run_id: str) -> None:
    other = Run(id=new_run_id(), status="finished")
    store.finish_run(other)
    made = []
    for i in range(4):
        replay = Replay(id=new_run_id(), run_id=run_id if i % 2 == 0 else other.id)
        store.create_replay(replay)
        made.append(replay.id)
        time.sleep(0.002)  # distinct request times
    assert [r.id for r in store.list_replays()] == made[::-1]
    assert [r.id for r in store.list_replays(run_id)] == [made[2], made[0]]
    assert [r.id for r in store.list_replays(limit=1)] == [made[3]]
    assert store.list_replays(new_run_id()) == []
    with pytest.raises(UsageError, match="limit"):
        store.list_replays(limit=0)


def test_mistakes_get_clear_errors(store: Store, run_id: str) -> None:
    with pytest.raises(RunNotFoundError):
        store.create_replay(Replay(id=new_run_id(), run_id=new_run_id()))
    missing = new_run_id()
    with pytest.raises(ReplayNotFoundError, match=missing):
        store.get_replay(missing)
    with pytest.raises(ReplayNotFoundError):
        store.update_replay_progress(missing, "x")
    with pytest.raises(ReplayNotFoundError):
        store.start_replay(missing)
    replay = Replay(id=new_run_id(), run_id=run_id)
    store.create_replay(replay)
    with pytest.raises(UsageError, match="verdict"):
        store.finish_replay(replay)  # no verdict
    replay.verdict = "reproduced"
    store.finish_replay(replay)
    with pytest.raises(UsageError, match="already done"):
        store.start_replay(replay.id)


def test_a_replay_whose_process_died_is_closed_as_failed(
    store: Store, run_id: str, tmp_path: Path
) -> None:
    # Running: a real process starts the replay and exits without finishing it.
    running = Replay(id=new_run_id(), run_id=run_id)
    store.create_replay(running)
    done = subprocess.run(
        [sys.executable, "-c", START_AND_DIE, str(tmp_path / "store"), running.id],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    child_pid = store.get_replay(running.id).pid
    assert child_pid is not None and child_pid != os.getpid()
    # Queued: requested by a process that is gone (its pid is a real, dead one).
    queued = Replay(id=new_run_id(), run_id=run_id, pid=_dead_pid(), host=socket.gethostname())
    store.create_replay(queued)
    # Alive: owned by this process; must be left alone.
    alive = Replay(id=new_run_id(), run_id=run_id)
    store.create_replay(alive)
    store.start_replay(alive.id)

    assert sorted(store.mark_abandoned_replays()) == sorted([running.id, queued.id])
    for replay_id in (running.id, queued.id):
        closed = store.get_replay(replay_id)
        assert closed.status == "done" and closed.verdict == "failed"
        assert closed.message is not None and "replay process" in closed.message
        assert "died" in closed.message
        assert closed.failure is not None and closed.failure.ename == "ReplayProcessDied"
        assert closed.ended_at is not None
        assert [e.kind for e in store.audit_log(replay_id)] == ["replay_verdict"]
    assert f"pid {child_pid}" in (store.get_replay(running.id).message or "")
    assert store.get_replay(alive.id).status == "running"
    assert store.mark_abandoned_replays() == []  # idempotent
    assert store.verify().ok

    # A replay that was given up but finishes after all gets its real verdict.
    queued.verdict = "reproduced"
    store.finish_replay(queued)
    assert store.get_replay(queued.id).verdict == "reproduced"
    assert len(store.audit_log(queued.id)) == 2
    assert store.verify().ok


def test_replays_on_other_hosts_are_given_up_when_silent(store: Store, run_id: str) -> None:
    silent = Replay(id=new_run_id(), run_id=run_id, pid=1234, host="gpu-node-7")
    recent = Replay(id=new_run_id(), run_id=run_id, pid=1234, host="gpu-node-7")
    store.create_replay(silent)
    store.create_replay(recent)
    long_ago = format_time(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
    with store._write() as conn:
        conn.execute(
            update(s.replays).where(s.replays.c.id == silent.id).values(requested_at=long_ago)
        )
    assert store.mark_abandoned_replays() == [silent.id]
    assert store.get_replay(recent.id).status == "queued"


def test_a_replay_started_meanwhile_is_not_closed(store: Store, run_id: str) -> None:
    replay = Replay(id=new_run_id(), run_id=run_id, pid=_dead_pid(), host=socket.gethostname())
    store.create_replay(replay)
    candidates = store._db.run(replay_rows.abandoned, write=False)
    assert [c.id for c in candidates] == [replay.id]
    store.start_replay(replay.id)  # a live process took it over after the sweep looked
    closed = store._db.run(lambda conn: replay_rows.abandon(conn, candidates), write=True)
    assert closed == []
    assert store.get_replay(replay.id).status == "running"
