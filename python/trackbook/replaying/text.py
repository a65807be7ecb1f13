"""Plain-text views of replays for the terminal: one verdict with its reasons, a batch summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..entities import Difference, Replay

if TYPE_CHECKING:  # the batch machinery is not needed to show one replay
    from .batch import BatchResult

_CAUSE_WORDS = {
    "input_data_changed": "input data changed",
    "package_changed": "package changed",
    "unseeded_randomness": "unseeded randomness / nondeterminism",
    "code_differs": "code differs",
    "cell_order": "notebook cell order",
    "parameter_override": "parameter override",
    "replay_failed": "replay failed",
    "unknown": "unknown",
}


def cause_text(cause: str) -> str:
    """A cause as words (``input_data_changed`` -> ``input data changed``)."""
    return _CAUSE_WORDS.get(cause, cause.replace("_", " "))


def replay_text(replay: Replay) -> str:
    """The verdict, why, and each difference with its likely cause."""
    lines = [f"replay {replay.id} of run {replay.run_id} ({replay.mode}): {replay.verdict or replay.status}"]
    if replay.replay_run_id:
        lines.append(f"  replayed run: {replay.replay_run_id}")
    if replay.overrides:
        shown = ", ".join(f"{key}={value!r}" for key, value in replay.overrides.items())
        lines.append(f"  overrides: {shown}")
    if replay.failure is not None:
        where = f"cell {replay.failure.cell_index}" if replay.failure.cell_index is not None else "before any cell"
        lines.append(f"  failed at {where}: {replay.failure.ename}: {replay.failure.evalue}")
    for difference in replay.differences:
        lines.append(f"  {difference_text(difference)}")
    if replay.message and replay.verdict is not None:
        lines.append(f"  note: {replay.message}")
    return "\n".join(lines)


def difference_text(difference: Difference) -> str:
    """``[cause] facet key: explanation``."""
    return f"[{cause_text(difference.cause)}] {difference.facet} {difference.key}: {difference.explanation}"


def batch_text(results: Sequence[BatchResult]) -> str:
    """A summary table: one row per run, then counts per verdict."""
    rows = [("RUN", "VERDICT", "DIFFERENCES", "LIKELY CAUSE", "REPLAY")]
    for result in results:
        replay = result.replay
        if replay is None:
            rows.append((result.run_id, "error", "-", _clip(result.error or ""), "-"))
            continue
        decisive = [d for d in replay.differences if d.facet not in ("environment", "code")]
        causes = Counter(d.cause for d in decisive)
        top = cause_text(causes.most_common(1)[0][0]) if causes else "-"
        if replay.failure is not None:
            top = _clip(f"{replay.failure.ename}: {replay.failure.evalue}")
        rows.append((replay.run_id, replay.verdict or replay.status, str(len(replay.differences)), top, replay.id))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    counts = Counter((r.replay.verdict if r.replay else "error") or "unknown" for r in results)
    table.append("")
    table.append(", ".join(f"{count} {verdict}" for verdict, count in sorted(counts.items())))
    errors = [f"{r.run_id}: {r.error}" for r in results if r.replay is None and r.error]
    return "\n".join(table + [f"error: {line}" for line in errors])


def _clip(text: str, width: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
