"""Replays and the hash-chained audit log.

- ``replays``: one row per re-execution of a run (queued, running, done),
  its verdict, differences and failure (JSON text, like the run facets), and
  the process that owns it, so a replay whose process died can be found.
- ``audit_log``: append-only and hash-chained. On SQLite, triggers refuse
  UPDATE and DELETE of its rows. The log starts with one ``audit_started``
  entry written here: from then on every run finalised, model recorded and
  replay verdict appends an entry, so a finished run *without* an entry is
  either older than this entry (recorded before the log existed: "not
  covered") or a sign of tampering.

Existing runs get no entries: an entry attests the content it hashes, and
the content of runs recorded before this upgrade was never protected, so
attesting it now would vouch for edits nobody can rule out.

Revision ID: 0003
Revises: 0002
Create Date: 2024-07-01
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(64)
TIME = sa.String(27)

_APPEND_ONLY_TRIGGERS = {
    "audit_log_no_update": "UPDATE",
    "audit_log_no_delete": "DELETE",
}


def upgrade() -> None:
    op.create_table(
        "replays",
        sa.Column("id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("overrides", sa.Text(), nullable=False),
        sa.Column("rtol", sa.Float(), nullable=False),
        sa.Column("atol", sa.Float(), nullable=False),
        sa.Column("requested_at", TIME, nullable=False),
        sa.Column("started_at", TIME),
        sa.Column("ended_at", TIME),
        sa.Column("heartbeat_at", TIME),
        sa.Column("replay_run_id", ID),
        sa.Column("verdict", sa.String(32)),
        sa.Column("differences", sa.Text(), nullable=False),
        sa.Column("failure", sa.Text()),
        sa.Column("notebook_artifact", sa.String(64)),
        sa.Column("report_artifact", sa.String(64)),
        sa.Column("message", sa.Text()),
        sa.Column("user", sa.Text()),
        sa.Column("host", sa.Text()),
        sa.Column("pid", sa.Integer()),
        sa.Column("proc_start", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_replays"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_replays_run_id_runs", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done')", name=op.f("ck_replays_status")
        ),
        sa.CheckConstraint("mode IN ('history', 'notebook')", name=op.f("ck_replays_mode")),
        sa.CheckConstraint(
            "verdict IS NULL OR verdict IN "
            "('reproduced', 'reproduced_within_tolerance', 'differs', 'failed')",
            name=op.f("ck_replays_verdict"),
        ),
        sa.CheckConstraint(
            "status <> 'done' OR verdict IS NOT NULL", name=op.f("ck_replays_done_has_verdict")
        ),
    )
    op.create_index(
        "ix_replays_run_id_requested_at_id", "replays", ["run_id", "requested_at", "id"]
    )
    op.create_index("ix_replays_requested_at_id", "replays", ["requested_at", "id"])
    op.create_index("ix_replays_status", "replays", ["status"])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", ID, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("parts", sa.Text()),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_subject_seq", "audit_log", ["subject", "seq"])
    if op.get_bind().dialect.name == "sqlite":
        for name, action in _APPEND_ONLY_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
    _start_the_log()


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject_seq", table_name="audit_log")
    op.drop_table("audit_log")  # its triggers go with it
    op.drop_index("ix_replays_status", table_name="replays")
    op.drop_index("ix_replays_requested_at_id", table_name="replays")
    op.drop_index("ix_replays_run_id_requested_at_id", table_name="replays")
    op.drop_table("replays")


def _start_the_log() -> None:
    # Kept here rather than imported: a migration must not change when the
    # package's helpers do. Mirrors ``audit_log.entry_hash`` and ``values.format_time``.
    at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    digest = hashlib.sha256(_canonical(["audit_started", revision])).hexdigest()
    prev_hash = "0" * 64
    entry = [prev_hash, 1, at, "audit_started", "store", digest]
    audit_log = sa.table(
        "audit_log",
        sa.column("seq"),
        sa.column("at"),
        sa.column("kind"),
        sa.column("subject"),
        sa.column("digest"),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    op.get_bind().execute(
        sa.insert(audit_log).values(
            seq=1,
            at=at,
            kind="audit_started",
            subject="store",
            digest=digest,
            prev_hash=prev_hash,
            hash=hashlib.sha256(_canonical(entry)).hexdigest(),
        )
    )


def _canonical(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
