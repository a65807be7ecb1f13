"""The replays of a run, as the audit report shows them.

Each replay carries its verdict, its differences (with their likely causes),
its failure, and a short view of the run the replayed cell recorded: that
run's metrics and figures. A replayed figure whose hash equals one of the
original's is marked identical rather than embedded again, so a report of
many reproduced replays stays small; only figures that differ get a
thumbnail, which is exactly where an auditor wants to look.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..entities import VERDICTS, Replay, Run, to_json
from ..exceptions import RunNotFoundError

if TYPE_CHECKING:
    from ..store import Store
    from .figures import Thumbnail

#: Replays shown in one report (newest kept when a run has more).
MAX_REPLAYS = 200


class Thumbnails(Protocol):
    """Where figure thumbnails come from (cached per blob id)."""

    def get(self, blob_id: str) -> Thumbnail: ...


@dataclass
class GatheredReplays:
    """The replays of one run, ready for the document, and what else they touch."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    #: Replay ids and the ids of the runs they recorded: subjects of audit entries.
    subjects: list[str] = field(default_factory=list)
    #: Blobs the replays reference (executed notebooks, reports, replay runs' artifacts).
    blob_ids: list[str] = field(default_factory=list)

    def verdict_counts(self) -> dict[str, int]:
        """How many replays ended with each verdict (every verdict present, 0 when none)."""
        counts = Counter(e["verdict"] for e in self.entries if e["verdict"] is not None)
        return {verdict: counts.get(verdict, 0) for verdict in VERDICTS}


def gather_replays(store: Store, run: Run, thumbnails: Thumbnails) -> GatheredReplays:
    """Every replay of ``run``, oldest first, each with its recorded run's results."""
    found = store.list_replays(run_id=run.id, limit=MAX_REPLAYS + 1)
    gathered = GatheredReplays(truncated=len(found) > MAX_REPLAYS)
    found = sorted(found, key=lambda r: (r.requested_at, r.id))[-MAX_REPLAYS:]
    original_figures = {a.id for a in run.artifacts if a.kind == "figure"}
    for replay in found:
        entry = to_json(replay)
        entry["replay_run"] = _replay_run(store, replay, original_figures, thumbnails)
        gathered.entries.append(entry)
        gathered.subjects.append(replay.id)
        gathered.blob_ids.extend(b for b in (replay.notebook_artifact, replay.report_artifact) if b)
        if replay.replay_run_id:
            gathered.subjects.append(replay.replay_run_id)
        if entry["replay_run"] is not None:
            gathered.blob_ids.extend(a["id"] for a in entry["replay_run"]["artifacts"])
    return gathered


def producing_replay(store: Store, run: Run) -> dict[str, Any] | None:
    """The replay that recorded ``run`` (when it is a replay run), as ``{id, verdict}``."""
    if not run.replay_of:
        return None
    for replay in store.list_replays(run_id=run.replay_of, limit=MAX_REPLAYS):
        if replay.replay_run_id == run.id:
            return {"id": replay.id, "verdict": replay.verdict, "mode": replay.mode}
    return None


def _replay_run(
    store: Store, replay: Replay, original_figures: set[str], thumbnails: Thumbnails
) -> dict[str, Any] | None:
    if not replay.replay_run_id:
        return None
    try:
        recorded = store.get_run_by_id(replay.replay_run_id)
    except RunNotFoundError:
        return {"id": replay.replay_run_id, "found": False, "metrics": {}, "figures": [],
                "artifacts": []}
    shown = []
    for artifact in recorded.artifacts:
        if artifact.kind != "figure":
            continue
        same = artifact.id in original_figures
        picture = None if same else thumbnails.get(artifact.id)
        shown.append({
            **to_json(artifact),
            "same_as_original": same,
            "thumbnail": picture.data_url if picture else None,
            "note": picture.note if picture else None,
        })
    return {
        "id": recorded.id,
        "found": True,
        "status": recorded.status,
        "started_at": to_json(recorded.started_at),
        "duration_s": to_json(recorded.duration_s),
        "metrics": to_json(recorded.metrics),
        "figures": shown,
        "artifacts": [
            {"id": a.id, "name": a.name, "kind": a.kind, "size": a.size} for a in recorded.artifacts
        ],
    }
