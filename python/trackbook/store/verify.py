"""``trackbook store verify``: prove the store is intact, or say what is not.

Checks, each one reported in ``checked`` whether or not it found a problem:
the database file (SQLite ``PRAGMA integrity_check`` and foreign keys), the
schema revision, every blob re-hashed against its id, every artifact,
replay notebook or report and registered blob present in the blob store,
every history entry's source text present and matching its hash, every
run's environment present, and the audit log (``verify_audit.py``): its
chain, and every run and replay against its latest entry.

Runs, sources and the log are read in batches, so a large store is verified
in bounded memory (what is kept is one set of distinct hashes per kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from ..exceptions import IntegrityError
from . import schema as s
from .blobs import BlobStore
from .engine import Database
from .fastexec import iter_batches
from .migrate import current_revision
from .values import loads, source_hash
from .verify_audit import check_audit

_MAX_LISTED = 50  # problems of one kind listed before summarising


@dataclass
class VerifyReport:
    """What ``verify`` checked and what it found wrong (``ok`` when nothing)."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    checked: dict[str, Any] = field(default_factory=dict)


def verify_store(db: Database, blobs: BlobStore) -> VerifyReport:
    """Run every check; never raises for a problem it can describe."""
    problems: list[str] = []
    checked: dict[str, Any] = {}

    revision, _ = current_revision(db)
    checked["schema_revision"] = revision
    if revision != s.HEAD_REVISION:
        problems.append(
            f"schema revision is {revision}, expected {s.HEAD_REVISION}: "
            "run `trackbook store upgrade`"
        )

    def database(conn: Connection) -> dict[str, Any]:
        return _check_database(conn, db.dialect, problems)

    checked.update(db.run(database, write=False))
    if revision == s.HEAD_REVISION:
        checked.update(db.run(lambda conn: check_audit(conn, problems), write=False))

    on_disk = set()
    blob_bytes = 0
    for blob_id in blobs.iter_ids():
        on_disk.add(blob_id)
        try:
            blob_bytes += blobs.verify(blob_id).size
        except IntegrityError as exc:
            problems.append(str(exc))
    checked["blobs"] = len(on_disk)
    checked["blob_bytes"] = blob_bytes

    at_head = revision == s.HEAD_REVISION
    referenced = db.run(lambda conn: _referenced_blobs(conn, at_head), write=False)
    missing = sorted(referenced - on_disk)
    for blob_id in missing[:_MAX_LISTED]:
        problems.append(
            f"blob {blob_id} is referenced by the database but missing from {blobs.url}"
        )
    if len(missing) > _MAX_LISTED:
        problems.append(f"... and {len(missing) - _MAX_LISTED} more missing blobs")
    checked["blob_references"] = len(referenced)
    return VerifyReport(ok=not problems, problems=problems, checked=checked)


def _check_database(conn: Connection, dialect: str, problems: list[str]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    if dialect == "sqlite":
        result = [row[0] for row in conn.execute(text("PRAGMA integrity_check"))]
        checked["database"] = "ok" if result == ["ok"] else "corrupt"
        problems.extend(f"database: {line}" for line in result if line != "ok")
        fk = conn.execute(text("PRAGMA foreign_key_check")).all()
        problems.extend(
            f"database: {row[0]} row {row[1]} references a missing {row[2]}"
            for row in fk[:_MAX_LISTED]
        )
    # Distinct source hashes the runs' histories need (first run naming each).
    wanted: dict[str, str] = {}
    env_ids = set()
    run_count = 0
    for batch in iter_batches(conn, select(s.runs.c.id, s.runs.c.history, s.runs.c.environment_id)):
        run_count += len(batch)
        for run_id, history, env_id in batch:
            for _count, digest, _cell in loads(history, []):
                wanted.setdefault(digest, run_id)
            if env_id:
                env_ids.add(env_id)
    checked["runs"] = run_count

    stored: set[str] = set()
    bad: list[str] = []
    for batch in iter_batches(conn, select(s.sources.c.hash, s.sources.c.text)):
        for digest, body in batch:
            stored.add(digest)
            if source_hash(body) != digest:
                bad.append(digest)
    checked["sources"] = len(stored)
    problems.extend(f"source {h} does not match its text's hash" for h in bad[:_MAX_LISTED])
    missing_sources = [h for h in wanted if h not in stored]
    problems.extend(
        f"history source {h} (run {wanted[h]}) is missing" for h in missing_sources[:_MAX_LISTED]
    )

    stored_envs = set(conn.execute(select(s.environments.c.id)).scalars())
    checked["environments"] = len(stored_envs)
    problems.extend(
        f"environment {e} is referenced by runs but missing" for e in sorted(env_ids - stored_envs)
    )

    checked["artifacts"] = int(
        conn.execute(select(func.count()).select_from(s.artifacts)).scalar_one()
    )
    return checked


def _referenced_blobs(conn: Connection, with_replays: bool) -> set[str]:
    ids = set(conn.execute(select(s.artifacts.c.blob_id)).scalars())
    ids.update(conn.execute(select(s.blobs.c.id)).scalars())
    if with_replays:
        r = s.replays.c
        for column in (r.notebook_artifact, r.report_artifact):
            ids.update(conn.execute(select(column).where(column.is_not(None))).scalars())
    return ids
