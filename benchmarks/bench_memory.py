"""Memory budgets.

1. Peak extra memory while fingerprinting a 1 GiB DataFrame: <= 64 MB.
   In a fresh interpreter the frame is built, the RSS high-water mark is
   reset (``/proc/self/clear_refs`` = 5; else RSS is sampled every 2 ms),
   ``fingerprint(df)`` runs, and the figure is VmHWM - RSS before. Peer:
   ``pandas.util.hash_pandas_object`` the same way.
2. ``%load_ext trackbook`` + ``import trackbook`` add <= 30 MB to a kernel:
   RSS after minus RSS before, in a fresh interpreter whose IPython shell
   exists already, once without and once with numpy and pandas imported
   beforehand. Peer: ``import mlflow`` measured the same way.
3. Capturing a large object never holds a second full copy: a tracked cell
   assigning a fitted model that holds ~500 MB of arrays, and tracked cells
   reading a ~500 MB ndarray and a ~500 MB DataFrame; the figure is the
   peak RSS above the RSS before the cell. Budget: <= 64 MB (a copy would
   be >= the object's size). Peer for the model: ``mlflow.sklearn.log_model``
   of the same model, measured the same way.
"""

from __future__ import annotations

import gc
import sys
import tempfile
from typing import Any

from common import (
    Result,
    isolated_env,
    last_run,
    log,
    make_shell,
    peak_extra_mb,
    rss_mb,
    run_capture_problems,
    run_cell_s,
    run_worker,
    worker_main,
)

NAME = "memory"
FINGERPRINT_BUDGET_MB = 64.0
IMPORT_BUDGET_MB = 30.0
CAPTURE_BUDGET_MB = 64.0


# -- 1. fingerprint ------------------------------------------------------------------


def _fingerprint_worker(params: dict[str, Any]) -> dict[str, Any]:
    import frames
    import pandas as pd

    from trackbook.capture.fingerprint import fingerprint

    frame = frames.build(params["kind"], params["bytes"])
    fingerprint(frame.head(1000))  # imports and first-call caches are not the point
    pd.util.hash_pandas_object(frame.head(1000), index=False)
    ours, method = peak_extra_mb(lambda: fingerprint(frame))
    theirs = None
    if params["peer"]:
        theirs, _ = peak_extra_mb(lambda: pd.util.hash_pandas_object(frame, index=False))
    return {"ours": ours, "theirs": theirs, "method": method,
            "bytes": frames.buffer_bytes(frame), "describe": frames.describe(frame)}


# -- 2. import + %load_ext -------------------------------------------------------------


def _import_worker(params: dict[str, Any]) -> dict[str, Any]:
    shell = make_shell(prior_history=0)
    if params["preimport"]:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    gc.collect()
    before = rss_mb()
    if params["who"] == "trackbook":
        run_cell_s(shell, "%load_ext trackbook")
        run_cell_s(shell, "import trackbook")
    else:
        run_cell_s(shell, "import mlflow")
    gc.collect()
    after = rss_mb()
    first_cell = None
    if params["who"] == "trackbook":
        run_cell_s(shell, "%%track\nlr = 0.1\nacc = lr * 9.5\n")
        run_cell_s(shell, "trackbook.flush()")  # the record is written behind the cell
        gc.collect()
        first_cell = rss_mb() - after
    return {"before": before, "delta": after - before, "first_cell": first_cell,
            "modules": sorted(m for m in ("numpy", "pandas", "sqlalchemy", "pyarrow", "alembic")
                              if m in sys.modules)}


# -- 3. large objects in a tracked cell ---------------------------------------------------

SETUP_MODEL = (
    "import numpy as np\n"
    "from sklearn.neighbors import KNeighborsClassifier\n"
    "rows = {rows}\n"
    "X = np.random.default_rng(0).random((rows, 16))\n"
    "y = (X[:, 0] > 0.5).astype(np.int8)\n"
    "knn = KNeighborsClassifier(algorithm='brute').fit(X, y)\n"
)
SETUP_ARRAY = "big = np.random.default_rng(1).random(({rows}, 16))\n"
SETUP_FRAME = (
    "import pandas as pd\n"
    "frame = pd.DataFrame({{f'c{{i}}': np.random.default_rng(i).random({rows}) for i in range(16)}})\n"
)
CELLS = {
    "model": "model2 = knn\n",
    "ndarray": "total = float(big.sum())\n",
    "dataframe": "mean0 = float(frame['c0'].mean())\n",
}


def _capture_worker(params: dict[str, Any]) -> dict[str, Any]:
    rows = params["bytes"] // (8 * 16)
    shell = make_shell(prior_history=5)
    run_cell_s(shell, SETUP_MODEL.format(rows=rows))
    run_cell_s(shell, SETUP_ARRAY.format(rows=rows))
    run_cell_s(shell, SETUP_FRAME.format(rows=rows))
    run_cell_s(shell, "%load_ext trackbook\nimport trackbook")
    run_cell_s(shell, "%%track\nwarm = 1.5\n")  # store, environment: not what is measured
    # Small objects of the same kinds, so first-use imports (joblib...) are not counted.
    run_cell_s(shell, "from sklearn.linear_model import LogisticRegression\n"
                      "small = LogisticRegression().fit(X[:200], y[:200])")
    run_cell_s(shell, "%%track\nsmall2 = small\nsmall_sum = float(X[:10].sum())\n"
                      "small_mean = float(frame.head(10)['c0'].mean())\n")
    out: dict[str, Any] = {}
    for kind, cell in CELLS.items():
        plain, _ = peak_extra_mb(lambda: run_cell_s(shell, cell))  # noqa: B023
        # The record written behind the cell counts too: flush inside the window.
        tracked, method = peak_extra_mb(
            lambda: run_cell_s(shell, "%%track\n" + cell) + run_cell_s(shell, "trackbook.flush()")  # noqa: B023
        )
        run = last_run()
        out[kind] = {"plain": plain, "tracked": tracked, "method": method,
                     "problems": run_capture_problems(run),
                     "artifacts": [a.size for a in run.artifacts if a.kind == "model"],
                     "inputs": [i.name for i in run.inputs]}
    out["object_mb"] = shell.user_ns["X"].nbytes / 1e6
    return out


