"""Budget: the audit report of a run with 10 replays renders in <= 1 s and stays under 2 MB.

trackbook: a store is filled through the store API with one run (params,
a stepped metric, a 640x480 matplotlib figure, a model, a 300-package
environment, a 40-input execution history) and 10 done replays of it, each
with the run its replayed cell recorded and a figure of its own (the worst
case for size: a reproduced replay's identical figure is not embedded
again). A fresh interpreter then times ``trackbook audit RUN -o FILE``'s
work: opening the store, building the document (with the store's full
integrity verification, as ``auto`` picks for a store this size), rendering
the HTML and writing it. The first report of a process (it imports Jinja2
and Pillow and compiles the template) is the budget figure; warm reports
are shown apart.

There is no peer tool that writes an audit report, so the table shows no
peer; the notes give the share of each budget used.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from common import Result, log, median_ms, now, run_worker, worker_main

NAME = "audit"
BUDGET_S = 1.0
BUDGET_BYTES = 2 * 1024 * 1024
REPLAYS = 10


def _figure(seed: int) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.scatter(rng.normal(size=500), rng.normal(size=500), s=5, c=rng.random(500))
    ax.plot(np.cumsum(rng.normal(size=200)) / 10)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out.getvalue()


def _populate(params: dict[str, Any]) -> dict[str, Any]:
    import datetime as dt

    from trackbook.entities import (
        Artifact,
        Difference,
        Environment,
        HistoryEntry,
        Metric,
        Replay,
        Run,
        new_run_id,
    )
    from trackbook.store import open_store

    store = open_store(params["path"])
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)

    def figure(seed: int) -> Artifact:
        ref = store.blobs.put_bytes(_figure(seed))
        return Artifact(ref.id, f"figure-{seed}.png", "figure", "image/png", ref.size)

    model = store.blobs.put_bytes(b"model bytes " * 50_000)
    env = Environment(id="e" * 64, python="3.12.1", platform="Linux-6.1-x86_64",
                      packages={f"package-{i}": f"1.{i}.0" for i in range(300)}, kernel="python3")
    code = "lr = 0.05\nfor epoch in range(50):\n    loss = train(lr)\n"
    original = Run(
        id=new_run_id(base.timestamp()), name="train", status="finished", user="alice",
        host="box", notebook="train.ipynb", cell_id="c40", execution_count=40, started_at=base,
        ended_at=base + dt.timedelta(seconds=30), duration_s=30.0, code=code,
        history=[HistoryEntry(i, f"x_{i} = load_part({i})\n" * 3, f"c{i}") for i in range(1, 40)]
        + [HistoryEntry(40, code, "c40")],
        params={"lr": 0.05, "epochs": 50}, metrics={"loss": 0.1},
        metric_history=[Metric("loss", 1.0 / (s + 1), s, base.timestamp() + s) for s in range(50)],
        seeds={"run": 1234}, environment_id=env.id, environment=env,
        artifacts=[figure(0), Artifact(model.id, "model", "model", "application/octet-stream",
                                       model.size)],
    )
    store.finish_run(original)
    for index in range(params["replays"]):
        requested = base + dt.timedelta(hours=index + 1)
        replayed = Run(
            id=new_run_id(requested.timestamp() + 1), name="train", status="finished",
            started_at=requested, ended_at=requested + dt.timedelta(seconds=30), duration_s=30.0,
            code=code, metrics={"loss": 0.1 + index / 1000}, replay_of=original.id,
            artifacts=[figure(index + 1)],
        )
        store.finish_run(replayed)
        store.create_replay(Replay(
            id=new_run_id(requested.timestamp()), run_id=original.id, status="done",
            requested_at=requested, ended_at=requested + dt.timedelta(seconds=40),
            replay_run_id=replayed.id, verdict="differs",
            differences=[Difference("metric", "loss", 0.1, 0.1 + index / 1000,
                                    "unseeded_randomness", "loss changed between runs")],
        ))
    store.close()
    return {"run_id": original.id}


def _report(params: dict[str, Any]) -> dict[str, Any]:
    from trackbook.report.api import encode, write_atomic
    from trackbook.report.content import build_document
    from trackbook.store import open_store

    out = Path(params["out"])
    samples = []
    details = {}
    for _ in range(params["repeat"] + 1):
        start = now()
        with open_store(params["path"], create=False) as store:
            document = build_document(store, params["run_id"])
        built = now()
        data = encode(document, "html")
        rendered = now()
        write_atomic(out, data)
        samples.append(now() - start)
        if not details:
            details = {"build": built - start, "render": rendered - built,
                       "integrity": document["integrity"]["mode"],
                       "integrity_ok": document["integrity"]["ok"],
                       "replays": len(document["replays"])}
    return {"first": samples[0], "warm": samples[1:], "bytes": out.stat().st_size, **details}


def measure(quick: bool) -> list[Result]:
    repeat = 3 if quick else 10
    with tempfile.TemporaryDirectory(prefix="tb-audit-") as tmp:
        path = str(Path(tmp) / "store")
        log(f"audit: a run with {REPLAYS} replays, each with its own figure")
        filled = run_worker(__file__, "populate", {"path": path, "replays": REPLAYS})
        log("audit: build and render the report in a fresh interpreter")
        tb = run_worker(__file__, "report", {"path": path, "run_id": filled["run_id"],
                                             "repeat": repeat, "out": str(Path(tmp) / "r.html")})
    first_ms = tb["first"] * 1000
    size_kb = tb["bytes"] / 1024
    problems = []
    if tb["replays"] != REPLAYS:
        problems.append(f"the report shows {tb['replays']} replays, not {REPLAYS}")
    if not tb["integrity_ok"]:
        problems.append("the store failed its integrity check")
    timing = Result(
        f"audit report, run with {REPLAYS} replays (first in process)", first_ms, "ms",
        budget=BUDGET_S * 1000,
        notes=[f"no peer tool; {first_ms / (BUDGET_S * 1000):.0%} of the budget "
               f"({BUDGET_S * 1000 / first_ms:.1f}x headroom); document {tb['build'] * 1000:.0f} ms "
               f"(integrity: {tb['integrity']} verification), HTML {tb['render'] * 1000:.0f} ms"],
        invalid="; ".join(problems) or None,
    )
    warm = Result(
        f"audit report, run with {REPLAYS} replays (warm)", median_ms(tb["warm"]), "ms",
        budget=BUDGET_S * 1000, notes=[f"median of {len(tb['warm'])}"],
    )
    size = Result(
        f"audit report size, {REPLAYS} replays with figures", size_kb, "KB",
        budget=BUDGET_BYTES / 1024,
        notes=[f"no peer tool; {tb['bytes'] / BUDGET_BYTES:.0%} of the budget "
               f"({BUDGET_BYTES / tb['bytes']:.1f}x headroom); 11 figure thumbnails embedded"],
        invalid="; ".join(problems) or None,
    )
    return [timing, warm, size]


if __name__ == "__main__":
    worker_main({"populate": _populate, "report": _report})
