"""The original runs of earlier ``%%track`` cells in a replayed session.

A replayed history may contain other tracked cells (``%%track prepare``
before ``%%track train``). Their draws shape the data the replayed run
sees, so a faithful replay re-uses *their* recorded seeds as well (they
execute seeded but unrecorded). Their runs
are found among the runs of the same notebook that started before the
replayed one, from the same kernel process (host and pid), at the same
execution count (history mode) or cell id (notebook mode), with the same
code. A cell whose run is not found runs with a fresh seed, as any tracked
cell does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..entities import CellRun, Run
from .notebook import SourceCell, tracked_positions

#: How many earlier runs of the notebook are examined at most.
MAX_CANDIDATES = 200


def earlier_runs(store: Any, run: Run, cells: Sequence[SourceCell]) -> dict[int, CellRun]:
    """Index in ``cells`` -> the original run of that earlier ``%%track`` cell.

    Matched on the columns that name a cell (one read), not by loading each
    candidate run: a run late in a long session has many.
    """
    positions = tracked_positions(cells)
    if not positions:
        return {}
    wanted = {i: cells[i] for i in positions}
    found: dict[int, CellRun] = {}
    for candidate in store.cell_runs(run.notebook, limit=MAX_CANDIDATES):
        if candidate.id == run.id or candidate.started_at > run.started_at:
            continue
        if (candidate.host, candidate.pid) != (run.host, run.pid):
            continue
        for index, cell in wanted.items():
            if index not in found and _same_cell(candidate, cell):
                found[index] = candidate  # listing is newest first: the latest earlier run wins
        if len(found) == len(wanted):
            break
    return found


def _same_cell(candidate: CellRun, cell: SourceCell) -> bool:
    if cell.execution_count is not None:
        if candidate.execution_count != cell.execution_count:
            return False
    elif not cell.cell_id or candidate.cell_id != cell.cell_id:
        return False
    _, _, body = cell.source.partition("\n")
    return candidate.code.rstrip() == body.rstrip()
