"""``%%track`` in real Jupyter kernels (nbclient, jupyter_client)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from trackbook.store import open_store

pytestmark = pytest.mark.kernel


def notebook(*sources: str) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def kernel(store_dir: Path, tmp_path: Path) -> Any:
    """A real python3 kernel (the store comes from TRACKBOOK_STORE, as the server exports it)."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def execute(kc: Any, code: str, cell_id: str | None = None, timeout: float = 120) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Execute like JupyterLab does: the notebook cell id travels in the request metadata."""
    msg = kc.session.msg(
        "execute_request",
        {"code": code, "silent": False, "store_history": True, "user_expressions": {},
         "allow_stdin": False, "stop_on_error": True},
        metadata={"cellId": cell_id} if cell_id else {},
    )
    kc.shell_channel.send(msg)
    outputs: list[dict[str, Any]] = []
    while True:
        message = kc.get_iopub_msg(timeout=timeout)
        if message["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        if message["msg_type"] in ("display_data", "execute_result", "stream", "error"):
            outputs.append(message["content"])
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply["content"], outputs


def landed_runs(store: Any, count: int, timeout: float = 30) -> list[Any]:
    """The store's runs once ``count`` are there: a kernel records a run just after the cell's reply."""
    deadline = time.time() + timeout
    while len(runs := store.list_runs()) < count:
        assert time.time() < deadline, f"{len(runs)} runs recorded, expected {count}"
        time.sleep(0.02)
    return list(runs)


def test_out_of_order_notebook_history_and_hidden_state(kernel: Any, store_dir: Path) -> None:
    _, kc = kernel
    cells = {"load": "%load_ext trackbook", "a": "x = 1", "b": "y = x * 2", "t": "%%track\nz = y + 1"}
    for cell_id in ("load", "a", "b"):
        assert execute(kc, cells[cell_id], cell_id)[0]["status"] == "ok"
    assert execute(kc, "x = 5", "a")[0]["status"] == "ok"  # the user edits cell a and re-runs it
    reply, outputs = execute(kc, cells["t"], "t")
    assert reply["status"] == "ok"
    assert any("application/vnd.trackbook.run+json" in o.get("data", {}) for o in outputs)

    store = open_store(str(store_dir))
    (summary,) = landed_runs(store, 1)
    run = store.get_run(summary.id)
    # The loading cell ran before trackbook could see cell ids.
    assert [(h.execution_count, h.source, h.cell_id) for h in run.history] == [
        (1, "%load_ext trackbook", None), (2, "x = 1", "a"), (3, "y = x * 2", "b"),
        (4, "x = 5", "a"), (5, "%%track\nz = y + 1", "t"),
    ]
    assert (run.cell_id, run.execution_count) == ("t", 5)
    hidden = " ".join(w.message for w in run.warnings if w.kind == "hidden_state")
    assert "y" in hidden and "x" in hidden, run.warnings


def test_notebook_executed_by_nbclient_is_tracked(store_dir: Path, tmp_path: Path) -> None:
    nb = notebook("%load_ext trackbook", "import numpy as np\ndata = np.arange(10.0)",
                  "%%track nb-run\nmean = float(data.mean())", "raise_here = 1 / 0")
    client = NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    store = open_store(str(store_dir))
    run = store.get_run("nb-run")
    assert run.metrics == {"mean": 4.5}
    assert [i.name for i in run.inputs] == ["data"]


def test_kill_9_mid_cell_marks_the_run_interrupted(kernel: Any, store_dir: Path) -> None:
    from trackbook.cli import main

    km, kc = kernel
    try:
        for code in ("%load_ext trackbook", "%%track done\nfinal = 1.5 * 2"):
            assert execute(kc, code)[0]["status"] == "ok"
        store = open_store(str(store_dir))
        (done,) = landed_runs(store, 1)
        before = json.dumps(store.get_run(done.id).__dict__, default=str, sort_keys=True)
        kc.execute("%%track long\nimport time\ntime.sleep(120)")
        deadline = time.time() + 60
        while not store.list_runs(status="running"):
            assert time.time() < deadline, "the tracked cell never started"
            time.sleep(0.1)
        os.kill(km.provisioner.pid, signal.SIGKILL)
        km.provisioner.process.wait(timeout=30)
    finally:
        kc.stop_channels()

    assert store.mark_interrupted()
    runs = {r.name: r for r in store.list_runs()}
    assert runs["long"].status == "interrupted"
    assert json.dumps(store.get_run(done.id).__dict__, default=str, sort_keys=True) == before
    store.close()
    assert main(["store", "verify", "--store", str(store_dir)]) == 0
