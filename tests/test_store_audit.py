"""The hash-chained audit log: appended with every final state, checked by ``store verify``."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event

from trackbook.cli import main
from trackbook.entities import Artifact, AuditEntry, Metric, Replay, Run, new_run_id
from trackbook.store import Store, open_store, upgrade_store
from trackbook.store.migrate import alembic_config
from trackbook.store.values import format_time

WRITERS = 4
RUNS_PER_WRITER = 25


@pytest.fixture(autouse=True)
def _spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with open_store(str(path)) as opened:
        yield opened


def expected_hash(entry: AuditEntry) -> str:
    """The documented link, recomputed independently of the package."""
    fields = [entry.prev_hash, entry.seq, format_time(entry.at), entry.kind, entry.subject,
              entry.digest]
    return hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()


def assert_unbroken(entries: list[AuditEntry]) -> None:
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].kind == "audit_started" and entries[0].prev_hash == "0" * 64
    for before, entry in zip([None, *entries], entries):
        if before is not None:
            assert entry.prev_hash == before.hash
        assert entry.hash == expected_hash(entry)


def finished_run(store: Store, *, model: bool = False, **fields: Any) -> Run:
    run = Run(
        id=new_run_id(),
        status="finished",
        params={"lr": 0.1, "depth": 3},
        metric_history=[Metric("loss", 1.0 / (step + 1), step) for step in range(3)],
        metrics={"acc": 0.91},
        tags={"team": "risk"},
        **fields,
    )
    if model:
        blob = store.blobs.put_bytes(b"pickled model " + run.id.encode())
        run.artifacts = [Artifact(blob.id, "clf", "model", "application/octet-stream", blob.size)]
    store.finish_run(run)
    return run


def tamper(path: Path, *statements: str) -> None:
    """Change the database behind trackbook's back, as someone with the file could."""
    with sqlite3.connect(path / "trackbook.db") as conn:
        for statement in statements:
            conn.execute(statement)


def verify_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["store", "verify", "--json", "--store", str(path)])
    return code, json.loads(capsys.readouterr().out)


def test_a_new_store_starts_its_log_and_passes(
    store: Store, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = store.audit_log()
    assert [(e.seq, e.kind, e.subject) for e in entries] == [(1, "audit_started", "store")]
    assert_unbroken(entries)
    report = store.verify()
    assert report.ok, report.problems
    assert report.checked["audit_chain"] == "ok"
    assert report.checked["audit_head"] == f"1 {entries[0].hash}"
    assert main(["store", "verify", "--store", str(path)]) == 0
    assert "audit_chain: ok" in capsys.readouterr().out


def test_every_final_state_appends_one_unbroken_chain(store: Store, path: Path) -> None:
    plain = finished_run(store)
    with_model = finished_run(store, model=True)
    store.finish_runs([Run(id=new_run_id(), status="failed") for _ in range(3)])
    # A run whose kernel died: created by a process that has exited since.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=60)
    orphan = Run(id=new_run_id(), pid=dead.pid, host=socket.gethostname())
    store.create_run(orphan)
    assert store.audit_log(orphan.id) == []  # running: nothing final to attest yet
    assert store.mark_interrupted() == [orphan.id]
    # A run delivered from the spool by the next write.
    spooled = Run(id=new_run_id(), status="finished", metrics={"acc": 0.5})
    store.spool.put(spooled)
    finished_run(store)
    assert store.spool.pending() == []
    # Finishing a run again (a spooled copy delivered twice) appends again; the latest counts.
    plain.metrics = {"acc": 0.92}
    store.finish_run(plain)

    entries = store.audit_log()
    assert_unbroken(entries)
    kinds = [e.kind for e in entries]
    assert kinds.count("run_finalised") == 9
    assert kinds.count("model_recorded") == 1
    assert [e.kind for e in store.audit_log(with_model.id)] == ["run_finalised", "model_recorded"]
    assert len(store.audit_log(plain.id)) == 2
    assert len(store.audit_log(orphan.id)) == 1 and len(store.audit_log(spooled.id)) == 1
    report = store.verify()
    assert report.ok, report.problems
    assert report.checked["runs_covered"] == 8 and report.checked["runs_not_covered"] == 0


def test_recording_a_run_appends_with_one_small_select_and_one_insert(store: Store) -> None:
    store.finish_runs([Run(id=new_run_id(), status="finished") for _ in range(50)])
    statements: list[str] = []
    store._db.engine.dispose()

    @event.listens_for(store._db.engine, "connect")
    def _trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    finished_run(store, model=True)
    on_log = [sql for sql in statements if "audit_log" in sql]
    select, *inserts = on_log
    assert select.startswith("SELECT") and "ORDER BY audit_log.seq DESC" in select
    assert "LIMIT 1" in select
    # run_finalised + model_recorded: one executemany (traced once per row), nothing else.
    assert len(inserts) == 2 and all(sql.startswith("INSERT INTO audit_log") for sql in inserts)
    with sqlite3.connect(store.location.db_path) as conn:  # type: ignore[arg-type]
        plan = conn.execute(f"EXPLAIN QUERY PLAN {select}").fetchall()
    assert not any("TEMP B-TREE" in row[-1] for row in plan), plan  # walks the key, no sort


def _writer(path: str, worker: int, errors: Any) -> None:
    try:
        with open_store(path) as store:
            for i in range(RUNS_PER_WRITER):
                run = Run(id=new_run_id(), name=f"w{worker}-{i}", pid=os.getpid())
                store.create_run(run)
                run.status = "finished"
                run.params = {"worker": worker, "i": i}
                run.metrics = {"score": i / RUNS_PER_WRITER}
                store.finish_run(run)
    except BaseException:
        errors.put(f"writer {worker}: {traceback.format_exc()}")
        raise


def test_concurrent_writers_make_one_unbroken_chain(path: Path) -> None:
    open_store(str(path)).close()
    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(path), w, errors)) for w in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=300)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    assert [proc.exitcode for proc in procs] == [0] * WRITERS
    with open_store(str(path)) as store:
        entries = store.audit_log()
        assert_unbroken(entries)
        finalised = [e for e in entries if e.kind == "run_finalised"]
        assert len(finalised) == WRITERS * RUNS_PER_WRITER
        assert len({e.subject for e in finalised}) == WRITERS * RUNS_PER_WRITER
        report = store.verify()
        assert report.ok, report.problems
        assert report.checked["audit_entries"] == WRITERS * RUNS_PER_WRITER + 1


