"""Why a replay differs: what changed around the run, and the likely cause of a result difference.

:func:`read_context` gathers what changed between the original and the
replay *before* the result facets are compared; :func:`attribute` then names
the most likely cause of any result difference, checking in this order:

1. ``parameter_override``: the replay changed a parameter on purpose (``-p``);
2. ``input_data_changed``: a file the cell read, or data it received, differs;
3. ``code_differs``: the tracked cell's code, or the code that ran before it;
4. ``cell_order``: the same cells ran in another order or number of times;
5. ``package_changed``: a module the runs imported, or Python, has another
   version (every changed distribution is listed, but one nothing imported
   cannot explain a result);
6. ``unseeded_randomness``: nothing recorded changed, so the cell itself is
   not deterministic: it draws from a generator trackbook does not seed
   (``os.urandom``, ``secrets``, a module that bound ``default_rng`` early),
   reads the clock, or depends on thread scheduling.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..entities import Difference, InputRecord, Run
from .notebook import replayable_source
from .parameters import PARAMETERS_MARKER
from .plan import REPLAY_VARIABLE


@dataclass
class Context:
    """What changed around the run between the original and its replay."""

    overrides: dict[str, Any]
    changed_overrides: list[str] = field(default_factory=list)
    input_differences: list[Difference] = field(default_factory=list)
    changed_inputs: list[str] = field(default_factory=list)  # file paths first, then data names
    code_changed: bool = False
    history: str | None = None  # None, "cell_order" or "code_differs"
    history_detail: str = ""
    packages: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    #: Changes that can matter: modules the runs imported (or Python itself).
    imported: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def read_context(original: Run, replayed: Run, overrides: Mapping[str, Any]) -> Context:
    """Compare inputs, code, history and environment of the two runs."""
    context = Context(overrides=dict(overrides))
    context.changed_overrides = [
        key for key, value in overrides.items() if original.params.get(key, _MISSING) != value
    ]
    context.code_changed = (
        replayable_source(original.code, overrides).rstrip() != replayed.code.rstrip()
    )
    context.history, context.history_detail = _history_change(original, replayed, overrides)
    context.packages, context.imported = _package_changes(original, replayed)
    _compare_inputs(original, replayed, context)
    return context


def attribute(context: Context, what: str) -> tuple[str, str]:
    """The likely cause of a difference in ``what``, and a sentence saying why."""
    if context.changed_overrides:
        names = ", ".join(context.changed_overrides)
        return "parameter_override", f"the replay overrode {names}"
    if context.changed_inputs:
        return "input_data_changed", f"input data changed: {', '.join(context.changed_inputs)}"
    if context.code_changed:
        return "code_differs", "the tracked cell's code differs from the recorded code"
    if context.history == "code_differs":
        return "code_differs", context.history_detail
    if context.history == "cell_order":
        return "cell_order", context.history_detail
    if context.imported:
        shown = ", ".join(f"{name} {old or 'absent'} -> {new or 'absent'}" for name, old, new in context.imported[:5])
        more = f" and {len(context.imported) - 5} more" if len(context.imported) > 5 else ""
        return "package_changed", f"imported packages changed: {shown}{more}"
    return "unseeded_randomness", (
        f"code, data, parameters, seeds and packages are the same, so {what} is not deterministic: "
        "the cell reads randomness trackbook does not seed (os.urandom, secrets, uuid), "
        "the clock, or depends on thread scheduling"
    )


def context_differences(context: Context) -> list[Difference]:
    """The context changes themselves, as differences that explain but do not decide."""
    found = []
    for name, old, new in context.packages:
        found.append(Difference(
            "environment", name, old, new, "package_changed",
            f"{name}: {old or 'not installed'} in the original, {new or 'not installed'} in the replay",
        ))
    if context.code_changed:
        found.append(Difference(
            "code", "code", None, None, "code_differs",
            "the tracked cell's code differs from the recorded code",
        ))
    if context.history is not None:
        found.append(Difference("code", "history", None, None, context.history, context.history_detail))
    return found


# -- inputs ---------------------------------------------------------------------------


def _input_key(record: InputRecord) -> str:
    return record.path or record.name if record.kind == "file" else record.name


def _compare_inputs(original: Run, replayed: Run, context: Context) -> None:
    old = {_input_key(r): r for r in original.inputs}
    new = {_input_key(r): r for r in replayed.inputs}
    changed_files: list[str] = []
    changed_data: list[str] = []
    for key in [k for k in old if k in new]:
        a, b = old[key], new[key]
        if a.fingerprint == b.fingerprint:
            continue
        (changed_files if a.kind == "file" else changed_data).append(key)
        context.input_differences.append(Difference(
            "input", key, a.fingerprint, b.fingerprint, "input_data_changed",
            _changed_input_text(original, a, b),
        ))
    context.changed_inputs = changed_files + changed_data
    for key in [k for k in old if k not in new] + [k for k in new if k not in old]:
        record = old.get(key) or new[key]
        cause, why = attribute(context, f"input {key}")
        where = "the original read it, the replay did not" if key in old else "only the replay read it"
        context.input_differences.append(Difference(
            "input", key, old[key].fingerprint if key in old else None,
            new[key].fingerprint if key in new else None, cause,
            f"{record.kind} {key}: {where}; {why}",
        ))


def _changed_input_text(original: Run, a: InputRecord, b: InputRecord) -> str:
    fingerprints = f"{_short(a.fingerprint)} -> {_short(b.fingerprint)}"
    if a.kind == "file":
        return f"the file {a.path or a.name} changed since the run ({fingerprints})"
    shapes = "" if a.shape == b.shape else f", shape {a.shape} -> {b.shape}"
    origin = next((d for d in original.dependencies if d.name == a.name), None)
    built = ""
    if origin is not None and origin.execution_count is not None:
        built = f"; it was built by In[{origin.execution_count}], whose data or randomness changed"
    return f"the data in {a.name} ({a.kind}) differs ({fingerprints}{shapes}){built}"


def _short(fingerprint: str) -> str:
    kind, _, digest = fingerprint.partition(":")
    return f"{kind}:{digest[:12]}…" if digest else fingerprint[:16]


# -- history -------------------------------------------------------------------------------


def _history_change(original: Run, replayed: Run, overrides: Mapping[str, Any]) -> tuple[str | None, str]:
    upto = original.execution_count
    before = [replayable_source(e.source, overrides).rstrip() for e in original.history
              if upto is None or e.execution_count <= upto]
    after = [e.source.rstrip() for e in replayed.history
             if replayed.execution_count is None or e.execution_count <= replayed.execution_count]
    before = [s for s in before if not _injected(s)]
    after = [s for s in after if not _injected(s)]
    if not before or before == after:
        return None, ""
    if Counter(before) == Counter(after) or set(before) == set(after):
        return "cell_order", (
            f"the replay ran the same cells as the recorded session in a different order or number "
            f"of times ({len(before)} executions recorded, {len(after)} replayed)"
        )
    missing = sum(1 for s in set(before) if s not in set(after))
    extra = sum(1 for s in set(after) if s not in set(before))
    return "code_differs", (
        f"the code that ran before the tracked cell differs from the recorded session: {missing} recorded "
        f"input(s) did not run in the replay, {extra} replayed cell(s) never ran in the session"
    )


def _injected(source: str) -> bool:
    if source.startswith(PARAMETERS_MARKER) and REPLAY_VARIABLE in source:
        return True
    return source.strip() in ("%load_ext trackbook", "%reload_ext trackbook")


# -- environment ---------------------------------------------------------------------------


Change = tuple[str, str | None, str | None]


def _package_changes(original: Run, replayed: Run) -> tuple[list[Change], list[Change]]:
    """Every installed distribution that changed, and the imported modules (and Python) that did.

    Only the second can explain a result: a package neither run imported
    cannot have changed what the cell computed.
    """
    a, b = original.environment, replayed.environment
    if a is None or b is None:
        return [], []
    python: list[Change] = [("python", a.python, b.python)] if a.python != b.python else []
    installed = [(name, a.packages.get(name), b.packages.get(name))
                 for name in sorted(set(a.packages) | set(b.packages)) if a.packages.get(name) != b.packages.get(name)]
    # A module only one kernel imported is a matter of code, not of versions.
    imported = [(name, a.modules[name], b.modules[name])
                for name in sorted(set(a.modules) & set(b.modules)) if a.modules[name] != b.modules[name]]
    return python + installed, python + imported


_MISSING = object()
