"""Reading runs: resolve a reference, rebuild a run, list summaries.

Rows never leave this module: every function returns entities. Filters are
shared with ``frame.py`` through :func:`filtered_runs`, and child facts
(params, metrics, tags) of a whole listing are fetched with one query per
table over the filtered ids, never one query per run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.engine import Connection

from ..entities import (
    RUN_STATUSES,
    Artifact,
    CellRun,
    Dependency,
    Environment,
    HistoryEntry,
    InputRecord,
    Metric,
    Run,
    RunError,
    RunSummary,
    RunWarning,
)
from ..exceptions import AmbiguousRunError, RunNotFoundError, UsageError
from . import schema as s
from .codec import build
from .values import loads, metric_value_out, parse_optional_time, parse_time

#: Shortest id prefix accepted as a run reference.
MIN_PREFIX = 6
_ULID_CHARS = re.compile(r"[0-9A-HJKMNP-TV-Z]+")
#: Ids per ``IN (...)`` list: well under SQLite's oldest limit of 999 bound parameters.
_IN_CHUNK = 500


# -- filters -----------------------------------------------------------------------


def filtered_runs(
    *,
    q: str | None = None,
    status: str | Iterable[str] | None = None,
    notebook: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Select[Any]:
    """``SELECT id FROM runs WHERE <filters>`` (no order, no paging)."""
    query = select(s.runs.c.id)
    if q:
        needle = q.lower()
        query = query.where(
            or_(
                func.lower(s.runs.c.name).contains(needle, autoescape=True),
                func.lower(s.runs.c.notebook).contains(needle, autoescape=True),
                func.lower(s.runs.c.code).contains(needle, autoescape=True),
                s.runs.c.id.startswith(q.upper(), autoescape=True),
            )
        )
    statuses = _statuses(status)
    if statuses is not None:
        query = query.where(s.runs.c.status.in_(statuses))
    if notebook:
        query = query.where(s.runs.c.notebook == notebook)
    for key, value in (tags or {}).items():
        query = query.where(
            exists().where(
                s.tags.c.run_id == s.runs.c.id,
                s.tags.c.key == str(key),
                s.tags.c.value == str(value),
            )
        )
    return query


def newest_first(query: Select[Any], limit: int | None = None, offset: int = 0) -> Select[Any]:
    """Order ``query`` (over ``runs``) newest first, and page it."""
    query = query.order_by(s.runs.c.started_at.desc(), s.runs.c.id.desc())
    if limit is not None:
        if limit < 0:
            raise UsageError(f"limit must be >= 0, not {limit}")
        query = query.limit(limit)
    if offset:
        if offset < 0:
            raise UsageError(f"offset must be >= 0, not {offset}")
        query = query.offset(offset)
    return query


def _statuses(status: str | Iterable[str] | None) -> list[str] | None:
    if status is None or status == "":
        return None
    wanted = (
        [p.strip() for p in status.split(",")]
        if isinstance(status, str)
        else [str(x) for x in status]
    )
    unknown = [x for x in wanted if x not in RUN_STATUSES]
    if unknown:
        raise UsageError(f"unknown status {unknown[0]!r}: use one of {', '.join(RUN_STATUSES)}")
    return wanted


# -- child facts of many runs ---------------------------------------------------------


def scope(
    filtered: Select[Any], unfiltered: bool, limit: int | None, offset: int
) -> Select[Any] | None:
    """The ids child queries must be limited to; ``None`` means every run.

    Ordering matters only for a page; without one the ids subquery stays
    unordered, and without any filter the child tables are read whole.
    """
    if limit is not None or offset:
        return newest_first(filtered, limit, offset)
    return None if unfiltered else filtered


def _within(query: Select[Any], run_id: Any, ids: Select[Any] | None) -> Select[Any]:
    return query if ids is None else query.where(run_id.in_(ids))


def latest_metrics_query(ids: Select[Any] | None) -> Select[Any]:
    """``(run_id, key, value)`` of each metric's highest step, for runs in ``ids``."""
    m = s.metrics.c
    # ``latest`` flags the highest step of each (run, key), written with the run.
    return _within(select(m.run_id, m.key, m.value).where(m.latest.is_(True)), m.run_id, ids)


def params_query(ids: Select[Any] | None) -> Select[Any]:
    """``(run_id, key, value JSON)`` for runs in ``ids``."""
    p = s.params.c
    return _within(select(p.run_id, p.key, p.value), p.run_id, ids)


def tags_query(ids: Select[Any] | None) -> Select[Any]:
    """``(run_id, key, value)`` for runs in ``ids``."""
    t = s.tags.c
    return _within(select(t.run_id, t.key, t.value), t.run_id, ids)


