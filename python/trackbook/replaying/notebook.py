"""Build the notebook a replay executes.

Two recipes (DESIGN, Replay step 1):

* ``history``: the run's recorded execution history up to and including the
  tracked cell, in execution order, every input once per time it ran. This
  is what makes out-of-order sessions reproducible.
* ``notebook``: the saved notebook (``Run.notebook``), top to bottom, up to and
  including the tracked cell (found by cell id, else by its source).

Then, in both modes: the parameters cell goes first (overrides and the plan
``%%track`` reads, see :mod:`.parameters` and :mod:`.plan`); ``%load_ext
trackbook`` is added when no cell before the tracked one loads it (an
extension loaded by IPython configuration leaves no trace in the history);
overridden literal assignments are rewritten; package installs are skipped.

Inputs that would harm a replay:

* ``!pip install``, ``%pip``, ``%conda``, ``%mamba``, ``uv pip`` lines become
  ``pass  # trackbook replay skipped: ...``: a replay audits the environment
  it finds (and reports package differences), it must not change the
  environment other replays and the user's kernels share, nor depend on the
  network. Other shell commands (``!unzip data.zip``) are kept: they may
  produce the data the run needs.
* ``%%track`` cells of other runs are kept, so the state they build is the
  same: they run with their original runs' seeds when those runs are found
  (:mod:`.session`) and record nothing (only the replayed cell records a run).
* Inputs that raised in the original session are in the history too (IPython
  records every input), and the session went on after them, so every cell but
  the tracked one may raise without stopping the replay (papermill's
  ``raises-exception`` tag). Errors there are reported with the verdict.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..entities import CellRun, Run
from ..exceptions import UsageError
from .nbfiles import cell_source, new_code_cell, new_markdown_cell, new_notebook, read_notebook
from .parameters import PARAMETERS_TAG, check_overridable, parameters_source, rewrite_assignments
from .plan import REPLAY_VARIABLE, CellDirective, ReplayPlan

#: Tag of every cell that may raise without ending the replay.
MAY_RAISE_TAG = "raises-exception"
#: Tag of the cell whose run is being replayed.
TARGET_TAG = "trackbook-replay-target"

_LOAD_EXT = re.compile(r"^\s*%(re)?load_ext\s+trackbook\b", re.MULTILINE)
_TRACK_LINE = re.compile(r"^\s*%%track\b")
_EARLIER_PLAN = re.compile(rf"^{REPLAY_VARIABLE} = .*$", re.MULTILINE)
_INSTALL = re.compile(
    r"^(?P<indent>\s*)(?:[!%]\s*(?:pip3?|conda|mamba|micromamba)\b"
    r"|!\s*(?:uv\s+pip|python3?\s+-m\s+pip)\b).*$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class SourceCell:
    """One cell to replay, as the original session or notebook had it."""

    source: str
    cell_id: str | None = None
    execution_count: int | None = None  # in the original session (history mode)
    cell_type: str = "code"


@dataclass
class ReplayNotebook:
    """The notebook to execute and where things are in it.

    Attributes
    ----------
    notebook:
        A v4 notebook (a JSON dict).
    target_index:
        Index in ``notebook.cells`` of the tracked cell being replayed.
    plan:
        What the parameters cell hands to ``%%track``.
    notes:
        What was changed on the way (skipped installs, added ``%load_ext``).
    """

    notebook: dict[str, Any]
    target_index: int
    plan: ReplayPlan
    notes: list[str] = field(default_factory=list)


def replayable_source(source: str, overrides: Mapping[str, Any] | None = None) -> str:
    """A cell's source as a replay executes it: installs skipped, overrides applied.

    Replaying a run that was itself a replay meets that replay's parameters
    cell in the history: its overrides stay (they made the variant), its plan
    goes (this replay brings its own). The comparator uses the same function
    on the original history, so these deliberate changes are not reported as
    differences.
    """
    text = _INSTALL.sub(lambda m: f"{m['indent']}pass  # trackbook replay skipped: {m[0].strip()}", source)
    text = _EARLIER_PLAN.sub("# (the plan of an earlier replay)", text)
    return rewrite_assignments(text, overrides or {})


def history_cells(run: Run) -> list[SourceCell]:
    """The run's execution history up to and including its own execution."""
    upto = run.execution_count
    cells = [SourceCell(entry.source, entry.cell_id, entry.execution_count)
             for entry in run.history if upto is None or entry.execution_count <= upto]
    if not cells or not _TRACK_LINE.match(cells[-1].source):
        raise UsageError(
            f"run {run.id} has no recorded %%track cell in its history; "
            "replay it with --mode notebook if its notebook is saved"
        )
    return cells


def notebook_cells(run: Run, path: str) -> list[SourceCell]:
    """The saved notebook's cells, top to bottom, up to and including the tracked cell."""
    try:
        nb = read_notebook(path)
    except FileNotFoundError:
        raise UsageError(f"the notebook {path} of run {run.id} is gone; replay it with --mode history") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the notebook {path}: {exc}") from None
    cells = [SourceCell(cell_source(c), c.get("id"), None, c.get("cell_type", "code"))
             for c in nb.get("cells", []) if c.get("cell_type") in ("code", "markdown")]
    index = _find_tracked_cell(run, cells)
    if index is None:
        raise UsageError(
            f"the notebook {path} has no cell matching run {run.id} (cell id {run.cell_id}); "
            "it was edited since the run: replay it with --mode history"
        )
    return cells[: index + 1]


