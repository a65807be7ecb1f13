"""Server budgets: the REST API over a store of 100,000 runs (5 params, 5 metrics each).

1. ``GET /trackbook/runs`` first page of 50, sorted by a metric, with a text
   filter: <= 50 ms. Each request uses a filter not used before (no cached
   selection); the filters range from a few matches to a third of the store.
2. ``GET /trackbook/runs/{id}`` for random runs: <= 20 ms.
3. Polling while nothing changes: the server's CPU time per conditional
   request (``If-None-Match`` -> 304) as a share of one core at one poll per
   second: <= 1 %.
4. A run finished by another process is in the listing <= 2 s later, for a
   client polling every second (the sidebar's default interval or faster).
5. Memory: the server's RSS above a bare Jupyter server (the same server
   without trackbook), at its peak while serving all of the above: <= 150 MB.

Times are measured by the client over localhost (request sent to response
read), so they bound the server time from above. The servers are real
``jupyter server`` processes with a token; CPU and memory come from
``/proc`` (psutil). The store is built once through the store API and cached
under ``benchmarks/.cache/`` (delete it to rebuild).

Usage: ``python benchmarks/bench_server.py [--quick]`` (10,000 runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE_DIR, MB, Result, log, now, render_table  # noqa: E402

NAME = "server"
LIST_BUDGET_MS = 50.0
DETAIL_BUDGET_MS = 20.0
POLL_BUDGET_PCT = 1.0
VISIBLE_BUDGET_S = 2.0
RSS_BUDGET_MB = 150.0
POLL_INTERVAL_S = 1.0
PARAM_KEYS = ["lr", "depth", "n_estimators", "criterion", "subsample"]
METRIC_KEYS = ["accuracy", "precision", "recall", "f1", "loss"]
MODELS = ["xgb", "rf", "lr", "mlp"]
TEAMS = ["vision", "nlp", "tabular"]


# -- the store --------------------------------------------------------------------------


def build_store(path: Path, count: int) -> float:
    """Fill a store with ``count`` finished runs; returns seconds taken."""
    from trackbook.entities import HistoryEntry, Metric, Run, new_run_id
    from trackbook.store import open_store

    rng = random.Random(0)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    history = [HistoryEntry(k, f"import module_{k}\nx_{k} = load({k})", None) for k in range(20)]
    start = now()
    with open_store(str(path)) as store:
        batch = []
        for i in range(count):
            started = base + dt.timedelta(seconds=60 * i)
            metrics = {key: rng.random() for key in METRIC_KEYS}
            batch.append(Run(
                id=new_run_id(started.timestamp()),
                name=f"train-{rng.choice(MODELS)}-{i}",
                status=rng.choice(["finished"] * 8 + ["failed", "interrupted"]),
                notebook=f"experiments/project-{i % 20}/train.ipynb",
                started_at=started,
                ended_at=started + dt.timedelta(seconds=rng.random() * 300),
                code="lr = 0.05\ndepth = 6\nmodel = fit(X, y, lr=lr, depth=depth)\naccuracy = score(model)\n",
                history=history,
                params={
                    "lr": round(rng.random() / 10, 4), "depth": rng.randint(2, 12),
                    "n_estimators": rng.randint(10, 500), "criterion": rng.choice(["gini", "entropy"]),
                    "subsample": round(rng.random(), 2),
                },
                metrics=metrics,
                metric_history=[Metric("loss", metrics["loss"] * (5 - s), s, 0.0) for s in range(5)],
                tags={"team": rng.choice(TEAMS), "stage": rng.choice(["dev", "prod"])},
                user="alice",
                host="workstation",
            ))
            if len(batch) == 2000:
                store.finish_runs(batch)
                batch = []
        store.finish_runs(batch)
    return now() - start


def cached_store(count: int) -> tuple[Path, str]:
    """The store for ``count`` runs (built once per schema revision); and a note."""
    from trackbook.store.schema import HEAD_REVISION

    path = CACHE_DIR / f"server-store-{HEAD_REVISION}-{count}"
    if (path / "complete").exists():
        return path, "store from cache"
    shutil.rmtree(path, ignore_errors=True)
    log(f"building a store of {count:,} runs (cached for later runs)")
    seconds = build_store(path, count)
    (path / "complete").write_text(str(count))
    return path, f"store built in {seconds:.0f} s ({count / seconds:,.0f} runs/s, one transaction per 2,000)"


# -- servers ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jupyter_server(root: Path, store: Path | None) -> Iterator[tuple[str, dict[str, str], int]]:
    """A ``jupyter server`` process, with trackbook serving ``store`` (or without trackbook)."""
    import requests

    token, port = secrets.token_hex(16), _free_port()
    for name in ("config", "data", "runtime", "notebooks"):
        (root / name).mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"ServerApp": {"jpserver_extensions": {"trackbook": store is not None}}}
    if store is not None:
        config["TrackbookApp"] = {"store": str(store)}
    (root / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / "config"),
           "JUPYTER_DATA_DIR": str(root / "data"), "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
           "TRACKBOOK_SPOOL_DIR": str(root / "spool")}
    env.pop("TRACKBOOK_STORE", None)
    command = [sys.executable, "-m", "jupyter_server", f"--ServerApp.port={port}",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.open_browser=False",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root / 'notebooks'}",
               "--ServerApp.allow_root=True", "--ServerApp.log_level=" + os.environ.get("BENCH_SERVER_LOG", "WARN")]
    with open(root / "server.log", "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"token {token}"}
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if requests.get(f"{url}/api/status", headers=headers, timeout=2).ok:
                        break
                except requests.ConnectionError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "server.log").read_text()[-2000:])
                time.sleep(0.2)
            yield url, headers, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process (Linux ``/proc``)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _timed_get(session: Any, url: str, **kwargs: Any) -> tuple[float, Any]:
    start = now()
    response = session.get(url, **kwargs)
    return now() - start, response


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _spread(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"p90 {p90 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms, n={len(samples)}"


# -- measurements ---------------------------------------------------------------------------


def measure(quick: bool) -> list[Result]:
    import psutil
    import requests

    count = 10_000 if quick else 100_000
    store_path, store_note = cached_store(count)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        with jupyter_server(Path(tmp) / "bare", None) as (url, headers, pid):
            session = requests.Session()
            session.headers.update(headers)
            for _ in range(20):
                session.get(f"{url}/api/status").raise_for_status()
            bare_rss, bare_peak = _rss_mb(pid)
        with jupyter_server(Path(tmp) / "trackbook", store_path) as (url, headers, pid):
            session = requests.Session()
            session.headers.update(headers)
            results += _measure_listing(session, url, count, store_note)
            results += _measure_polling(session, url, pid, store_path, psutil)
            rss, peak = _rss_mb(pid)
    results.append(Result(
        "server RSS above a bare Jupyter server (peak)", peak - bare_peak, "MB",
        budget=RSS_BUDGET_MB,
        notes=[f"trackbook server now {rss:.0f} MB, peak {peak:.0f} MB; bare server {bare_rss:.0f} MB, "
               f"peak {bare_peak:.0f} MB ({count:,} runs; every request above served)"],
    ))
    return results


#: Text filters for the first-page budget: each used once (so no cached selection helps).
def _filters(count: int) -> list[str]:
    rng = random.Random(1)
    projects = [f"project-{i}/" for i in range(20)]  # 5 % of runs each
    names = [f"{m}-{rng.randrange(count // 10)}" for m in MODELS for _ in range(3)]  # a few runs
    return projects + names + TEAMS + ["train", "nothing like this"]


def _measure_listing(session: Any, url: str, count: int, store_note: str) -> list[Result]:
    start = now()
    session.get(f"{url}/trackbook/info").raise_for_status()
    first = _timed_get(session, f"{url}/trackbook/runs", params={"limit": 50})[0]
    cold_filter, response = _timed_get(
        session, f"{url}/trackbook/runs", params={"q": "warm-up", "sort": "-metrics.f1"}
    )
    response.raise_for_status()
    cold_total = now() - start
    samples, totals = [], []
    for q in _filters(count):
        elapsed, response = _timed_get(
            session, f"{url}/trackbook/runs",
            params={"q": q, "sort": "-metrics.accuracy", "limit": 50},
        )
        response.raise_for_status()
        samples.append(elapsed)
        totals.append(response.json()["total"])
    unfiltered = [_timed_get(session, f"{url}/trackbook/runs", params={"sort": "-metrics.recall"})[0]
                  for _ in range(20)]
    page = session.get(f"{url}/trackbook/runs", params={"q": "project-3/", "sort": "-metrics.f1"}).json()
    next_pages = []
    for _ in range(10):
        elapsed, response = _timed_get(session, f"{url}/trackbook/runs", params={
            "q": "project-3/", "sort": "-metrics.f1", "cursor": page["next_cursor"]})
        next_pages.append(elapsed)
        page = response.json()
    ids = [r["id"] for r in session.get(f"{url}/trackbook/runs", params={"limit": 500}).json()["runs"]]
    detail = []
    for run_id in random.Random(2).sample(ids, 100):
        elapsed, response = _timed_get(session, f"{url}/trackbook/runs/{run_id}")
        response.raise_for_status()
        detail.append(elapsed)
    return [
        Result("GET /runs first page, metric sort + text filter", _ms(samples), "ms",
               budget=LIST_BUDGET_MS,
               notes=[f"{count:,} runs; {len(samples)} distinct filters matching "
                      f"{min(totals):,}-{max(totals):,} runs; {_spread(samples)}", store_note]),
        Result("GET /runs first page, metric sort, no filter", _ms(unfiltered), "ms",
               notes=[_spread(unfiltered)]),
        Result("GET /runs next pages (cursor), filtered", _ms(next_pages), "ms",
               notes=[_spread(next_pages)]),
        Result("GET /runs/{id}", _ms(detail), "ms", budget=DETAIL_BUDGET_MS,
               notes=[f"100 random runs (20 history entries, 5 params, 5 metrics); {_spread(detail)}"]),
        Result("first requests after server start", cold_total * 1000, "ms",
               notes=[f"info (opens the store) then a listing {first * 1000:.0f} ms and the first "
                      f"filtered listing {cold_filter * 1000:.0f} ms (builds the filter snapshot)"]),
    ]


def _measure_polling(session: Any, url: str, pid: int, store_path: Path, psutil: Any) -> list[Result]:
    from trackbook.entities import Run, new_run_id
    from trackbook.store import open_store

    params = {"sort": "-started_at", "limit": 50}
    etag = session.get(f"{url}/trackbook/runs", params=params).headers["ETag"]
    server = psutil.Process(pid)
    polls = 300
    cpu_before = sum(server.cpu_times()[:2])
    latencies = []
    for _ in range(polls):
        elapsed, response = _timed_get(session, f"{url}/trackbook/runs", params=params,
                                       headers={"If-None-Match": etag})
        assert response.status_code == 304, response.status_code
        latencies.append(elapsed)
    cpu_per_poll = (sum(server.cpu_times()[:2]) - cpu_before) / polls
    idle_before = sum(server.cpu_times()[:2])
    time.sleep(5)
    idle_pct = (sum(server.cpu_times()[:2]) - idle_before) / 5 * 100

    # Another process finishes a run; a client polling every second looks for it.
    visible = []
    with open_store(str(store_path)) as store:
        for _ in range(3):
            run = Run(id=new_run_id(), name="just finished", status="finished")
            time.sleep(random.Random(len(visible)).random() * POLL_INTERVAL_S)
            store.finish_run(run)
            committed = now()
            while True:
                response = session.get(f"{url}/trackbook/runs", params=params,
                                       headers={"If-None-Match": etag})
                if response.status_code == 200:
                    etag = response.headers["ETag"]
                    if response.json()["runs"][0]["id"] == run.id:
                        visible.append(now() - committed)
                        break
                time.sleep(POLL_INTERVAL_S)
    return [
        Result("polling while nothing changes (CPU at 1 poll/s)", cpu_per_poll / POLL_INTERVAL_S * 100,
               "%", budget=POLL_BUDGET_PCT,
               notes=[f"{cpu_per_poll * 1000:.2f} ms of server CPU per 304; request "
                      f"{_ms(latencies):.1f} ms median; idle server {idle_pct:.2f} % CPU"]),
        Result("new run visible to a client polling every 1 s", max(visible), "s",
               budget=VISIBLE_BUDGET_S,
               notes=[f"worst of {len(visible)} runs finished at random moments by another process"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 runs instead of 100,000")
    args = parser.parse_args()
    results = measure(args.quick)
    print(render_table(results))
    return 0 if all(r.verdict in ("PASS", "info") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
