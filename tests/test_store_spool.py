"""An unreachable store never loses a run: it is spooled and delivered by the next write."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackbook.entities import Metric, Run, new_run_id
from trackbook.exceptions import StoreUnavailableError
from trackbook.store import Spool, Store, open_store


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    return tmp_path / "spool"


@pytest.fixture
def store(tmp_path: Path, spool_dir: Path) -> Iterator[Store]:
    # A short lock budget keeps the test quick; production waits ~10 s.
    with open_store(str(tmp_path / "store"), lock_timeout=0.3) as opened:
        yield opened


class ExclusiveLock:
    """Another process's long write transaction: holds SQLite's write lock until released."""

    def __init__(self, db_path: Path) -> None:
        self.conn = sqlite3.connect(db_path, isolation_level=None)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def finished(run: Run, **facets: object) -> Run:
    run.status = "finished"
    run.params = {"lr": 0.1}
    run.metric_history = [Metric("loss", 0.5, 0, 1.0), Metric("loss", 0.25, 1, 2.0)]
    run.metrics = {"loss": 0.25}
    for key, value in facets.items():
        setattr(run, key, value)
    return run


def test_locked_store_spools_and_next_write_delivers(
    store: Store, tmp_path: Path, spool_dir: Path
) -> None:
    first = Run(id=new_run_id(), name="first")
    store.create_run(first)
    lock = ExclusiveLock(tmp_path / "store" / "trackbook.db")
    try:
        with pytest.raises(StoreUnavailableError, match="locked"):
            store.finish_run(finished(Run(id=new_run_id())))
        assert store.finish_or_spool(finished(first)) is False
        assert [p.name for p in store.spool.pending()] == [f"{first.id}.json"]
        assert store.spool.directory.parent == spool_dir
        assert store.get_run(first.id).status == "running"  # WAL: reads go on while locked
        assert store.info()["spool_pending"] == 1
    finally:
        lock.release()

    second = Run(id=new_run_id(), name="second")
    store.create_run(second)
    assert store.finish_or_spool(finished(second)) is True
    assert store.spool.pending() == []
    delivered = store.get_run(first.id)
    assert delivered.status == "finished"
    assert delivered.params == {"lr": 0.1}
    assert delivered.metrics == {"loss": 0.25}
    assert [w.kind for w in delivered.warnings] == ["spooled"]
    assert store.get_run(second.id).warnings == []


def test_run_never_created_is_delivered_whole_by_another_process(
    tmp_path: Path, spool_dir: Path
) -> None:
    path = str(tmp_path / "store")
    open_store(path).close()
    lock = ExclusiveLock(tmp_path / "store" / "trackbook.db")
    try:
        with open_store(path, lock_timeout=0.2) as kernel:
            with pytest.raises(StoreUnavailableError):
                kernel.create_run(Run(id=new_run_id()))
            lost = finished(Run(id=new_run_id(), name="created-while-locked"), tags={"t": "1"})
            assert kernel.finish_or_spool(lost) is False
    finally:
        lock.release()
    with open_store(path) as later:  # a later kernel (or the server) writes next
        other = finished(Run(id=new_run_id()))
        later.finish_run(other)
        got = later.get_run("created-while-locked")
        assert got.id == lost.id
        assert got.tags == {"t": "1"}
        assert later.spool.pending() == []


def test_spool_is_per_store(tmp_path: Path, spool_dir: Path) -> None:
    with open_store(str(tmp_path / "a")) as a, open_store(str(tmp_path / "b")) as b:
        assert a.spool.directory != b.spool.directory
        b.spool.put(finished(Run(id=new_run_id(), name="for-b")))
        a.finish_run(finished(Run(id=new_run_id())))
        assert len(b.spool.pending()) == 1  # a's write does not deliver b's runs
        b.finish_run(finished(Run(id=new_run_id())))
        assert b.spool.pending() == []
        assert b.get_run("for-b").status == "finished"


def test_unreadable_spool_file_is_set_aside_not_deleted(store: Store) -> None:
    store.spool.directory.mkdir(parents=True)
    broken = store.spool.directory / f"{new_run_id()}.json"
    broken.write_text("{not json", encoding="utf-8")
    store.finish_run(finished(Run(id=new_run_id())))
    assert store.spool.pending() == []
    assert [p.name for p in store.spool.failed()] == [broken.name + ".failed"]
    assert store.info()["spool_failed"] == 1


def test_spool_put_is_atomic_and_round_trips(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "sp")
    run = finished(Run(id=new_run_id(), name="x"))
    path = spool.put(run)
    assert spool.load(path) == run
    assert [p.name for p in (tmp_path / "sp").iterdir()] == [path.name]  # no temp files left
