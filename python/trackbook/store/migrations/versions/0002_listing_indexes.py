"""Indexes and derived columns for paged, sorted, filtered run listings.

- ``metrics.latest`` marks each (run, key)'s highest step, and the index
  ``(key, latest, value, run_id)`` lets "sort by metric" walk values in order
  instead of computing every run's latest value per request.
- ``params.num`` holds a parameter's value when it is a number, so a
  parameter sort is numeric; indexed with the JSON text as ``(key, num, value, run_id)``.
- Runs get ``(name, id)``, ``(duration_s, id)`` and a covering
  ``(notebook, status, name, id)`` index for the text, notebook and status
  filters; tags get ``(key, value, run_id)``; artifacts ``(kind, name)``.

Existing rows are backfilled, so an upgraded store lists exactly like a new one.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-01
"""

from __future__ import annotations

import json
import math
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.add_column(
        "metrics", sa.Column("latest", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("params", sa.Column("num", sa.Float()))
    _backfill_latest()
    _backfill_num()

    op.drop_index("ix_metrics_key", table_name="metrics")
    op.create_index(
        "ix_metrics_key_latest_value_run_id", "metrics", ["key", "latest", "value", "run_id"]
    )
    op.create_index("ix_params_key_num_value_run_id", "params", ["key", "num", "value", "run_id"])
    op.create_index("ix_tags_key_value_run_id", "tags", ["key", "value", "run_id"])
    op.drop_index("ix_runs_name", table_name="runs")
    op.drop_index("ix_runs_notebook", table_name="runs")
    op.create_index("ix_runs_name_id", "runs", ["name", "id"])
    op.create_index("ix_runs_duration_s_id", "runs", ["duration_s", "id"])
    op.create_index("ix_runs_notebook_status_name_id", "runs", ["notebook", "status", "name", "id"])
    op.create_index("ix_artifacts_kind_name", "artifacts", ["kind", "name"])


def downgrade() -> None:
    op.drop_index("ix_artifacts_kind_name", table_name="artifacts")
    op.drop_index("ix_runs_notebook_status_name_id", table_name="runs")
    op.drop_index("ix_runs_duration_s_id", table_name="runs")
    op.drop_index("ix_runs_name_id", table_name="runs")
    op.create_index("ix_runs_notebook", "runs", ["notebook"])
    op.create_index("ix_runs_name", "runs", ["name"])
    op.drop_index("ix_tags_key_value_run_id", table_name="tags")
    op.drop_index("ix_params_key_num_value_run_id", table_name="params")
    op.drop_index("ix_metrics_key_latest_value_run_id", table_name="metrics")
    op.create_index("ix_metrics_key", "metrics", ["key"])
    with op.batch_alter_table("params") as batch:
        batch.drop_column("num")
    with op.batch_alter_table("metrics") as batch:
        batch.drop_column("latest")


def _backfill_latest() -> None:
    metrics = sa.table(
        "metrics",
        sa.column("run_id"),
        sa.column("key"),
        sa.column("step"),
        sa.column("latest", sa.Boolean()),
    )
    later = metrics.alias("later")
    top = (
        sa.select(sa.func.max(later.c.step))
        .where(later.c.run_id == metrics.c.run_id, later.c.key == metrics.c.key)
        .scalar_subquery()
    )
    op.get_bind().execute(sa.update(metrics).where(metrics.c.step == top).values(latest=True))


def _backfill_num() -> None:
    params = sa.table(
        "params", sa.column("run_id"), sa.column("key"), sa.column("value"), sa.column("num")
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(params.c.run_id, params.c.key, params.c.value)).all()
    updates = [
        {"b_run": run_id, "b_key": key, "num": number}
        for run_id, key, value in rows
        if (number := _number(value)) is not None
    ]
    statement = (
        sa.update(params)
        .where(params.c.run_id == sa.bindparam("b_run"), params.c.key == sa.bindparam("b_key"))
        .values(num=sa.bindparam("num"))
    )
    for start in range(0, len(updates), _BATCH):
        bind.execute(statement, updates[start : start + _BATCH])


def _number(text: str) -> float | None:
    # Kept here rather than imported: a migration must not change when the
    # package's helpers do. Mirrors ``values.param_number``.
    try:
        value: Any = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        return None
    return number if math.isfinite(number) else None
