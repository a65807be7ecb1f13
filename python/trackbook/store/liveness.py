"""Which ``running`` runs and unfinished replays have lost their owner.

A kernel that dies mid-cell leaves its run ``running``; a replay process that
dies leaves its replay ``queued`` or ``running``. On the record's own host
the owner is checked directly: the pid must exist, not be a zombie, and have
the same process start time as when the record was written (pids are
reused). Records from other hosts cannot be checked that way; they are given
up once their last sign of life (heartbeat) is older than
:data:`STALE_HEARTBEAT_S`. Runs become ``interrupted`` with ``ended_at`` at
the last sign of life, the best bound on when the run actually stopped, and
an audit entry in the same transaction. (Replays: see ``replays.py``.)
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import socket
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ..entities import utcnow
from . import schema as s
from .audit_log import AuditChain, record_run_finalised
from .values import format_time, parse_time

#: A run from another host whose heartbeat is older than this is interrupted.
STALE_HEARTBEAT_S = 600.0
#: This machine's name, read once (it is on the hot path of every finished run).
THIS_HOST = socket.gethostname()


def process_start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or ``None`` if unknown.

    Linux only (``/proc``); elsewhere pid reuse goes undetected and a live pid
    counts as the owner.
    """
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 "starttime", counting from field 3 "state"
    except (IndexError, ValueError):
        return None


def _process_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0] if fields else None


def owner_alive(pid: int | None, proc_start: int | None) -> bool:
    """True when the process that created a run on this host still runs."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    except OSError:
        return False
    if _process_state(pid) in ("Z", "X"):
        return False  # killed but not yet reaped by its parent
    if proc_start is None:
        return True
    current = process_start_time(pid)
    return current is None or current == proc_start


def owner_start_time(host: str | None, pid: int | None) -> int | None:
    """The start time to record beside ``pid``, when its owner can be checked from here.

    ``None`` for another host (its pid means nothing here) or an unknown pid.
    """
    if pid is None or (host is not None and host != THIS_HOST):
        return None
    return _own_start(pid) if pid == os.getpid() else process_start_time(pid)


@functools.lru_cache(maxsize=4)
def _own_start(pid: int) -> int | None:
    # Keyed by pid so a forked child never reuses its parent's value.
    return process_start_time(pid)


def owner_gone(
    host: str | None, pid: int | None, proc_start: int | None, last_seen: str, cutoff: str
) -> bool:
    """True when the process that owns a record is gone.

    On this host the process itself is checked; for another host the record
    is given up when ``last_seen`` (stored time text) is older than ``cutoff``.
    """
    if host == socket.gethostname():
        return not owner_alive(pid, proc_start)
    return last_seen < cutoff


def stale_cutoff(now: dt.datetime | None = None) -> str:
    """Stored time text before which a record from another host counts as abandoned."""
    return format_time((now or utcnow()) - dt.timedelta(seconds=STALE_HEARTBEAT_S))


@dataclass(frozen=True)
class _Running:
    id: str
    host: str | None
    pid: int | None
    proc_start: int | None
    started_at: str
    heartbeat_at: str | None


def orphaned_runs(conn: Connection, now: dt.datetime | None = None) -> list[_Running]:
    """Running runs whose owner is gone (reads only)."""
    rows = conn.execute(
        select(
            s.runs.c.id,
            s.runs.c.host,
            s.runs.c.pid,
            s.runs.c.proc_start,
            s.runs.c.started_at,
            s.runs.c.heartbeat_at,
        ).where(s.runs.c.status == "running")
    ).all()
    if not rows:
        return []
    cutoff = stale_cutoff(now)
    runs = [_Running(*row) for row in rows]
    return [
        run
        for run in runs
        if owner_gone(run.host, run.pid, run.proc_start, run.heartbeat_at or run.started_at, cutoff)
    ]


def interrupt(conn: Connection, orphans: list[_Running]) -> list[str]:
    """Mark ``orphans`` interrupted unless they finished meanwhile; returns the ids changed.

    Each run that changes gets its ``run_finalised`` audit entry in the same transaction.
    """
    changed = []
    chain = AuditChain(conn)
    for run in orphans:
        last_seen = run.heartbeat_at or run.started_at
        duration = max(0.0, (parse_time(last_seen) - parse_time(run.started_at)).total_seconds())
        result = conn.execute(
            update(s.runs)
            .where(s.runs.c.id == run.id, s.runs.c.status == "running")
            .values(status="interrupted", ended_at=last_seen, duration_s=duration)
        )
        if result.rowcount:
            record_run_finalised(chain, run.id)
            changed.append(run.id)
    return changed
