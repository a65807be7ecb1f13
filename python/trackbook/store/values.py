"""How Python values become column values and back.

Times are stored as fixed-width ISO 8601 UTC text (``2024-05-01T12:00:00.000000Z``):
readable in any SQL shell, exact to the microsecond, and ordered correctly
by plain text comparison, so ``ORDER BY started_at`` and "heartbeat older
than" are index-friendly on SQLite and PostgreSQL alike. JSON columns are
compact text written by :func:`dumps`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from typing import Any

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(value: dt.datetime) -> str:
    """A datetime as stored text; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime(TIME_FORMAT)


def format_optional_time(value: dt.datetime | None) -> str | None:
    """:func:`format_time`, passing ``None`` through."""
    return None if value is None else format_time(value)


def parse_time(text: str) -> dt.datetime:
    """Stored text back to an aware UTC datetime."""
    # fromisoformat is many times faster than strptime (listings parse thousands);
    # the trailing "Z" is dropped because Python 3.10 does not accept it.
    return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.timezone.utc)


def parse_optional_time(text: str | None) -> dt.datetime | None:
    """:func:`parse_time`, passing ``None`` through."""
    return None if text is None else parse_time(text)


def _plain(value: Any) -> Any:
    # numpy scalars and other number-likes reach params from user code.
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return str(value)


def dumps(value: Any) -> str:
    """Compact JSON text; values JSON cannot hold become their ``str``."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_plain)


def dumps_optional(value: Any) -> str | None:
    """:func:`dumps`, passing ``None`` through as SQL NULL."""
    return None if value is None else dumps(value)


def loads(text: str | None, default: Any = None) -> Any:
    """Parse JSON text; SQL NULL gives ``default``."""
    return default if text is None else json.loads(text)


@functools.lru_cache(maxsize=8192)
def source_hash(text: str) -> str:
    """sha256 hex of a history input: its key in the ``sources`` table.

    Cached because every tracked cell sends the whole session history again.
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def metric_value_in(value: float) -> float | None:
    """SQLite turns NaN into NULL anyway; make it explicit so PostgreSQL agrees."""
    number = float(value)
    return None if math.isnan(number) else number


def metric_value_out(value: float | None) -> float:
    """NULL (a NaN that was logged) back to NaN."""
    return math.nan if value is None else float(value)


def param_number(value: Any) -> float | None:
    """A parameter's value as a float when it is a finite number (not a bool), else ``None``.

    Stored beside the JSON text so sorting by a parameter orders numbers by
    value (``2 < 10``), which their text does not.
    """
    if isinstance(value, bool):
        return None
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and not isinstance(value, (int, float)):
        try:
            value = item()
        except (TypeError, ValueError):
            return None
        if isinstance(value, bool):
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
