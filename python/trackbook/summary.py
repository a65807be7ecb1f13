"""The compact run summary shown under a tracked cell.

A MIME bundle: ``application/vnd.trackbook.run+json`` for the labextension's
renderer, with plain-text and HTML fallbacks for other frontends. The HTML is
built from escaped text only: run names and messages come from users.
"""

from __future__ import annotations

import html
from typing import Any

from .entities import Run

RUN_MIME_TYPE = "application/vnd.trackbook.run+json"
_MAX_METRICS_SHOWN = 6


def summary_payload(run: Run, store: str) -> dict[str, Any]:
    """The JSON the labextension renders (see ``src/renderer.ts``)."""
    return {
        "id": run.id,
        "name": run.name,
        "status": run.status,
        "duration_s": run.duration_s,
        "metrics": {key: _json_number(value) for key, value in run.metrics.items()},
        "params_count": len(run.params),
        "inputs_count": len(run.inputs),
        "artifacts": len(run.artifacts),
        "warnings": [{"kind": w.kind, "message": w.message} for w in run.warnings],
        "error": {"ename": run.error.ename, "evalue": run.error.evalue} if run.error else None,
        "store": store,
    }


def summary_text(run: Run) -> str:
    """One line for terminals, then one line per warning."""
    parts = [f"trackbook run {run.id[:10]}", run.status]
    if run.name:
        parts.insert(1, repr(run.name))
    if run.duration_s is not None:
        parts.append(f"{run.duration_s:.2f}s")
    metrics = " ".join(f"{k}={_format_number(v)}" for k, v in list(run.metrics.items())[:_MAX_METRICS_SHOWN])
    if metrics:
        parts.append(metrics)
    lines = [" · ".join(parts)]
    if run.error:
        lines.append(f"error: {run.error.ename}: {run.error.evalue}")
    lines.extend(f"warning ({w.kind}): {w.message}" for w in run.warnings)
    return "\n".join(lines)


def summary_bundle(run: Run, store: str) -> dict[str, Any]:
    """The MIME bundle to ``display(..., raw=True)``."""
    text = summary_text(run)
    rows = "".join(f"<div>{html.escape(line)}</div>" for line in text.splitlines())
    return {
        RUN_MIME_TYPE: summary_payload(run, store),
        "text/plain": text,
        "text/html": f'<div class="trackbook-run-summary">{rows}</div>',
    }


def _format_number(value: float) -> str:
    return f"{value:.4g}"


def _json_number(value: float) -> float | str:
    # JSON has no NaN or infinity; the renderer shows these strings as they are.
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    return value
