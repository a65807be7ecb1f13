"""Writing and reading replays: queued -> running -> done, and the dead ones.

A replay row records who owns it (host, pid and that process's start time,
as runs do): the process that created it while it is ``queued``, the process
that started it while it is ``running``. When that process is gone the
replay can never finish, so :func:`abandon` closes it as ``done`` with
verdict ``failed`` and says why. Every move to ``done`` appends its
``replay_verdict`` audit entry in the same transaction, so a replay is
never seen half-written: either still open, or done with its verdict,
differences and entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from ..entities import (
    VERDICTS,
    Difference,
    Replay,
    ReplayFailure,
    current_user,
    utcnow,
)
from ..exceptions import ReplayNotFoundError, RunNotFoundError, UsageError
from . import schema as s
from .audit_log import AuditChain, record_replay_verdict
from .codec import build
from .liveness import THIS_HOST, owner_gone, owner_start_time, stale_cutoff
from .values import (
    dumps,
    dumps_optional,
    format_optional_time,
    format_time,
    loads,
    parse_optional_time,
    parse_time,
)

_OPEN = ("queued", "running")
#: ``ReplayFailure.ename`` of a replay whose process died.
PROCESS_DIED = "ReplayProcessDied"

_READ = select(*[c for c in s.replays.columns if c.name not in ("heartbeat_at", "proc_start")])


# -- writing ----------------------------------------------------------------------------


def create_replay(conn: Connection, replay: Replay) -> None:
    """Insert ``replay``; its owner is the calling process unless ``pid`` is given."""
    _require_run(conn, replay.run_id)
    owned = replay.pid is not None
    row = _row(
        dataclasses.replace(
            replay,
            user=replay.user if replay.user is not None else current_user(),
            host=replay.host if owned else THIS_HOST,
            pid=replay.pid if owned else os.getpid(),
        )
    )
    if row["status"] == "done" and row["verdict"] is None:
        raise UsageError(f"replay {replay.id}: a done replay needs a verdict")
    conn.execute(insert(s.replays), row)
    if row["status"] == "done":
        record_replay_verdict(AuditChain(conn), replay.id)


def start_replay(conn: Connection, replay_id: str, message: str | None) -> None:
    """Mark the replay ``running``, owned by the calling process, from now."""
    now = format_time(utcnow())
    values: dict[str, Any] = {
        "status": "running",
        "started_at": now,
        "heartbeat_at": now,
        "host": THIS_HOST,
        "pid": os.getpid(),
        "proc_start": owner_start_time(THIS_HOST, os.getpid()),
    }
    if message is not None:
        values["message"] = message
    changed = conn.execute(
        update(s.replays)
        .where(s.replays.c.id == replay_id, s.replays.c.status.in_(_OPEN))
        .values(**values)
    ).rowcount
    if not changed:
        status = _status(conn, replay_id)
        raise UsageError(
            f"replay {replay_id} is already {status} and cannot be started again; "
            "request a new replay of its run"
        )


def update_progress(conn: Connection, replay_id: str, message: str) -> None:
    """Record progress (also a sign of life); ignored once the replay is done."""
    changed = conn.execute(
        update(s.replays)
        .where(s.replays.c.id == replay_id, s.replays.c.status.in_(_OPEN))
        .values(message=message, heartbeat_at=format_time(utcnow()))
    ).rowcount
    if not changed:
        _status(conn, replay_id)  # raises when there is no such replay


def finish_replay(conn: Connection, replay: Replay) -> None:
    """Record the result and its ``replay_verdict`` entry; the last finish wins.

    A replay that was never created is inserted whole.
    """
    if replay.verdict not in VERDICTS:
        raise UsageError(
            f"replay {replay.id}: verdict must be one of {', '.join(VERDICTS)}, "
            f"not {replay.verdict!r}"
        )
    row = _row(dataclasses.replace(replay, status="done", ended_at=replay.ended_at or utcnow()))
    result = {k: row[k] for k in _RESULT_COLUMNS}
    changed = conn.execute(
        update(s.replays)
        .where(s.replays.c.id == replay.id)
        .values(
            **result,
            started_at=func.coalesce(s.replays.c.started_at, bindparam("b_started")),
        ),
        {"b_started": row["started_at"]},
    ).rowcount
    if not changed:
        _require_run(conn, replay.run_id)
        conn.execute(insert(s.replays), row)
    record_replay_verdict(AuditChain(conn), replay.id)


_RESULT_COLUMNS = (
    "status",
    "ended_at",
    "replay_run_id",
    "verdict",
    "differences",
    "failure",
    "notebook_artifact",
    "report_artifact",
    "message",
)


# -- reading ----------------------------------------------------------------------------


def get_replay(conn: Connection, replay_id: str) -> Replay:
    """The replay with this id."""
    row = conn.execute(_READ.where(s.replays.c.id == replay_id)).mappings().first()
    if row is None:
        raise _not_found(replay_id)
    return _entity(row)


def list_replays(conn: Connection, run_id: str | None, limit: int) -> list[Replay]:
    """Replays (of ``run_id`` when given), newest request first."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise UsageError(f"limit must be a positive integer, not {limit!r}")
    query = _READ.order_by(s.replays.c.requested_at.desc(), s.replays.c.id.desc()).limit(limit)
    if run_id is not None:
        query = query.where(s.replays.c.run_id == run_id)
    return [_entity(row) for row in conn.execute(query).mappings()]


