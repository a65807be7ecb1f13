"""Batch replay: ``--all --jobs 2`` (threads) and a local Dask cluster, with real kernels."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackbook.cli import main
from trackbook.store import open_store

from test_kernel import execute

pytestmark = pytest.mark.kernel

RUNS = 20


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """Twenty short tracked runs from one kernel session (ids oldest first)."""
    from jupyter_client.manager import KernelManager

    root = tmp_path_factory.mktemp("batch")
    store = root / ".trackbook"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRACKBOOK_SPOOL_DIR", str(root / "spool"))
        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=str(root), env={**os.environ, "TRACKBOOK_STORE": str(store),
                                             "JPY_SESSION_NAME": str(root / "batch.ipynb")})
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            assert execute(kc, "%load_ext trackbook")[0]["status"] == "ok"
            for i in range(RUNS):
                code = f"%%track b{i:02d}\nimport random\nvalue = {i} * 1.5 + random.random()"
                assert execute(kc, code, f"cell-{i}")[0]["status"] == "ok"
        finally:
            kc.stop_channels()
            # Graceful, as JupyterLab shuts kernels down: the kernel records its last run first.
            km.shutdown_kernel()
        with open_store(str(store)) as opened:
            ids = [s.id for s in reversed(opened.list_runs())]
        assert len(ids) == RUNS
        yield store, ids


def test_all_runs_replay_two_at_a_time(recorded: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    store, ids = recorded

    code = main(["replay", "--all", "--jobs", "2", "--store", str(store), "--json"])

    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload
    assert payload["counts"] == {"reproduced": RUNS}
    assert [r["run_id"] for r in payload["replays"]] == ids  # oldest first
    with open_store(str(store)) as opened:
        replays = opened.list_replays(limit=1000)
        assert len({r.id for r in replays}) == RUNS and all(r.status == "done" for r in replays)
        # Replayed runs are not replayed again by --all.
        assert len(opened.list_runs(status="finished")) == 2 * RUNS


def test_replays_run_on_a_dask_cluster(recorded: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    from distributed import LocalCluster

    store, ids = recorded
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        host_port = cluster.scheduler_address.split("://", 1)[1]
        code = main(["replay", "--all", "--executor", f"dask://{host_port}", "--store", str(store)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{RUNS} reproduced" in out  # the summary table's last line
    rows = [line.split() for line in out.splitlines() if line[:26] in ids]
    assert [row[0] for row in rows] == ids and {row[1] for row in rows} == {"reproduced"}


def test_an_unknown_executor_is_a_usage_error(recorded: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    store, ids = recorded
    assert main(["replay", *ids[:2], "--executor", "ray://somewhere", "--store", str(store)]) == 2
    assert "dask://HOST:PORT" in capsys.readouterr().err


def test_nothing_to_replay_is_not_a_failure(recorded: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = recorded
    assert main(["replay", "--all", "--since", "2999-01-01", "--store", str(store)]) == 0
    assert "no runs to replay" in capsys.readouterr().out
    assert main(["replay", "--all", "--notebook", "elsewhere.ipynb", "--store", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replays"] == []


def test_longest_replays_are_started_first(recorded: tuple[Path, list[str]]) -> None:
    from trackbook.replaying.batch import longest_first

    store, ids = recorded
    # Each later run of the session re-executes one more history entry.
    assert longest_first(str(store), ids) == list(reversed(ids))
    assert longest_first(str(store), [*ids[:2], "no-such-run"]) == [ids[1], ids[0], "no-such-run"]
    assert longest_first(str(store.parent / "missing-store"), ids[:3]) == ids[:3]
