"""Run <-> plain dict, exact both ways (the spool's file format).

``run_from_dict(run_to_dict(run)) == run`` for every facet: datetimes keep
their offset and microseconds, nested entities are rebuilt as their
dataclasses, and unknown keys (a spool file written by a newer trackbook)
are ignored rather than failing the delivery.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, TypeVar

from ..entities import (
    Artifact,
    Dependency,
    Environment,
    HistoryEntry,
    InputRecord,
    Metric,
    Run,
    RunError,
    RunWarning,
)

FORMAT_VERSION = 1

_TIME_FIELDS = ("started_at", "ended_at")
_LIST_FIELDS: dict[str, type[Any]] = {
    "history": HistoryEntry,
    "dependencies": Dependency,
    "metric_history": Metric,
    "inputs": InputRecord,
    "artifacts": Artifact,
    "warnings": RunWarning,
}
_ONE_FIELDS: dict[str, type[Any]] = {"environment": Environment, "error": RunError}

E = TypeVar("E")


def run_to_dict(run: Run) -> dict[str, Any]:
    """Every field of ``run`` as JSON-ready values (times as ISO 8601 with offset)."""
    data: dict[str, Any] = {"format": FORMAT_VERSION}
    for f in dataclasses.fields(run):
        value = getattr(run, f.name)
        if isinstance(value, dt.datetime):
            data[f.name] = value.isoformat()
        elif f.name in _LIST_FIELDS:
            data[f.name] = [dataclasses.asdict(item) for item in value]
        elif f.name in _ONE_FIELDS:
            data[f.name] = None if value is None else dataclasses.asdict(value)
        elif isinstance(value, dict):
            data[f.name] = dict(value)
        else:
            data[f.name] = value
    return data


def run_from_dict(data: dict[str, Any]) -> Run:
    """The :class:`Run` that :func:`run_to_dict` produced ``data`` from."""
    known = {f.name for f in dataclasses.fields(Run)}
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            continue
        if name in _TIME_FIELDS:
            kwargs[name] = None if value is None else dt.datetime.fromisoformat(value)
        elif name in _LIST_FIELDS:
            kwargs[name] = [build(_LIST_FIELDS[name], item) for item in value or []]
        elif name in _ONE_FIELDS:
            kwargs[name] = None if value is None else build(_ONE_FIELDS[name], value)
        else:
            kwargs[name] = value
    return Run(**kwargs)


def build(cls: type[E], data: dict[str, Any]) -> E:
    """Construct dataclass ``cls`` from ``data``, ignoring keys it does not have."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})
