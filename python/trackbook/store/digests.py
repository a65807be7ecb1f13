"""What the audit log attests: canonical digests of recorded runs, models and replays.

A digest is the sha256 of canonical JSON built from a record's *stored*
values, read back from the database: once in the writing transaction, when
the audit entry is appended, and again by ``verify``. Reading back rather
than hashing the Python values that were written makes the two agree
whatever the database did to them (SQLite's type affinity, NaN stored as
NULL), and lets code that has only an id (marking a run interrupted) attest
the record too. Both reads return the driver's plain tuples.

Covered, for a run: every column of its row except bookkeeping that says
nothing about the result (heartbeat, process start time, kernel id), and
every row of its facets: params, the metric series (value, step,
timestamp), tags, inputs with fingerprints and schemas, artifacts. JSON
columns are hashed as the stored text, so one changed character shows.
Environments, history sources and blobs are content-addressed already: the
run's digest covers their ids and ``verify`` re-hashes their content. A model
digest covers one model artifact row; a replay digest covers every column of
the replay except its heartbeat.

A run's digest is built from one hash per part (its row, then each facet
table), and the entry keeps a short prefix of each part's hash, so ``verify``
can say *what* changed ("its metrics"), not only that something did. The
prefixes are hints: the verdict rests on the full digest alone.

The column lists are explicit, so a later migration that adds a column does
not change the digests of existing entries; each document starts with a
scheme name (``run/v1``) so a later trackbook can tell them apart.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

from . import schema as s
from .fastexec import fetch_tuples
from .fastread import fetch_rows

RUN_COLUMNS = (
    "id",
    "name",
    "status",
    "user",
    "host",
    "pid",
    "notebook",
    "cell_id",
    "execution_count",
    "started_at",
    "ended_at",
    "duration_s",
    "code",
    "history",
    "dependencies",
    "seeds",
    "environment_id",
    "error",
    "stdout",
    "stderr",
    "warnings",
    "replay_of",
)
#: Facet tables of a run and the columns covered, primary key first (rows are sorted on it).
FACET_COLUMNS: dict[str, tuple[str, ...]] = {
    "params": ("key", "value"),
    "metrics": ("key", "step", "value", "timestamp"),
    "tags": ("key", "value"),
    "inputs": (
        "position",
        "name",
        "kind",
        "fingerprint",
        "shape",
        "schema",
        "profile",
        "path",
        "size",
    ),
    "artifacts": ("position", "blob_id", "name", "kind", "media_type", "size"),
}
#: What a run digest is made of, in order; a mismatch is narrowed down to these.
RUN_PARTS = ("run", *FACET_COLUMNS)
#: Characters of each part's hash kept in the audit entry (a hint, not a proof).
PART_HINT_CHARS = 12
REPLAY_COLUMNS = tuple(c.name for c in s.replays.columns if c.name != "heartbeat_at")

_FACET_TABLES: dict[str, Table] = {
    "params": s.params,
    "metrics": s.metrics,
    "tags": s.tags,
    "inputs": s.inputs,
    "artifacts": s.artifacts,
}
_ARTIFACT_KIND = FACET_COLUMNS["artifacts"].index("kind")
_ARTIFACT_NAME = FACET_COLUMNS["artifacts"].index("name")
_ARTIFACT_BLOB = FACET_COLUMNS["artifacts"].index("blob_id")


# One encoder for every call: ``json.dumps`` with options builds a new one each time.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: compact, key-sorted, UTF-8 (tuples are arrays)."""
    return _ENCODER.encode(value).encode("utf-8", "surrogatepass")


def sha256_hex(value: Any) -> str:
    """sha256 hex digest of :func:`canonical` ``value``."""
    return hashlib.sha256(canonical(value)).hexdigest()