def _capture_mlflow_worker(params: dict[str, Any]) -> dict[str, Any]:
    import warnings

    import mlflow
    import mlflow.sklearn

    namespace: dict[str, Any] = {}
    cell = SETUP_MODEL.format(rows=params["bytes"] // (8 * 16))
    exec(cell, namespace)  # noqa: S102  (the same cell the trackbook worker runs)
    mlflow.set_experiment("bench-memory")

    def log_model() -> None:
        with mlflow.start_run(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlflow.sklearn.log_model(namespace["knn"], name="model")

    peak, method = peak_extra_mb(log_model)
    return {"peak": peak, "method": method}


# -- the table --------------------------------------------------------------------------


def _fingerprint_rows(quick: bool) -> list[Result]:
    size = (128 << 20) if quick else (1 << 30)
    label = "1 GiB" if size == 1 << 30 else f"{size >> 20} MiB"
    rows = []
    for kind in ("numeric", "numeric_2d", "strings", "strings_compute"):
        log(f"memory: fingerprint {kind} {label}")
        peer = kind in ("numeric", "numeric_2d", "strings")
        out = run_worker(__file__, "fingerprint", {"kind": kind, "bytes": size, "peer": peer})
        rows.append(Result(
            f"peak extra RSS, fingerprint {label} {kind}",
            out["ours"], "MB",
            peer=out["theirs"],
            peer_label="pandas.util.hash_pandas_object(df, index=False)" if peer else "",
            budget=FINGERPRINT_BUDGET_MB,
            notes=[f"{out['describe']}; {out['method']}; MB = 2^20 bytes"],
        ))
    return rows


def _import_rows() -> list[Result]:
    rows = []
    for preimport in (False, True):
        log(f"memory: import + %load_ext, numpy/pandas preimported={preimport}")
        with tempfile.TemporaryDirectory(prefix="tb-mem-import-") as tmp:
            env = isolated_env(tmp)
            tb = run_worker(__file__, "import", {"who": "trackbook", "preimport": preimport}, env=env)
            ml = run_worker(__file__, "import", {"who": "mlflow", "preimport": preimport}, env=env)
        state = "numpy+pandas preimported" if preimport else "nothing preimported"
        rows.append(Result(
            f"RSS added by %load_ext + import trackbook ({state})",
            tb["delta"], "MB",
            peer=ml["delta"], peer_label="import mlflow, same conditions",
            budget=IMPORT_BUDGET_MB,
            notes=[f"shell RSS before {tb['before']:.0f} MB"],
        ))
        rows.append(Result(
            f"RSS added by the first tracked cell after that ({state})",
            tb["first_cell"], "MB",
            notes=[("opens the store (SQLAlchemy, schema check), first environment capture; "
                    f"loaded afterwards: {', '.join(tb['modules']) or '-'}")],
        ))
    return rows


def _capture_rows(quick: bool) -> list[Result]:
    size = (64 << 20) if quick else (500 * 10**6)
    log(f"memory: tracked cells holding {size / 1e6:.0f} MB objects")
    with tempfile.TemporaryDirectory(prefix="tb-mem-capture-") as tmp:
        out = run_worker(__file__, "capture", {"bytes": size}, env=isolated_env(tmp))
    with tempfile.TemporaryDirectory(prefix="tb-mem-capture-mlflow-") as tmp:
        log("memory: mlflow.sklearn.log_model of the same model")
        try:
            ml: dict[str, Any] | None = run_worker(__file__, "capture_mlflow", {"bytes": size},
                                                   env=isolated_env(tmp), cwd=tmp)
        except Exception as exc:  # noqa: BLE001  (the peer is a reference, not the budget)
            log(f"memory: MLflow peer failed: {exc}")
            ml = None
    rows = []
    what = {
        "model": "fitted KNN holding",
        "ndarray": "cell reading an ndarray of",
        "dataframe": "cell reading a DataFrame of",
    }
    for kind, text in what.items():
        facts = out[kind]
        stored = facts["artifacts"] if kind == "model" else facts["inputs"]
        recorded = (f"model blob {stored[0] / 1e6:.0f} MB" if kind == "model" and stored
                    else f"inputs {stored}")
        result = Result(
            f"peak extra RSS, tracked {text} {out['object_mb']:.0f} MB (10^6 B)",
            facts["tracked"], "MB",
            peer=ml["peak"] if (kind == "model" and ml) else None,
            peer_label="mlflow.sklearn.log_model (default format and requirements)" if kind == "model" else "",
            budget=CAPTURE_BUDGET_MB,
            notes=[f"same cell untracked {facts['plain']:.1f} MB; recorded {recorded}; {facts['method']}"],
        )
        if facts["problems"] or not stored:
            result.invalid = "; ".join(facts["problems"]) or "nothing was captured"
        rows.append(result)
    return rows


def measure(quick: bool) -> list[Result]:
    return _fingerprint_rows(quick) + _import_rows() + _capture_rows(quick)


if __name__ == "__main__":
    worker_main({
        "fingerprint": _fingerprint_worker,
        "import": _import_worker,
        "capture": _capture_worker,
        "capture_mlflow": _capture_mlflow_worker,
    })
