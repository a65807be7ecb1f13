"""Parameters of a run: what was chosen, as opposed to what was computed.

Sources, from weakest to strongest (the caller merges them in this order):
papermill's injected parameters cell, literal assignments in the tracked
cell (``lr = 0.1``), fitted estimators' ``get_params()``, names listed with
``--params``, and ``trackbook.log_param(s)``.

Parameters are stored as JSON, so every value is converted to a JSON scalar
or a short list of them; NumPy scalars become Python numbers. NumPy is never
imported here: values are recognised by duck typing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..entities import HistoryEntry
from .assignments import Transform, literal_assignments

#: Lists longer than this are data, not a parameter.
MAX_LIST_ITEMS = 32
#: Longest repr kept for a value that is not JSON.
MAX_REPR_CHARS = 200

_PAPERMILL_MARKER = "# Parameters"


def literal_params(source: str, transform: Transform | None = None) -> dict[str, Any]:
    """Literal assignments of a cell (``lr = 0.1``, ``depth = -3``, ``name = 'rf'``).

    See :func:`trackbook.capture.assignments.literal_assignments`.
    """
    return literal_assignments(source, transform)


def papermill_params(history: Sequence[HistoryEntry]) -> dict[str, Any]:
    """Parameters papermill injected into this session.

    papermill inserts a cell whose source starts with the comment line
    ``# Parameters`` followed by one literal assignment per parameter. When a
    session ran several (a notebook re-executed in place), the last one wins.
    """
    for entry in reversed(history):
        if _is_papermill_cell(entry.source):
            return literal_assignments(entry.source)
    return {}


def _is_papermill_cell(source: str) -> bool:
    # Called for every history entry of every tracked cell: look at the first
    # non-blank line only, without splitting the whole source.
    text = source.lstrip()
    if not text.startswith(_PAPERMILL_MARKER):
        return False
    return text.split("\n", 1)[0].strip() == _PAPERMILL_MARKER


def estimator_params(var_name: str, obj: Any) -> dict[str, Any]:
    """Hyper-parameters of a fitted estimator, keyed ``"<var>.<param>"``.

    Duck-typed on scikit-learn's conventions (``get_params(deep=True)``,
    fitted attributes end with ``_``), so XGBoost, LightGBM and any other
    compatible estimator work without importing scikit-learn. Nested
    estimators (pipelines, meta-estimators) appear under their ``deep`` keys,
    e.g. ``pipe.clf__max_depth``; values that are estimators or other objects
    are left out. Unfitted estimators give ``{}``: their parameters are not
    yet the run's.
    """
    get_params = getattr(obj, "get_params", None)
    if isinstance(obj, type) or not callable(get_params) or not is_fitted(obj):
        return {}
    try:
        try:
            params = get_params(deep=True)
        except TypeError:
            params = get_params()
        items = list(params.items())
    except Exception:  # a third-party get_params may fail in any way; the run must not
        return {}
    result: dict[str, Any] = {}
    for key, value in items:
        plain = jsonable(value)
        if plain is None and value is not None:
            continue
        if isinstance(plain, dict):
            continue
        result[f"{var_name}.{key}"] = plain
    return result


def is_fitted(obj: Any) -> bool:
    """scikit-learn's rule: ``__sklearn_is_fitted__()``, else any public attribute ending in ``_``."""
    check = getattr(obj, "__sklearn_is_fitted__", None)
    if callable(check):
        try:
            return bool(check())
        except Exception:
            return False
    try:
        attributes = vars(obj)
    except TypeError:
        return False
    return any(key.endswith("_") and not key.startswith("__") for key in attributes)


def named_params(names: Iterable[str], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Values of the names given with ``--params``.

    JSON scalars and short lists are stored as they are; anything else as its
    ``repr`` (truncated), so the run still says what the value was. Names not
    in the namespace are skipped.
    """
    result: dict[str, Any] = {}
    for name in names:
        if name in namespace:
            result[name] = param_value(namespace[name])
    return result


def param_value(value: Any) -> Any:
    """A value as a parameter: JSON when possible, else a truncated ``repr``."""
    plain = jsonable(value)
    if plain is not None or value is None:
        return plain
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not lose the run
        text = f"<{type(value).__name__}: repr failed ({type(exc).__name__})>"
    return text if len(text) <= MAX_REPR_CHARS else text[: MAX_REPR_CHARS - 1] + "…"


def jsonable(value: Any) -> Any:
    """``value`` as JSON (scalars, short lists, small str-keyed dicts), or ``None``.

    NumPy scalars and 0-d arrays become Python numbers; tuples become lists.
    ``None`` also means "not representable": test ``value is None`` first when
    the difference matters.
    """
    return _jsonable(value, depth=0)


def _jsonable(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)  # also turns int subclasses (IntEnum) into plain ints
    if isinstance(value, float):
        return float(value)  # numpy.float64 is a float subclass
    if isinstance(value, str):
        return str(value)
    if _is_numpy_scalar(value):
        try:
            item = value.item()
        except Exception:
            return None
        return item if item is None or isinstance(item, (bool, int, float, str)) else None
    if depth >= 2:
        return None
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_LIST_ITEMS:
            return None
        items = [_jsonable(item, depth + 1) for item in value]
        if any(new is None and old is not None for new, old in zip(items, value)):
            return None
        return items
    if isinstance(value, dict):
        if len(value) > MAX_LIST_ITEMS or not all(isinstance(key, str) for key in value):
            return None
        converted = {key: _jsonable(item, depth + 1) for key, item in value.items()}
        if any(converted[key] is None and item is not None for key, item in value.items()):
            return None
        return converted
    return None


def _is_numpy_scalar(value: Any) -> bool:
    # NumPy scalars and 0-d arrays, recognised without importing NumPy.
    module = type(value).__module__
    if module != "numpy" or not hasattr(value, "item"):
        return False
    return getattr(value, "ndim", None) == 0 or not hasattr(value, "__len__")
