"""Writing runs: one short transaction to create, one to finish.

Finishing a run happens after every tracked cell, inside the user's kernel,
so it is built for speed: a fixed handful of statements whatever the run
holds, each child table written with one ``executemany``, no ORM, no
read-before-write on the common path. History inputs go to ``sources``
once per distinct text (insert-or-ignore), so a long session's history costs
a hash per entry, not a copy per run. A run that reaches a final status gets
its audit entries (``audit_log.py``) in the same transaction: its rows are
read back by primary key and hashed, plus one SELECT and one INSERT on the
log (about 0.2 ms).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Container
from typing import Any

from sqlalchemy import Insert, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

from ..entities import Environment, Metric, Run, to_json, utcnow
from . import schema as s
from .audit_log import AuditChain, record_run_finalised
from .fastexec import execute_rows
from .liveness import owner_start_time
from .values import (
    dumps,
    dumps_optional,
    format_optional_time,
    format_time,
    metric_value_in,
    param_number,
    source_hash,
)

#: Statuses that end a run: reaching one appends a ``run_finalised`` audit entry.
FINAL_STATUSES = frozenset({"finished", "failed", "interrupted"})


@functools.lru_cache(maxsize=32)
def insert_ignore(table: Table, dialect: str) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``dialect`` (content-addressed rows)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


# Built once: executing the same statement object reuses its cache key and
# compiled form, which is most of the Python cost of a Core statement.
_FIXED_AT_CREATE = ("id", "started_at", "user", "host", "pid", "proc_start")
_INSERT_RUN = insert(s.runs)
_FINISH_RUNNING = update(s.runs).where(
    s.runs.c.id == bindparam("b_id"), s.runs.c.status == "running"
)
_REFINISH = update(s.runs).where(s.runs.c.id == bindparam("b_id"))
_INSERT_PARAMS = insert(s.params)
_INSERT_METRICS = insert(s.metrics)
_INSERT_TAGS = insert(s.tags)
_INSERT_INPUTS = insert(s.inputs)
_INSERT_ARTIFACTS = insert(s.artifacts)
_HEARTBEAT = (
    update(s.runs)
    .where(s.runs.c.id == bindparam("b_id"), s.runs.c.status == "running")
    .values(heartbeat_at=bindparam("b_now"))
)


def create_run(conn: Connection, run: Run) -> None:
    """Insert ``run`` as ``running`` (the row a crash leaves behind)."""
    row = _run_row(run)
    row.update(status="running", ended_at=None, duration_s=None)
    execute_rows(conn, _INSERT_RUN, [row])


def finish_run(
    conn: Connection,
    run: Run,
    dialect: str,
    known_sources: Container[str] = (),
    chain: AuditChain | None = None,
) -> set[str]:
    """Record the final state of ``run`` and every facet, in the caller's transaction.

    The common case (the run was created) is one UPDATE plus one insert per
    non-empty facet. A run that does not exist yet (delivered from the spool)
    is inserted whole; a run finished before (a repeated delivery, or one
    marked interrupted meanwhile) has its facets replaced: the last finish wins.
    A run in a final status gets its ``run_finalised`` (and ``model_recorded``)
    audit entries in the same transaction; ``chain`` lets a caller that
    finishes many runs in one transaction share one.

    ``known_sources`` are source hashes the caller knows are stored already
    (``sources`` is append-only); the hashes this call wrote are returned so
    the caller can remember them once the transaction commits.
    """
    if run.environment is not None:
        put_environment(conn, run.environment, dialect)
    row = _run_row(run)
    final = {k: v for k, v in row.items() if k not in _FIXED_AT_CREATE}
    final["b_id"] = run.id
    if execute_rows(conn, _FINISH_RUNNING, [final]) == 0:
        existing = conn.execute(select(s.runs.c.status).where(s.runs.c.id == run.id)).first()
        if existing is None:
            conn.execute(_INSERT_RUN, row)
        else:
            for table in s.RUN_CHILD_TABLES:
                conn.execute(delete(table).where(table.c.run_id == run.id))
            conn.execute(_REFINISH, final)
    written = _insert_facets(conn, run, dialect, known_sources)
    if run.status in FINAL_STATUSES:
        record_run_finalised(chain or AuditChain(conn), run.id)
    return written


def put_environment(conn: Connection, env: Environment, dialect: str) -> None:
    """Store an environment once per id (content hash); later copies are ignored."""
    conn.execute(
        insert_ignore(s.environments, dialect),
        {
            "id": env.id,
            "python": env.python,
            "platform": env.platform,
            "document": dumps(to_json(env)),
            "created_at": format_time(utcnow()),
        },
    )


def heartbeat(conn: Connection, run_id: str) -> bool:
    """Prove the run's owner is alive; False when the run is no longer running."""
    result = conn.execute(_HEARTBEAT, {"b_id": run_id, "b_now": format_time(utcnow())})
    return bool(result.rowcount)


