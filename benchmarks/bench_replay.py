"""Replay budgets: overhead of one replay, batch speed-up, and server memory over many replays.

1. *Overhead.* A replay's time beyond the replayed cells' own execution is at
   most a kernel start-up + 1 s. One fresh interpreter measures, taking
   turns so that a change in the machine's load hits both sides: kernel
   start-up alone (``jupyter_client``: start the ``python3`` kernel, then
   ``wait_for_ready``), the cells' own execution (the same cells without
   ``%load_ext trackbook`` and ``%%track``, executed in that fresh kernel,
   timed from the client), and ``replay_run`` of the recorded run, whole
   (check, build, worker process, papermill, kernel, the tracked run,
   comparison, stored notebook and verdict). The budget figure is
   median(replay) - median(cells) - median(kernel start-up), against 1 s;
   the note gives the same in CPU time of every process, which the load
   of other work on the machine does not inflate.
2. *Batch.* 20 short runs (recorded in one kernel session, as
   ``tests/test_replay_batch.py`` does) replayed with ``replay_many`` (the
   code behind ``trackbook replay --jobs N``): ``jobs=2`` at least 1.7x
   faster than ``jobs=1``. Each batch runs in a fresh interpreter, so each
   pays for starting its worker processes, as the CLI does. Five
   alternating rounds of both (one batch varies by 5-10 % here); the
   figure is the ratio of the totals, the note gives each round. The
   peer column is this machine's own ceiling for the workload: two
   independent ``jobs=1`` batches run side by side (two processes, each
   on its own copy of the store, sharing nothing), as 2 x jobs=1 / the
   time both take. A replay is a chain of processes (batch, worker,
   kernel) handing messages to each other, at moments idle and at moments
   busy on two threads at once, so two chains on two cores do not run
   twice as fast as one; a ``jobs=2`` figure close to this one means the
   batch loses nothing to its own coordination.
3. *Memory.* A real ``jupyter server`` with the trackbook extension runs
   replays through ``POST /trackbook/runs/{id}/replays`` (two at a time, its
   default), and its RSS after 25 finished replays is compared with its RSS
   after 5: the growth must stay at most 5 MB (0.25 MB a replay). A server
   that kept a kernel client, papermill or a notebook per replay would grow
   by megabytes each time; replays run in child processes that exit.

The audit report's budget is measured by ``bench_audit.py``. No other tool
replays a notebook run, so there is no peer column; the notes give the
share of each budget used.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import Result, isolated_env, log, now, run_worker, worker_main

NAME = "replay"
OVERHEAD_BUDGET_S = 1.0
SPEEDUP_BUDGET = 1.7
GROWTH_BUDGET_MB = 5.0
BATCH_RUNS = 20
#: Alternating rounds of jobs=1 and jobs=2 batches (and the two side by side):
#: one round's speed-up varies by +-5 % here, so the figure needs several.
BATCH_ROUNDS = 5

#: The run whose replay is timed: an import cell, then a short tracked cell.
IMPORTS = "import numpy as np"
BODY = (
    "rng = np.random.default_rng()\n"
    "sample = rng.normal(size=100_000)\n"
    "mean = float(sample.mean())\n"
    "spread = float(sample.std())\n"
)


# -- workers ----------------------------------------------------------------------------------


def _start_kernel(cwd: str) -> tuple[Any, Any, float]:
    """A fresh python3 kernel, ready; and the seconds that took."""
    from jupyter_client.manager import KernelManager

    start = now()
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=cwd)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    return manager, client, now() - start


def _execute(client: Any, code: str) -> float:
    start = now()
    reply = client.execute_interactive(code, timeout=300, output_hook=lambda msg: None)
    elapsed = now() - start
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell failed: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    return elapsed


def _stop_kernel(manager: Any, client: Any, graceful: bool = False) -> None:
    """Stop the kernel; ``graceful`` (as JupyterLab does) lets it record its last run first."""
    client.stop_channels()
    manager.shutdown_kernel(now=not graceful)


def _record_worker(params: dict[str, Any]) -> dict[str, Any]:
    """Record the timed run (its own kernel session) and the batch's short runs (another)."""
    from trackbook.replaying.engine import replay_run
    from trackbook.store import open_store

    project = params["project"]
    os.environ["JPY_SESSION_NAME"] = str(Path(project) / "bench.ipynb")  # the kernels inherit it
    manager, client, _ = _start_kernel(project)
    try:
        for code in ("%load_ext trackbook", IMPORTS, "%%track short\n" + BODY):
            _execute(client, code)
    finally:
        _stop_kernel(manager, client, graceful=True)
    manager, client, _ = _start_kernel(project)
    try:
        _execute(client, "%load_ext trackbook")
        for index in range(params["batch"]):
            _execute(client, f"%%track b{index:02d}\nimport random\nvalue = {index} * 1.5 + random.random()")
    finally:
        _stop_kernel(manager, client, graceful=True)
    with open_store(params["store"], create=False) as store:
        ids = [summary.id for summary in reversed(store.list_runs())]
        if len(ids) != params["batch"] + 1:
            raise RuntimeError(f"recorded {len(ids)} runs, expected {params['batch'] + 1}")
        # One untimed replay fills the bytecode cache of the worker process and
        # the page cache, so no timed replay pays for a first import from disk.
        warm = replay_run(store, ids[0])
        short = store.get_run(ids[0])
    return {"short": ids[0], "batch": ids[1:], "short_duration": short.duration_s, "warm": warm.verdict}