# -- replays whose process died ----------------------------------------------------------


@dataclass(frozen=True)
class OpenReplay:
    """What the sweep needs to know about an unfinished replay."""

    id: str
    status: str
    host: str | None
    pid: int | None
    proc_start: int | None
    last_seen: str


def abandoned(conn: Connection, now: dt.datetime | None = None) -> list[OpenReplay]:
    """Queued or running replays whose owning process is gone (reads only)."""
    r = s.replays.c
    rows = conn.execute(
        select(
            r.id,
            r.status,
            r.host,
            r.pid,
            r.proc_start,
            func.coalesce(r.heartbeat_at, r.started_at, r.requested_at),
        ).where(r.status.in_(_OPEN))
    ).all()
    if not rows:
        return []
    cutoff = stale_cutoff(now)
    candidates = [OpenReplay(*row) for row in rows]
    return [o for o in candidates if owner_gone(o.host, o.pid, o.proc_start, o.last_seen, cutoff)]


def abandon(conn: Connection, candidates: list[OpenReplay]) -> list[str]:
    """Close ``candidates`` as failed unless they moved on meanwhile; returns the ids closed."""
    chain = AuditChain(conn)
    closed = []
    r = s.replays.c
    for replay in candidates:
        where = f"pid {replay.pid} on {replay.host}" if replay.pid is not None else "its process"
        message = (
            f"the replay process ({where}) died before the replay finished; "
            "nothing was compared. Start the replay again"
        )
        failure = ReplayFailure(cell_index=None, ename=PROCESS_DIED, evalue=message)
        changed = conn.execute(
            update(s.replays)
            .where(
                r.id == replay.id,
                # Not if it was started (new owner) or finished since it was read.
                r.status == replay.status,
                r.pid.is_not_distinct_from(replay.pid),
                r.host.is_not_distinct_from(replay.host),
            )
            .values(
                status="done",
                verdict="failed",
                ended_at=replay.last_seen,
                message=message,
                failure=dumps(dataclasses.asdict(failure)),
            )
        ).rowcount
        if changed:
            record_replay_verdict(chain, replay.id)
            closed.append(replay.id)
    return closed


# -- rows <-> entities --------------------------------------------------------------------


def _row(replay: Replay) -> dict[str, Any]:
    return {
        "id": replay.id,
        "run_id": replay.run_id,
        "status": replay.status,
        "mode": replay.mode,
        "overrides": dumps(replay.overrides),
        "rtol": float(replay.rtol),
        "atol": float(replay.atol),
        "requested_at": format_time(replay.requested_at),
        "started_at": format_optional_time(replay.started_at),
        "ended_at": format_optional_time(replay.ended_at),
        "heartbeat_at": None,
        "replay_run_id": replay.replay_run_id,
        "verdict": replay.verdict,
        "differences": dumps([_shallow(d) for d in replay.differences]),
        "failure": dumps_optional(
            None if replay.failure is None else dataclasses.asdict(replay.failure)
        ),
        "notebook_artifact": replay.notebook_artifact,
        "report_artifact": replay.report_artifact,
        "message": replay.message,
        "user": replay.user,
        "host": replay.host,
        "pid": replay.pid,
        "proc_start": owner_start_time(replay.host, replay.pid),
    }


def _shallow(difference: Difference) -> dict[str, Any]:
    # Not ``asdict``: ``original``/``replayed`` keep their own JSON types (NaN survives).
    return {f.name: getattr(difference, f.name) for f in dataclasses.fields(difference)}


def _entity(row: Any) -> Replay:
    failure = loads(row["failure"])
    return Replay(
        id=row["id"],
        run_id=row["run_id"],
        status=row["status"],
        mode=row["mode"],
        overrides=loads(row["overrides"], {}),
        rtol=row["rtol"],
        atol=row["atol"],
        requested_at=parse_time(row["requested_at"]),
        started_at=parse_optional_time(row["started_at"]),
        ended_at=parse_optional_time(row["ended_at"]),
        replay_run_id=row["replay_run_id"],
        verdict=row["verdict"],
        differences=[build(Difference, d) for d in loads(row["differences"], [])],
        failure=None if failure is None else build(ReplayFailure, failure),
        notebook_artifact=row["notebook_artifact"],
        report_artifact=row["report_artifact"],
        message=row["message"],
        user=row["user"],
        host=row["host"],
        pid=row["pid"],
    )


def _require_run(conn: Connection, run_id: str) -> None:
    if conn.execute(select(s.runs.c.id).where(s.runs.c.id == run_id)).first() is None:
        raise RunNotFoundError(run_id)


def _status(conn: Connection, replay_id: str) -> str:
    status = conn.execute(select(s.replays.c.status).where(s.replays.c.id == replay_id)).scalar()
    if status is None:
        raise _not_found(replay_id)
    return str(status)


def _not_found(replay_id: str) -> ReplayNotFoundError:
    return ReplayNotFoundError(f"no replay has the id {replay_id!r}")
