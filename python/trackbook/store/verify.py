"""``trackbook store verify``: prove the store is intact, or say what is not.

Checks, each one reported in ``checked`` whether or not it found a problem:
the database file (SQLite ``PRAGMA integrity_check`` and foreign keys), the
schema revision, every blob re-hashed against its id, every artifact and
registered blob present in the blob store, every history entry's source text
present and matching its hash, every run's environment present.
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
from .migrate import current_revision
from .values import loads, source_hash

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

    referenced = db.run(_referenced_blobs, write=False)
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
    runs = conn.execute(select(s.runs.c.id, s.runs.c.history, s.runs.c.environment_id)).all()
    checked["runs"] = len(runs)

    wanted: dict[str, list[str]] = {}
    env_ids = set()
    for run_id, history, env_id in runs:
        for _count, digest, _cell in loads(history, []):
            wanted.setdefault(digest, []).append(run_id)
        if env_id:
            env_ids.add(env_id)
    texts = dict(conn.execute(select(s.sources.c.hash, s.sources.c.text)).all())
    checked["sources"] = len(texts)
    bad = [h for h, body in texts.items() if source_hash(body) != h]
    problems.extend(f"source {h} does not match its text's hash" for h in bad[:_MAX_LISTED])
    missing_sources = [h for h in wanted if h not in texts]
    problems.extend(
        f"history source {h} (run {wanted[h][0]}) is missing" for h in missing_sources[:_MAX_LISTED]
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


def _referenced_blobs(conn: Connection) -> set[str]:
    ids = set(conn.execute(select(s.artifacts.c.blob_id)).scalars())
    ids.update(conn.execute(select(s.blobs.c.id)).scalars())
    return ids
