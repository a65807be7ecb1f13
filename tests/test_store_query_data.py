"""Synthetic runs for listing tests, and the listing order written out plainly in Python.

The store orders with SQL over indexes; :func:`expected_order` orders the
same runs with nothing but Python sorts, from the entities that went in, so
a page walk can be checked against an independent statement of the rules
(docs/design.md, "Run listings").
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable
from typing import Any

from trackbook.entities import Artifact, Metric, Run, RunWarning, new_run_id
from trackbook.store import Store
from trackbook.store.values import dumps, param_number

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
NOTEBOOKS = ["exp/alpha.ipynb", "exp/beta.ipynb", "Deep/Gamma.ipynb", None]
TEAMS = ["vision", "nlp", "Tabular"]
STATUSES = ["finished", "finished", "finished", "failed", "interrupted", "running"]
SORTS = [
    "-started_at",
    "started_at",
    "name",
    "-name",
    "duration_s",
    "-duration_s",
    "metrics.acc",
    "-metrics.acc",
    "metrics.loss",
    "-metrics.rare",
    "params.lr",
    "-params.lr",
    "params.mixed",
    "-params.mixed",
    "metrics.absent",
]


def make_runs(count: int, seed: int = 7) -> list[Run]:
    """``count`` finished-looking runs with every listing-relevant variation.

    Names (some missing, some sharing), notebooks (one missing), statuses
    (running ones without duration), tags, metrics with several steps, NaN and
    infinite values, a rare metric, numeric / text / mixed / missing
    parameters, and equal sort values so the id tie-break matters.
    """
    rng = random.Random(seed)
    runs = []
    for i in range(count):
        started = T0 + dt.timedelta(seconds=37 * i + rng.randint(0, 30))
        status = STATUSES[i % len(STATUSES)]
        acc = round(rng.random(), 2)  # two decimals: many ties
        metrics: dict[str, float] = {"acc": acc}
        history = [Metric("loss", 1.0 / (step + 1) + i / 1e6, step, 0.0) for step in range(3)]
        if i % 17 == 0:
            metrics["acc"] = math.nan
        if i % 29 == 0:
            metrics["acc"] = math.inf if i % 2 else -math.inf
        if i % 50 == 0:
            metrics["rare"] = rng.random()
        params: dict[str, Any] = {"lr": round(rng.choice([0.1, 0.01, 2, 10, 1e-3]), 4)}
        params["mixed"] = rng.choice([3, 20, "adam", "sgd", True, None, [1, 2], 2.5])
        if i % 11 == 0:
            del params["lr"]
        tags = {"team": TEAMS[i % 3], **({"stage": "prod"} if i % 5 == 0 else {})}
        if status == "running":  # facets are written when a run finishes
            metrics, history, params, tags = {}, [], {}, {}
        run = Run(
            id=new_run_id(started.timestamp()),
            name=None if i % 9 == 0 else f"train-{rng.choice(['XGB', 'rf', 'mlp'])}-{i % 40}",
            status=status,  # type: ignore[arg-type]
            notebook=NOTEBOOKS[i % len(NOTEBOOKS)],
            started_at=started,
            ended_at=None if status == "running" else started + dt.timedelta(seconds=i % 13),
            duration_s=None if status == "running" else float(i % 13),
            code=f"acc = {acc}",
            params=params,
            metrics=metrics,
            metric_history=history,
            tags=tags,
            warnings=[RunWarning("hidden_state", "x")] if i % 7 == 0 else [],
        )
        runs.append(run)
    return runs


def add_runs(store: Store, runs: Iterable[Run]) -> None:
    """Write ``runs`` (running ones through ``create_run``, as a kernel would)."""
    runs = list(runs)
    store.finish_runs([r for r in runs if r.status != "running"])
    for run in runs:
        if run.status == "running":
            store.create_run(run)


def with_model(store: Store, run: Run, name: str, payload: bytes) -> Run:
    """``run`` with a model artifact ``name`` whose bytes are stored."""
    ref = store.blobs.put_bytes(payload)
    run.artifacts = [
        *run.artifacts,
        Artifact(ref.id, name, "model", "application/octet-stream", ref.size),
    ]
    return run


# -- the rules, in plain Python ---------------------------------------------------------


def latest_metrics(run: Run) -> dict[str, float]:
    """The value per key at the highest step (what the store lists)."""
    series = {(m.key, m.step): m.value for m in run.metric_history}
    keys = {k for k, _ in series}
    out = {k: v for k, v in run.metrics.items() if k not in keys}
    for key in keys:
        out[key] = series[(key, max(step for k, step in series if k == key))]
    return out


def matches(
    run: Run,
    q: str | None = None,
    statuses: Iterable[str] = (),
    notebook: str | None = None,
    tags: Iterable[tuple[str, str]] = (),
) -> bool:
    """Whether the listing filters select ``run``."""
    statuses = list(statuses)
    if statuses and run.status not in statuses:
        return False
    if notebook is not None and run.notebook != notebook:
        return False
    if any(run.tags.get(k) != v for k, v in tags):
        return False
    if q:
        q = q.strip()
        text = [run.name or "", run.notebook or "", *run.tags.values()]
        by_text = any(q.casefold() in field.casefold() for field in text)
        by_id = len(q) >= 6 and run.id.startswith(q.upper())
        return by_text or by_id
    return True


def expected_order(runs: Iterable[Run], sort: str) -> list[str]:
    """Run ids in the order the listing promises for ``sort``."""
    runs = list(runs)
    down = sort.startswith("-")
    field = sort.lstrip("-")
    newest_first = sorted((r for r in runs), key=lambda r: r.id, reverse=True)

    def ordered(present: list[tuple[Any, str]], missing: set[str]) -> list[str]:
        first = [rid for _, rid in sorted(present, reverse=down)]
        return first + [r.id for r in newest_first if r.id in missing]

    if field == "started_at":
        return [rid for _, rid in sorted(((r.started_at, r.id) for r in runs), reverse=down)]
    if field in ("name", "duration_s"):
        present = [(getattr(r, field), r.id) for r in runs if getattr(r, field) is not None]
        return ordered(present, {r.id for r in runs if getattr(r, field) is None})
    kind, key = field.split(".", 1)
    if kind == "metrics":
        values = {r.id: latest_metrics(r).get(key) for r in runs}
        present = [(v, rid) for rid, v in values.items() if v is not None and not math.isnan(v)]
        return ordered(present, {rid for rid, v in values.items() if v is None or math.isnan(v)})
    numbers, texts, missing = [], [], set()
    for r in runs:
        if key not in r.params:
            missing.add(r.id)
        elif (num := param_number(r.params[key])) is not None:
            numbers.append(((num, dumps(r.params[key])), r.id))
        else:
            texts.append((dumps(r.params[key]), r.id))
    groups = [texts, numbers] if down else [numbers, texts]
    return [rid for g in groups for _, rid in sorted(g, reverse=down)] + [
        r.id for r in newest_first if r.id in missing
    ]
