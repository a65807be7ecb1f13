"""Budget: recording a warm run with 5 params and 5 metrics adds <= 2 ms to the cell.

trackbook: a real IPython ``InteractiveShell`` with 20 prior history entries
and the extension loaded; after warm-up, tracked and plain runs of the same
cell alternate, and the figure is median(tracked) - median(plain). The
tracked run includes everything the magic does before the cell returns
(history, dependencies, params, metrics, seeds, the summary display). The
environment reference and the store transaction are written right after, by
the tracker's background thread (DESIGN, Decisions → Capture): the worker
waits for them outside the timed region (``trackbook.flush()``), so they
never land in the next sample, and reports how long after the cell the run
was in the store.

MLflow: ``start_run`` + ``log_params(5)`` + ``log_metrics(5)`` + ``end_run``
on a SQLite tracking store, after warm-up.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from common import (
    CELL_5P_5M,
    CELL_GAP_S,
    METRICS_5,
    PARAMS_5,
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

NAME = "record"
BUDGET_MS = 2.0


def _trackbook_worker(params: dict[str, Any]) -> dict[str, Any]:
    import trackbook

    shell = make_shell(prior_history=20)
    run_cell_s(shell, "%load_ext trackbook")
    tracked_cell = "%%track\n" + CELL_5P_5M
    behind: list[float] = []

    def tracked_sample() -> float:
        elapsed = run_cell_s(shell, tracked_cell, gap=0)
        start = now()
        trackbook.flush()
        behind.append(now() - start)
        time.sleep(CELL_GAP_S)
        return elapsed

    for _ in range(params["warmup"]):
        tracked_sample()
        run_cell_s(shell, CELL_5P_5M)
    history_before = len(shell.user_ns["In"])
    tracked, plain = [], []
    behind.clear()
    for _ in range(params["repeat"]):
        plain.append(run_cell_s(shell, CELL_5P_5M))
        tracked.append(tracked_sample())
    run = last_run()
    return {
        "tracked": tracked,
        "plain": plain,
        "behind": behind,
        "history": [history_before, len(shell.user_ns["In"])],
        "params": len(run.params),
        "metrics": len(run.metrics),
        "has_environment": run.environment_id is not None,
        "seeds": sorted(run.seeds),
        "problems": run_capture_problems(run),
    }


def _mlflow_worker(params: dict[str, Any]) -> dict[str, Any]:
    import mlflow

    mlflow.set_experiment("bench-record")

    def one() -> float:
        start = now()
        mlflow.start_run()
        mlflow.log_params(PARAMS_5)
        mlflow.log_metrics(METRICS_5)
        mlflow.end_run()
        return now() - start

    for _ in range(params["warmup"]):
        one()
    return {"samples": [one() for _ in range(params["repeat"])]}


def measure(quick: bool) -> list[Result]:
    sizes = {"warmup": 3, "repeat": 15} if quick else {"warmup": 10, "repeat": 60}
    with tempfile.TemporaryDirectory(prefix="tb-record-") as tmp:
        log("record: trackbook in an IPython shell")
        tb = run_worker(__file__, "trackbook", sizes, env=isolated_env(tmp))
    with tempfile.TemporaryDirectory(prefix="tb-record-mlflow-") as tmp:
        log("record: MLflow on SQLite")
        ml = run_worker(__file__, "mlflow", sizes, env=isolated_env(tmp))
    added = median_ms(tb["tracked"]) - median_ms(tb["plain"])
    result = Result(
        "record run 5 params + 5 metrics, warm (added)",
        added,
        "ms",
        peer=median_ms(ml["samples"]),
        peer_label="start_run+log_params(5)+log_metrics(5)+end_run, sqlite, median",
        budget=BUDGET_MS,
        notes=[
            (f"tracked cell median {median_ms(tb['tracked']):.2f} ms ({spread_ms(tb['tracked'])}), "
             f"plain {median_ms(tb['plain']) * 1000:.0f} us; "
             f"history {tb['history'][0]}->{tb['history'][1]} entries; "
             f"run had {tb['params']} params, {tb['metrics']} metrics, seeds {tb['seeds']}, "
             f"environment {'referenced' if tb['has_environment'] else 'MISSING'}"),
            (f"then in the store {median_ms(tb['behind']):.2f} ms after the cell returned "
             f"(background thread: environment reference + store transaction)"),
            f"MLflow {spread_ms(ml['samples'])}",
        ],
    )
    best = statistics.quantiles(tb["tracked"], n=10)[0] * 1000 - median_ms(tb["plain"])
    result.notes.append(f"trackbook p10 added {best:.2f} ms")
    if tb["problems"] or not tb["has_environment"] or tb["params"] != 5 or tb["metrics"] != 5:
        result.invalid = "the run missed facets: " + "; ".join(tb["problems"] or ["see counts"])
    return [result]


if __name__ == "__main__":
    worker_main({"trackbook": _trackbook_worker, "mlflow": _mlflow_worker})
