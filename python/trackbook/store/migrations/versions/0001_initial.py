"""Initial store schema: runs and their facets, sources, environments, blobs.

Revision ID: 0001
Revises:
Create Date: 2024-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
TIME = sa.String(27)


def upgrade() -> None:
    op.create_table(
        "environments",
        sa.Column("id", ID, nullable=False),
        sa.Column("python", sa.Text(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_environments"),
    )
    op.create_table(
        "runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user", sa.Text()),
        sa.Column("host", sa.Text()),
        sa.Column("pid", sa.Integer()),
        sa.Column("proc_start", sa.BigInteger()),
        sa.Column("kernel_id", sa.Text()),
        sa.Column("notebook", sa.Text()),
        sa.Column("cell_id", sa.Text()),
        sa.Column("execution_count", sa.Integer()),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("ended_at", TIME),
        sa.Column("heartbeat_at", TIME),
        sa.Column("duration_s", sa.Float()),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("history", sa.Text(), nullable=False),
        sa.Column("dependencies", sa.Text(), nullable=False),
        sa.Column("seeds", sa.Text(), nullable=False),
        sa.Column("environment_id", ID),
        sa.Column("error", sa.Text()),
        sa.Column("stdout", sa.Text(), nullable=False),
        sa.Column("stderr", sa.Text(), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("replay_of", ID),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'failed', 'interrupted')",
            name=op.f("ck_runs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"], ["environments.id"], name="fk_runs_environment_id_environments"
        ),
    )
    op.create_index("ix_runs_started_at_id", "runs", ["started_at", "id"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_notebook", "runs", ["notebook"])
    op.create_index("ix_runs_name", "runs", ["name"])

    op.create_table(
        "sources",
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_sources"),
    )
    op.create_table(
        "params",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_params"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_params_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "metrics",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", "step", name="pk_metrics"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_metrics_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_metrics_key", "metrics", ["key"])
    op.create_table(
        "tags",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_tags"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_tags_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "inputs",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("shape", sa.Text()),
        sa.Column("schema", sa.Text()),
        sa.Column("profile", sa.Text()),
        sa.Column("path", sa.Text()),
        sa.Column("size", sa.BigInteger()),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_inputs"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_inputs_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "blobs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_blobs"),
    )
    op.create_table(
        "artifacts",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("blob_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_artifacts"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_artifacts_run_id_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["blob_id"], ["blobs.id"], name="fk_artifacts_blob_id_blobs"),
    )
    op.create_index("ix_artifacts_blob_id", "artifacts", ["blob_id"])


def downgrade() -> None:
    for table in (
        "artifacts",
        "blobs",
        "inputs",
        "tags",
        "metrics",
        "params",
        "sources",
        "runs",
        "environments",
    ):
        op.drop_table(table)
