"""The append-only, hash-chained audit log.

Every state change an auditor relies on appends one entry, in the same
transaction as the change itself (so there is never a change without its
entry, or an entry without its change)::

    audit_started    written once, by the migration that created the log
    run_finalised    a run reached finished / failed / interrupted (subject: run id)
    model_recorded   a run recorded a model artifact (subject: run id)
    replay_verdict   a replay is done, with its verdict (subject: replay id)

An entry's ``digest`` is the sha256 of its subject's stored content at that
moment (``digests.py``), and its ``hash`` is the sha256 of the canonical JSON
``[prev_hash, seq, at, kind, subject, digest]``; the first entry's
``prev_hash`` is 64 zeros. Changing, removing or reordering any entry breaks
every link after it; changing a recorded value makes its subject's digest
differ from its latest entry. ``verify_audit.py`` checks both.

Concurrency: the appender reads the last entry and inserts the next one
inside the writer's transaction, which holds the store's write lock (SQLite
``BEGIN IMMEDIATE``; a transaction-scoped advisory lock on PostgreSQL), so
concurrent writers produce one unbroken chain. An append is one indexed
SELECT of the last row plus one INSERT, whatever the log's length.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.engine import Connection

from ..entities import AuditEntry, utcnow
from . import schema as s
from .digests import (
    PART_HINT_CHARS,
    canonical,
    load_replay_row,
    load_run,
    replay_digest,
)
from .fastexec import execute_rows
from .fastread import fetch_rows
from .values import dumps, format_time, parse_time

#: ``prev_hash`` of the first entry.
GENESIS_HASH = "0" * 64
#: Entry kinds, in the order they were introduced.
KINDS = ("audit_started", "run_finalised", "model_recorded", "replay_verdict")
_PG_LOCK_KEY = 0x7472_6B61  # "trka": serialises appenders on PostgreSQL

_LAST = select(s.audit_log.c.seq, s.audit_log.c.hash).order_by(s.audit_log.c.seq.desc()).limit(1)
_INSERT = insert(s.audit_log)
_COLUMNS = (
    s.audit_log.c.seq,
    s.audit_log.c.at,
    s.audit_log.c.kind,
    s.audit_log.c.subject,
    s.audit_log.c.digest,
    s.audit_log.c.prev_hash,
    s.audit_log.c.hash,
)


def entry_hash(prev_hash: str, seq: int, at: str, kind: str, subject: str, digest: str) -> str:
    """The hash of one entry (``at`` as stored text)."""
    return hashlib.sha256(canonical([prev_hash, seq, at, kind, subject, digest])).hexdigest()


class AuditChain:
    """Appends entries inside the caller's write transaction.

    The last entry is read on the first append and then followed in memory,
    so finishing many runs in one transaction reads it once. Create one per
    transaction (a retried transaction starts again with a new one).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._last: tuple[int, str] | None = None

    def append(self, entries: list[tuple[str, str, str, str | None]]) -> None:
        """Append ``(kind, subject, digest, parts)`` entries, in order, with one INSERT."""
        if not entries:
            return
        seq, prev = self._last if self._last is not None else self._read_last()
        at = format_time(utcnow())
        rows = []
        for kind, subject, digest, parts in entries:
            seq += 1
            link = entry_hash(prev, seq, at, kind, subject, digest)
            rows.append(
                {
                    "seq": seq,
                    "at": at,
                    "kind": kind,
                    "subject": subject,
                    "digest": digest,
                    "prev_hash": prev,
                    "hash": link,
                    "parts": parts,
                }
            )
            prev = link
        execute_rows(self.conn, _INSERT, rows)
        self._last = (seq, prev)

    def _read_last(self) -> tuple[int, str]:
        if self.conn.dialect.name == "postgresql":
            # No BEGIN IMMEDIATE there: take a lock that the commit releases.
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        rows = fetch_rows(self.conn, _LAST)
        return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS_HASH)


def record_run_finalised(chain: AuditChain, run_id: str) -> None:
    """Append ``run_finalised`` for the run as now stored, then ``model_recorded`` per model."""
    content = load_run(chain.conn, run_id)
    if content is None:
        return
    parts = content.parts()
    hints = dumps({name: value[:PART_HINT_CHARS] for name, value in parts.items()})
    entries: list[tuple[str, str, str, str | None]] = [
        ("run_finalised", run_id, content.digest(parts), hints)
    ]
    entries.extend(("model_recorded", run_id, digest, None) for _, _, digest in content.models())
    chain.append(entries)


def record_replay_verdict(chain: AuditChain, replay_id: str) -> None:
    """Append ``replay_verdict`` for the replay as now stored."""
    row = load_replay_row(chain.conn, replay_id)
    if row is not None:
        chain.append([("replay_verdict", replay_id, replay_digest(row), None)])


def read_entries(conn: Connection, subject: str | None = None) -> list[AuditEntry]:
    """Entries in chain order; only those about ``subject`` when given."""
    query = select(*_COLUMNS).order_by(s.audit_log.c.seq)
    if subject is not None:
        query = query.where(s.audit_log.c.subject == bindparam("subject", subject))
    return [
        AuditEntry(int(seq), parse_time(at), kind, subj, digest, prev, link)
        for seq, at, kind, subj, digest, prev, link in conn.execute(query)
    ]
