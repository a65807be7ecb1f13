"""Budget: the first tracked cell in a fresh kernel adds <= 0.3 s.

trackbook, IPython shell: a fresh interpreter creates an ``InteractiveShell``
(not timed, a kernel has one before the user types), runs the plain cell
once, then times ``%load_ext trackbook`` plus the first ``%%track`` cell. The
figure is that time minus the plain cell's time. The store already exists
(a notebook reopened in a project), as does MLflow's database. The run's
final record (store open, environment, transaction) is written by the
tracker's background thread after the cell returned; the worker then waits
for it (``trackbook.flush()``) and reports when the run was in the store.

trackbook, ipykernel: the same through a real kernel started with
jupyter_client, timed from the client (execute request to idle).

MLflow: a fresh interpreter times ``import mlflow``, ``set_tracking_uri``
(SQLite), ``start_run``, ``log_params(5)``, ``log_metrics(5)``, ``end_run``; in
the kernel variant the same code runs as a cell after the plain one.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from typing import Any

from common import (
    CELL_5P_5M,
    METRICS_5,
    PARAMS_5,
    Result,
    isolated_env,
    last_run,
    log,
    make_shell,
    now,
    run_capture_problems,
    run_cell_s,
    run_worker,
    worker_main,
)

NAME = "startup"
BUDGET_S = 0.3

MLFLOW_CELL = (
    "import mlflow\n"
    "mlflow.set_tracking_uri(__import__('os').environ['MLFLOW_TRACKING_URI'])\n"
    "mlflow.start_run()\n"
    f"mlflow.log_params({PARAMS_5!r})\n"
    f"mlflow.log_metrics({METRICS_5!r})\n"
    "mlflow.end_run()\n"
)


def _prepare_worker(params: dict[str, Any]) -> dict[str, Any]:
    """Create both stores once, so the timed runs open existing ones."""
    import mlflow

    from trackbook.store import open_store

    open_store().close()
    mlflow.start_run()
    mlflow.end_run()
    return {}


def _shell_worker(params: dict[str, Any]) -> dict[str, Any]:
    shell = make_shell(prior_history=params["history"])
    plain = run_cell_s(shell, CELL_5P_5M)
    # No idle gap: the clock runs from before %load_ext to the end of the first run.
    start = now()
    load = run_cell_s(shell, "%load_ext trackbook", gap=0)
    track = run_cell_s(shell, "%%track\n" + CELL_5P_5M, gap=0)
    first = now() - start
    import trackbook

    trackbook.flush()
    landed = now() - start
    run = last_run()
    return {
        "landed": landed,
        "plain": plain,
        "first": first,
        "load": load,
        "track": track,
        "problems": run_capture_problems(run),
        "heavy": sorted(m for m in ("numpy", "pandas", "sqlalchemy", "pyarrow") if m in sys.modules),
    }


def _mlflow_worker(params: dict[str, Any]) -> dict[str, Any]:
    start = now()
    exec(compile(MLFLOW_CELL, "<mlflow-cell>", "exec"), {})  # noqa: S102  (the kernel variant's cell)
    return {"first": now() - start}


def _kernel_worker(params: dict[str, Any]) -> dict[str, Any]:
    """Both first cells through real ipykernels, timed from the client."""
    from jupyter_client.manager import start_new_kernel

    def execute(client: Any, code: str) -> float:
        start = now()
        reply = client.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
        elapsed = now() - start
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel cell failed: {reply['content']}")
        return elapsed

    out: dict[str, list[float]] = {"tb_first": [], "tb_plain": [], "ml_first": [], "ml_plain": []}
    for _ in range(params["repeat"]):
        for who in ("tb", "ml"):
            manager, client = start_new_kernel(kernel_name="python3", startup_timeout=120)
            try:
                execute(client, "\n".join(f"setup_{i} = {i}" for i in range(params["history"])))
                out[f"{who}_plain"].append(execute(client, CELL_5P_5M))
                if who == "tb":
                    out["tb_first"].append(
                        execute(client, "%load_ext trackbook") + execute(client, "%%track\n" + CELL_5P_5M)
                    )
                else:
                    out["ml_first"].append(execute(client, MLFLOW_CELL))
            finally:
                client.stop_channels()
                manager.shutdown_kernel(now=True)
    return out


def measure(quick: bool) -> list[Result]:
    repeat = 2 if quick else 5
    history = 20
    with tempfile.TemporaryDirectory(prefix="tb-startup-") as tmp:
        env = isolated_env(tmp)
        run_worker(__file__, "prepare", env=env, cwd=tmp)
        log(f"startup: {repeat} fresh interpreters each")
        tb = [run_worker(__file__, "shell", {"history": history}, env=env, cwd=tmp) for _ in range(repeat)]
        ml = [run_worker(__file__, "mlflow", env=env, cwd=tmp)["first"] for _ in range(repeat)]
        log("startup: real ipykernels")
        try:
            kernel: dict[str, Any] | None = run_worker(
                __file__, "kernel", {"repeat": max(1, repeat - 2), "history": history}, env=env, cwd=tmp
            )
        except Exception as exc:  # noqa: BLE001  (jupyter_client is a nicety here, not the budget)
            log(f"startup: kernel variant skipped: {exc}")
            kernel = None

    added = [r["first"] - r["plain"] for r in tb]
    shell_row = Result(
        "first tracked cell, fresh IPython shell (added)",
        statistics.median(added) * 1000,
        "ms",
        peer=statistics.median(ml) * 1000,
        peer_label="fresh python: import mlflow + sqlite URI + first run with 5+5, median",
        budget=BUDGET_S * 1000,
        notes=[
            (f"median of {repeat} fresh interpreters, each %load_ext + first %%track minus the plain "
             f"cell; samples {', '.join(f'{a * 1000:.0f}' for a in added)} ms (of which %load_ext "
             f"{statistics.median(r['load'] for r in tb) * 1000:.0f} ms, plain cell "
             f"{statistics.median(r['plain'] for r in tb) * 1000:.1f} ms); existing stores; "
             f"run in the store {statistics.median(r['landed'] for r in tb) * 1000:.0f} ms after "
             f"%load_ext started (written behind the cell); "
             f"modules loaded afterwards: {', '.join(tb[-1]['heavy']) or '-'}")
        ],
    )
    if tb[-1]["problems"]:
        shell_row.invalid = "; ".join(tb[-1]["problems"])
    rows = [shell_row]
    if kernel is not None:
        tb_added = [f - p for f, p in zip(kernel["tb_first"], kernel["tb_plain"])]
        ml_added = [f - p for f, p in zip(kernel["ml_first"], kernel["ml_plain"])]
        rows.append(Result(
            "first tracked cell, real ipykernel (added)",
            statistics.median(tb_added) * 1000,
            "ms",
            peer=statistics.median(ml_added) * 1000,
            peer_label="the MLflow cell as the first cell of a fresh ipykernel, minus the plain cell",
            budget=BUDGET_S * 1000,
            notes=[(f"client-side wall time, execute request to reply, median of {len(tb_added)} kernels; "
                    f"samples {', '.join(f'{a * 1000:.0f}' for a in tb_added)} ms")],
        ))
    return rows


if __name__ == "__main__":
    worker_main({
        "prepare": _prepare_worker,
        "shell": _shell_worker,
        "mlflow": _mlflow_worker,
        "kernel": _kernel_worker,
    })

