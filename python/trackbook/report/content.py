"""Everything an auditor needs about one run, as one JSON-ready document.

:func:`build_document` is the report's single source of truth: the HTML page
is rendered from it (:func:`trackbook.report.html.render_html`) and its JSON
form is the same document, so what a machine checks is what a person reads.
The document's shape is described by ``audit-report.schema.json`` next to
this module; ``schema_version`` changes when a key is removed or changes
meaning (adding keys does not).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..entities import Artifact, Run, to_json, utcnow
from ..exceptions import IntegrityError, RunNotFoundError, UsageError
from .figures import Thumbnail, thumbnail
from .integrity import Mode as IntegrityMode
from .integrity import check_integrity
from .replays import gather_replays, producing_replay

if TYPE_CHECKING:
    from ..store import Store

SCHEMA_VERSION = 1


class ThumbnailCache:
    """Thumbnails by blob id: a figure that several runs share is decoded once."""

    def __init__(self, store: Store, enabled: bool) -> None:
        self._store = store
        self._enabled = enabled
        self._done: dict[str, Thumbnail] = {}

    def get(self, blob_id: str) -> Thumbnail:
        if not self._enabled:
            return Thumbnail(None, "thumbnails are left out of the JSON form")
        if blob_id not in self._done:
            try:
                self._done[blob_id] = thumbnail(self._store.blobs.get_bytes(blob_id))
            except (IntegrityError, UsageError, OSError) as exc:
                self._done[blob_id] = Thumbnail(None, f"the figure cannot be read: {exc}")
        return self._done[blob_id]


def build_document(
    store: Store,
    run_id: str,
    *,
    thumbnails: bool = True,
    integrity: IntegrityMode = "auto",
) -> dict[str, Any]:
    """Gather the audit report of one run.

    Parameters
    ----------
    store:
        The open store the run is in.
    run_id:
        Run id, unique id prefix (6+ characters) or run name, as ``trackbook show``.
    thumbnails:
        Embed figure thumbnails as ``data:`` URLs (the HTML needs them; the
        JSON form for machines leaves them out and keeps the blob ids).
    integrity:
        ``full`` runs every check of ``trackbook store verify``; ``targeted``
        checks the audit chain and the blobs of this run and its replays only;
        ``auto`` picks ``full`` for a store small enough to verify in well under
        a second. The document says which checks ran.

    Returns
    -------
    dict
        JSON-ready (strict JSON: non-finite numbers are spelled as strings).

    Raises
    ------
    RunNotFoundError, AmbiguousRunError
        ``run_id`` names no run, or several.
    """
    started = time.perf_counter()
    run = store.get_run(run_id)
    cache = ThumbnailCache(store, thumbnails)
    replays = gather_replays(store, run, cache)
    subjects = [run.id, *replays.subjects]
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": to_json(utcnow()),
        "generator": {"name": "trackbook", "version": __version__},
        "store": {"url": store.location.display_url, "kind": store.location.kind},
        "run": identity(run),
        "code": run.code,
        "history": history(run),
        "dependencies": to_json(run.dependencies),
        "params": to_json(run.params),
        "seeds": to_json(run.seeds),
        "environment": to_json(run.environment),
        "inputs": to_json(run.inputs),
        "metrics": metrics(run),
        "figures": figures(run.artifacts, cache),
        "models": artifacts(run.artifacts, "model"),
        "files": [to_json(a) for a in run.artifacts if a.kind not in ("model", "figure")],
        "warnings": to_json(run.warnings),
        "error": to_json(run.error),
        "output": {"stdout": run.stdout, "stderr": run.stderr},
        "replays": replays.entries,
        "replays_truncated": replays.truncated,
        "verdicts": replays.verdict_counts(),
        "lineage": lineage(store, run, replays.entries),
        "integrity": check_integrity(store, run, replays.blob_ids, mode=integrity),
        "audit_log": audit_entries(store, subjects),
    }
    document["build_seconds"] = round(time.perf_counter() - started, 4)
    return document


def identity(run: Run) -> dict[str, Any]:
    """Who ran what, when and where."""
    env = run.environment
    return {
        "id": run.id,
        "name": run.name,
        "status": run.status,
        "user": run.user,
        "host": run.host,
        "pid": run.pid,
        "notebook": run.notebook,
        "cell_id": run.cell_id,
        "execution_count": run.execution_count,
        "kernel": env.kernel if env is not None else None,
        "started_at": to_json(run.started_at),
        "ended_at": to_json(run.ended_at),
        "duration_s": to_json(run.duration_s),
        "replay_of": run.replay_of,
        "tags": dict(run.tags),
    }


def history(run: Run) -> list[dict[str, Any]]:
    """The kernel session's inputs in execution order; the tracked cell is marked."""
    entries = sorted(run.history, key=lambda h: h.execution_count)
    return [
        {
            "execution_count": entry.execution_count,
            "cell_id": entry.cell_id,
            "source": entry.source,
            "tracked": entry.execution_count == run.execution_count,
        }
        for entry in entries
    ]


def metrics(run: Run) -> list[dict[str, Any]]:
    """Each metric's reported value (highest step) and its whole step series."""
    series: dict[str, list[dict[str, Any]]] = {}
    for point in sorted(run.metric_history, key=lambda m: (m.key, m.step)):
        series.setdefault(point.key, []).append(
            {"step": point.step, "value": to_json(point.value), "timestamp": point.timestamp}
        )
    return [
        {"key": key, "value": to_json(value), "steps": series.get(key, [])}
        for key, value in sorted(run.metrics.items())
    ]


def figures(items: list[Artifact], cache: ThumbnailCache) -> list[dict[str, Any]]:
    """Figure artifacts with a thumbnail (or the reason there is none)."""
    found = []
    for artifact in items:
        if artifact.kind != "figure":
            continue
        shown = cache.get(artifact.id)
        found.append({**to_json(artifact), "thumbnail": shown.data_url, "note": shown.note})
    return found


def artifacts(items: list[Artifact], kind: str) -> list[dict[str, Any]]:
    """Artifacts of one kind; ``id`` is the content's SHA-256, spelled out as ``sha256``."""
    return [{**to_json(a), "sha256": a.id} for a in items if a.kind == kind]


def lineage(store: Store, run: Run, replays: list[dict[str, Any]]) -> dict[str, Any]:
    """Where this run came from (``replay_of``) and which runs re-executed it."""
    original: dict[str, Any] | None = None
    if run.replay_of:
        try:
            source = store.get_run_by_id(run.replay_of)
            original = {
                "id": source.id,
                "name": source.name,
                "status": source.status,
                "started_at": to_json(source.started_at),
                "found": True,
            }
        except RunNotFoundError:  # the original may live in another store
            original = {"id": run.replay_of, "found": False}
    return {
        "replay_of": original,
        "produced_by": producing_replay(store, run),
        "replayed_by": [r["replay_run_id"] for r in replays if r.get("replay_run_id")],
    }


def audit_entries(store: Store, subjects: list[str]) -> list[dict[str, Any]]:
    """The audit-log entries about this run, its replays and the runs they recorded."""
    found: dict[int, dict[str, Any]] = {}
    for subject in dict.fromkeys(subjects):  # unique, in order
        for entry in store.audit_log(subject=subject):
            found[entry.seq] = to_json(entry)
    return [found[seq] for seq in sorted(found)]
