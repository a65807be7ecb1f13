"""Run a fixed Core SELECT on the driver cursor: small reads on the hot path.

Finishing a run reads a few rows back (its content, for the audit digest, and
the last audit entry) inside the writing transaction. Compiling a statement
costs more than running it on a warm SQLite file, so each statement is
compiled once per dialect and then executed straight on the DBAPI cursor
(the counterpart of ``fastexec.execute_rows`` for reads). Rows come back as
the driver's plain tuples, exactly as :func:`fastexec.iter_batches` returns
them, so a value read here and one read in bulk by ``verify`` are identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # positional order; None for named paramstyles
    defaults: dict[str, Any]  # literal binds of the statement (LIMIT 1, status = 'x')


_cache: dict[tuple[int, str], tuple[Select[Any], _Compiled]] = {}


def _compiled(stmt: Select[Any], conn: Connection) -> _Compiled:
    key = (id(stmt), conn.dialect.name)
    hit = _cache.get(key)
    if hit is not None and hit[0] is stmt:
        return hit[1]
    compiled = stmt.compile(dialect=conn.dialect)
    result = _Compiled(
        sql=compiled.string,
        names=tuple(compiled.positiontup or ()) if compiled.positional else None,
        defaults=dict(compiled.construct_params(_check=False)),
    )
    _cache[key] = (stmt, result)
    return result


def fetch_rows(
    conn: Connection, stmt: Select[Any], params: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Every row of ``stmt`` (a module-level constant) as plain tuples.

    ``params`` gives the values of the statement's ``bindparam`` s; only
    plain text and number parameters are supported (no type processing).
    """
    compiled = _compiled(stmt, conn)
    if not params:
        values: Mapping[str, Any] = compiled.defaults
    else:
        values = {**compiled.defaults, **params} if compiled.defaults else params
    args: Any = (
        values if compiled.names is None else tuple([values[name] for name in compiled.names])
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(compiled.sql, args)
        return cast("list[tuple[Any, ...]]", cursor.fetchall())
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            compiled.sql, args, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()
