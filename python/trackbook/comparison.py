"""Runs side by side: what changed between two or more runs.

Used by ``trackbook.compare``, ``trackbook diff`` and (later) the sidebar's
comparison view, so every surface reports the same differences.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from .entities import Run

if TYPE_CHECKING:
    import pandas


def compare_frame(runs: list[Run]) -> pandas.DataFrame:
    """A DataFrame with one column per run and one row per field."""
    import pandas as pd

    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        column = run.id
        for key, value in _flat(run).items():
            rows.setdefault(key, {})[column] = value
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[run.id for run in runs])
    return frame.sort_index(key=lambda index: index.map(_row_order))


def _flat(run: Run) -> dict[str, Any]:
    flat: dict[str, Any] = {
        "name": run.name,
        "status": run.status,
        "notebook": run.notebook,
        "started_at": run.started_at,
        "duration_s": run.duration_s,
        "seed": run.seeds.get("seed"),
        "environment": run.environment_id,
    }
    flat.update({f"params.{k}": v for k, v in run.params.items()})
    flat.update({f"metrics.{k}": v for k, v in run.metrics.items()})
    flat.update({f"inputs.{i.name}": i.fingerprint for i in run.inputs})
    flat.update({f"tags.{k}": v for k, v in run.tags.items()})
    return flat


def _row_order(key: str) -> tuple[int, str]:
    prefixes = ("", "params.", "metrics.", "inputs.", "tags.")
    rank = max(i for i, prefix in enumerate(prefixes) if key.startswith(prefix))
    return (rank, key)


def diff_runs(a: Run, b: Run) -> dict[str, Any]:
    """Every difference between two runs, grouped by facet (JSON-ready)."""
    return {
        "runs": [a.id, b.id],
        "params": _dict_diff(a.params, b.params),
        "metrics": _dict_diff(a.metrics, b.metrics),
        "tags": _dict_diff(a.tags, b.tags),
        "seeds": _dict_diff(
            {k: v for k, v in a.seeds.items()}, {k: v for k, v in b.seeds.items()}
        ),
        "inputs": _dict_diff(
            {i.name: i.fingerprint for i in a.inputs}, {i.name: i.fingerprint for i in b.inputs}
        ),
        "artifacts": _dict_diff(
            {x.name: x.id for x in a.artifacts}, {x.name: x.id for x in b.artifacts}
        ),
        "code": list(
            difflib.unified_diff(
                a.code.splitlines(), b.code.splitlines(), a.id, b.id, lineterm=""
            )
        ),
        "environment": _environment_diff(a, b),
    }


def _dict_diff(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key, _MISSING), b.get(key, _MISSING)
        if not _same(left, right):
            changes.append({"key": key, "a": _shown(left), "b": _shown(right)})
    return changes


class _Missing:
    def __repr__(self) -> str:
        return "<absent>"


_MISSING = _Missing()


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float) and left != left and right != right:
        return True  # NaN equals NaN for the purpose of "did it change"
    return bool(left == right) and type(left) is type(right) or left is right


def _shown(value: Any) -> Any:
    return None if value is _MISSING else value


def _environment_diff(a: Run, b: Run) -> dict[str, Any]:
    if a.environment is None or b.environment is None:
        return {}
    if a.environment.id == b.environment.id:
        return {}
    from .capture.environment import environment_diff

    return environment_diff(a.environment, b.environment)


def is_empty_diff(diff: dict[str, Any]) -> bool:
    """True when two runs differ in nothing but their ids and times."""
    return not any(diff[key] for key in diff if key != "runs")
