"""How a run listing is ordered: sort specs, their index-ordered segments, keyset positions.

A sort is split into *segments*, each one walk of an index in order:

==================  =====================================================  ================
sort                segments, in listing order                             index walked
==================  =====================================================  ================
``started_at``      every run by (started_at, id)                          runs(started_at, id)
``name``            named runs by (name, id); then unnamed, newest first   runs(name, id)
``duration_s``      finished runs by (duration_s, id); then the others     runs(duration_s, id)
``metrics.<key>``   runs with a value by (value, id); then the others      metrics(key, latest, value, run_id)
``params.<key>``    numbers by (num, value, id); other values by           params(key, num, value, run_id)
                    (value, id); then runs without the parameter
==================  =====================================================  ================

A leading ``-`` reverses the segments that hold values; runs *without* the
value always come last, newest first (NaN metrics count as missing). Every
segment ends its order with the run id, so a (segment, values, id) position
is a total order and the next page is an index seek past it (keyset
pagination): page 2,000 costs what page 1 costs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, select, true, tuple_

from ..exceptions import UsageError
from . import schema as s

#: Sort fields other than ``metrics.<key>`` and ``params.<key>``.
RUN_FIELDS = ("started_at", "name", "duration_s")
DEFAULT_SORT = "-started_at"
#: A metric or parameter key: 1-250 characters, no control characters (the
#: same pattern as ``api/openapi.yaml``).
_SORT = re.compile(r"(-?)(started_at|name|duration_s|(metrics|params)\.([^\x00-\x1f\x7f]{1,250}))")


@dataclass(frozen=True)
class RunSort:
    """A parsed sort: ``field`` (``started_at``, ``name``, ``duration_s``, ``metrics``,
    ``params``), the metric or parameter ``key``, and the direction."""

    field: str
    key: str | None = None
    descending: bool = False

    @property
    def text(self) -> str:
        """The sort as the API spells it (``-metrics.accuracy``)."""
        name = self.field if self.key is None else f"{self.field}.{self.key}"
        return f"-{name}" if self.descending else name


@dataclass(frozen=True)
class SortPosition:
    """Where a page ended: segment index, that segment's sort values, and the run id."""

    segment: int
    values: tuple[Any, ...]
    run_id: str


def parse_sort(text: str | None) -> RunSort:
    """Parse ``-started_at``, ``name``, ``-metrics.accuracy``, ``params.lr``, ...

    Raises
    ------
    UsageError
        Not one of the accepted forms (the message lists them).
    """
    match = _SORT.fullmatch(DEFAULT_SORT if text is None else text)
    if match is None:
        raise UsageError(
            f"sort: {str(text)[:80]!r} is not a sort; use started_at, name, duration_s, "
            "metrics.<key> or params.<key>, with a leading '-' for descending"
        )
    descending = match.group(1) == "-"
    if match.group(3):
        return RunSort(match.group(3), match.group(4), descending)
    return RunSort(match.group(2), None, descending)


@dataclass(frozen=True)
class Segment:
    """One index-ordered walk: ``SELECT run_id, *columns ... ORDER BY *columns, run_id``."""

    run_id: Any
    columns: tuple[Any, ...]
    where: ColumnElement[bool]
    descending: bool
    #: Python types each value of a position may have (cursors are checked against them).
    value_types: tuple[tuple[type, ...], ...]
    #: ``where`` in a form no index on ``key`` can serve (see :meth:`select`).
    seek_where: Any = None

    def __post_init__(self) -> None:
        if self.seek_where is None:
            object.__setattr__(self, "seek_where", self.where)

    def select(self, after: SortPosition | None, by_run: bool = False) -> Select[Any]:
        """The ordered walk, starting after ``after`` (a position in this segment).

        ``by_run``: the caller restricts the walk to a few run ids, and the
        database should look each one up rather than walk the whole index.
        """
        keys = (*self.columns, self.run_id)
        query = select(*keys).where(self.seek_where if by_run else self.where)
        if after is not None:
            mark = tuple_(*[*after.values, after.run_id]) if self.columns else after.run_id
            here = tuple_(*keys) if self.columns else self.run_id
            query = query.where(here < mark if self.descending else here > mark)
        return query.order_by(*[k.desc() if self.descending else k.asc() for k in keys])

    def check(self, position: SortPosition) -> None:
        """Raise ``UsageError`` unless ``position``'s values fit this segment."""
        if len(position.values) != len(self.columns) or not all(
            isinstance(v, t) and not isinstance(v, bool)
            for v, t in zip(position.values, self.value_types)
        ):
            raise UsageError("cursor: does not belong to this sort; start from the first page")


_FLOAT = (float, int)
_TEXT = (str,)


def segments(sort: RunSort) -> list[Segment]:
    """The segments of ``sort``, in listing order."""
    r = s.runs.c
    down = sort.descending
    newest_last_group = Segment(r.id, (), true(), True, ())
    if sort.field == "started_at":
        return [Segment(r.id, (r.started_at,), true(), down, (_TEXT,))]
    if sort.field == "name":
        return [
            Segment(r.id, (r.name,), r.name.is_not(None), down, (_TEXT,)),
            _replace_where(newest_last_group, r.name.is_(None)),
        ]
    if sort.field == "duration_s":
        return [
            Segment(r.id, (r.duration_s,), r.duration_s.is_not(None), down, (_FLOAT,)),
            _replace_where(newest_last_group, r.duration_s.is_(None)),
        ]
    key = str(sort.key)
    if sort.field == "metrics":
        m = s.metrics.c
        has_value = and_(m.latest.is_(True), m.value.is_not(None))
        valued = Segment(
            m.run_id,
            (m.value,),
            and_(m.key == key, has_value),
            down,
            (_FLOAT,),
            and_(_unindexed(m.key) == key, has_value),
        )
        # Hidden key: the lookup must use the primary key (run_id, key, step);
        # SQLite would otherwise pick (key, latest, value, run_id) and scan it.
        lacking = ~exists().where(m.run_id == r.id, _unindexed(m.key) == key, has_value)
        return [valued, _replace_where(newest_last_group, lacking)]
    p = s.params.c
    numbers = Segment(
        p.run_id,
        (p.num, p.value),
        and_(p.key == key, p.num.is_not(None)),
        down,
        (_FLOAT, _TEXT),
        and_(_unindexed(p.key) == key, p.num.is_not(None)),
    )
    others = Segment(
        p.run_id,
        (p.value,),
        and_(p.key == key, p.num.is_(None)),
        down,
        (_TEXT,),
        and_(_unindexed(p.key) == key, p.num.is_(None)),
    )
    lacking = ~exists().where(p.run_id == r.id, p.key == key)
    present = [others, numbers] if down else [numbers, others]
    return [*present, _replace_where(newest_last_group, lacking)]


def _unindexed(column: Any) -> Any:
    """``column || ''``: the same value, but no index on ``column`` serves a test on it.

    With a short ``run_id IN (...)`` list, SQLite (without statistics) would
    still walk the whole ``(key, ...)`` index and probe the list; hiding the
    key makes it seek each run by the primary key instead. Portable SQL.
    """
    return column.concat("")


def _replace_where(segment: Segment, where: ColumnElement[bool]) -> Segment:
    return Segment(segment.run_id, segment.columns, where, segment.descending, segment.value_types)
