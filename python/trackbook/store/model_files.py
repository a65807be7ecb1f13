"""Model files that runs recorded, grouped by name, and artifact lookups for serving blobs.

A *recorded model* is every artifact of kind ``model`` with the same name
(usually the variable the fitted estimator was assigned to); each run that
recorded one adds a version. Versions are numbered from 1 in the order they
were recorded (the run's end time, then run id and position), so numbers
are stable as new versions arrive. (Registered models with aliases are a
separate registry; these are the files the registry picks from.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.engine import Connection

from ..entities import Artifact, RunStatus
from . import schema as s
from .values import parse_time

MODEL_KIND = "model"


@dataclass(frozen=True)
class RecordedModelVersion:
    """One model file recorded by one run."""

    version: int
    run_id: str
    run_name: str | None
    artifact_id: str
    size: int
    recorded_at: dt.datetime
    run_status: RunStatus


@dataclass(frozen=True)
class RecordedModel:
    """A model name, how many versions it has, and the newest one."""

    name: str
    versions: int
    latest: RecordedModelVersion


def _versions_query(name: str | None = None) -> Select[Any]:
    a, r = s.artifacts.c, s.runs.c
    recorded = func.coalesce(r.ended_at, r.started_at)
    order = (recorded, a.run_id, a.position)
    query = (
        select(
            a.name,
            func.row_number().over(partition_by=a.name, order_by=order).label("version"),
            func.count().over(partition_by=a.name).label("versions"),
            a.run_id,
            r.name.label("run_name"),
            a.blob_id,
            a.size,
            recorded.label("recorded_at"),
            r.status,
        )
        .join_from(s.artifacts, s.runs, a.run_id == r.id)
        .where(a.kind == MODEL_KIND)
    )
    return query if name is None else query.where(a.name == name)


def _version(row: Row[Any]) -> RecordedModelVersion:
    return RecordedModelVersion(
        version=int(row.version),
        run_id=row.run_id,
        run_name=row.run_name,
        artifact_id=row.blob_id,
        size=int(row.size),
        recorded_at=parse_time(row.recorded_at),
        run_status=row.status,
    )


def list_models(conn: Connection) -> list[RecordedModel]:
    """Every recorded model name (sorted), its version count and its newest version."""
    ranked = _versions_query().subquery()
    rows = conn.execute(
        select(ranked).where(ranked.c.version == ranked.c.versions).order_by(ranked.c.name)
    )
    return [RecordedModel(row.name, int(row.versions), _version(row)) for row in rows]


def model_versions(conn: Connection, name: str) -> list[RecordedModelVersion]:
    """Every version of model ``name``, newest first (empty when there is no such model)."""
    ranked = _versions_query(name).subquery()
    rows = conn.execute(select(ranked).order_by(ranked.c.version.desc()))
    return [_version(row) for row in rows]


def find_artifact(conn: Connection, run_id: str, blob_id: str) -> Artifact | None:
    """The artifact with blob ``blob_id`` that run ``run_id`` recorded, or ``None``."""
    a = s.artifacts.c
    row = conn.execute(
        select(a.blob_id, a.name, a.kind, a.media_type, a.size)
        .where(a.run_id == run_id, a.blob_id == blob_id)
        .order_by(a.position)
        .limit(1)
    ).first()
    return None if row is None else Artifact(*row)
