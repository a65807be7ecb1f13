"""Which ``running`` runs have lost their owner, and marking them ``interrupted``.

A kernel that dies mid-cell leaves its run ``running``. On the run's own host
the owner is checked directly: the pid must exist, not be a zombie, and have
the same process start time as when the run was created (pids are reused).
Runs from other hosts cannot be checked that way; they are interrupted once
their heartbeat is older than :data:`STALE_HEARTBEAT_S`. ``ended_at`` is set
to the last sign of life (the last heartbeat), the best bound on when the
run actually stopped.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ..entities import utcnow
from . import schema as s
from .values import format_time, parse_time

#: A run from another host whose heartbeat is older than this is interrupted.
STALE_HEARTBEAT_S = 600.0


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
    here = socket.gethostname()
    cutoff = format_time((now or utcnow()) - dt.timedelta(seconds=STALE_HEARTBEAT_S))
    orphans = []
    for row in rows:
        run = _Running(*row)
        if run.host == here:
            gone = not owner_alive(run.pid, run.proc_start)
        else:
            gone = (run.heartbeat_at or run.started_at) < cutoff
        if gone:
            orphans.append(run)
    return orphans


def interrupt(conn: Connection, orphans: list[_Running]) -> list[str]:
    """Mark ``orphans`` interrupted unless they finished meanwhile; returns the ids changed."""
    changed = []
    for run in orphans:
        last_seen = run.heartbeat_at or run.started_at
        duration = max(0.0, (parse_time(last_seen) - parse_time(run.started_at)).total_seconds())
        result = conn.execute(
            update(s.runs)
            .where(s.runs.c.id == run.id, s.runs.c.status == "running")
            .values(status="interrupted", ended_at=last_seen, duration_s=duration)
        )
        if result.rowcount:
            changed.append(run.id)
    return changed