def _cpu_s() -> float:
    """CPU seconds of this process and of every child it reaped (kernels, replay workers)."""
    import resource
    import threading

    # A single replay closes its worker in the background once it has the
    # outcome: wait until it is reaped, so its CPU time is counted.
    for thread in threading.enumerate():
        if thread.name == "trackbook-replay-worker-close":
            thread.join()

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _overhead_worker(params: dict[str, Any]) -> dict[str, Any]:
    """Alternately: a kernel start-up plus the cells without trackbook, and ``replay_run`` of the short run.

    Alternating keeps a change in the machine's load from landing on one
    side of the subtraction only.
    """
    from trackbook.replaying.engine import replay_run
    from trackbook.store import open_store

    out: dict[str, list[Any]] = {"startup": [], "cells": [], "plain_cpu": [], "totals": [], "replay_cpu": [],
                                 "phases": [], "verdicts": []}
    with open_store(params["store"], create=False) as store:
        for _ in range(params["repeat"]):
            cpu = _cpu_s()
            manager, client, started = _start_kernel(params["project"])
            try:
                out["cells"].append(_execute(client, IMPORTS) + _execute(client, BODY))
            finally:
                _stop_kernel(manager, client)
            out["startup"].append(started)
            out["plain_cpu"].append(_cpu_s() - cpu)

            marks: list[tuple[float, str]] = []
            cpu, start = _cpu_s(), now()
            replay = replay_run(store, params["run_id"], progress=lambda message: marks.append((now(), message)))
            end = now()
            out["totals"].append(end - start)
            out["replay_cpu"].append(_cpu_s() - cpu)
            out["verdicts"].append(replay.verdict)
            out["phases"].append(_phases(start, marks, end))
    return out


def _phases(start: float, marks: list[tuple[float, str]], end: float) -> dict[str, float]:
    """Seconds per step, from the progress messages the engine sends."""
    def first(prefix: str) -> float:
        return next((at for at, message in marks if message.startswith(prefix)), end)

    kernel, cell, compare = first("starting a"), first("executing cell"), first("comparing")
    return {"prepare": kernel - start, "worker + kernel start": cell - kernel,
            "cells with %load_ext and tracking + kernel stop": compare - cell, "compare + store": end - compare}


def _batch_worker(params: dict[str, Any]) -> dict[str, Any]:
    from trackbook.replaying.batch import ReplayOptions, replay_many

    start = now()
    results = replay_many(params["store"], params["ids"], ReplayOptions(), jobs=params["jobs"], progress=False)
    elapsed = now() - start
    return {"seconds": elapsed, "cpu": _cpu_s(), "load": os.getloadavg()[0],
            "verdicts": [_verdict(r) for r in results]}


def _verdict(result: Any) -> str:
    """The verdict, with the reason when it is not ``reproduced`` (a benchmark of failures measures nothing)."""
    replay = result.replay
    if replay is None:
        return f"error {result.error}"
    if replay.verdict == "reproduced":
        return replay.verdict
    why = replay.failure or [f"{d.facet} {d.key}: {d.cause}" for d in replay.differences[:3]]
    return f"{replay.verdict} ({why}; {replay.message})"


# -- the server's memory --------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS")


def _replay_over_rest(session: Any, url: str, run_id: str, count: int) -> list[str]:
    """Start ``count`` replays of ``run_id`` at once (the server queues them); wait for every verdict."""
    started = []
    for _ in range(count):
        response = session.post(f"{url}/trackbook/runs/{run_id}/replays", json={}, timeout=30)
        if response.status_code != 202:
            raise RuntimeError(f"POST replays answered {response.status_code}: {response.text[:300]}")
        started.append(response.json()["replay_id"])
    verdicts: dict[str, str] = {}
    deadline = time.monotonic() + 120 * count
    while len(verdicts) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"replays not done in time: {sorted(set(started) - set(verdicts))}")
        time.sleep(0.5)
        for replay_id in started:
            if replay_id not in verdicts:
                body = session.get(f"{url}/trackbook/replays/{replay_id}", timeout=30).json()
                if body["status"] == "done":
                    verdicts[replay_id] = body["verdict"] if body["verdict"] == "reproduced" else (
                        f"{body['verdict']} ({body.get('failure')}; {body.get('message')})")
    return [verdicts[replay_id] for replay_id in started]


