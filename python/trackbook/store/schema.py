"""The metadata schema: SQLAlchemy Core tables, the single source of truth.

Alembic migrations in ``migrations/versions`` must produce exactly this
(``tests/test_store_schema.py`` compares them), and ``HEAD_REVISION`` names
the migration that does, so opening a store checks its revision without
importing Alembic.

Conventions: ids are text (run ULIDs, sha256 hex for blobs, sources and
environments); times are ISO 8601 UTC text (see ``values.py``); JSON
columns are text. Child tables cascade on run deletion. Every constraint
and index is named by ``NAMING_CONVENTION`` so migrations can address them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    false,
)

from ..entities import RUN_STATUSES, VERDICTS

#: The Alembic revision this trackbook's schema corresponds to.
HEAD_REVISION = "0003"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = String(64)  # ULIDs (26) and sha256 hex (64)
TIME = String(27)  # 2024-05-01T12:00:00.000000Z



def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_STATUS_LIST = _sql_list(RUN_STATUSES)
REPLAY_STATUSES: tuple[str, ...] = ("queued", "running", "done")
REPLAY_MODES: tuple[str, ...] = ("history", "notebook")

environments = Table(
    "environments",
    metadata,
    Column("id", ID, nullable=False),
    Column("python", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("document", Text, nullable=False),  # JSON of the whole Environment
    Column("created_at", TIME, nullable=False),
    PrimaryKeyConstraint("id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", ID, nullable=False),
    Column("name", Text),
    Column("status", String(16), nullable=False),
    Column("user", Text),
    Column("host", Text),
    Column("pid", Integer),
    # Start time of the owning process (clock ticks since boot on Linux): a
    # pid alone may have been reused by the time liveness is checked.
    Column("proc_start", BigInteger),
    Column("kernel_id", Text),
    Column("notebook", Text),
    Column("cell_id", Text),
    Column("execution_count", Integer),
    Column("started_at", TIME, nullable=False),
    Column("ended_at", TIME),
    Column("heartbeat_at", TIME),
    Column("duration_s", Float),
    Column("code", Text, nullable=False),
    Column("history", Text, nullable=False),  # JSON [[execution_count, source_hash, cell_id], ...]
    Column("dependencies", Text, nullable=False),  # JSON list of Dependency
    Column("seeds", Text, nullable=False),  # JSON object
    Column("environment_id", ID, ForeignKey("environments.id")),
    Column("error", Text),  # JSON RunError or NULL
    Column("stdout", Text, nullable=False),
    Column("stderr", Text, nullable=False),
    Column("warnings", Text, nullable=False),  # JSON list of RunWarning
    Column("replay_of", ID),  # no FK: the original may live in another store
    PrimaryKeyConstraint("id"),
    CheckConstraint(f"status IN ({_STATUS_LIST})", name="status"),
)
# Listing indexes (see ``runs_page.py``): every sort walks one index in
# order, ending in ``id`` so the keyset position (value, id) is a seek.
Index(None, runs.c.started_at, runs.c.id)
Index(None, runs.c.status)
Index(None, runs.c.name, runs.c.id)
Index(None, runs.c.duration_s, runs.c.id)
# Covers the text filter (name, notebook, id) and the notebook/status filters,
# so filtering 100k runs scans a compact index, not the wide run rows.
Index(None, runs.c.notebook, runs.c.status, runs.c.name, runs.c.id)

sources = Table(
    "sources",
    metadata,
    Column("hash", String(64), nullable=False),  # sha256 hex of text
    Column("text", Text, nullable=False),
    PrimaryKeyConstraint("hash"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),  # JSON
    # The value when it is a finite number (not a bool), else NULL: sorting by
    # a parameter orders numbers numerically, which their JSON text does not.
    Column("num", Float),
    PrimaryKeyConstraint("run_id", "key"),
)
Index(None, params.c.key, params.c.num, params.c.value, params.c.run_id)

metrics = Table(
    "metrics",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("value", Float),  # NULL stores NaN (SQLite cannot hold NaN)
    Column("timestamp", Float, nullable=False),  # epoch seconds, as Metric.timestamp
    # True on the highest step of each (run, key): the run's value of that
    # metric. Written with the run (a run's metrics are written at once).
    Column("latest", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("run_id", "key", "step"),
)
# Sorting by a metric walks (key, latest, value) in order; also lists the keys.
Index(None, metrics.c.key, metrics.c.latest, metrics.c.value, metrics.c.run_id)

tags = Table(
    "tags",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "key"),
)
Index(None, tags.c.key, tags.c.value, tags.c.run_id)

inputs = Table(
    "inputs",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # keeps the run's order
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("shape", Text),  # JSON
    Column("schema", Text),  # JSON column -> dtype
    Column("profile", Text),  # JSON
    Column("path", Text),
    Column("size", BigInteger),
    PrimaryKeyConstraint("run_id", "position"),
)

blobs = Table(
    "blobs",
    metadata,
    Column("id", String(64), nullable=False),  # sha256 hex
    Column("size", BigInteger, nullable=False),
    Column("created_at", TIME, nullable=False),
    PrimaryKeyConstraint("id"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("blob_id", String(64), ForeignKey("blobs.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("media_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "position"),
)
Index(None, artifacts.c.blob_id)
Index(None, artifacts.c.kind, artifacts.c.name)

#: Child tables of a run, in an order that satisfies foreign keys when inserting.
RUN_CHILD_TABLES = (params, metrics, tags, inputs, artifacts)

replays = Table(
    "replays",
    metadata,
    Column("id", ID, nullable=False),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("overrides", Text, nullable=False),  # JSON object
    Column("rtol", Float, nullable=False),
    Column("atol", Float, nullable=False),
    Column("requested_at", TIME, nullable=False),
    Column("started_at", TIME),
    Column("ended_at", TIME),
    # Last sign of life of the replay process (start, progress): how a
    # replay on another host is judged abandoned (see ``liveness.py``).
    Column("heartbeat_at", TIME),
    Column("replay_run_id", ID),  # no FK: the replayed kernel may record elsewhere
    Column("verdict", String(32)),
    Column("differences", Text, nullable=False),  # JSON list of Difference
    Column("failure", Text),  # JSON ReplayFailure or NULL
    Column("notebook_artifact", String(64)),  # blob ids (sha256 hex)
    Column("report_artifact", String(64)),
    Column("message", Text),
    Column("user", Text),
    Column("host", Text),
    Column("pid", Integer),
    Column("proc_start", BigInteger),  # as runs.proc_start: pids are reused
    PrimaryKeyConstraint("id"),
    CheckConstraint(f"status IN ({_sql_list(REPLAY_STATUSES)})", name="status"),
    CheckConstraint(f"mode IN ({_sql_list(REPLAY_MODES)})", name="mode"),
    CheckConstraint(f"verdict IS NULL OR verdict IN ({_sql_list(VERDICTS)})", name="verdict"),
    # A finished replay always says what it found (a dead one says "failed").
    CheckConstraint("status <> 'done' OR verdict IS NOT NULL", name="done_has_verdict"),
)
Index(None, replays.c.run_id, replays.c.requested_at, replays.c.id)  # one run's replays
Index(None, replays.c.requested_at, replays.c.id)  # every replay, newest first
Index(None, replays.c.status)  # the abandoned-replay sweep reads queued/running only

# Append-only and hash-chained (``audit_log.py``): ``seq`` is assigned by the
# writer inside its write transaction, so the chain has no gaps and no forks.
# On SQLite, triggers (created by migration 0003) refuse UPDATE and DELETE.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, nullable=False, autoincrement=False),
    Column("at", TIME, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", ID, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # JSON {part: short hash} of a run's parts (row, params, metrics, ...):
    # lets verify say what changed. A hint only, outside the hash.
    Column("parts", Text),
    PrimaryKeyConstraint("seq"),
)
Index(None, audit_log.c.subject, audit_log.c.seq)  # a record's entries, in order
