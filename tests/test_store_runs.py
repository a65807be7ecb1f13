"""Runs in and out of a real SQLite store: every facet, references, listings, the frame."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from trackbook.entities import (
    Artifact,
    CellRun,
    Dependency,
    Environment,
    HistoryEntry,
    InputRecord,
    Metric,
    Run,
    RunError,
    RunWarning,
    new_run_id,
)
from trackbook.exceptions import AmbiguousRunError, RunNotFoundError, StoreError, UsageError
from trackbook.store import Store, open_store, run_from_dict, run_to_dict
from trackbook.store.schema import HEAD_REVISION

T0 = dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    with open_store(str(tmp_path / "store")) as opened:
        yield opened


def environment() -> Environment:
    return Environment(
        id="e" * 64,
        python="3.11.7",
        platform="Linux-6.1-x86_64",
        packages={"numpy": "1.26.4", "pandas": "2.2.0"},
        modules={"numpy": "1.26.4"},
        git={"commit": "abc123", "branch": "main", "dirty": False},
        env_vars={"LANG": "C.UTF-8"},
        kernel="python3",
        cpu={"count": 2, "model": "x86"},
        gpu=[{"name": "none"}],
    )


def full_run(store: Store, *, started: dt.datetime = T0, name: str = "baseline") -> Run:
    """A finished run with every facet set, artifacts stored as real blobs."""
    model = store.blobs.put_bytes(b"pickled model bytes")
    figure = store.blobs.put_bytes(b"\x89PNG fake figure")
    run_id = new_run_id(started.timestamp())
    return Run(
        id=run_id,
        name=name,
        status="finished",
        user="alice",
        host="laptop",
        pid=4242,
        notebook="work/train.ipynb",
        cell_id="cell-7",
        execution_count=7,
        started_at=started,
        ended_at=started + dt.timedelta(seconds=3, microseconds=5),
        duration_s=3.000005,
        code="lr = 0.1\nmodel.fit(X, y)\nscore = model.score(X, y)",
        history=[
            HistoryEntry(1, "import numpy as np", "cell-1"),
            HistoryEntry(2, "X = np.ones((3, 2))", None),
            HistoryEntry(3, "import numpy as np", "cell-1"),  # re-executed: same source stored once
            HistoryEntry(7, "lr = 0.1\nmodel.fit(X, y)\nscore = model.score(X, y)", "cell-7"),
        ],
        dependencies=[Dependency("X", 2, None), Dependency("y", None, None)],
        params={
            "lr": 0.1,
            "depth": 3,
            "model": "rf",
            "flag": True,
            "none": None,
            "layers": [64, 32],
        },
        metrics={"loss": 0.25, "score": 0.91},
        metric_history=[
            Metric("loss", 0.5, 0, 1714564800.25),
            Metric("loss", 0.25, 1, 1714564801.5),
            Metric("score", 0.91, 0, 1714564802.0),
        ],
        seeds={"run": 1234, "PYTHONHASHSEED": "0"},
        environment_id="e" * 64,
        environment=environment(),
        inputs=[
            InputRecord(
                "df",
                "dataframe",
                "xxh3_128:" + "0" * 32,
                [3, 2],
                {"a": "int64", "b": "float64"},
                {"a": {"min": 0, "max": 2}},
                None,
                None,
            ),
            InputRecord(
                "data.csv", "file", "sha256:" + "1" * 64, None, None, None, "data/data.csv", 120
            ),
        ],
        artifacts=[
            Artifact(model.id, "model", "model", "application/octet-stream", model.size),
            Artifact(figure.id, "figure-1.png", "figure", "image/png", figure.size),
        ],
        warnings=[RunWarning("hidden_state", "y comes from outside the history")],
        error=RunError("ValueError", "bad", ["Traceback ...", "ValueError: bad"]),
        stdout="training...\n",
        stderr="warning: x\n",
        replay_of=None,
        tags={"team": "vision", "stage": "dev"},
    )


def test_every_facet_round_trips(store: Store) -> None:
    run = full_run(store)
    running = Run(
        id=run.id,
        name=run.name,
        user=run.user,
        host=run.host,
        pid=run.pid,
        started_at=run.started_at,
        notebook=run.notebook,
        cell_id=run.cell_id,
        execution_count=run.execution_count,
        code=run.code,
    )
    store.create_run(running)
    assert store.get_run(run.id).status == "running"
    store.finish_run(run)
    assert store.get_run(run.id) == run


def test_codec_round_trip_is_exact(store: Store) -> None:
    run = full_run(store)
    data = json.loads(json.dumps(run_to_dict(run)))
    assert run_from_dict(data) == run
    data["field_from_the_future"] = 1
    assert run_from_dict(data) == run


def test_finish_of_an_unknown_run_inserts_it_whole(store: Store) -> None:
    run = full_run(store)
    store.finish_run(run)  # never created: a run delivered from the spool
    assert store.get_run(run.id) == run


def test_replay_workloads_read_duration_and_history_length_only(store: Store) -> None:
    run = full_run(store)
    store.finish_run(run)
    running = Run(id=new_run_id(), name="late", user="bob", host="h", pid=1, started_at=T0, code="x = 1")
    store.create_run(running)  # no duration and no history yet
    workloads = store.replay_workloads([run.id, running.id, "no-such-run", run.id])
    assert workloads == {run.id: (3.000005, 4), running.id: (0.0, 0)}
    assert store.replay_workloads([]) == {}


def test_cell_runs_name_each_runs_cell_and_seeds_newest_first(store: Store) -> None:
    older = full_run(store, name="older")
    newer = full_run(store, started=T0 + dt.timedelta(seconds=10), name="newer")
    elsewhere = Run(id=new_run_id(), name="other", notebook="other.ipynb", started_at=T0, code="y = 2")
    for run in (older, newer, elsewhere):
        store.finish_run(run)
    cells = store.cell_runs("work/train.ipynb", limit=10)
    assert [cell.id for cell in cells] == [newer.id, older.id]
    assert cells[1] == CellRun(older.id, older.started_at, "laptop", 4242, 7, "cell-7", older.code, older.seeds)
    assert [cell.id for cell in store.cell_runs("work/train.ipynb", limit=1)] == [newer.id]
    assert len(store.cell_runs(None, limit=10)) == 3


def test_finishing_again_replaces_facets(store: Store) -> None:
    run = full_run(store)
    store.finish_run(run)
    run.params = {"lr": 0.2}
    run.metric_history = [Metric("acc", 0.5, 0, 1.0)]
    run.metrics = {"acc": 0.5}
    run.tags = {}
    store.finish_run(run)
    got = store.get_run(run.id)
    assert got.params == {"lr": 0.2}
    assert got.metrics == {"acc": 0.5}
    assert got.tags == {}


def test_metrics_only_in_the_dict_become_step_zero_and_nan_survives(store: Store) -> None:
    run = Run(id=new_run_id(), status="finished", metrics={"acc": 0.8, "diverged": math.nan})
    store.finish_run(run)
    got = store.get_run(run.id)
    assert got.metrics["acc"] == 0.8
    assert math.isnan(got.metrics["diverged"])
    assert [(m.key, m.step) for m in got.metric_history] == [("acc", 0), ("diverged", 0)]


def test_ended_at_and_duration_are_filled_when_missing(store: Store) -> None:
    run = Run(id=new_run_id(), started_at=T0)
    store.create_run(run)
    run.status = "failed"
    store.finish_run(run)
    got = store.get_run(run.id)
    assert got.status == "failed"
    assert got.ended_at is not None and got.ended_at > T0
    assert got.duration_s is not None and got.duration_s > 0


def test_create_twice_is_a_store_error(store: Store) -> None:
    run = Run(id=new_run_id())
    store.create_run(run)
    with pytest.raises(StoreError, match="rejected"):
        store.create_run(run)


def test_heartbeat_only_touches_running_runs(store: Store) -> None:
    run = Run(id=new_run_id())
    store.create_run(run)
    assert store.heartbeat(run.id) is True
    run.status = "finished"
    store.finish_run(run)
    assert store.heartbeat(run.id) is False


def test_reference_by_prefix_and_name(store: Store) -> None:
    a = Run(id=new_run_id(T0.timestamp()), name="baseline", status="finished", started_at=T0)
    b = Run(
        id=new_run_id(T0.timestamp() + 86400),
        name="baseline",
        status="finished",
        started_at=T0 + dt.timedelta(days=1),
    )
    for run in (a, b):
        store.finish_run(run)
    assert store.get_run(a.id).id == a.id
    assert store.get_run(a.id.lower()).id == a.id
    assert store.get_run(a.id[:8].lower()).id == a.id
    assert store.get_run("baseline").id == b.id  # the newest run with that name
    replayed = Run(id=new_run_id(T0.timestamp() + 2 * 86400), name="baseline", status="finished",
                   started_at=T0 + dt.timedelta(days=2), replay_of=b.id)
    store.finish_run(replayed)
    assert store.get_run("baseline").id == b.id  # not the newer replay of it
    assert store.get_run(replayed.id).id == replayed.id
    lone = Run(id=new_run_id(), name="renamed-replay", status="finished", started_at=T0, replay_of=a.id)
    store.finish_run(lone)
    assert store.get_run("renamed-replay").id == lone.id  # a replay is found when nothing else has the name
    with pytest.raises(RunNotFoundError):
        store.get_run(a.id[:5])  # too short to be a prefix
    with pytest.raises(RunNotFoundError, match="trackbook runs"):
        store.get_run("no-such-run")


def test_shared_prefix_is_ambiguous(store: Store) -> None:
    now = T0.timestamp()
    ids = [new_run_id(now) for _ in range(3)]  # same millisecond: same first 10 characters
    for run_id in ids:
        store.finish_run(Run(id=run_id, status="finished", started_at=T0))
    with pytest.raises(AmbiguousRunError) as caught:
        store.get_run(ids[0][:10])
    assert sorted(caught.value.candidates) == sorted(ids)


def _seed_listing(store: Store) -> list[Run]:
    runs = []
    for i in range(6):
        started = T0 + dt.timedelta(minutes=i)
        run = Run(
            id=new_run_id(started.timestamp()),
            name=f"sweep-{i}",
            status="finished" if i % 3 else "failed",
            notebook="a.ipynb" if i < 3 else "b.ipynb",
            started_at=started,
            code=f"lr = {i / 10}\nTRAIN_MARKER_{i}",
            params={"lr": i / 10, "depth": i},
            metrics={"score": i * 1.5},
            metric_history=[Metric("score", -1.0, 0, 1.0), Metric("score", i * 1.5, 5, 2.0)],
            tags={"team": "a" if i % 2 else "b"},
        )
        store.finish_run(run)
        runs.append(run)
    return runs


def test_list_runs_filters_and_order(store: Store) -> None:
    runs = _seed_listing(store)
    newest_first = [r.id for r in reversed(runs)]
    assert [s.id for s in store.list_runs()] == newest_first
    assert [s.id for s in store.list_runs(limit=2, offset=1)] == newest_first[1:3]
    assert {s.id for s in store.list_runs(status="failed")} == {runs[0].id, runs[3].id}
    assert {s.id for s in store.list_runs(status=["failed", "finished"])} == set(newest_first)
    assert {s.id for s in store.list_runs(notebook="b.ipynb")} == {r.id for r in runs[3:]}
    assert {s.id for s in store.list_runs(tags={"team": "a"})} == {
        runs[1].id,
        runs[3].id,
        runs[5].id,
    }
    assert [s.id for s in store.list_runs(q="SWEEP-4")] == [runs[4].id]
    assert [s.id for s in store.list_runs(q="train_marker_2")] == [runs[2].id]
    assert store.list_runs(q="100%") == []  # wildcards are literal
    summary = store.list_runs(limit=1)[0]
    assert summary.params == {"depth": 5, "lr": 0.5}
    assert summary.metrics == {"score": 7.5}  # latest step, not the first
    assert summary.tags == {"team": "a"}
    assert summary.started_at == runs[5].started_at
    with pytest.raises(UsageError, match="unknown status"):
        store.list_runs(status="done")


def test_runs_frame_columns_and_values(store: Store) -> None:
    runs = _seed_listing(store)
    frame = store.runs_frame()
    assert list(frame.columns) == [
        "run_id",
        "name",
        "status",
        "notebook",
        "started_at",
        "duration_s",
        "params.depth",
        "params.lr",
        "metrics.score",
        "tags.team",
    ]
    assert list(frame["run_id"]) == [r.id for r in reversed(runs)]
    assert isinstance(frame["started_at"].dtype, pd.DatetimeTZDtype)
    assert str(frame["started_at"].dt.tz) == "UTC"
    assert frame["started_at"].iloc[0] == pd.Timestamp(runs[5].started_at)
    assert frame["params.depth"].dtype.kind == "i"
    assert frame["metrics.score"].tolist() == [7.5, 6.0, 4.5, 3.0, 1.5, 0.0]
    filtered = store.runs_frame(status="failed", tags={"team": "b"})
    assert filtered["run_id"].tolist() == [runs[0].id]
    paged = store.runs_frame(limit=2)
    assert paged["run_id"].tolist() == [runs[5].id, runs[4].id]


def test_runs_frame_of_an_empty_store_has_the_base_columns(store: Store) -> None:
    frame = store.runs_frame()
    assert list(frame.columns) == [
        "run_id",
        "name",
        "status",
        "notebook",
        "started_at",
        "duration_s",
    ]
    assert len(frame) == 0


def test_mixed_param_types_stay_objects(store: Store) -> None:
    store.finish_run(Run(id=new_run_id(), status="finished", params={"p": 1}))
    store.finish_run(Run(id=new_run_id(), status="finished", params={"p": "auto"}))
    frame = store.runs_frame()
    assert sorted(map(str, frame["params.p"])) == ["1", "auto"]


def test_environment_is_stored_once_and_readable(store: Store) -> None:
    env = environment()
    store.put_environment(env)
    store.put_environment(env)
    assert store.get_environment(env.id) == env
    assert store.get_environment("f" * 64) is None
    run = Run(id=new_run_id(), status="finished", environment_id=env.id)  # by reference only
    store.finish_run(run)
    assert store.get_run(run.id).environment == env


def test_info_counts(store: Store) -> None:
    full = full_run(store)
    store.finish_run(full)
    store.create_run(Run(id=new_run_id()))
    info = store.info()
    assert info["runs_by_status"] == {"finished": 1, "running": 1}
    assert info["runs_total"] == 2
    assert info["blob_count"] == 2
    assert info["blob_bytes"] == sum(a.size for a in full.artifacts)
    assert info["schema_revision"] == HEAD_REVISION
    assert info["spool_pending"] == 0
