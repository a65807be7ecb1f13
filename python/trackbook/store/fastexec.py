"""Execute a fixed Core statement on the DBAPI cursor: the hot path of finishing a run.

SQLAlchemy's per-execution work (cache lookup, an execution context, building
each parameter set) is most of the cost of recording a small run: finishing
one is on the kernel's critical path after every tracked cell. Statements
here are still SQLAlchemy Core, compiled once per dialect and set of columns;
only their execution goes straight to the driver cursor, inside the same
transaction. Driver errors are wrapped exactly as SQLAlchemy would wrap them,
so error translation and lock retries see the usual exception types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Prepared:
    sql: str
    names: tuple[str, ...] | None  # positional order; None for named paramstyles
    fixed: dict[str, Any]  # literal binds of the statement (e.g. status = 'running')
    processors: dict[str, Callable[[Any], Any]]


_cache: dict[tuple[int, str, tuple[str, ...]], tuple[ClauseElement, _Prepared]] = {}


def _prepare(stmt: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Prepared:
    cache_key = (id(stmt), dialect.name, keys)
    hit = _cache.get(cache_key)
    if hit is not None and hit[0] is stmt:
        return hit[1]
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect, column_keys=list(keys)))
    fixed = {k: v for k, v in compiled.construct_params(_check=False).items() if k not in keys}
    prepared = _Prepared(
        sql=compiled.string,
        names=tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None,
        fixed=fixed,
        # Plain columns only: no tuple binds, so every processor is a callable.
        processors=cast("dict[str, Callable[[Any], Any]]", dict(compiled._bind_processors)),
    )
    _cache[cache_key] = (stmt, prepared)
    return prepared


def execute_rows(conn: Connection, stmt: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> int:
    """Execute ``stmt`` once per row (``executemany``); returns the driver's rowcount.

    Every row must have the same keys; they choose the statement's columns,
    as with ``Connection.execute(stmt, rows)``.
    """
    if not rows:
        return 0
    prepared = _prepare(stmt, conn.dialect, tuple(rows[0]))
    params = [_params(prepared, row) for row in rows]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if len(params) == 1:
            cursor.execute(prepared.sql, params[0])
        else:
            cursor.executemany(prepared.sql, params)
        return int(cursor.rowcount)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            prepared.sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()


def _params(prepared: _Prepared, row: Mapping[str, Any]) -> Any:
    values = {**prepared.fixed, **row} if prepared.fixed else dict(row)
    for key, process in prepared.processors.items():
        if values.get(key) is not None:
            values[key] = process(values[key])
    if prepared.names is None:
        return values
    return tuple(values[name] for name in prepared.names)


def fetch_tuples(conn: Connection, stmt: ClauseElement) -> list[tuple[Any, ...]]:
    """Every row of a SELECT as plain tuples, fetched from the driver cursor.

    For bulk reads (a DataFrame of every run): SQLAlchemy's ``Row`` objects
    are costly to build and slow pandas down when it inspects them.
    """
    for batch in iter_batches(conn, stmt, None):
        return batch
    return []


def iter_batches(
    conn: Connection, stmt: ClauseElement, size: int | None = 5000
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a SELECT in lists of at most ``size`` plain tuples (``None``: one list).

    Reading a large result batch by batch keeps only one batch in memory.
    """
    # Expanding IN parameters (status IN (...)) are rendered into the string here.
    compiled = cast(
        SQLCompiler, stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    )
    values = compiled.construct_params()
    processors = cast("dict[str, Callable[[Any], Any]]", compiled._bind_processors)
    for key, process in processors.items():
        if values.get(key) is not None:
            values[key] = process(values[key])
    params: Any = (
        tuple(values[n] for n in compiled.positiontup or ()) if compiled.positional else values
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(compiled.string, params)
        while True:
            # sqlite3 and psycopg give tuples.
            batch = cast(
                "list[tuple[Any, ...]]",
                cursor.fetchall() if size is None else cursor.fetchmany(size),
            )
            if batch:
                yield batch
            if size is None or len(batch) < size:
                return
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            compiled.string, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()
