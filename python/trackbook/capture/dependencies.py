"""Which earlier executions a tracked cell depends on, and hidden state.

A notebook's meaning is its execution history, not the order of its cells.
For every name the tracked cell reads, the execution that last bound it is
its dependency. Three situations make the result depend on state a reader of
the notebook cannot see; each becomes a ``hidden_state`` warning:

(a) the name exists in the namespace but no recorded execution binds it
    (``%run``, another tool, or a session reset left it there);
(b) the execution that bound it read a name that a *later* execution
    re-bound (cells ran out of order: the value was computed from an old
    input), also through chains of executions;
(c) the binding execution came from a notebook cell that was later edited
    and re-run, and whose current version no longer binds the name.

The analysis is static (:mod:`trackbook.capture.assignments`) and cheap:
only executions whose text could bind a name of interest are parsed, and
per-source facts are cached across tracked cells. Re-running an import or an
unchanged ``def``/``class`` does not count as re-binding.
"""

from __future__ import annotations

import bisect
import builtins
import functools
import re
from collections.abc import Collection, Sequence

from ..entities import Dependency, HistoryEntry, RunWarning
from .assignments import CellFacts, Transform, cell_facts

#: How many executions back a chain of stale inputs is followed.
MAX_CHAIN = 20

_BUILTINS = frozenset(dir(builtins))
#: Names IPython puts into every user namespace.
_IPYTHON_NAMES = frozenset({"get_ipython", "In", "Out", "exit", "quit", "open", "display"})
_IPYTHON_PATTERN = re.compile(r"_+|_i+|_i?\d+|_[iod]h|__\w+__")
#: Text of an execution that may bind names no analysis sees: ``import *``, and
#: ``%run``/``%store`` raw or as IPython transformed them (``run_line_magic('run', ...)``).
#: Separate patterns, each starting with a literal the regex engine can search for fast.
_OPAQUE_HINTS = (re.compile(r"import\s*\*"), re.compile(r"run(?=['\"\s])"), re.compile(r"store(?=['\"\s])"))
_ESCAPES = frozenset({"\\n", "\\t", "\\r"})


_IMPORT_LIST = re.compile(r"(?:\bimport|,)[ \t]*\Z")


@functools.lru_cache(maxsize=1024)
def _mention(name: str) -> re.Pattern[str]:
    """``name`` as a whole word, not subscripted (``name[0] = 1`` binds nothing)."""
    return re.compile(re.escape(name) + r"(?![\w])(?![ \t]*\[)")


def analyze_dependencies(
    source: str,
    history: Sequence[HistoryEntry],
    namespace_names: Collection[str],
    transform: Transform | None = None,
) -> tuple[list[Dependency], list[RunWarning]]:
    """Find where the names a cell reads come from, and warn about hidden state.

    Parameters
    ----------
    source:
        The tracked cell's source (IPython syntax allowed).
    history:
        Executions *before* the tracked one, in execution order.
    namespace_names:
        Names currently defined in the user namespace.
    transform:
        Turns IPython syntax into Python (``shell.transform_cell``); without
        it a fallback rewrites ``%``/``!`` lines.

    Returns
    -------
    tuple
        Dependencies (sorted by name) and ``hidden_state`` warnings; a
        ``capture_error`` warning instead when the cell is not Python.
    """
    facts = cell_facts(source, transform)
    if facts.note is not None:
        return [], [RunWarning("capture_error", f"dependencies were not analysed: the cell is {facts.note}")]
    index = _HistoryIndex(history, transform)
    dependencies: list[Dependency] = []
    warnings: list[RunWarning] = []
    for name in sorted(facts.loaded):
        if _is_implicit(name, namespace_names):
            continue
        position = index.binder(name, len(history))
        if position is None:
            if name in namespace_names:
                dependencies.append(Dependency(name, None, None))
                warnings.append(RunWarning(
                    "hidden_state",
                    f"{name} is defined in the kernel but no recorded execution defines it "
                    f"(set by %run, another tool, or before a history reset); a replay will not have it",
                ))
            continue
        entry = history[position]
        dependencies.append(Dependency(name, entry.execution_count, entry.cell_id))
        edited = index.edited_cell(name, position)
        if edited is not None:
            warnings.append(edited)
        stale = index.staleness(name, position)
        if stale is not None:
            warnings.append(stale)
    return dependencies, warnings


