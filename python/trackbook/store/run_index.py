"""An in-memory snapshot of what run listings filter on: id, status, notebook, searchable text.

Why in memory: the free-text filter is a substring match (``LIKE '%x%'``),
which no B-tree index serves, so SQL must touch every run; on 100,000 runs
that costs 20-40 ms per scan, and a page needs the matches *and* their
count. A Python substring test over a list of short strings takes under
10 ms and gives both at once. The snapshot costs about 350 bytes per run
(ids, a position map, name and tag text); notebook paths are held once each.

It is refreshed before use from a cheap change token (:func:`change_token`):
on SQLite only new rows (``rowid`` above the last one seen) and runs that
were ``running`` are re-read; any other change (or another database)
rebuilds it. A run's text changes only when it finishes (tags set in the cell).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.engine import Connection

from . import schema as s
from .fastexec import fetch_tuples, iter_batches

#: Separates a run's fields in its search text (never typed into a filter box).
_FIELD_SEPARATOR = "\x1f"
_CACHED_SELECTIONS = 4
#: Runs read (with their tags) per batch while building the snapshot.
_BATCH = 5000


@dataclass(frozen=True)
class ChangeToken:
    """Changes whenever a run is added, finishes or is interrupted.

    ``last_row`` is SQLite's highest ``rowid`` (a newer row always has a higher
    one), else the highest id; ``total`` and ``running`` count runs.
    """

    last_row: Any
    total: int
    running: int

    def __str__(self) -> str:
        return f"{self.last_row}-{self.total}-{self.running}"


def change_token(conn: Connection) -> ChangeToken:
    """The store's change token: three index lookups in one statement."""
    r = s.runs.c
    last = func.max(literal_column("rowid") if conn.dialect.name == "sqlite" else r.id)
    row = conn.execute(
        select(
            select(last).select_from(s.runs).scalar_subquery(),
            select(func.count()).select_from(s.runs).scalar_subquery(),
            select(func.count()).where(r.status == "running").scalar_subquery(),
        )
    ).one()
    return ChangeToken(row[0], int(row[1]), int(row[2]))


def search_text(name: str | None, tag_values: Iterable[str]) -> str:
    """What the free-text filter searches in a run besides its notebook: name and tag values.

    Case-folded. Notebook paths are searched once per distinct path (a store
    has few notebooks and many runs).
    """
    return _FIELD_SEPARATOR.join([name or "", *tag_values]).casefold()


class Selection:
    """Runs chosen by filters: sorted positions in one snapshot of :class:`RunIndex`.

    Membership is a binary search, so selecting 100,000 runs costs one list
    of ints; nothing per run is hashed or copied.
    """

    def __init__(self, positions: list[int], ids: list[str], position: dict[str, int]) -> None:
        self.positions = positions
        self._ids = ids
        self._position = position

    def __len__(self) -> int:
        return len(self.positions)

    def __contains__(self, run_id: object) -> bool:
        at = self._position.get(run_id) if isinstance(run_id, str) else None
        if at is None:
            return False
        i = bisect.bisect_left(self.positions, at)
        return i < len(self.positions) and self.positions[i] == at

    def run_ids(self) -> list[str]:
        """The selected run ids."""
        ids = self._ids
        return [ids[i] for i in self.positions]

    def narrowed(self, run_ids: Iterable[str]) -> Selection:
        """Only the selected runs that are also in ``run_ids``."""
        given = {at for rid in run_ids if (at := self._position.get(rid)) is not None}
        return Selection([i for i in self.positions if i in given], self._ids, self._position)

    def widened(self, run_ids: Iterable[str]) -> Selection:
        """The selected runs and those in ``run_ids``."""
        given = {at for rid in run_ids if (at := self._position.get(rid)) is not None}
        if not given:
            return self
        return Selection(sorted(given.union(self.positions)), self._ids, self._position)