def _find_tracked_cell(run: Run, cells: Sequence[SourceCell]) -> int | None:
    if run.cell_id:
        for index, cell in enumerate(cells):
            if cell.cell_id == run.cell_id and cell.cell_type == "code":
                return index
    recorded = [e.source for e in run.history if e.execution_count == run.execution_count]
    for index in range(len(cells) - 1, -1, -1):
        cell = cells[index]
        if cell.cell_type != "code" or not _TRACK_LINE.match(cell.source):
            continue
        if cell.source.rstrip() in [s.rstrip() for s in recorded] or _body(cell.source) == run.code.rstrip():
            return index
    return None


def build_notebook(
    run: Run,
    cells: Sequence[SourceCell],
    *,
    replay_id: str,
    overrides: Mapping[str, Any],
    earlier_runs: Mapping[int, CellRun] | None = None,
    kernel_name: str = "python3",
) -> ReplayNotebook:
    """Assemble the notebook: parameters cell, replayed cells, the tracked cell last.

    Parameters
    ----------
    run:
        The run being replayed.
    cells:
        From :func:`history_cells` or :func:`notebook_cells` (tracked cell last).
    replay_id:
        Tagged on the runs the replay records.
    overrides:
        Checked JSON values (:func:`.parameters.normalise_overrides`).
    earlier_runs:
        Index in ``cells`` -> the original run of an earlier ``%%track`` cell,
        whose seed the replay re-uses.
    kernel_name:
        Written into the notebook's kernelspec.
    """
    notes: list[str] = []
    check_overridable(_body(cells[-1].source), overrides)
    selected = list(cells)
    if not any(_LOAD_EXT.search(c.source) for c in selected[:-1] if c.cell_type == "code"):
        selected.insert(0, SourceCell("%load_ext trackbook"))
        notes.append("added %load_ext trackbook (the session loaded it without a recorded input)")
    target_position = len(selected) - 1
    shift = len(selected) - len(cells)

    built: list[Any] = []
    directives: dict[int, CellDirective] = {}
    count = 1  # the parameters cell is the first execution
    for position, cell in enumerate(selected):
        if cell.cell_type != "code":
            built.append(new_markdown_cell(cell.source))
            continue
        source = replayable_source(cell.source, overrides)
        if _INSTALL.search(cell.source):
            notes.append(f"skipped package installs in {_label(cell)}")
        new = new_code_cell(source)
        new["metadata"]["trackbook"] = {"cell_id": cell.cell_id, "execution_count": cell.execution_count}
        is_target = position == target_position
        new["metadata"]["tags"] = [TARGET_TAG] if is_target else [MAY_RAISE_TAG]
        if source.strip():
            count += 1
            if _TRACK_LINE.match(source):
                original = run if is_target else (earlier_runs or {}).get(position - shift)
                directives[count] = _directive(original, cell, is_target)
        built.append(new)

    plan = ReplayPlan(replay_id=replay_id, replay_of=run.id, cells=directives, overrides=dict(overrides))
    parameters = new_code_cell(parameters_source(overrides, plan))
    parameters["metadata"]["tags"] = [PARAMETERS_TAG]
    nb = new_notebook()
    nb["cells"] = [parameters, *built]
    nb["metadata"]["kernelspec"] = {"name": kernel_name, "display_name": kernel_name, "language": "python"}
    nb["metadata"]["language_info"] = {"name": "python"}
    nb["metadata"]["trackbook"] = {"replay_id": replay_id, "replay_of": run.id}
    return ReplayNotebook(nb, target_index=len(nb["cells"]) - 1, plan=plan, notes=notes)


def _directive(original: Run | CellRun | None, cell: SourceCell, target: bool) -> CellDirective:
    if original is None:
        return CellDirective(cell_id=cell.cell_id)
    seed = original.seeds.get("seed")
    return CellDirective(
        seed=seed if isinstance(seed, int) else None,
        replay_of=original.id,
        cell_id=original.cell_id or cell.cell_id,
        target=target,
    )


def tracked_positions(cells: Sequence[SourceCell]) -> list[int]:
    """Indexes of the ``%%track`` cells before the last (the tracked) one."""
    return [i for i, c in enumerate(cells[:-1]) if c.cell_type == "code" and _TRACK_LINE.match(c.source)]


def resolve_notebook_path(run: Run, store_root: str | os.PathLike[str] | None) -> str | None:
    """The run's notebook as a path that exists, or ``None``."""
    if not run.notebook:
        return None
    candidates = [run.notebook]
    if not os.path.isabs(run.notebook) and store_root is not None:
        candidates.append(os.path.join(os.path.dirname(os.fspath(store_root)), run.notebook))
    for candidate in candidates:
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    return None


def _body(source: str) -> str:
    first, _, rest = source.partition("\n")
    return rest.rstrip() if first.lstrip().startswith("%%") else source.rstrip()


def _label(cell: SourceCell) -> str:
    if cell.execution_count is not None:
        return f"In[{cell.execution_count}]"
    return f"cell {cell.cell_id}" if cell.cell_id else "a cell"


