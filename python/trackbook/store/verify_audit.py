"""The audit checks of ``trackbook store verify``: the chain, then every record against it.

1. **Chain.** Every entry's hash is recomputed and its ``prev_hash`` compared
   with the entry before; ``seq`` must run 1, 2, 3, ... with no gap. The
   first broken entry is named (a changed entry breaks its own hash, a
   deleted one leaves a gap, a rewritten tail no longer links).
2. **Runs.** Each run's stored content is digested again and compared with
   its latest ``run_finalised`` entry, and its model artifacts with the
   ``model_recorded`` entries of that finalisation. A finished run with no
   entry is *not covered* when it ended before the log started (recorded
   before the store was upgraded to the audit log), and a problem otherwise.
3. **Replays.** The same, with ``replay_verdict``; every done replay must have one.
4. **Deleted records.** An entry whose run or replay no longer exists.

Everything is read in batches within one read transaction (a consistent
snapshot), so memory does not grow with the store.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.engine import Connection

from . import schema as s
from .audit_log import GENESIS_HASH, entry_hash
from .digests import RUN_PARTS, RunContent, iter_replay_rows, iter_runs, replay_digest
from .fastexec import fetch_tuples, iter_batches
from .values import loads

_MAX_LISTED = 50  # problems of one kind listed before summarising


@dataclass(frozen=True)
class _Entry:
    seq: int
    at: str
    kind: str
    digest: str
    parts: str | None


class _Problems:
    """Problems of one check: the first ``_MAX_LISTED`` in full, then a count."""

    def __init__(self, sink: list[str], what: str) -> None:
        self.sink = sink
        self.what = what
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if self.count <= _MAX_LISTED:
            self.sink.append(message)

    def close(self) -> None:
        if self.count > _MAX_LISTED:
            self.sink.append(f"... and {self.count - _MAX_LISTED} more {self.what}")


def check_audit(conn: Connection, problems: list[str]) -> dict[str, Any]:
    """Run the audit checks; append problems, return what was checked."""
    checked: dict[str, Any] = {}
    started_at = _check_chain(conn, problems, checked)
    _check_runs(conn, problems, checked, started_at)
    _check_replays(conn, problems, checked)
    _check_deleted(conn, problems)
    return checked


def _check_chain(conn: Connection, problems: list[str], checked: dict[str, Any]) -> str | None:
    """Verify every link; returns when the log started (its first entry), if it is intact."""
    found = _Problems(problems, "broken audit log entries")
    a = s.audit_log.c
    query = select(a.seq, a.at, a.kind, a.subject, a.digest, a.prev_hash, a.hash).order_by(a.seq)
    expected, prev, count = 1, GENESIS_HASH, 0
    first_broken: int | None = None
    started_at: str | None = None
    head = ""
    for batch in iter_batches(conn, query):
        for seq, at, kind, subject, digest, prev_hash, link in batch:
            count += 1
            broken = []
            if seq != expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
                broken.append(f"entry {missing} {'is' if seq == expected + 1 else 'are'} missing")
            elif prev_hash != prev:
                broken.append(f"entry {seq} does not link to entry {seq - 1} (prev_hash differs)")
            if link != entry_hash(prev_hash, seq, at, kind, subject, digest):
                broken.append(
                    f"entry {seq} ({kind} {subject}) was changed: its hash does not match"
                )
            if seq == 1 and kind == "audit_started":
                started_at = at
            if broken:
                first_broken = seq if first_broken is None else first_broken
                for message in broken:
                    found.add(f"audit log: {message}")
            expected, prev, head = seq + 1, link, f"{seq} {link}"
    if count == 0:
        found.add(
            "audit log: it is empty, but its first entry is written when the log is created "
            "(entries were deleted)"
        )
        first_broken = 1
    found.close()
    checked["audit_entries"] = count
    checked["audit_chain"] = "ok" if first_broken is None else f"broken at entry {first_broken}"
    # Record this line somewhere safe: a later verify showing an older head means a cut log.
    checked["audit_head"] = head
    return started_at


def _entries_of(conn: Connection, subjects: list[str]) -> dict[str, list[_Entry]]:
    a = s.audit_log.c
    entries: dict[str, list[_Entry]] = defaultdict(list)
    query = (
        select(a.subject, a.seq, a.at, a.kind, a.digest, a.parts)
        .where(a.subject.in_(subjects))
        .order_by(a.subject, a.seq)
    )
    for subject, seq, at, kind, digest, parts in fetch_tuples(conn, query):
        entries[subject].append(_Entry(seq, at, kind, digest, parts))
    return entries


def _check_runs(
    conn: Connection, problems: list[str], checked: dict[str, Any], started_at: str | None
) -> None:
    found = _Problems(problems, "runs that do not match the audit log")
    covered = not_covered = 0
    for batch in iter_runs(conn):
        entries = _entries_of(conn, [run.id for run in batch])
        for run in batch:
            mine = entries.get(run.id, [])
            latest = next((e for e in reversed(mine) if e.kind == "run_finalised"), None)
            if latest is None:
                if run.status == "running":
                    continue
                if started_at is not None and (run.ended_at or "") < started_at:
                    not_covered += 1
                else:
                    found.add(
                        f"run {run.id} ({run.status}) has no audit entry although it ended after "
                        "the audit log started: its entry was deleted, or the run was written "
                        "around trackbook"
                    )
                continue
            covered += 1
            parts = run.parts()
            if run.digest(parts) != latest.digest:
                found.add(
                    f"run {run.id} ({run.status}) was changed after it was recorded: "
                    f"{_what_changed(parts, latest.parts)} no longer match audit entry "
                    f"{latest.seq} (run_finalised at {latest.at})"
                )
            _check_models(run, [e for e in mine if e.seq > latest.seq], found.add)
    found.close()
    checked["runs_covered"] = covered
    checked["runs_not_covered"] = not_covered
    if not_covered:
        checked["audit_coverage"] = (
            f"{not_covered} runs were recorded before the audit log started "
            f"({started_at}); they are not covered by it"
        )


_PART_NAMES = {
    "run": "its own fields (name, status, code, seeds, output, ...)",
    "params": "its params",
    "metrics": "its metrics",
    "tags": "its tags",
    "inputs": "its inputs",
    "artifacts": "its artifacts",
}


def _what_changed(parts: dict[str, str], hints: str | None) -> str:
    """Name the parts whose hash no longer starts with the entry's hint."""
    try:
        recorded = loads(hints, {})
    except ValueError:
        recorded = {}
    changed = [
        _PART_NAMES[name]
        for name in RUN_PARTS
        if not isinstance(recorded.get(name), str) or not parts[name].startswith(recorded[name])
    ]
    if not changed or len(changed) == len(RUN_PARTS):
        return "its recorded values"
    return " and ".join(changed)


