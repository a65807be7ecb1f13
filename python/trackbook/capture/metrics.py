"""Metrics of a run: the numeric scalars its cell computed.

By default every real number the cell binds is a metric (``accuracy =
model.score(...)``), except names that are parameters (literal assignments,
which the caller passes as ``exclude``) and private names (``_tmp``).
``--metrics x,y`` narrows the selection to exactly those names, and a name
asked for that is missing or not a number is reported, not silently dropped.

Accepted values: ``int``/``float`` (not ``bool``), anything registered as
:class:`numbers.Real` (NumPy integer and floating scalars, ``Fraction``), and
0-d arrays or tensors of a real dtype. NaN and infinities are kept: a metric
that diverged is a result too.
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Iterable, Mapping
from typing import Any


def scalar_metrics(
    names: Iterable[str],
    namespace: Mapping[str, Any],
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> tuple[dict[str, float], list[str]]:
    """Collect numeric scalars from the namespace as metrics.

    Parameters
    ----------
    names:
        Candidate names, usually those the cell stored.
    namespace:
        The user namespace after the cell ran.
    exclude:
        Names that are not metrics (literal parameters); ignored for names in ``only``.
    only:
        ``--metrics`` names: when given, exactly these are collected, wherever
        they were computed.

    Returns
    -------
    tuple
        ``(metrics, problems)``: name -> float, and one message per name in
        ``only`` that is missing or not a real number.
    """
    metrics: dict[str, float] = {}
    problems: list[str] = []
    if only is not None:
        for name in only:
            if name not in namespace:
                problems.append(f"{name} is not defined, so it was not recorded")
                continue
            number = as_real(namespace[name])
            if number is None:
                kind = type(namespace[name]).__name__
                problems.append(f"{name} is a {kind}, not a real number, so it was not recorded")
            else:
                metrics[name] = number
        return metrics, problems
    excluded = set(exclude)
    for name in names:
        if name in excluded or name.startswith("_") or name not in namespace:
            continue
        number = as_real(namespace[name])
        if number is not None:
            metrics[name] = number
    return metrics, problems


def as_real(value: Any) -> float | None:
    """``value`` as a float if it is a real number (not a bool), else ``None``."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        try:
            return float(value)
        except (OverflowError, TypeError, ValueError):
            return None
    if getattr(value, "ndim", None) == 0 and not isinstance(value, type):
        return _zero_dim(value)
    return None


def _zero_dim(value: Any) -> float | None:
    """A 0-d NumPy array or tensor of a real dtype (``np.array(0.5)``, ``torch.tensor(0.5)``)."""
    dtype = getattr(value, "dtype", None)
    kind = getattr(dtype, "kind", None)
    if kind is not None and kind not in "iuf":
        return None  # bool, complex, datetime, object, strings
    if kind is None and (getattr(dtype, "is_complex", False) or str(dtype).endswith("bool")):
        return None  # torch dtypes have no .kind
    try:
        item = value.item()
    except Exception:
        return None
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        return None
    try:
        return float(item)
    except OverflowError:
        return None