def _run_row(run: Run) -> dict[str, Any]:
    ended = run.ended_at
    duration = run.duration_s
    if run.status != "running":
        ended = ended or utcnow()
        if duration is None:
            duration = max(0.0, (_aware(ended) - _aware(run.started_at)).total_seconds())
    environment_id = run.environment_id or (run.environment.id if run.environment else None)
    return {
        "id": run.id,
        "name": run.name,
        "status": run.status,
        "user": run.user,
        "host": run.host,
        "pid": run.pid,
        "proc_start": owner_start_time(run.host, run.pid),
        "kernel_id": getattr(run, "kernel_id", None),
        "notebook": run.notebook,
        "cell_id": run.cell_id,
        "execution_count": run.execution_count,
        "started_at": format_time(run.started_at),
        "ended_at": format_optional_time(ended),
        "heartbeat_at": format_time(utcnow()),
        "duration_s": duration,
        "code": run.code,
        "history": dumps(
            [[h.execution_count, source_hash(h.source), h.cell_id] for h in run.history]
        ),
        "dependencies": dumps([to_json(d) for d in run.dependencies]),
        "seeds": dumps(run.seeds),
        "environment_id": environment_id,
        "error": dumps_optional(None if run.error is None else to_json(run.error)),
        "stdout": run.stdout,
        "stderr": run.stderr,
        "warnings": dumps([to_json(w) for w in run.warnings]),
        "replay_of": run.replay_of,
    }


def _insert_facets(
    conn: Connection, run: Run, dialect: str, known_sources: Container[str]
) -> set[str]:
    texts = {}
    for entry in run.history:
        digest = source_hash(entry.source)
        if digest not in known_sources:
            texts[digest] = entry.source
    if texts:
        execute_rows(
            conn,
            insert_ignore(s.sources, dialect),
            [{"hash": k, "text": v} for k, v in texts.items()],
        )
    if run.params:
        execute_rows(
            conn,
            _INSERT_PARAMS,
            [
                {"run_id": run.id, "key": str(k), "value": dumps(v), "num": param_number(v)}
                for k, v in run.params.items()
            ],
        )
    metric_rows = _metric_rows(run)
    if metric_rows:
        execute_rows(conn, _INSERT_METRICS, metric_rows)
    if run.tags:
        execute_rows(
            conn,
            _INSERT_TAGS,
            [{"run_id": run.id, "key": str(k), "value": str(v)} for k, v in run.tags.items()],
        )
    if run.inputs:
        execute_rows(
            conn,
            _INSERT_INPUTS,
            [
                {
                    "run_id": run.id,
                    "position": i,
                    "name": rec.name,
                    "kind": rec.kind,
                    "fingerprint": rec.fingerprint,
                    "shape": dumps_optional(rec.shape),
                    "schema": dumps_optional(rec.schema),
                    "profile": dumps_optional(rec.profile),
                    "path": rec.path,
                    "size": rec.size,
                }
                for i, rec in enumerate(run.inputs)
            ],
        )
    if run.artifacts:
        now = format_time(utcnow())
        execute_rows(
            conn,
            insert_ignore(s.blobs, dialect),
            [
                {"id": a.id, "size": a.size, "created_at": now}
                for a in {a.id: a for a in run.artifacts}.values()
            ],
        )
        execute_rows(
            conn,
            _INSERT_ARTIFACTS,
            [
                {
                    "run_id": run.id,
                    "position": i,
                    "blob_id": a.id,
                    "name": a.name,
                    "kind": a.kind,
                    "media_type": a.media_type,
                    "size": a.size,
                }
                for i, a in enumerate(run.artifacts)
            ],
        )
    return set(texts)


def _metric_rows(run: Run) -> list[dict[str, Any]]:
    # The series is the record; ``run.metrics`` (latest value per key) is
    # derived from it on read. A key logged only in ``metrics`` becomes step 0.
    series: dict[tuple[str, int], Metric] = {(m.key, int(m.step)): m for m in run.metric_history}
    logged_keys = {key for key, _ in series}
    ended = (run.ended_at or utcnow()).timestamp()
    for key, value in run.metrics.items():
        if key not in logged_keys:
            series[(key, 0)] = Metric(key, value, 0, ended)
    # The run's value of a metric is its highest step (flagged for listings).
    top: dict[str, int] = {}
    for key, step in series:
        if step > top.get(key, step - 1):
            top[key] = step
    return [
        {
            "run_id": run.id,
            "key": key,
            "step": step,
            "value": metric_value_in(m.value),
            "timestamp": float(m.timestamp),
            "latest": top[key] == step,
        }
        for (key, step), m in series.items()
    ]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