def is_unfiltered(
    q: str | None,
    status: str | Iterable[str] | None,
    notebook: str | None,
    tags: Mapping[str, str] | None,
) -> bool:
    """True when no filter is given (every run matches)."""
    return not q and (status is None or status == "") and not notebook and not tags


def list_runs(
    conn: Connection,
    *,
    q: str | None = None,
    status: str | Iterable[str] | None = None,
    notebook: str | None = None,
    tags: Mapping[str, str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[RunSummary]:
    """Summaries of the matching runs, newest first."""
    filtered = filtered_runs(q=q, status=status, notebook=notebook, tags=tags)
    ids = scope(filtered, is_unfiltered(q, status, notebook, tags), limit, offset)
    r = s.runs.c
    rows = conn.execute(
        newest_first(filtered, limit, offset).with_only_columns(
            r.id,
            r.name,
            r.status,
            r.notebook,
            r.started_at,
            r.ended_at,
            r.duration_s,
            r.warnings,
            r.replay_of,
        )
    ).all()
    if not rows:
        return []
    params: dict[str, dict[str, Any]] = defaultdict(dict)
    for run_id, key, value in conn.execute(params_query(ids)):
        params[run_id][key] = loads(value)
    metrics: dict[str, dict[str, float]] = defaultdict(dict)
    for run_id, key, value in conn.execute(latest_metrics_query(ids)):
        metrics[run_id][key] = metric_value_out(value)
    tag_map: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in conn.execute(tags_query(ids)):
        tag_map[run_id][key] = value
    return [summary_from_row(row, params[row.id], metrics[row.id], tag_map[row.id]) for row in rows]


def summary_from_row(
    row: Any, params: dict[str, Any], metrics: dict[str, float], tags: dict[str, str]
) -> RunSummary:
    """A listing row (id, name, status, notebook, times, warnings, replay_of) and its key-values."""
    return RunSummary(
        id=row.id,
        name=row.name,
        status=row.status,
        notebook=row.notebook,
        started_at=parse_time(row.started_at),
        ended_at=parse_optional_time(row.ended_at),
        duration_s=row.duration_s,
        params=dict(sorted(params.items())),
        metrics=dict(sorted(metrics.items())),
        tags=dict(sorted(tags.items())),
        warnings_count=len(loads(row.warnings, [])),
        replay_of=row.replay_of,
    )


# -- one run ----------------------------------------------------------------------------


def resolve_ref(conn: Connection, ref: str) -> str:
    """The run id ``ref`` names: a full id, a unique id prefix (>= 6 chars), or a run name.

    An exact id wins, then a unique prefix, then the newest run with that
    name that is not a replay (a replay's run carries its original's name),
    else the newest replay with it. A prefix shared by several runs is
    ambiguous unless a name matches.
    """
    ref = (ref or "").strip()
    if not ref:
        raise RunNotFoundError(ref)
    r = s.runs.c
    upper = ref.upper()
    for exact in dict.fromkeys((upper, ref)):
        if conn.execute(select(r.id).where(r.id == exact)).first() is not None:
            return exact
    candidates: list[str] = []
    if len(ref) >= MIN_PREFIX and _ULID_CHARS.fullmatch(upper):
        # A range, not LIKE: stays an index seek on the primary key.
        candidates = list(
            conn.execute(
                select(r.id)
                .where(r.id >= upper, r.id < upper + "~")
                .order_by(r.id.desc())
                .limit(20)
            ).scalars()
        )
        if len(candidates) == 1:
            return candidates[0]
    named = conn.execute(
        select(r.id)
        .where(r.name == ref)
        .order_by(r.replay_of.is_not(None), r.started_at.desc(), r.id.desc())
        .limit(1)
    ).scalar()
    if named is not None:
        return str(named)
    if candidates:
        raise AmbiguousRunError(ref, candidates)
    raise RunNotFoundError(ref)


def load_run(conn: Connection, run_id: str) -> Run:
    """Every facet of one run (which must exist)."""
    row = conn.execute(select(s.runs).where(s.runs.c.id == run_id)).mappings().first()
    if row is None:
        raise RunNotFoundError(run_id)
    history_refs = loads(row["history"], [])
    texts = _source_texts(conn, {digest for _, digest, _ in history_refs})
    params = {
        k: loads(v)
        for k, v in conn.execute(
            select(s.params.c.key, s.params.c.value)
            .where(s.params.c.run_id == run_id)
            .order_by(s.params.c.key)
        )
    }
    series = [
        Metric(key, metric_value_out(value), int(step), float(ts))
        for key, step, value, ts in conn.execute(
            select(s.metrics.c.key, s.metrics.c.step, s.metrics.c.value, s.metrics.c.timestamp)
            .where(s.metrics.c.run_id == run_id)
            .order_by(s.metrics.c.key, s.metrics.c.step)
        )
    ]
    tags = dict(
        conn.execute(
            select(s.tags.c.key, s.tags.c.value)
            .where(s.tags.c.run_id == run_id)
            .order_by(s.tags.c.key)
        ).all()
    )
    environment = get_environment(conn, row["environment_id"]) if row["environment_id"] else None
    error = loads(row["error"])
    return Run(
        id=row["id"],
        name=row["name"],
        status=row["status"],
        user=row["user"],
        host=row["host"],
        pid=row["pid"],
        notebook=row["notebook"],
        cell_id=row["cell_id"],
        execution_count=row["execution_count"],
        started_at=parse_time(row["started_at"]),
        ended_at=parse_optional_time(row["ended_at"]),
        duration_s=row["duration_s"],
        code=row["code"],
        history=[HistoryEntry(count, texts.get(h, ""), cell) for count, h, cell in history_refs],
        dependencies=[build(Dependency, d) for d in loads(row["dependencies"], [])],
        params=params,
        metrics={m.key: m.value for m in series},  # ordered by step: the last one wins
        metric_history=series,
        seeds=loads(row["seeds"], {}),
        environment_id=row["environment_id"],
        environment=environment,
        inputs=_inputs(conn, run_id),
        artifacts=_artifacts(conn, run_id),
        warnings=[build(RunWarning, w) for w in loads(row["warnings"], [])],
        error=None if error is None else build(RunError, error),
        stdout=row["stdout"],
        stderr=row["stderr"],
        replay_of=row["replay_of"],
        tags=tags,
    )


def cell_runs(conn: Connection, notebook: str | None, limit: int) -> list[CellRun]:
    """The newest ``limit`` runs of ``notebook`` (of any notebook if ``None``), newest first, as :class:`CellRun`."""
    r = s.runs.c
    query = newest_first(filtered_runs(notebook=notebook), limit).with_only_columns(
        r.id, r.started_at, r.host, r.pid, r.execution_count, r.cell_id, r.code, r.seeds
    )
    return [
        CellRun(row.id, parse_time(row.started_at), row.host, row.pid, row.execution_count, row.cell_id,
                row.code or "", loads(row.seeds, {}))
        for row in conn.execute(query)
    ]


def replay_workloads(conn: Connection, run_ids: Iterable[str]) -> dict[str, tuple[float, int]]:
    """For each existing run: its recorded duration (0 if none) and the number of history entries.

    What ordering a batch of replays needs, without loading each run's
    facets and environment (a fifth of a second for twenty runs).
    """
    wanted = list(dict.fromkeys(run_ids))
    found: dict[str, tuple[float, int]] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start:start + _IN_CHUNK]
        query = select(s.runs.c.id, s.runs.c.duration_s, s.runs.c.history).where(s.runs.c.id.in_(chunk))
        for run_id, duration, history in conn.execute(query):
            found[str(run_id)] = (float(duration or 0.0), len(loads(history, [])))
    return found


def get_environment(conn: Connection, env_id: str) -> Environment | None:
    """The stored environment with that id, or ``None``."""
    document = conn.execute(
        select(s.environments.c.document).where(s.environments.c.id == env_id)
    ).scalar()
    return None if document is None else build(Environment, loads(document))


def _source_texts(conn: Connection, digests: set[str]) -> dict[str, str]:
    if not digests:
        return {}
    src = s.sources.c
    return dict(conn.execute(select(src.hash, src.text).where(src.hash.in_(digests))).all())


def _inputs(conn: Connection, run_id: str) -> list[InputRecord]:
    i = s.inputs.c
    rows = conn.execute(
        select(i.name, i.kind, i.fingerprint, i.shape, i["schema"], i.profile, i.path, i.size)
        .where(i.run_id == run_id)
        .order_by(i.position)
    )
    return [
        InputRecord(
            name, kind, fingerprint, loads(shape), loads(schema), loads(profile), path, size
        )
        for name, kind, fingerprint, shape, schema, profile, path, size in rows
    ]


def _artifacts(conn: Connection, run_id: str) -> list[Artifact]:
    a = s.artifacts.c
    rows = conn.execute(
        select(a.blob_id, a.name, a.kind, a.media_type, a.size)
        .where(a.run_id == run_id)
        .order_by(a.position)
    )
    return [Artifact(*row) for row in rows]