def _check_models(run: RunContent, entries: list[_Entry], report: Callable[[str], None]) -> None:
    recorded = Counter(e.digest for e in entries if e.kind == "model_recorded")
    for name, blob_id, digest in run.models():
        if recorded[digest] > 0:
            recorded[digest] -= 1
        else:
            report(
                f"model {name!r} (blob {blob_id}) of run {run.id} does not match any "
                "model_recorded audit entry of the run (added or changed after it was recorded)"
            )
    for entry in entries:
        if entry.kind == "model_recorded" and recorded[entry.digest] > 0:
            recorded[entry.digest] -= 1
            report(
                f"run {run.id}: audit entry {entry.seq} (model_recorded) matches none of the "
                "run's model artifacts (removed or changed after it was recorded)"
            )


def _check_replays(conn: Connection, problems: list[str], checked: dict[str, Any]) -> None:
    found = _Problems(problems, "replays that do not match the audit log")
    covered = 0
    status_at = [c.name for c in s.replays.columns if c.name != "heartbeat_at"].index("status")
    for rows in iter_replay_rows(conn):
        entries = _entries_of(conn, [str(row[0]) for row in rows])
        for row in rows:
            replay_id, run_id, status = row[0], row[1], row[status_at]
            latest = next(
                (e for e in reversed(entries.get(replay_id, [])) if e.kind == "replay_verdict"),
                None,
            )
            if latest is None:
                if status == "done":
                    found.add(
                        f"replay {replay_id} (of run {run_id}) is done but has no audit entry"
                    )
                continue
            covered += 1
            if replay_digest(row) != latest.digest:
                found.add(
                    f"replay {replay_id} (of run {run_id}) was changed after its verdict was "
                    f"recorded: it no longer matches audit entry {latest.seq} "
                    f"(replay_verdict at {latest.at})"
                )
    found.close()
    checked["replays_covered"] = covered


def _check_deleted(conn: Connection, problems: list[str]) -> None:
    found = _Problems(problems, "deleted records")
    a = s.audit_log.c
    for kinds, table, what in (
        (("run_finalised", "model_recorded"), s.runs, "run"),
        (("replay_verdict",), s.replays, "replay"),
    ):
        query = (
            select(a.subject, a.seq, a.kind)
            .where(a.kind.in_(kinds), ~exists().where(and_(table.c.id == a.subject)))
            .order_by(a.seq)
        )
        seen: set[str] = set()
        for batch in iter_batches(conn, query):
            for subject, seq, kind in batch:
                if subject not in seen:
                    seen.add(subject)
                    found.add(
                        f"{what} {subject} was deleted: audit entry {seq} ({kind}) records it"
                    )
    found.close()
