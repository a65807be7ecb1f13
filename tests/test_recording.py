"""The final record of a run is written behind the cell, and never lost on the way.

A gate (an Event the store write waits on) holds the background write back,
so each test sees the state between the cell's return and its record.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import trackbook
from trackbook.store import open_store


def run(shell: Any, code: str) -> Any:
    result = shell.run_cell(code, store_history=True)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def names_in(store_dir: Path) -> list[str]:
    """Run names as another reader of the store sees them (its own connection)."""
    with open_store(str(store_dir)) as other:
        return sorted(r.name for r in other.list_runs())


@pytest.fixture
def gate(shell: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Store writes of the shell's tracker wait until the event is set."""
    store = shell._trackbook_magics.tracker.store
    write = store.finish_or_spool
    opened = threading.Event()

    def gated(run_: Any) -> bool:
        assert opened.wait(30), "the test never opened the gate"
        return bool(write(run_))

    monkeypatch.setattr(store, "finish_or_spool", gated)
    yield opened
    opened.set()


def test_cell_returns_before_its_record_is_written(shell: Any, store_dir: Path, gate: threading.Event) -> None:
    run(shell, "%%track behind\nx = 1")
    tracker = shell._trackbook_magics.tracker
    assert tracker.last_run.name == "behind"  # the summary had everything it shows
    assert tracker.flush(timeout=0) is False  # the write is still waiting
    assert names_in(store_dir) == []
    gate.set()
    assert trackbook.flush(timeout=30) is True
    assert names_in(store_dir) == ["behind"]
    assert trackbook.get_run("behind").environment_id is not None


def test_queries_wait_for_the_record(shell: Any, gate: threading.Event) -> None:
    run(shell, "%%track queried\nacc = 1 / 2")
    threading.Timer(0.2, gate.set).start()
    assert list(trackbook.runs()["name"]) == ["queried"]
    assert trackbook.get_run("queried").metrics == {"acc": 0.5}


def test_next_cell_sees_the_previous_run(shell: Any, store_dir: Path, gate: threading.Event) -> None:
    run(shell, "%%track first\nx = 1")
    threading.Timer(0.2, gate.set).start()
    # The next cell looks into the store from its own connection, as a
    # `!trackbook runs` subprocess would.
    run(shell, "from trackbook.store import open_store\n"
               f"with open_store({str(store_dir)!r}) as s:\n"
               "    seen = [r.name for r in s.list_runs()]\n")
    assert shell.user_ns["seen"] == ["first"]


def test_a_failed_background_write_is_reported_under_the_next_cell(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trackbook.exceptions import StoreUnavailableError

    tracker = shell._trackbook_magics.tracker
    store = tracker.store
    write = store._record_finished
    calls: list[str] = []

    def unreachable_once(run_: Any) -> None:
        calls.append(run_.name)
        if len(calls) == 1:
            raise StoreUnavailableError("the database is locked")
        write(run_)

    monkeypatch.setattr(store, "_record_finished", unreachable_once)
    run(shell, "%%track lost\nx = 1")
    lost = tracker.last_run
    run(shell, "%%track next\ny = 2")
    shown = [w for w in tracker.last_run.warnings if w.kind == "spooled"]
    assert len(shown) == 1 and lost.id in shown[0].message
    # The next successful write delivered the spooled run.
    assert trackbook.get_run("lost").status == "finished"
    assert [w.kind for w in trackbook.get_run("lost").warnings] == ["spooled"]
    # Once a write succeeded, records go back behind the cell.
    run(shell, "%%track after\nz = 3")
    assert trackbook.flush(timeout=30)
    assert calls == ["lost", "next", "lost", "after"]  # "lost" again: its delivery from the spool
    assert [w.kind for w in trackbook.get_run("after").warnings] == []


def test_interpreter_exit_writes_the_queued_record(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    script = textwrap.dedent(f"""
        import time
        from IPython.core.interactiveshell import InteractiveShell
        from trackbook.store.store import Store

        write = Store.finish_or_spool
        def slow(self, run):
            time.sleep(0.5)  # still queued when the script ends
            return write(self, run)
        Store.finish_or_spool = slow

        shell = InteractiveShell.instance()
        shell.run_cell("%load_ext trackbook")
        assert shell.run_cell("%%track at-exit\\nx = 1").success
    """)
    env = {"TRACKBOOK_STORE": str(store_dir), "TRACKBOOK_SPOOL_DIR": str(tmp_path / "spool"),
           "IPYTHONDIR": str(tmp_path / "ipython"), "PATH": os.environ.get("PATH", "")}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120, cwd=tmp_path)
    assert names_in(store_dir) == ["at-exit"]