@dataclass
class RunContent:
    """A run as stored: its row (:data:`RUN_COLUMNS`) and its facet rows."""

    row: tuple[Any, ...]
    facets: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.row[0])

    @property
    def status(self) -> str:
        return str(self.row[RUN_COLUMNS.index("status")])

    @property
    def ended_at(self) -> str | None:
        value = self.row[RUN_COLUMNS.index("ended_at")]
        return None if value is None else str(value)

    def parts(self) -> dict[str, str]:
        """sha256 of each part: ``run`` (the row) and each facet table's rows."""
        parts = {"run": sha256_hex(self.row)}
        for name in FACET_COLUMNS:
            parts[name] = sha256_hex(sorted(self.facets.get(name, [])))
        return parts

    def digest(self, parts: dict[str, str] | None = None) -> str:
        """The digest a ``run_finalised`` entry records: over the hashes of its parts."""
        parts = self.parts() if parts is None else parts
        return sha256_hex(["run/v1", [parts[name] for name in RUN_PARTS]])

    def models(self) -> list[tuple[str, str, str]]:
        """``(name, blob id, digest)`` of each model artifact, in artifact order."""
        return [
            (str(a[_ARTIFACT_NAME]), str(a[_ARTIFACT_BLOB]), model_digest(self.id, a))
            for a in sorted(self.facets.get("artifacts", []))
            if a[_ARTIFACT_KIND] == "model"
        ]


def model_digest(run_id: str, artifact: tuple[Any, ...]) -> str:
    """The digest a ``model_recorded`` entry records: one artifact row, without its position."""
    return sha256_hex(["model/v1", run_id, artifact[1:]])


def replay_digest(row: tuple[Any, ...]) -> str:
    """The digest a ``replay_verdict`` entry records (``row`` in :data:`REPLAY_COLUMNS` order)."""
    return sha256_hex(["replay/v1", row])


def _columns(table: Table, names: tuple[str, ...]) -> list[Column[Any]]:
    return [table.c[name] for name in names]


# One run by id: compiled once, executed on the driver cursor (the finish hot path).
_RUN_BY_ID = select(*_columns(s.runs, RUN_COLUMNS)).where(s.runs.c.id == bindparam("b_id"))
_FACETS_BY_ID = {
    name: select(*_columns(_FACET_TABLES[name], cols)).where(
        _FACET_TABLES[name].c.run_id == bindparam("b_id")
    )
    for name, cols in FACET_COLUMNS.items()
}
_REPLAY_BY_ID = select(*_columns(s.replays, REPLAY_COLUMNS)).where(
    s.replays.c.id == bindparam("b_id")
)


def load_run(conn: Connection, run_id: str) -> RunContent | None:
    """One run as stored, or ``None`` when there is no such run."""
    rows = fetch_rows(conn, _RUN_BY_ID, {"b_id": run_id})
    if not rows:
        return None
    facets = {
        name: fetch_rows(conn, stmt, {"b_id": run_id}) for name, stmt in _FACETS_BY_ID.items()
    }
    return RunContent(rows[0], facets)


def load_replay_row(conn: Connection, replay_id: str) -> tuple[Any, ...] | None:
    """One replay's covered columns as stored, or ``None``."""
    rows = fetch_rows(conn, _REPLAY_BY_ID, {"b_id": replay_id})
    return rows[0] if rows else None


def iter_runs(conn: Connection, batch_size: int = 500) -> Iterator[list[RunContent]]:
    """Every run as stored, in batches ordered by id (keyset paging: memory stays flat)."""
    last = ""
    while True:
        rows = fetch_tuples(
            conn,
            select(*_columns(s.runs, RUN_COLUMNS))
            .where(s.runs.c.id > last)
            .order_by(s.runs.c.id)
            .limit(batch_size),
        )
        if not rows:
            return
        batch = {str(row[0]): RunContent(row) for row in rows}
        for name, cols in FACET_COLUMNS.items():
            table = _FACET_TABLES[name]
            grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            stmt = select(table.c.run_id, *_columns(table, cols)).where(
                table.c.run_id.in_(list(batch))
            )
            for row in fetch_tuples(conn, stmt):
                grouped[row[0]].append(tuple(row[1:]))
            for run_id, content in batch.items():
                content.facets[name] = grouped.get(run_id, [])
        yield list(batch.values())
        last = str(rows[-1][0])


def iter_replay_rows(conn: Connection, batch_size: int = 1000) -> Iterator[list[tuple[Any, ...]]]:
    """Every replay's covered columns, in batches ordered by id."""
    last = ""
    while True:
        rows = fetch_tuples(
            conn,
            select(*_columns(s.replays, REPLAY_COLUMNS))
            .where(s.replays.c.id > last)
            .order_by(s.replays.c.id)
            .limit(batch_size),
        )
        if not rows:
            return
        yield rows
        last = str(rows[-1][0])
