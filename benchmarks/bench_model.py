"""Budget: capturing a fitted RandomForestClassifier(n_estimators=50) takes <= 100 ms.

trackbook: in a real IPython shell, an untracked cell fits the forest on
scikit-learn's breast-cancer data; after warm-up, tracked and plain runs of
``clf2 = clf`` alternate (trackbook stores every fitted model a tracked cell
assigns, with its ``get_params()``). The figure is median(tracked) -
median(plain), so it holds the whole run record, not only the model. The
first model capture of the kernel (it imports joblib) is reported apart,
and so is ``dump_model`` alone (joblib into the content-addressed blob
writer, hashed while written, fsynced).

MLflow: ``mlflow.sklearn.log_model(clf, name="model")`` inside a run, with
its default requirement inference and default (skops) format, on a SQLite
tracking store.
"""

from __future__ import annotations

import statistics
import tempfile
from typing import Any

from common import (
    CELL_5P_5M,
    Result,
    isolated_env,
    last_run,
    log,
    make_shell,
    median_ms,
    now,
    run_capture_problems,
    run_cell_s,
    run_worker,
    spread_ms,
    worker_main,
)

NAME = "model"
BUDGET_MS = 100.0

FIT_CELL = (
    "from sklearn.datasets import load_breast_cancer\n"
    "from sklearn.ensemble import RandomForestClassifier\n"
    "X, y = load_breast_cancer(return_X_y=True)\n"
    "clf = RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y)\n"
)
CAPTURE_CELL = "clf2 = clf\n"
TRUSTED = ["sklearn.tree._tree.Tree"]


def _trackbook_worker(params: dict[str, Any]) -> dict[str, Any]:
    shell = make_shell(prior_history=20)
    run_cell_s(shell, FIT_CELL)
    run_cell_s(shell, "%load_ext trackbook")
    for _ in range(3):  # warm the store and the environment, not the model path
        run_cell_s(shell, "%%track\n" + CELL_5P_5M)
    first = run_cell_s(shell, "%%track\n" + CAPTURE_CELL)
    for _ in range(params["warmup"]):
        run_cell_s(shell, "%%track\n" + CAPTURE_CELL)
    tracked, plain = [], []
    for _ in range(params["repeat"]):
        plain.append(run_cell_s(shell, CAPTURE_CELL))
        tracked.append(run_cell_s(shell, "%%track\n" + CAPTURE_CELL))
    from trackbook.capture.outputs import dump_model

    run = last_run()
    models = [a for a in run.artifacts if a.kind == "model"]
    blobs = shell._trackbook_magics.tracker.store.blobs
    direct = []
    for _ in range(params["repeat"]):
        start = now()
        dump_model(shell.user_ns["clf"], blobs.writer())
        direct.append(now() - start)
    return {
        "first": first,
        "tracked": tracked,
        "plain": plain,
        "direct": direct,
        "model_bytes": models[0].size if models else None,
        "params": len(run.params),
        "problems": run_capture_problems(run),
    }


def _mlflow_worker(params: dict[str, Any]) -> dict[str, Any]:
    import warnings

    import mlflow
    import mlflow.sklearn

    namespace: dict[str, Any] = {}
    exec(FIT_CELL, namespace)  # noqa: S102  (the same cell the trackbook worker runs)
    clf = namespace["clf"]
    mlflow.set_experiment("bench-model")
    samples = []
    for index in range(params["warmup"] + params["repeat"]):
        with mlflow.start_run(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = now()
            # MLflow 3.17 defaults to skops, which refuses tree nodes unless trusted.
            mlflow.sklearn.log_model(clf, name="model", skops_trusted_types=TRUSTED)
            elapsed = now() - start
        if index >= params["warmup"]:
            samples.append(elapsed)
    return {"samples": samples}


def measure(quick: bool) -> list[Result]:
    tb_sizes = {"warmup": 2, "repeat": 5} if quick else {"warmup": 3, "repeat": 25}
    ml_sizes = {"warmup": 1, "repeat": 1} if quick else {"warmup": 1, "repeat": 5}
    with tempfile.TemporaryDirectory(prefix="tb-model-") as tmp:
        log("model: trackbook %%track clf2 = clf")
        tb = run_worker(__file__, "trackbook", tb_sizes, env=isolated_env(tmp))
    with tempfile.TemporaryDirectory(prefix="tb-model-mlflow-") as tmp:
        log("model: mlflow.sklearn.log_model")
        ml = run_worker(__file__, "mlflow", ml_sizes, env=isolated_env(tmp), cwd=tmp)
    peer = median_ms(ml["samples"])
    peer_label = (f"mlflow.sklearn.log_model (default skops format, tree type trusted; "
                  f"default requirement inference), median of {len(ml['samples'])}")
    added = median_ms(tb["tracked"]) - median_ms(tb["plain"])
    size = f"{tb['model_bytes'] / 1e6:.1f} MB" if tb["model_bytes"] else "NO MODEL STORED"
    cell = Result(
        "capture fitted RandomForest(50) in a tracked cell (added)",
        added,
        "ms",
        peer=peer,
        peer_label=peer_label,
        budget=BUDGET_MS,
        notes=[f"tracked {spread_ms(tb['tracked'])}; joblib blob {size}; {tb['params']} params recorded"],
    )
    first = Result(
        "capture RandomForest(50), first model of the kernel (added)",
        (tb["first"] - statistics.median(tb["plain"])) * 1000,
        "ms",
        peer=peer,
        peer_label="as above",
        notes=["the first model this kernel stores"],
    )
    if tb["problems"] or not tb["model_bytes"]:
        cell.invalid = "; ".join(tb["problems"]) or "no model artifact on the run"
        first.invalid = "as above"
    direct = Result(
        "dump_model(clf, blobs.writer) alone",
        median_ms(tb["direct"]),
        "ms",
        peer=peer,
        peer_label="as above",
        budget=BUDGET_MS,
        notes=[spread_ms(tb["direct"])],
    )
    return [cell, first, direct]


if __name__ == "__main__":
    worker_main({"trackbook": _trackbook_worker, "mlflow": _mlflow_worker})
