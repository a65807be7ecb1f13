"""What an executed replay notebook says: did the tracked cell fail, what else raised, which run it recorded."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from ..atomic import write_atomically
from ..entities import Replay, ReplayFailure, Run
from ..exceptions import StoreError
from .execute import Execution
from .nbfiles import notebook_text
from .notebook import ReplayNotebook
from .plan import REPLAY_TAG

#: papermill marks the cells it adds to a failed notebook (a banner, an anchor).
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
#: Errors of earlier cells named in the replay's message.
MAX_NOTED_ERRORS = 3


@dataclass
class Outcome:
    """The executed notebook and what went wrong in it, if anything."""

    notebook: Any
    failure: ReplayFailure | None = None
    notes: list[str] = field(default_factory=list)

    def notebook_bytes(self) -> bytes:
        return notebook_text(self.notebook).encode("utf-8")


def analyse(execution: Execution, built: ReplayNotebook) -> Outcome:
    """Read the executed notebook: the tracked cell's error, earlier errors, other failures.

    Cell indexes are those of the notebook the replay built: papermill's
    banner cells ("An Exception was encountered ...") are removed from the
    notebook kept with the replay, so a failure's ``cell_index`` points at
    the failing cell there too, and an error in an earlier cell, which the
    session also went past, is noted rather than flagged.
    """
    nb = execution.output
    cells = [c for c in nb.get("cells", [])
             if PAPERMILL_ERROR_TAG not in c.get("metadata", {}).get("tags", [])] if nb else []
    errors = [(index, output) for index, cell in enumerate(cells)
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    target = built.target_index
    failure = None
    target_errors = [output for index, output in errors if index == target]
    if target_errors:
        failure = ReplayFailure(target, target_errors[0].get("ename", "Error"), target_errors[0].get("evalue", ""))
    elif not execution.completed:
        failure = ReplayFailure(execution.last_cell, execution.ename or "Error", execution.evalue or "")
    elif nb is None or len(cells) <= target or cells[target].get("execution_count") is None:
        failure = ReplayFailure(target, "NotExecuted", "the tracked cell did not run")
    notes = [
        f"cell {index} raised {output.get('ename')}: {_first_line(output.get('evalue', ''))}"
        for index, output in errors[:MAX_NOTED_ERRORS] if index != target
    ]
    if nb is not None:
        nb["cells"] = cells
    return Outcome(nb, failure, notes)


def find_replayed_run(store: Any, replay: Replay) -> Run | None:
    """The run the replay's tracked cell recorded (tagged with the replay id, ``replay_of`` the original).

    A run the kernel could not write was spooled; delivering the spool once
    brings it in.
    """
    for attempt in range(2):
        matches = [s for s in store.list_runs(tags={REPLAY_TAG: replay.id}) if s.replay_of == replay.run_id]
        if matches:
            found: Run = store.get_run_by_id(matches[0].id)  # newest first: the last tracked cell
            return found
        if attempt == 0 and store.spool.pending():
            with contextlib.suppress(StoreError, OSError):
                store.spool.deliver(store)
    return None


def _first_line(text: str) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line[:200]
