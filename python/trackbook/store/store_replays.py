"""The replay and audit half of the :class:`~trackbook.store.Store` facade.

A mixin so ``store.py`` stays one screenful per concern; every method is
one managed transaction that delegates to ``replays.py`` or ``audit_log.py``.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ..entities import AuditEntry, Replay
from . import audit_log, replays
from .engine import Database


class ReplayStoreMethods:
    """Replays (queued -> running -> done) and the audit log, on :class:`Store`."""

    _db: Database

    def create_replay(self, replay: Replay) -> None:
        """Insert a new replay (normally ``queued``) of an existing run.

        The calling process becomes its owner unless ``replay.pid`` (and
        ``host``) name another; :meth:`mark_abandoned_replays` closes it if
        that process dies before the replay is started.

        Raises
        ------
        RunNotFoundError
            ``replay.run_id`` is not a run of this store.
        StoreError
            A replay with this id exists already.
        """
        self._db.run(lambda conn: replays.create_replay(conn, replay), write=True)

    def start_replay(self, replay_id: str, message: str | None = None) -> None:
        """Mark the replay ``running`` from now, owned by the calling process.

        Raises
        ------
        ReplayNotFoundError
        UsageError
            The replay is already done (for instance closed as abandoned).
        """
        self._db.run(lambda conn: replays.start_replay(conn, replay_id, message), write=True)

    def update_replay_progress(self, replay_id: str, message: str) -> None:
        """Show ``message`` as the replay's progress; also a sign of life.

        A replay running on another host is given up when it shows no sign
        of life for 10 minutes: long replays there should report progress
        more often. Ignored once the replay is done.

        Raises
        ------
        ReplayNotFoundError
        """
        self._db.run(lambda conn: replays.update_progress(conn, replay_id, message), write=True)

    def finish_replay(self, replay: Replay) -> None:
        """Record the replay as ``done`` with its verdict, and its audit entry.

        Writes the verdict, differences, failure, artifacts, ``replay_run_id``,
        ``ended_at`` (now when unset) and message, plus a ``replay_verdict``
        audit entry, in one transaction. The last finish wins (a replay closed
        as abandoned that finishes after all gets its real verdict); a replay
        never created is inserted whole.

        Raises
        ------
        UsageError
            ``replay.verdict`` is not a verdict.
        RunNotFoundError
            The replay does not exist and neither does its run.
        """
        self._db.run(lambda conn: replays.finish_replay(conn, replay), write=True)

    def get_replay(self, replay_id: str) -> Replay:
        """The replay with exactly this id.

        Raises
        ------
        ReplayNotFoundError
        """
        return self._db.run(lambda conn: replays.get_replay(conn, replay_id), write=False)

    def list_replays(self, run_id: str | None = None, limit: int = 100) -> list[Replay]:
        """Replays, newest request first; only those of ``run_id`` when given.

        Raises
        ------
        UsageError
            ``limit`` is not a positive integer.
        """

        def read(conn: Connection) -> list[Replay]:
            return replays.list_replays(conn, run_id, limit)

        return self._db.run(read, write=False)

    def mark_abandoned_replays(self) -> list[str]:
        """Close queued or running replays whose process is gone; returns their ids.

        Each becomes ``done`` with verdict ``failed`` and a message saying the
        replay process died (``failure.ename`` is ``ReplayProcessDied``), with
        its audit entry, in one transaction. Like :meth:`mark_interrupted`,
        reads first and writes only when there is something to close.
        """
        candidates = self._db.run(replays.abandoned, write=False)
        if not candidates:
            return []
        return self._db.run(lambda conn: replays.abandon(conn, candidates), write=True)

    def audit_log(self, subject: str | None = None) -> list[AuditEntry]:
        """Audit entries in chain order; only those about ``subject`` (a run or replay id)."""
        return self._db.run(lambda conn: audit_log.read_entries(conn, subject), write=False)
