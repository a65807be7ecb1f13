"""Recorded models, artifact lookups, verified blob streams, and the listing migration (0002)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_store_query_data import SORTS, T0, add_runs, expected_order, make_runs, with_model

from trackbook.entities import Run, new_run_id
from trackbook.exceptions import IntegrityError
from trackbook.store import Store, open_blob_store, open_store, upgrade_store
from trackbook.store.migrate import alembic_config
from trackbook.store.run_sort import parse_sort
from trackbook.store.runs_page import RunQuery


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store")) as opened:
        yield opened


def finished(name: str, minutes: int) -> Run:
    started = T0 + dt.timedelta(minutes=minutes)
    return Run(
        id=new_run_id(started.timestamp()),
        name=name,
        status="finished",
        started_at=started,
        ended_at=started + dt.timedelta(seconds=5),
    )


def test_models_are_grouped_by_name_and_numbered_by_time(store: Store) -> None:
    runs = [
        with_model(store, finished("a", 3), "clf", b"clf v2"),
        with_model(store, finished("b", 1), "clf", b"clf v1"),
        with_model(store, finished("c", 2), "reg", b"reg v1"),
        with_model(store, finished("d", 5), "clf", b"clf v3"),
        finished("no model", 4),
    ]
    store.finish_runs(runs)
    models = store.list_models()
    assert [(m.name, m.versions, m.latest.run_name) for m in models] == [
        ("clf", 3, "d"),
        ("reg", 1, "c"),
    ]
    versions = store.model_versions("clf")
    assert [(v.version, v.run_name) for v in versions] == [(3, "d"), (2, "a"), (1, "b")]
    assert versions[0].artifact_id == runs[3].artifacts[0].id
    assert versions[0].recorded_at == runs[3].ended_at
    assert versions[0].run_status == "finished"
    assert store.model_versions("nope") == []


def test_an_artifact_is_found_only_under_its_own_run(store: Store) -> None:
    mine = with_model(store, finished("mine", 1), "clf", b"model bytes")
    other = finished("other", 2)
    store.finish_runs([mine, other])
    blob = mine.artifacts[0].id
    assert store.find_artifact(mine.id, blob) == mine.artifacts[0]
    assert store.find_artifact(other.id, blob) is None
    assert store.find_artifact(mine.id, "0" * 64) is None


def test_open_verified_streams_what_it_verified(tmp_path: Path) -> None:
    blobs = open_blob_store(str(tmp_path / "blobs"))
    data = os.urandom(3 * (1 << 20) + 17)  # several read chunks
    ref = blobs.put_bytes(data)
    with blobs.open_verified(ref.id) as stream:
        assert stream.read() == data


def test_open_verified_refuses_changed_and_linked_blobs(tmp_path: Path) -> None:
    blobs = open_blob_store(str(tmp_path / "blobs"))
    changed = blobs.put_bytes(b"original content")
    path = tmp_path / "blobs" / "sha256" / changed.id[:2] / changed.id
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered content")
    with pytest.raises(IntegrityError, match="fails verification"):
        blobs.open_verified(changed.id)

    canary = tmp_path / "canary.txt"
    canary.write_bytes(b"outside the store")
    linked = blobs.put_bytes(b"to be replaced by a link")
    target = tmp_path / "blobs" / "sha256" / linked.id[:2] / linked.id
    target.unlink()
    target.symlink_to(canary)
    with pytest.raises(IntegrityError, match="symbolic link"):
        blobs.open_verified(linked.id)


def test_open_verified_works_on_fsspec_stores() -> None:
    blobs = open_blob_store(f"memory://trackbook-test-{uuid.uuid4().hex}/blobs")
    ref = blobs.put_bytes(b"remote bytes")
    with blobs.open_verified(ref.id) as stream:
        assert stream.read() == b"remote bytes"


def _downgrade_to_0001(db_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    engine.dispose()


def test_upgrading_an_0001_store_lists_like_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    runs = make_runs(150, seed=3)
    path = tmp_path / "old"
    with open_store(str(path)) as fresh:
        add_runs(fresh, runs)
    _downgrade_to_0001(path / "trackbook.db")
    with sqlite3.connect(path / "trackbook.db") as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(metrics)")}
        assert "latest" not in columns, "the downgrade removed the derived columns"
    assert upgrade_store(str(path))["changed"] is True
    with open_store(str(path)) as store:
        for sort in SORTS:
            page = store.query_runs(RunQuery(parse_sort(sort), limit=500))
            assert [r.id for r in page.runs] == expected_order(runs, sort), sort


def test_a_refinished_run_keeps_one_latest_value_per_metric(store: Store) -> None:
    run = dataclasses.replace(make_runs(1)[0], status="finished")
    store.finish_run(run)
    store.finish_run(dataclasses.replace(run, metrics={"acc": 0.25}, metric_history=[]))
    page = store.query_runs(RunQuery(parse_sort("-metrics.acc")))
    assert [(r.id, r.metrics) for r in page.runs] == [(run.id, {"acc": 0.25})]
