"""A replay always ends with a record: on a timeout, and when its process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import trackbook
from trackbook.store import open_store

from test_kernel import execute

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def sleepy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A store with one run whose tracked cell sleeps ``nap`` seconds (0.1 when recorded)."""
    from jupyter_client.manager import KernelManager

    root = tmp_path_factory.mktemp("sleepy")
    store = root / ".trackbook"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRACKBOOK_SPOOL_DIR", str(root / "spool"))
        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=str(root), env={**os.environ, "TRACKBOOK_STORE": str(store)})
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            for code in ("%load_ext trackbook", "nap = 0.1", "%%track sleepy\nimport time\ntime.sleep(nap)\nrested = nap"):
                assert execute(kc, code)[0]["status"] == "ok"
        finally:
            kc.stop_channels()
            # Graceful, as JupyterLab shuts kernels down: the kernel records its last run first.
            km.shutdown_kernel()
        with open_store(str(store)) as opened:
            (summary,) = opened.list_runs()
        yield store, summary.id


def test_a_replay_that_runs_too_long_fails_with_a_timeout(sleepy: tuple[Path, str]) -> None:
    store, run_id = sleepy
    started = time.monotonic()

    replay = trackbook.replay(run_id, overrides={"nap": 120}, timeout=3, store=str(store))

    assert time.monotonic() - started < 60
    assert replay.verdict == "failed" and replay.failure is not None
    assert "Timeout" in replay.failure.ename, replay.failure
    with open_store(str(store)) as opened:
        assert opened.get_replay(replay.id).verdict == "failed"


def test_a_killed_replay_is_closed_as_failed_and_stops_its_kernel(sleepy: tuple[Path, str]) -> None:
    store, run_id = sleepy
    cli = subprocess.Popen(
        [sys.executable, "-m", "trackbook", "replay", run_id, "-p", "nap", "120", "--store", str(store)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        with open_store(str(store)) as opened:
            kernel_pid, replay_id = _wait_for_the_tracked_cell(opened, run_id, cli.pid)
            os.kill(cli.pid, signal.SIGKILL)
            cli.wait(timeout=30)

            assert replay_id in opened.mark_abandoned_replays()
            closed = opened.get_replay(replay_id)
            assert (closed.status, closed.verdict) == ("done", "failed")
            assert closed.failure is not None and closed.failure.ename == "ReplayProcessDied"
            # The replay's own process and kernel notice and exit: nothing keeps running.
            deadline = time.monotonic() + 30
            while _alive(kernel_pid):
                assert time.monotonic() < deadline, "the replay kernel outlived its replay"
                time.sleep(0.2)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()


def _wait_for_the_tracked_cell(store: object, run_id: str, replaying_pid: int) -> tuple[int, str]:
    """The pid of the replay kernel once its tracked (last) cell is executing, and the replay id."""
    import psutil

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for replay in store.list_replays(run_id=run_id):  # type: ignore[attr-defined]
            cell, _, cells = (replay.message or "").removeprefix("executing cell ").partition(" of ")
            if replay.status != "running" or not cells or cell != cells:
                continue
            kernels = [p.pid for p in psutil.Process(replaying_pid).children(recursive=True)
                       if "ipykernel" in " ".join(p.cmdline())]
            assert len(kernels) == 1, kernels
            return kernels[0], replay.id
        time.sleep(0.2)
    raise AssertionError("the replay never reached its tracked cell")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


def test_progress_reaches_the_store_paced_and_the_last_message_is_never_lost(
    sleepy: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from trackbook.replaying.engine import PROGRESS_INTERVAL_S, _Reporter, prepare_replay

    store_dir, run_id = sleepy
    with open_store(str(store_dir)) as opened:
        replay = prepare_replay(opened, run_id)
        opened.create_replay(replay)
        opened.start_replay(replay.id, "preparing the notebook")
        writes: list[str] = []
        update = opened.update_replay_progress
        monkeypatch.setattr(opened, "update_replay_progress",
                            lambda rid, message: (writes.append(message), update(rid, message)))
        seen: list[str] = []
        report = _Reporter(opened, replay, seen.append)
        for cell in range(50):
            report(f"executing cell {cell + 1} of 50")
        assert len(seen) == 50  # the caller hears every step at once
        assert writes == ["executing cell 1 of 50"]  # the store, at a pace
        time.sleep(PROGRESS_INTERVAL_S + 0.5)
        assert writes[-1] == "executing cell 50 of 50" and len(writes) == 2
        assert opened.get_replay(replay.id).message == "executing cell 50 of 50"
        report("comparing with the original run")  # its turn has come: written now
        report("storing the verdict")  # waits for its turn...
        report.close()  # ...and is dropped: the verdict follows
        time.sleep(PROGRESS_INTERVAL_S + 0.5)
        assert writes[2:] == ["comparing with the original run"]
