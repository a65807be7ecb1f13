"""The execution history of a kernel session: the recipe a replay re-runs.

IPython keeps every executed input in ``In`` (``In[n]`` is the input of
execution count ``n``; ``In[0]`` is an empty placeholder), so the list is
already in true execution order, whatever order the notebook's cells appear
in on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..entities import HistoryEntry


def build_history(
    inputs: Sequence[str],
    cell_ids: Mapping[int, str] | None = None,
    upto: int | None = None,
) -> list[HistoryEntry]:
    """Turn IPython's ``In`` list into history entries, in execution order.

    Parameters
    ----------
    inputs:
        The session's inputs indexed by execution count (IPython's ``In`` or
        ``history_manager.input_hist_raw``); index 0 is a placeholder.
    cell_ids:
        Execution count -> notebook cell id, as the ``pre_run_cell`` hook saw
        them; executions without one (console, ``%run``) get ``None``.
    upto:
        The last execution count to include (the tracked cell's own count);
        ``None`` includes everything.

    Returns
    -------
    list[HistoryEntry]
        One entry per non-blank input, ordered by execution count.
    """
    ids = cell_ids or {}
    last = len(inputs) - 1 if upto is None else min(upto, len(inputs) - 1)
    entries: list[HistoryEntry] = []
    for count in range(1, last + 1):
        source = inputs[count]
        cell_id = ids.get(count)
        cached = _ENTRIES.get(count)
        if cached is not None and cached[0] is source and cached[1] == cell_id:
            if cached[2] is not None:
                entries.append(cached[2])
            continue
        entry = None
        if isinstance(source, str) and source.strip():
            # IPython's transformed inputs end with a newline the user never typed.
            entry = HistoryEntry(count, source.rstrip("\n"), cell_id)
            entries.append(entry)
        _ENTRIES[count] = (source, cell_id, entry)
    return entries


#: execution count -> (the input object, its cell id, its entry or None when blank).
#: Every tracked cell turns the whole history into entries again; inputs never
#: change once executed, so the same objects are reused (checked by identity,
#: which also notices a new session that reuses execution counts).
_ENTRIES: dict[int, tuple[object, str | None, HistoryEntry | None]] = {}