def _is_implicit(name: str, namespace_names: Collection[str]) -> bool:
    """Names nobody's history defines: builtins and what IPython injects."""
    if name in _IPYTHON_NAMES or _IPYTHON_PATTERN.fullmatch(name):
        return True
    return name in _BUILTINS and name not in namespace_names


class _HistoryIndex:
    """Lazy lookups over one history: who binds a name, cell re-runs, staleness.

    Only executions whose text could bind a name looked up are parsed (a
    regex over the joined sources finds them), so the first analysis of a
    long session stays cheap; facts are cached per source for later ones.
    """

    def __init__(self, history: Sequence[HistoryEntry], transform: Transform | None) -> None:
        self.history = history
        self.transform = transform
        self._facts: dict[int, CellFacts] = {}
        self._starts: list[int] = []
        offset = 0
        for entry in history:
            self._starts.append(offset)
            offset += len(entry.source) + 1
        self._text = "\0".join(entry.source for entry in history)
        self._binders: dict[str, list[int]] = {}
        self._opaque: list[int] | None = None
        self._runs_of_cell: dict[str, list[int]] | None = None
        self._stale: dict[int, tuple[object, ...] | None] = {}

    def facts(self, position: int) -> CellFacts:
        facts = self._facts.get(position)
        if facts is None:
            facts = self._facts[position] = cell_facts(self.history[position].source, self.transform)
        return facts

    def binders(self, name: str) -> list[int]:
        """Positions of the executions that bind ``name``, ascending."""
        found = self._binders.get(name)
        if found is None:
            found = [p for p in self._candidates(name) if name in self.facts(p).binds]
            self._binders[name] = found
        return found

    def _candidates(self, name: str) -> list[int]:
        """Executions whose text mentions ``name`` in a position that could bind it."""
        if not (name.isascii() and name.isidentifier()):
            return list(range(len(self.history)))
        text = self._text
        positions: list[int] = []
        for match in _mention(name).finditer(text):
            start, end = match.span()
            before = text[start - 1] if start else " "
            # ``obj.name`` binds no name; ``\nname`` is a line start inside a
            # magic's body, which IPython's transform keeps as a string literal.
            if (before.isalnum() or before in "_.") and text[start - 2:start] not in _ESCAPES:
                continue
            # ``name.attr`` only reads name, except in ``import name.sub``.
            if text.startswith(".", end) and not _IMPORT_LIST.search(text, max(0, start - 40), start):
                continue
            position = bisect.bisect_right(self._starts, start) - 1
            if not positions or positions[-1] != position:
                positions.append(position)
        return positions

    def opaque(self) -> list[int]:
        """Executions that may bind any name (``from m import *``, ``%run``)."""
        if self._opaque is None:
            text = self._text
            found = {
                bisect.bisect_right(self._starts, match.start()) - 1
                for pattern in _OPAQUE_HINTS for match in pattern.finditer(text)
                if pattern is _OPAQUE_HINTS[0] or text[match.start() - 1:match.start()] in ("'", '"', "%")
            }
            self._opaque = sorted(p for p in found if self.facts(p).opaque)
        return self._opaque

    def binder(self, name: str, before: int) -> int | None:
        """The latest execution before position ``before`` that binds ``name``."""
        found = self.binders(name)
        cut = bisect.bisect_left(found, before)
        if cut:
            return found[cut - 1]
        # Only a star import or %run can explain the name: the latest one.
        opaque = self.opaque()
        cut = bisect.bisect_left(opaque, before)
        return opaque[cut - 1] if cut else None

    def _changed_after(self, name: str, position: int) -> int | None:
        """The first execution after ``position`` that re-bound ``name`` to something new."""
        found = self.binders(name)
        cut = bisect.bisect_right(found, position)
        if cut == len(found):
            return None
        seen = found[cut - 1] if cut else None
        for later in found[cut:]:
            if seen is None or not self._same_definition(name, seen, later):
                return later
        return None

    def _same_definition(self, name: str, first: int, second: int) -> bool:
        """Re-running ``import numpy as np`` or an unchanged ``def`` rebinds nothing new."""
        a, b = self.facts(first), self.facts(second)
        origin = a.imports.get(name)
        if origin is not None and origin == b.imports.get(name):
            return True
        return (name in a.definitions and name in b.definitions
                and self.history[first].source == self.history[second].source)

    def edited_cell(self, name: str, position: int) -> RunWarning | None:
        """(c): the cell that bound ``name`` ran again later without binding it."""
        entry = self.history[position]
        if entry.cell_id is None:
            return None
        if self._runs_of_cell is None:
            runs: dict[str, list[int]] = {}
            for index, item in enumerate(self.history):
                if item.cell_id is not None:
                    runs.setdefault(item.cell_id, []).append(index)
            self._runs_of_cell = runs
        later = [p for p in self._runs_of_cell[entry.cell_id] if p > position]
        if not later or self.facts(position).opaque:
            return None
        rerun = self.history[later[-1]]
        return RunWarning(
            "hidden_state",
            f"{name} comes from In[{entry.execution_count}], but that cell was since edited and "
            f"re-run as In[{rerun.execution_count}], which no longer defines {name}: "
            f"the value is left over from the old version of the cell",
        )

    def staleness(self, name: str, position: int) -> RunWarning | None:
        """(b): the execution that bound ``name`` used an input re-bound after it ran."""
        chain = self._stale_chain(position, 0)
        if chain is None:
            return None
        entry = self.history[position]
        return RunWarning("hidden_state", _stale_message(name, entry.execution_count, chain, self.history))

    def _stale_chain(self, position: int, depth: int) -> tuple[object, ...] | None:
        """Why execution ``position`` computed from outdated values, or None.

        The chain alternates names and positions: ``(X, rebinder)`` when a name
        X it read was re-bound later by execution ``rebinder``, or
        ``(Y, source, *rest)`` when a name Y it read came from execution
        ``source`` that is itself stale for the reason ``rest``.
        """
        if position in self._stale:
            return self._stale[position]
        self._stale[position] = None  # guards against cycles while computing
        result: tuple[object, ...] | None = None
        for read in sorted(self.facts(position).loaded):
            if _is_implicit(read, ()):
                continue
            rebinder = self._changed_after(read, position)
            if rebinder is not None:
                result = (read, rebinder)
                break
        if result is None and depth < MAX_CHAIN:
            for read in sorted(self.facts(position).loaded):
                if _is_implicit(read, ()):
                    continue
                source = self.binder(read, position)
                if source is None:
                    continue
                inner = self._stale_chain(source, depth + 1)
                if inner is not None:
                    result = (read, source, *inner)
                    break
        self._stale[position] = result
        return result


def _stale_message(name: str, count: int, chain: tuple[object, ...], history: Sequence[HistoryEntry]) -> str:
    parts = [f"{name} comes from In[{count}]"]
    items = list(chain)
    while len(items) > 2:
        read, source = items[0], items[1]
        assert isinstance(source, int)
        parts.append(f"which used {read} from In[{history[source].execution_count}]")
        items = items[2:]
    read, rebinder = items
    assert isinstance(rebinder, int)
    parts.append(
        f"which used {read}; {read} was re-defined afterwards by In[{history[rebinder].execution_count}], "
        f"so {name} may be stale (cells ran out of order)"
    )
    return ", ".join(parts)