class RunIndex:
    """The filterable fields of every run, kept in step with the database.

    Thread-safe. A rebuild replaces the lists (selections made before keep
    their snapshot); an incremental refresh only appends and updates in place,
    so positions never move.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: ChangeToken | None = None
        self._last_rowid = 0
        self._ids: list[str] = []
        self._statuses: list[str] = []
        self._notebooks: list[str | None] = []
        self._texts: list[str] = []
        self._position: dict[str, int] = {}
        self._running: set[int] = set()
        self._cache: dict[Hashable, Selection] = {}
        self._keys: tuple[ChangeToken, dict[str, list[str]]] | None = None
        self._shared: dict[str | None, Any] = {None: None}
        self._by_notebook: dict[str | None, list[int]] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def refresh(self, conn: Connection, token: ChangeToken) -> None:
        """Bring the snapshot up to ``token`` (read through ``conn``'s transaction)."""
        with self._lock:
            if token == self._token:
                return
            incremental = (
                self._token is not None
                and conn.dialect.name == "sqlite"
                and token.last_row is not None
                and token.last_row >= self._last_rowid
                and token.total >= len(self._ids)
            )
            if incremental:
                self._apply(conn, self._changed_rows(conn))
            if not incremental or len(self._ids) != token.total:
                self._rebuild(conn)
            self._token = token
            self._cache.clear()

    def select(self, q: str | None, statuses: Sequence[str], notebook: str | None) -> Selection:
        """The runs matching every given filter (the text is matched case-insensitively)."""
        with self._lock:
            ids, books, status, texts = self._ids, self._notebooks, self._statuses, self._texts
            found: Iterable[int] = range(len(ids))
            # The cheapest test runs over everything, the others over what is left.
            if notebook is not None:
                found = self._by_notebook.get(notebook, [])
            if statuses:
                wanted = set(statuses)
                found = [i for i in found if status[i] in wanted]
            if q:
                needle = q.casefold()
                named = [b for b in self._by_notebook if b is not None and needle in b.casefold()]
                if isinstance(found, range):
                    found = [i for i, text in enumerate(texts) if needle in text]
                    if named and len(found) < len(texts):
                        # Runs whose notebook path matches, merged in position order.
                        extra = [self._by_notebook[b] for b in named]
                        found = sorted(set(found).union(*extra))
                else:
                    chosen = set(named)
                    found = [i for i in found if needle in texts[i] or books[i] in chosen]
            return Selection(list(found), ids, self._position)

    def cached(self, key: Hashable, compute: Callable[[], Selection]) -> Selection:
        """``compute()``, remembered for the last few keys (pages 2, 3... of one filter).

        The cache is emptied whenever the snapshot changes, so ``key`` need
        only describe the filters.
        """
        with self._lock:
            hit = self._cache.get(key)
        if hit is None:
            hit = compute()
            with self._lock:
                self._cache[key] = hit
                while len(self._cache) > _CACHED_SELECTIONS:
                    self._cache.pop(next(iter(self._cache)))
        return hit

    def cached_keys(
        self, token: ChangeToken, compute: Callable[[], dict[str, list[str]]]
    ) -> dict[str, list[str]]:
        """The store's metric, parameter and tag keys: ``compute()`` once per change token."""
        # Not under the snapshot's lock: an unfiltered listing must not wait
        # for a snapshot being built. Replacing the tuple is atomic.
        cached = self._keys
        if cached is not None and cached[0] == token:
            return cached[1]
        keys = compute()
        self._keys = (token, keys)
        return keys

    # -- loading ---------------------------------------------------------------------

    def _rebuild(self, conn: Connection) -> None:
        self._ids, self._statuses, self._notebooks, self._texts = [], [], [], []
        self._position, self._running, self._last_rowid = {}, set(), 0
        self._shared, self._by_notebook = {None: None}, {}
        for rows in _read_rows(conn, None):
            self._apply(conn, rows, with_tags=False)
        # Tag values in one ordered pass (not one lookup per run), appended
        # to the texts as search_text would join them.
        t = s.tags.c
        position, texts = self._position, self._texts
        tagged = select(t.run_id, t.value).order_by(t.run_id, t.key)
        for batch in iter_batches(conn, tagged, _BATCH):
            for run_id, value in batch:
                at = position.get(run_id)
                if at is not None:
                    texts[at] = f"{texts[at]}{_FIELD_SEPARATOR}{value.casefold()}"
        # Copy the texts into fresh, consecutive memory: the appends above
        # scattered them, and a filter scans every one (3x faster in order).
        self._texts = [(text + "\0")[:-1] for text in texts]

    def _changed_rows(self, conn: Connection) -> list[tuple[Any, ...]]:
        new = [
            row
            for rows in _read_rows(conn, literal_column("rowid") > self._last_rowid)
            for row in rows
        ]
        if not self._running:
            return new
        again = [self._ids[i] for i in self._running]
        # Runs that were running: their status, and maybe their tags, changed.
        changed = [row for rows in _read_rows(conn, s.runs.c.id.in_(again)) for row in rows]
        return changed + new

    def _apply(
        self, conn: Connection, rows: list[tuple[Any, ...]], with_tags: bool = True
    ) -> None:
        tags = _tag_values(conn, [row[1] for row in rows]) if with_tags else {}
        # One string object per distinct notebook and status, however many runs.
        shared = self._shared
        position, ids = self._position, self._ids
        for rowid, run_id, name, notebook, status in rows:
            text = search_text(name, tags.get(run_id, ()))
            notebook = shared.setdefault(notebook, notebook)
            status = shared.setdefault(status, status)
            at = position.get(run_id)
            if at is None:
                at = position[run_id] = len(ids)
                ids.append(run_id)
                self._statuses.append(status)
                self._notebooks.append(notebook)
                self._texts.append(text)
                self._by_notebook.setdefault(notebook, []).append(at)
            else:
                if self._notebooks[at] != notebook:  # rare: set only when the run finished
                    self._by_notebook[self._notebooks[at]].remove(at)
                    bisect.insort(self._by_notebook.setdefault(notebook, []), at)
                self._statuses[at], self._notebooks[at], self._texts[at] = status, notebook, text
            if status == "running":
                self._running.add(at)
            else:
                self._running.discard(at)
            if rowid and rowid > self._last_rowid:
                self._last_rowid = int(rowid)


def _read_rows(conn: Connection, where: Any) -> Iterator[list[tuple[Any, ...]]]:
    r = s.runs.c
    rowid: Any = literal_column("rowid") if conn.dialect.name == "sqlite" else literal_column("0")
    # Every column is in ix_runs_notebook_status_name_id: the scan never
    # touches the (wide) run rows. Batches keep the peak memory small.
    query = select(rowid, r.id, r.name, r.notebook, r.status)
    return iter_batches(conn, query if where is None else query.where(where), _BATCH)


def _tag_values(conn: Connection, run_ids: list[str]) -> dict[str, list[str]]:
    if not run_ids:
        return {}
    t = s.tags.c
    query = select(t.run_id, t.value).where(t.run_id.in_(run_ids)).order_by(t.run_id, t.key)
    values: dict[str, list[str]] = {}
    for run_id, value in fetch_tuples(conn, query):
        values.setdefault(run_id, []).append(value)
    return values
