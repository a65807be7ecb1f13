"""Overrides (``-p KEY VALUE``) and the parameters cell that carries them.

A value given on the command line is read as a JSON literal when it is one
(``0.5``, ``true``, ``null``, ``"0.5"``, ``[1, 2]``) and as a plain string
otherwise (``-p model forest``), as papermill's ``-p`` does. Values from the
Python API must be JSON values (strings, finite numbers, booleans, ``None``,
lists, dicts with string keys): they are stored with the replay as JSON.

Values reach the kernel as Python source, so they are written with
:func:`python_literal`, which checks that ``ast.literal_eval`` gives the
value back exactly: quotes, backslashes, newlines and any unicode survive.

An override must win wherever the notebook sets the name, like papermill's
parameters do. So besides the parameters cell, every top-level
``name = <literal>`` of an overridden name in the replayed cells is
rewritten to the override (:func:`rewrite_assignments`), and ``%%track``
binds the overrides again right before the tracked body (for names an
earlier cell computes). A tracked cell that *computes* an overridden name
cannot be overridden: :func:`check_overridable` says so before anything runs.
"""

from __future__ import annotations

import ast
import json
import keyword
import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..exceptions import UsageError
from .plan import REPLAY_VARIABLE, ReplayPlan

#: First line of the injected cell: papermill's marker, which capture reads parameters from.
PARAMETERS_MARKER = "# Parameters"
#: The tag papermill gives the cell it injects.
PARAMETERS_TAG = "injected-parameters"

_MAX_DEPTH = 20


def parse_override(key: str, text: str) -> tuple[str, Any]:
    """One ``-p KEY VALUE`` pair: the key checked, the value read as JSON when it is JSON."""
    check_key(key)
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text
    if isinstance(value, float) and not math.isfinite(value):
        value = text  # `-p x NaN`: JSON extensions Python accepts; keep the text
    return key, normalise_value(key, value)


