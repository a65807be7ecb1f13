"""One page of a filtered, sorted run listing, with keyset pagination.

The filters select a set of runs (from :class:`~.run_index.RunIndex` and the
tags index); the sort walks one index per segment (see :mod:`.run_sort`)
and keeps the runs in that set:

- no filter: the walk is the page (``LIMIT n``);
- a small set (at most ``SMALL_SET`` runs): ``run_id IN (...)`` is added to the walk;
- a larger set: the walk is read in chunks sized by the set's density and
  filtered here, so a filter matching a tenth of the runs reads about ten
  times the page.

Then the page's run columns, parameters, latest metrics and tags are
fetched for those ids only: four indexed queries whatever the store holds.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..entities import RUN_STATUSES, RunSummary
from ..exceptions import UsageError
from . import schema as s
from .fastexec import fetch_tuples
from .run_index import RunIndex, Selection, change_token
from .run_sort import RunSort, Segment, SortPosition, segments
from .runs_read import MIN_PREFIX, latest_metrics_query, params_query, summary_from_row, tags_query
from .values import loads, metric_value_out

#: Largest filtered set passed to the database as an ``IN`` list.
SMALL_SET = 2000
#: Most rows one chunk of a filtered walk reads.
MAX_CHUNK = 5000
MAX_LIMIT = 500
_ULID_CHARS = re.compile(r"[0-9A-HJKMNP-TV-Z]+")


@dataclass(frozen=True)
class RunQuery:
    """What a listing asks for; every filter given must hold (AND).

    ``q`` is a case-insensitive substring of the name, notebook or a tag
    value, or a run id prefix (at least 6 characters); ``statuses`` any of
    these; ``notebook`` the exact path; ``tags`` every ``(key, value)`` pair.
    """

    sort: RunSort
    limit: int = 50
    q: str | None = None
    statuses: tuple[str, ...] = ()
    notebook: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    after: SortPosition | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.statuses or self.notebook is not None or self.tags)


@dataclass(frozen=True)
class RunPage:
    """A page of summaries, where the next page starts, and how many runs match in all.

    ``token`` is the store's change token when the page was read; the key
    lists hold every metric, parameter and tag key in the store.
    """

    runs: list[RunSummary]
    next_after: SortPosition | None
    total: int
    token: str = ""
    metric_keys: list[str] = field(default_factory=list)
    param_keys: list[str] = field(default_factory=list)
    tag_keys: list[str] = field(default_factory=list)


def query_runs(conn: Connection, index: RunIndex, query: RunQuery) -> RunPage:
    """The page ``query`` asks for (see the module docstring for how)."""
    query = _checked(query)
    token = change_token(conn)
    walk = segments(query.sort)
    if query.after is not None:
        if not 0 <= query.after.segment < len(walk):
            raise UsageError("cursor: does not belong to this sort; start from the first page")
        walk[query.after.segment].check(query.after)
    keep = _selected(conn, index, query, token) if query.filtered else None
    total = token.total if keep is None else len(keep)
    found: list[SortPosition] = []
    wanted = query.limit + 1  # one more than the page: is there a next page?
    start = 0 if query.after is None else query.after.segment
    for number in range(start, len(walk) if keep is None or keep else start):
        after = query.after if number == start else None
        found += _walk(conn, walk[number], number, after, keep, wanted - len(found), total, token)
        if len(found) >= wanted:
            break
    page = found[: query.limit]
    more = len(found) > query.limit
    runs = summaries(conn, [p.run_id for p in page])
    keys = index.cached_keys(token, lambda: run_keys(conn))
    return RunPage(runs, page[-1] if more else None, total, str(token), **keys)


def _checked(query: RunQuery) -> RunQuery:
    if not 1 <= query.limit <= MAX_LIMIT:
        raise UsageError(f"limit: must be between 1 and {MAX_LIMIT}, not {query.limit}")
    unknown = [x for x in query.statuses if x not in RUN_STATUSES]
    if unknown:
        raise UsageError(f"status: {unknown[0]!r} is not one of {', '.join(RUN_STATUSES)}")
    q = (query.q or "").strip() or None
    return query if q == query.q else dataclasses.replace(query, q=q)


def _selected(conn: Connection, index: RunIndex, query: RunQuery, token: Any) -> Selection:
    """The runs every filter selects."""
    index.refresh(conn, token)
    key = (query.q, query.statuses, query.notebook, query.tags)
    return index.cached(key, lambda: _select(conn, index, query))


def _select(conn: Connection, index: RunIndex, query: RunQuery) -> Selection:
    chosen = index.select(query.q, query.statuses, query.notebook)
    if query.q:
        chosen = chosen.widened(_id_prefix_matches(conn, index, query))
    t = s.tags.c
    for key, value in query.tags:
        if not chosen:
            break
        tagged = select(t.run_id).where(t.key == key, t.value == value)
        chosen = chosen.narrowed(row[0] for row in fetch_tuples(conn, tagged))
    return chosen


def _id_prefix_matches(conn: Connection, index: RunIndex, query: RunQuery) -> list[str]:
    prefix = (query.q or "").upper()
    if len(prefix) < MIN_PREFIX or _ULID_CHARS.fullmatch(prefix) is None:
        return []
    r = s.runs.c
    # A range, not LIKE: an index seek on the primary key.
    found = list(conn.execute(select(r.id).where(r.id >= prefix, r.id < prefix + "~")).scalars())
    if not found or not (query.statuses or query.notebook is not None):
        return found
    # The other filters still apply to runs found by their id.
    allowed = index.select(None, query.statuses, query.notebook)
    return [i for i in found if i in allowed]


def _walk(
    conn: Connection,
    segment: Segment,
    number: int,
    after: SortPosition | None,
    keep: Selection | None,
    wanted: int,
    total: int,
    token: Any,
) -> list[SortPosition]:
    """Up to ``wanted`` positions of ``segment`` after ``after``, among ``keep`` (None: all)."""
    width = len(segment.columns)
    if keep is None or len(keep) <= SMALL_SET:
        query = segment.select(after, by_run=keep is not None)
        if keep is not None:
            query = query.where(segment.run_id.in_(keep.run_ids()))
        rows = conn.execute(query.limit(wanted)).all()
        return [SortPosition(number, tuple(row[:width]), row[width]) for row in rows]
    density = max(len(keep), 1) / max(token.total, 1)
    chunk = min(MAX_CHUNK, max(wanted, math.ceil(wanted / density * 1.5)))
    found: list[SortPosition] = []
    while True:
        rows = conn.execute(segment.select(after).limit(chunk)).all()
        for row in rows:
            if row[width] in keep:
                found.append(SortPosition(number, tuple(row[:width]), row[width]))
                if len(found) == wanted:
                    return found
        if len(rows) < chunk:
            return found
        last = rows[-1]
        after = SortPosition(number, tuple(last[:width]), last[width])
        chunk = min(MAX_CHUNK, chunk * 2)


def summaries(conn: Connection, run_ids: Sequence[str]) -> list[RunSummary]:
    """Summaries of ``run_ids``, in that order (ids that do not exist are skipped)."""
    if not run_ids:
        return []
    ids = list(run_ids)
    r = s.runs.c
    rows = {
        row.id: row
        for row in conn.execute(
            select(
                r.id,
                r.name,
                r.status,
                r.notebook,
                r.started_at,
                r.ended_at,
                r.duration_s,
                r.warnings,
                r.replay_of,
            ).where(r.id.in_(ids))
        )
    }
    params: dict[str, dict[str, Any]] = defaultdict(dict)
    for run_id, key, value in conn.execute(params_query(None).where(s.params.c.run_id.in_(ids))):
        params[run_id][key] = loads(value)
    metrics: dict[str, dict[str, float]] = defaultdict(dict)
    latest = latest_metrics_query(None).where(s.metrics.c.run_id.in_(ids))
    for run_id, key, value in conn.execute(latest):
        metrics[run_id][key] = metric_value_out(value)
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in conn.execute(tags_query(None).where(s.tags.c.run_id.in_(ids))):
        tags[run_id][key] = value
    return [
        summary_from_row(row, params[row.id], metrics[row.id], tags[row.id])
        for row in (rows.get(run_id) for run_id in ids)
        if row is not None
    ]


def distinct_keys(conn: Connection, column: Any) -> list[str]:
    """Every distinct value of an indexed ``key`` column, sorted: one index seek per key.

    A recursive "next key after this one" query (a loose index scan): reading
    500,000 metric rows to find 5 names would cost tens of milliseconds.
    """
    table = column.table
    first = select(func.min(column)).select_from(table).cte("keys", recursive=True)
    step = select(select(func.min(column)).where(column > first.c[0]).scalar_subquery()).where(
        first.c[0].is_not(None)
    )
    keys = first.union_all(step)
    return [k for k in conn.execute(select(keys.c[0]).where(keys.c[0].is_not(None))).scalars()]


def run_keys(conn: Connection) -> dict[str, list[str]]:
    """Every metric, parameter and tag key in the store, each list sorted."""
    return {
        "metric_keys": distinct_keys(conn, s.metrics.c.key),
        "param_keys": distinct_keys(conn, s.params.c.key),
        "tag_keys": distinct_keys(conn, s.tags.c.key),
    }
