"""Schema: migrations match schema.py and the committed snapshot; revisions are checked at open.

To refresh the snapshot after adding a migration, run this module with
``TRACKBOOK_UPDATE_SCHEMA_SNAPSHOT=1`` and review the diff.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from trackbook.entities import Run, new_run_id
from trackbook.exceptions import SchemaMismatchError
from trackbook.store import open_store, upgrade_store
from trackbook.store.migrate import alembic_config
from trackbook.store.schema import HEAD_REVISION, metadata

SNAPSHOT = Path(__file__).parent / "schema" / "sqlite_schema.sql"


@pytest.fixture(autouse=True)
def _spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))


def dump_schema(db_path: Path) -> str:
    """``sqlite_master`` of a database, normalised: one statement per object, sorted."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
    statements = []
    for _type, _name, sql in rows:
        lines = [re.sub(r"\s+", " ", line).strip().rstrip(",").strip() for line in sql.splitlines()]
        body = ",\n    ".join(line for line in lines[1:-1] if line)
        statements.append(
            f"{lines[0]}\n    {body}\n{lines[-1]};" if len(lines) > 2 else f"{' '.join(lines)};"
        )
    return "\n\n".join(statements) + "\n"


def test_migrated_schema_matches_the_snapshot(tmp_path: Path) -> None:
    open_store(str(tmp_path / "s")).close()
    actual = dump_schema(tmp_path / "s" / "trackbook.db")
    if os.environ.get("TRACKBOOK_UPDATE_SCHEMA_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(actual, encoding="utf-8")
    assert actual == SNAPSHOT.read_text(encoding="utf-8"), (
        "the migrated schema differs from tests/schema/sqlite_schema.sql: add a migration, "
        "then refresh the snapshot with TRACKBOOK_UPDATE_SCHEMA_SNAPSHOT=1"
    )


def test_schema_py_and_migrations_agree(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s")) as store, store._db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_head_revision_constant_is_the_migrations_head() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == [HEAD_REVISION]


def _downgrade_to_base(db_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    engine.dispose()


def test_old_revision_is_refused_until_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "s"
    open_store(str(path)).close()
    _downgrade_to_base(path / "trackbook.db")
    with pytest.raises(SchemaMismatchError, match="trackbook store upgrade") as caught:
        open_store(str(path))
    assert caught.value.current is None
    assert caught.value.expected == HEAD_REVISION
    result = upgrade_store(str(path))
    assert result["from_revision"] is None
    assert result["to_revision"] == HEAD_REVISION
    assert result["changed"] is True
    with open_store(str(path)) as store:
        store.finish_run(Run(id=new_run_id(), status="finished"))
        assert len(store.list_runs()) == 1
        assert store.upgrade()["changed"] is False


def test_newer_revision_asks_for_a_newer_trackbook(tmp_path: Path) -> None:
    path = tmp_path / "s"
    open_store(str(path)).close()
    with sqlite3.connect(path / "trackbook.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(SchemaMismatchError, match="newer trackbook"):
        open_store(str(path))
    with pytest.raises(SchemaMismatchError, match="newer trackbook"):
        upgrade_store(str(path))


def _open_new_store(path: str, barrier: Any, worker: int) -> None:
    barrier.wait(timeout=60)
    with open_store(path) as store:
        store.finish_run(Run(id=new_run_id(), name=f"opener-{worker}", status="finished"))


def test_many_processes_open_a_new_store_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "fresh")
    ctx = multiprocessing.get_context("spawn")
    workers = 6
    barrier = ctx.Barrier(workers)
    procs = [ctx.Process(target=_open_new_store, args=(path, barrier, i)) for i in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * workers
    with sqlite3.connect(tmp_path / "fresh" / "trackbook.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (HEAD_REVISION,)
        ]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with open_store(path) as store:
        assert len(store.list_runs()) == workers
        assert store.verify().ok