DROP_GUARDS = ("DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete")


def _edit_metric(run: Run) -> tuple[str, ...]:
    return (f"UPDATE metrics SET value = 0.99 WHERE run_id = '{run.id}' AND key = 'acc'",)


def _edit_param(run: Run) -> tuple[str, ...]:
    return (f"UPDATE params SET value = '0.5' WHERE run_id = '{run.id}' AND key = 'lr'",)


def _delete_entry(run: Run) -> tuple[str, ...]:
    return (*DROP_GUARDS, f"DELETE FROM audit_log WHERE subject = '{run.id}'")


def _edit_hash(run: Run) -> tuple[str, ...]:
    return (*DROP_GUARDS, f"UPDATE audit_log SET hash = '{'f' * 64}' WHERE subject = '{run.id}'")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_edit_metric, ["run {id}", "its metrics"]),
        (_edit_param, ["run {id}", "its params"]),
        (_delete_entry, ["audit log: entry", "is missing", "run {id}", "no audit entry"]),
        (_edit_hash, ["audit log: entry", "(run_finalised {id}) was changed"]),
    ],
    ids=["metric", "param", "deleted-entry", "edited-hash"],
)
def test_tampering_fails_verify_and_names_the_record(
    path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Run], tuple[str, ...]],
    expected: list[str],
) -> None:
    with open_store(str(path)) as store:
        finished_run(store)
        target = finished_run(store)
        finished_run(store)
        assert store.verify().ok
    tamper(path, *change(target))
    with open_store(str(path)) as store:
        report = store.verify()
    assert not report.ok
    text = "\n".join(report.problems)
    for needle in expected:
        assert needle.format(id=target.id) in text, text
    code, payload = verify_cli(path, capsys)
    assert code == 1
    assert payload["ok"] is False and target.id in "\n".join(payload["problems"])


def test_the_log_refuses_updates_and_deletes(store: Store, path: Path) -> None:
    finished_run(store)
    for statement in ("UPDATE audit_log SET digest = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            tamper(path, statement)
    assert store.verify().ok


def test_changed_model_replay_and_deleted_run_are_named(store: Store, path: Path) -> None:
    with_model = finished_run(store, model=True)
    deleted = finished_run(store)
    replay = Replay(id=new_run_id(), run_id=with_model.id, verdict="differs")
    store.finish_replay(replay)
    assert store.verify().ok
    tamper(
        path,
        f"UPDATE artifacts SET name = 'swapped' WHERE run_id = '{with_model.id}'",
        f"UPDATE replays SET verdict = 'reproduced' WHERE id = '{replay.id}'",
        f"DELETE FROM tags WHERE run_id = '{deleted.id}'",
        f"DELETE FROM runs WHERE id = '{deleted.id}'",
    )
    report = store.verify()
    text = "\n".join(report.problems)
    assert f"model 'swapped' (blob {with_model.artifacts[0].id}) of run {with_model.id}" in text
    assert f"replay {replay.id} (of run {with_model.id}) was changed" in text
    assert f"run {deleted.id} was deleted" in text


def _downgrade(db_path: Path, revision: str) -> None:
    from alembic import command

    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
    engine.dispose()


def test_upgraded_store_reports_older_runs_as_not_covered(path: Path) -> None:
    with open_store(str(path)) as store:
        older = [finished_run(store) for _ in range(3)]
    _downgrade(path / "trackbook.db", "0002")  # a store written before the audit log

    result = upgrade_store(str(path))
    assert (result["from_revision"], result["to_revision"]) == ("0002", "0003")
    with open_store(str(path)) as store:
        assert [e.kind for e in store.audit_log()] == ["audit_started"]
        report = store.verify()
        assert report.ok, report.problems
        assert report.checked["runs_not_covered"] == len(older)
        assert "recorded before the audit log started" in report.checked["audit_coverage"]
        newer = finished_run(store)
        report = store.verify()
        assert report.ok and report.checked["runs_covered"] == 1
        assert [e.kind for e in store.audit_log(newer.id)] == ["run_finalised"]
        # A run written into the database directly after the log started is no older run.
        sneaked = new_run_id()
        tamper(
            path,
            "INSERT INTO runs (id, status, started_at, ended_at, code, history, dependencies, "
            "seeds, stdout, stderr, warnings) VALUES "
            f"('{sneaked}', 'finished', '2999-01-01T00:00:00.000000Z', "
            "'2999-01-01T00:00:01.000000Z', '', '[]', '[]', '{}', '', '', '[]')",
        )
        report = store.verify()
    assert not report.ok
    assert any(f"run {sneaked} (finished) has no audit entry" in p for p in report.problems)