def _server_memory(tmp: Path, store: Path, run_id: str, waves: list[int]) -> dict[str, Any]:
    """RSS of a real jupyter server after each wave of REST replays (cumulative counts)."""
    import requests

    from bench_server import jupyter_server

    rss: dict[int, float] = {}
    verdicts: list[str] = []
    with jupyter_server(tmp / "server", store) as (url, headers, pid):
        session = requests.Session()
        session.headers.update(headers)
        if session.get(f"{url}/trackbook/info", timeout=30).status_code != 200:
            raise RuntimeError("the trackbook extension is not serving")
        rss[0] = _rss_mb(pid)
        done = 0
        for total in waves:
            verdicts += _replay_over_rest(session, url, run_id, total - done)
            done = total
            time.sleep(1.0)  # let the last runner's exit be reaped and the poll requests settle
            rss[done] = _rss_mb(pid)
    return {"rss": rss, "verdicts": verdicts}


# -- measurements ---------------------------------------------------------------------------------


def _s(samples: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in samples) + " s"


def measure(quick: bool) -> list[Result]:
    repeat = 2 if quick else 5
    runs = 6 if quick else BATCH_RUNS
    waves = [5, 10] if quick else [5, 25]
    rounds = 2 if quick else BATCH_ROUNDS
    with tempfile.TemporaryDirectory(prefix="tb-replay-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        store = project / ".trackbook"
        env = {**isolated_env(tmp), "TRACKBOOK_STORE": str(store), "TRACKBOOK_SPOOL_DIR": str(Path(tmp) / "spool")}
        log(f"replay: recording 1 + {runs} runs in real kernels")
        rec = run_worker(__file__, "record", {"project": str(project), "store": str(store), "batch": runs},
                         env=env, cwd=project)
        log(f"replay: {repeat} times a kernel start-up + the cells without trackbook, then a replay")
        one = run_worker(__file__, "overhead", {"project": str(project), "store": str(store),
                                                "run_id": rec["short"], "repeat": repeat}, env=env, cwd=project)
        twin = Path(tmp) / "twin" / ".trackbook"
        shutil.copytree(store, twin)
        # Alternating rounds, so a change in the machine's load hits every side;
        # on a 2-core machine one batch varies by about 5 %.
        batches: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
        side_by_side: list[float] = []
        for round_ in range(rounds):
            for jobs in (1, 2):
                log(f"replay: {runs} runs with jobs={jobs} (round {round_ + 1} of {rounds})")
                batches[jobs].append(run_worker(
                    __file__, "batch", {"store": str(store), "ids": rec["batch"], "jobs": jobs},
                    env=env, cwd=project))
            log(f"replay: two jobs=1 batches of {runs} runs side by side (round {round_ + 1} of {rounds})")
            side_by_side.append(_side_by_side(env, project, [store, twin], rec["batch"]))
        log(f"replay: a jupyter server running {waves[-1]} replays over REST")
        memory = _server_memory(Path(tmp), store, rec["short"], waves)
    return [*_overhead_rows(rec, one), _batch_row(runs, batches, side_by_side), _memory_row(waves, memory)]


def _side_by_side(env: dict[str, str], project: Path, stores: list[Path], ids: list[str]) -> float:
    """Seconds until two independent jobs=1 batches, started together, have both ended."""
    def one(store: Path) -> dict[str, Any]:
        return run_worker(__file__, "batch", {"store": str(store), "ids": ids, "jobs": 1},
                          env={**env, "TRACKBOOK_STORE": str(store)}, cwd=project)

    with ThreadPoolExecutor(len(stores)) as pool:
        results = list(pool.map(one, stores))
    wrong = sorted({v for result in results for v in result["verdicts"] if v != "reproduced"})
    if wrong:
        raise RuntimeError(f"side-by-side replays did not reproduce: {wrong}")
    return max(result["seconds"] for result in results)


def _overhead_rows(rec: dict[str, Any], one: dict[str, Any]) -> list[Result]:
    med = {key: statistics.median(one[key]) for key in ("startup", "cells", "totals", "plain_cpu", "replay_cpu")}
    beyond = med["totals"] - med["cells"] - med["startup"]
    paired = [t - c - k for t, c, k in zip(one["totals"], one["cells"], one["startup"])]
    phases = {key: statistics.median(p[key] for p in one["phases"]) for key in one["phases"][0]}
    wrong = [v for v in one["verdicts"] + [rec["warm"]] if v != "reproduced"]
    return [
        Result("kernel start-up (jupyter_client, python3)", med["startup"] * 1000, "ms",
               notes=[f"start + wait_for_ready, median of {_s(one['startup'])}"]),
        Result("replayed cells' own execution, no trackbook", med["cells"] * 1000, "ms",
               notes=[f"import numpy + the tracked cell's body in that fresh kernel, median of {_s(one['cells'])}; "
                      f"the original tracked cell recorded {rec['short_duration']:.3f} s"]),
        Result("replay of a short run, whole (replay_run)", med["totals"] * 1000, "ms",
               notes=[f"median of {_s(one['totals'])}, each right after a kernel start-up + cells sample; steps: "
                      + ", ".join(f"{key} {value:.2f} s" for key, value in phases.items())]),
        Result("replay overhead beyond cells and kernel start-up", beyond * 1000, "ms",
               budget=OVERHEAD_BUDGET_S * 1000,
               notes=[f"no peer tool; {beyond / OVERHEAD_BUDGET_S:.0%} of the budget; replay - cells - kernel "
                      f"start-up = {med['totals']:.2f} - {med['cells']:.2f} - {med['startup']:.2f} s; "
                      f"per pair {_s(paired)}; in CPU time (every process): replay {med['replay_cpu']:.2f} s, "
                      f"kernel start-up + cells {med['plain_cpu']:.2f} s, overhead "
                      f"{med['replay_cpu'] - med['plain_cpu']:.2f} s"],
               invalid=f"replays did not reproduce: {wrong}" if wrong else None),
    ]


def _batch_row(runs: int, batches: dict[int, list[dict[str, Any]]], side_by_side: list[float]) -> Result:
    """Speed-up of the total time over every round (the note lists each round)."""
    seconds = {jobs: [b["seconds"] for b in rounds] for jobs, rounds in batches.items()}
    cpu = {jobs: sum(b["cpu"] for b in rounds) / (len(rounds) * runs) for jobs, rounds in batches.items()}
    total = {jobs: sum(values) for jobs, values in seconds.items()}
    speedup = total[1] / total[2]
    ceiling = 2 * total[1] / sum(side_by_side)
    wrong = sorted({v for rounds in batches.values() for b in rounds for v in b["verdicts"] if v != "reproduced"})
    return Result(
        f"batch replay of {runs} short runs, jobs=2 vs jobs=1 (speed-up)", speedup, "x",
        peer=ceiling, peer_label="two jobs=1 side by side", budget=SPEEDUP_BUDGET, kind="min",
        notes=[f"no peer tool; the peer column is this machine's ceiling: two independent jobs=1 batches at "
               f"once took {', '.join(f'{v:.1f}' for v in side_by_side)} s, so 2 x jobs=1 / that = "
               f"{ceiling:.2f}x, and jobs=2 reaches {speedup / ceiling:.0%} of it; "
               f"{speedup / SPEEDUP_BUDGET:.0%} of the budget; total of {len(seconds[1])} "
               f"alternating rounds; jobs=1 {', '.join(f'{v:.1f}' for v in seconds[1])} s "
               f"({total[1] / (len(seconds[1]) * runs):.2f} s a replay), jobs=2 "
               f"{', '.join(f'{v:.1f}' for v in seconds[2])} s (per round "
               f"{', '.join(f'{a / b:.2f}x' for a, b in zip(seconds[1], seconds[2]))}); CPU time of all "
               f"processes {cpu[1]:.2f} s a replay with jobs=1, {cpu[2]:.2f} s with jobs=2; 1-minute load "
               f"average at the end {batches[1][-1]['load']:.2f} and {batches[2][-1]['load']:.2f} on "
               f"{os.cpu_count()} CPUs"],
        invalid=f"replays did not reproduce: {wrong}" if wrong else None,
    )


def _memory_row(waves: list[int], memory: dict[str, Any]) -> Result:
    rss = {int(key): value for key, value in memory["rss"].items()}
    first, last = waves[0], waves[-1]
    growth = rss[last] - rss[first]
    wrong = sorted(set(memory["verdicts"]) - {"reproduced"})
    return Result(
        f"jupyter server RSS growth, {first} -> {last} REST replays", growth, "MB",
        budget=GROWTH_BUDGET_MB,
        notes=[f"no peer tool; RSS {', '.join(f'{rss[n]:.1f} MB after {n}' for n in sorted(rss))}; "
               f"POST /trackbook/runs/{{id}}/replays, 2 runners at a time (the server's default); "
               f"{(growth / (last - first)) * 1024:.0f} KB a replay"],
        invalid=f"replays did not reproduce: {wrong}" if wrong else None,
    )


if __name__ == "__main__":
    worker_main({
        "record": _record_worker,
        "overhead": _overhead_worker,
        "batch": _batch_worker,
    })
