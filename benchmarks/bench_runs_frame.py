"""Budget: ``trackbook.runs()`` over 10,000 runs (5 params, 5 metrics) returns in <= 0.3 s.

trackbook: a store is filled through the store API (``open_store(path)
.finish_run(Run(...))``, one transaction per run, like a kernel); a fresh
interpreter with pandas imported then calls ``trackbook.runs()`` (store from
``TRACKBOOK_STORE``). The first call opens the store and checks its schema;
later calls are warm.

MLflow: the same shape logged with ``MlflowClient`` (``create_run``,
``log_batch``, ``set_terminated``) into SQLite, then ``mlflow.search_runs()``
in a fresh interpreter. Filling MLflow with 10,000 runs takes minutes, so the
database is cached under ``benchmarks/.cache/`` keyed by MLflow version and
size.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import CACHE_DIR, Result, log, median_ms, now, run_worker, worker_main

NAME = "runs_frame"
BUDGET_S = 0.3
PARAM_KEYS = ["lr", "depth", "n_estimators", "criterion", "subsample"]
METRIC_KEYS = ["accuracy", "precision", "recall", "f1", "loss"]


def _values(index: int) -> tuple[dict[str, Any], dict[str, float]]:
    params = {"lr": round(0.001 * (index % 97 + 1), 4), "depth": index % 12 + 2,
              "n_estimators": 50 * (index % 9 + 1), "criterion": ("gini", "entropy")[index % 2],
              "subsample": round(0.5 + (index % 50) / 100, 2)}
    metrics = {key: ((index * 7919 + offset * 104729) % 10007) / 10007.0
               for offset, key in enumerate(METRIC_KEYS)}
    return params, metrics


def _populate_trackbook(params: dict[str, Any]) -> dict[str, Any]:
    import datetime as dt

    from trackbook.entities import Metric, Run, new_run_id
    from trackbook.store import open_store

    store = open_store(params["path"])
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    start = now()
    for index in range(params["n"]):
        started = base + dt.timedelta(minutes=index)
        run_params, metrics = _values(index)
        store.finish_run(Run(
            id=new_run_id(started.timestamp()),
            name=f"run-{index}",
            status="finished",
            notebook="train.ipynb",
            execution_count=index + 1,
            started_at=started,
            ended_at=started + dt.timedelta(seconds=3),
            duration_s=3.0,
            code="lr = 0.05\n...",
            params=run_params,
            metrics=metrics,
            metric_history=[Metric(key, value, 0, started.timestamp()) for key, value in metrics.items()],
        ))
    elapsed = now() - start
    store.close()
    return {"seconds": elapsed}


def _query_trackbook(params: dict[str, Any]) -> dict[str, Any]:
    import pandas  # noqa: F401  (a data scientist's kernel has it; not part of the budget)

    import trackbook
    from trackbook import api

    # The first call is timed in two parts that add up to it: opening the store
    # (importing SQLAlchemy, schema check) and the query itself.
    start = now()
    api._tracker().store  # noqa: B018  (the property opens the store)
    opened = now() - start
    start = now()
    frame = trackbook.runs()
    first = opened + now() - start
    warm = []
    for _ in range(params["repeat"]):
        start = now()
        trackbook.runs()
        warm.append(now() - start)
    return {"first": first, "opened": opened, "warm": warm, "shape": list(frame.shape)}


def _populate_mlflow(params: dict[str, Any]) -> dict[str, Any]:
    import time

    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=params["uri"])
    experiment = client.create_experiment("bench-runs")
    base_ms = int(time.time() * 1000) - params["n"] * 60_000
    start = now()
    for index in range(params["n"]):
        started = base_ms + index * 60_000
        run_params, metrics = _values(index)
        run = client.create_run(experiment, start_time=started, run_name=f"run-{index}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(key, value, started, 0) for key, value in metrics.items()],
            params=[Param(key, str(value)) for key, value in run_params.items()],
        )
        client.set_terminated(run.info.run_id, end_time=started + 3000)
        if index and index % 1000 == 0:
            print(f"mlflow: {index} runs", file=sys.stderr, flush=True)
    return {"seconds": now() - start, "experiment": experiment}


def _query_mlflow(params: dict[str, Any]) -> dict[str, Any]:
    import mlflow
    import pandas  # noqa: F401

    mlflow.set_tracking_uri(params["uri"])
    found = mlflow.get_experiment_by_name("bench-runs")
    if found is None:
        raise RuntimeError("the cached MLflow database has no bench-runs experiment")
    experiment = found.experiment_id
    start = now()
    frame = mlflow.search_runs(experiment_ids=[experiment], max_results=params["n"] + 1)
    first = now() - start
    warm = []
    for _ in range(params["repeat"]):
        start = now()
        mlflow.search_runs(experiment_ids=[experiment], max_results=params["n"] + 1)
        warm.append(now() - start)
    return {"first": first, "warm": warm, "shape": list(frame.shape)}


def _mlflow_db(n: int) -> tuple[Path, str]:
    """The cached, populated MLflow database for ``n`` runs (built when missing)."""
    from importlib.metadata import version

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    db = CACHE_DIR / f"mlflow-{version('mlflow')}-runs-{n}.db"
    if db.exists():
        return db, "cached"
    partial = db.with_suffix(".partial.db")
    partial.unlink(missing_ok=True)
    log(f"runs_frame: filling MLflow with {n} runs (cached afterwards in {db.name})")
    with tempfile.TemporaryDirectory(prefix="tb-runs-mlflow-") as tmp:
        info = run_worker(__file__, "populate_mlflow", {"n": n, "uri": f"sqlite:///{partial}"},
                          cwd=tmp, timeout=4 * 3600)
    os.replace(partial, db)
    return db, f"built in {info['seconds']:.0f} s"


def measure(quick: bool) -> list[Result]:
    n = 1_000 if quick else 10_000
    repeat = 3 if quick else 5
    with tempfile.TemporaryDirectory(prefix="tb-runs-") as tmp:
        path = str(Path(tmp) / "store")
        log(f"runs_frame: filling a trackbook store with {n} runs")
        filled = run_worker(__file__, "populate_trackbook", {"n": n, "path": path})
        tb = run_worker(__file__, "query_trackbook", {"repeat": repeat},
                        env={"TRACKBOOK_STORE": path})
        db, how = _mlflow_db(n)
        # Query a copy: opening the store must not touch the cache.
        copy = Path(tmp) / "mlflow.db"
        shutil.copyfile(db, copy)
        log("runs_frame: mlflow.search_runs()")
        ml = run_worker(__file__, "query_mlflow", {"n": n, "repeat": max(1, repeat - 3),
                                                   "uri": f"sqlite:///{copy}"}, cwd=tmp)
    per_run = filled["seconds"] / n * 1000
    label = f"mlflow.search_runs() over the same {n} runs, sqlite"
    shapes = f"frames: trackbook {tb['shape']}, MLflow {ml['shape']}"
    return [
        Result(
            f"trackbook.runs() over {n:,} runs, first call (opens store)",
            tb["first"] * 1000, "ms", peer=ml["first"] * 1000, peer_label=label + ", first call",
            budget=BUDGET_S * 1000,
            notes=[f"of which opening the store {tb['opened'] * 1000:.0f} ms; {shapes}"],
        ),
        Result(
            f"trackbook.runs() over {n:,} runs, warm",
            median_ms(tb["warm"]), "ms", peer=median_ms(ml["warm"]), peer_label=label + ", warm",
            budget=BUDGET_S * 1000,
            notes=[(f"median of {len(tb['warm'])} (MLflow {len(ml['warm'])}); trackbook store filled at "
                    f"{per_run:.2f} ms per finish_run; MLflow database {how}")],
        ),
    ]


if __name__ == "__main__":
    worker_main({
        "populate_trackbook": _populate_trackbook,
        "query_trackbook": _query_trackbook,
        "populate_mlflow": _populate_mlflow,
        "query_mlflow": _query_mlflow,
    })