def parse_overrides(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Many ``-p KEY VALUE`` pairs; a key given twice keeps its last value."""
    result: dict[str, Any] = {}
    for key, text in pairs:
        name, value = parse_override(key, text)
        result[name] = value
    return result


def normalise_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Overrides from the Python API, checked and copied as JSON values."""
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise UsageError(f"overrides must be a dict of name -> value, got {type(overrides).__name__}")
    result: dict[str, Any] = {}
    for key, value in overrides.items():
        if not isinstance(key, str):
            raise UsageError(f"override names must be strings, got {key!r}")
        check_key(key)
        result[key] = normalise_value(key, value)
    return result


def check_key(key: str) -> None:
    """An override names a Python variable the notebook uses."""
    if not key.isidentifier() or keyword.iskeyword(key):
        raise UsageError(f"-p {key!r}: an override needs a Python variable name, e.g. -p lr 0.01")
    if key == REPLAY_VARIABLE:
        raise UsageError(f"-p {key}: this name is reserved for the replay itself")


def normalise_value(key: str, value: Any, depth: int = 0) -> Any:
    """``value`` as a JSON value (tuples become lists), or a :class:`UsageError` naming ``key``."""
    if depth > _MAX_DEPTH:
        raise UsageError(f"override {key!r} is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"override {key!r}: {value} cannot be stored as JSON; give a finite number")
        return float(value)
    if isinstance(value, (list, tuple)):
        return [normalise_value(key, item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise UsageError(f"override {key!r}: dict keys must be strings")
        return {k: normalise_value(key, v, depth + 1) for k, v in value.items()}
    raise UsageError(
        f"override {key!r}: {type(value).__name__} is not a JSON value (use str, int, float, bool, None, list or dict)"
    )


def python_literal(value: Any) -> str:
    """Python source that evaluates to ``value`` exactly (a JSON value).

    ``repr`` of JSON values is a Python literal; the round trip is checked,
    so a value that would not come back unchanged is an error, never a
    silently different parameter.
    """
    text = repr(value)
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:  # pragma: no cover - repr of JSON values parses
        raise UsageError(f"{value!r} cannot be written as a Python literal ({exc})") from None
    if not _same_value(back, value):
        raise UsageError(f"{value!r} does not survive as a Python literal")
    return text


def _same_value(a: Any, b: Any) -> bool:
    # True == 1 in Python; a parameter that changes type has not round-tripped.
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def parameters_source(overrides: Mapping[str, Any], plan: ReplayPlan) -> str:
    """The injected cell: the overrides, then the plan ``%%track`` reads.

    Starts with papermill's marker, so the replayed run records the overrides
    as papermill parameters, as it would for any papermill execution.
    """
    lines = [PARAMETERS_MARKER]
    lines += [f"{key} = {python_literal(value)}" for key, value in overrides.items()]
    lines.append("# Seeds and run links for %%track (trackbook replay)")
    lines.append(f"{REPLAY_VARIABLE} = {python_literal(plan.to_json())}")
    return "\n".join(lines)


def check_overridable(body: str, overrides: Mapping[str, Any]) -> None:
    """Refuse overrides the tracked cell would overwrite with a computed value."""
    from ..capture.assignments import cell_facts

    facts = cell_facts(body)
    computed = sorted(name for name in overrides if name in facts.stored and name not in facts.literals)
    if computed:
        raise UsageError(
            f"cannot override {', '.join(computed)}: the tracked cell computes "
            f"{'it' if len(computed) == 1 else 'them'}; only names it sets to a literal "
            "(lr = 0.1) or reads from earlier cells can be overridden"
        )


def rewrite_assignments(source: str, overrides: Mapping[str, Any]) -> str:
    """``source`` with each top-level ``name = <literal>`` of an overridden name set to the override.

    Only the value is replaced, so comments and layout stay. IPython syntax
    (``%%track`` first line, ``%magic`` and ``!cmd`` lines) is allowed; lines
    it occupies are never rewritten.
    """
    if not overrides or not any(name in source for name in overrides):
        return source
    lines = source.split("\n")
    offset, body = 0, source
    if lines[0].lstrip().startswith("%%"):
        offset, body = 1, "\n".join(lines[1:])
    tree = _parse(body)
    if tree is None:
        return source
    body_lines = body.split("\n")
    edits: list[tuple[int, int, int, str]] = []  # (line, start col, end col, text), 0-based chars
    for node in tree.body:
        target, value = _single_target(node)
        if target is None or value is None or target not in overrides:
            continue
        if value.lineno != value.end_lineno or not _is_literal(value):
            continue
        line = body_lines[value.lineno - 1]
        start = _char_col(line, value.col_offset)
        end = _char_col(line, value.end_col_offset or value.col_offset)
        edits.append((value.lineno - 1 + offset, start, end, python_literal(overrides[target])))
    for index, start, end, text in sorted(edits, reverse=True):
        lines[index] = lines[index][:start] + text + lines[index][end:]
    return "\n".join(lines)


def _parse(body: str) -> ast.Module | None:
    from ..capture.assignments import rewrite_magics

    try:
        return ast.parse(body)
    except (SyntaxError, ValueError):
        pass
    # Line magics and shell escapes become one call per line (line numbers
    # kept); lines that were plain Python keep their columns too.
    try:
        tree = ast.parse(rewrite_magics(body))
    except (SyntaxError, ValueError):
        return None
    original = body.split("\n")
    rewritten = rewrite_magics(body).split("\n")
    kept = [node for node in tree.body
            if all(i < len(original) and original[i] == rewritten[i]
                   for i in range(node.lineno - 1, (node.end_lineno or node.lineno)))]
    tree.body = kept
    return tree


def _single_target(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return node.target.id, node.value
    return None, None


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _char_col(line: str, byte_col: int) -> int:
    # ast reports UTF-8 byte offsets; strings are indexed by character.
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))
