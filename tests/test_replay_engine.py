"""Replays of runs recorded in a real kernel, executed by real papermill kernels.

One kernel session records every run (executed out of order, with an input
that raised, as a user's session looks); each test replays one of them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import trackbook
from trackbook.cli import main
from trackbook.entities import Run
from trackbook.replaying.nbfiles import cell_source
from trackbook.store import open_store

from test_kernel import execute

pytestmark = pytest.mark.kernel

NASTY = "it's \"quoted\"\\ back\\slash\nnew line ünï ✓ 🎉"

# The saved notebook, top to bottom (cell id -> source).
NOTEBOOK = {
    "load": "%load_ext trackbook",
    "imports": "import numpy as np\nimport pandas as pd",
    "trees": "n_trees = 8",
    "forest": (
        "%%track forest\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "data = pd.read_csv('data.csv')\n"
        "rng = np.random.default_rng()\n"
        "jitter = rng.normal(0, 0.05, len(data))\n"
        "X = data[['x1', 'x2']].to_numpy() + jitter[:, None]\n"
        "clf = RandomForestClassifier(n_estimators=n_trees, max_depth=3).fit(X, data['y'])\n"
        "acc = float(clf.score(X, data['y']))\n"
        "jitter_mean = float(jitter.mean())\n"
        "print(f'acc={acc:.6f}')"
    ),
    "entropy": (
        "%%track entropy\nimport os, time\n"
        "entropy = int.from_bytes(os.urandom(4), 'little') / 2**32\nclock = time.time()"
    ),
    "lookup": "%%track lookup\ntable = pd.read_csv('lookup.csv')\ntotal = float(table['v'].sum())",
    "fragile": "%%track fragile\nfrag = pd.read_csv('fragile.csv')\nratio = float(frag['a'].sum() / frag['b'].sum())",
    "base": "threshold = 3",
    "tuned": (
        "%%track tuned\nalpha = 0.5\nlabel = 'plain'\n"
        "score = alpha * threshold\nlabel_length = float(len(label))\nprint(label)"
    ),
}
# The order the user ran them: the loading cell, then `trees` before `imports`,
# a typo that raised, `imports` twice (a restart of thought, not of the kernel).
EXECUTED = ["load", "trees", "typo", "imports", "imports", "forest", "entropy", "lookup", "fragile", "base", "tuned"]
TYPO = "n_tres + 1"


@dataclass
class Session:
    root: Path
    store: Path
    notebook: Path
    runs: dict[str, Run]


def _write_data(root: Path) -> None:
    rows = ["x1,x2,y"] + [f"{i % 7},{(i * 3) % 11},{int((i % 7) + (i * 3) % 11 > 8)}" for i in range(60)]
    (root / "data.csv").write_text("\n".join(rows) + "\n")
    (root / "lookup.csv").write_text("k,v\n" + "\n".join(f"k{i},{i * 1.5}" for i in range(10)) + "\n")
    (root / "fragile.csv").write_text("a,b\n1,2\n3,4\n")


def _save_notebook(path: Path) -> None:
    from trackbook.replaying.nbfiles import new_code_cell, new_notebook, write_notebook

    nb = new_notebook()
    for cell_id, source in NOTEBOOK.items():
        cell = new_code_cell(source)
        cell["id"] = cell_id
        nb["cells"].append(cell)
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    write_notebook(nb, path)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """Record the runs in one kernel; replays then see a probe package one version newer."""
    from jupyter_client.manager import KernelManager

    root = tmp_path_factory.mktemp("project")
    _write_data(root)
    notebook = root / "analysis.ipynb"
    _save_notebook(notebook)
    site = root / "site"
    (site / "trackbook_probe-1.0.dist-info").mkdir(parents=True)
    store = root / ".trackbook"
    with pytest.MonkeyPatch.context() as mp:
        # Replay kernels inherit this process's environment, as a user's would.
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
        mp.setenv("TRACKBOOK_SPOOL_DIR", str(root / "spool"))
        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=str(root), env={**os.environ, "TRACKBOOK_STORE": str(store),
                                             "JPY_SESSION_NAME": str(notebook)})
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            for cell_id in EXECUTED:
                reply, _ = execute(kc, NOTEBOOK.get(cell_id, TYPO), cell_id)
                assert reply["status"] == ("error" if cell_id == "typo" else "ok"), (cell_id, reply)
        finally:
            kc.stop_channels()
            # Graceful, as JupyterLab shuts kernels down: the kernel records its last run first.
            km.shutdown_kernel()
        with open_store(str(store)) as opened:
            runs = {s.name: opened.get_run(s.id) for s in opened.list_runs()}
        # The environment moves on after recording: a package is upgraded.
        (site / "trackbook_probe-1.0.dist-info").rename(site / "trackbook_probe-2.0.dist-info")
        yield Session(root, store, notebook, runs)


def _replayed_run(session: Session, replay: Any) -> Run:
    with open_store(str(session.store)) as store:
        return store.get_run_by_id(replay.replay_run_id)


def test_forest_reproduces_from_its_out_of_order_history(session: Session) -> None:
    original = session.runs["forest"]
    assert original.seeds["default_rng"], "the original drew from an unseeded default_rng()"
    assert [h.cell_id for h in original.history] == [None, "trees", "typo", "imports", "imports", "forest"]

    replay = trackbook.replay(original.id, store=str(session.store))

    assert replay.verdict == "reproduced", replay
    replayed = _replayed_run(session, replay)
    assert replayed.replay_of == original.id and replayed.id != original.id
    assert replayed.metrics == original.metrics
    assert replayed.seeds == original.seeds
    assert [a.id for a in replayed.artifacts if a.kind == "model"] == [a.id for a in original.artifacts if a.kind == "model"]
    assert replayed.inputs[0].path == str(session.root / "data.csv")
    assert replayed.notebook == str(session.notebook) and replayed.cell_id == "forest"
    # The kernel left its run (model included) for the replaying process to
    # deliver: it never opened the database.
    assert replayed.environment is not None and "sqlalchemy" not in replayed.environment.modules
    # The environment is listed, package by package, with both versions.
    (probe,) = [d for d in replay.differences if d.key == "trackbook-probe"]
    assert (probe.facet, probe.original, probe.replayed, probe.cause) == ("environment", "1.0", "2.0", "package_changed")
    # The session went on after the typo; so did the replay, and says so.
    assert "NameError" in (replay.message or "")
    with open_store(str(session.store)) as store:
        stored = store.get_replay(replay.id)
        assert (stored.status, stored.verdict, stored.replay_run_id) == ("done", "reproduced", replayed.id)
        executed = json.loads(store.blobs.get_bytes(stored.notebook_artifact))
    assert executed["cells"][0]["metadata"]["tags"] == ["injected-parameters"]
    assert cell_source(executed["cells"][-1]) == NOTEBOOK["forest"]
    assert any("acc=" in "".join(o.get("text", "")) for o in executed["cells"][-1]["outputs"])


def test_forest_reproduces_from_the_saved_notebook_and_reports_the_order(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    original = session.runs["forest"]
    before = session.notebook.read_bytes()

    code = main(["replay", original.id, "--mode", "notebook", "--store", str(session.store), "--json"])

    payload = json.loads(capsys.readouterr().out)
    (replay,) = payload["replays"]
    assert code == 0 and replay["verdict"] == "reproduced", replay
    # The saved notebook runs `imports` once, before `trees`, and has no typo cell:
    # the report says the two recipes disagree, and that the results agree anyway.
    (order,) = [d for d in replay["differences"] if d["key"] == "history"]
    assert order["cause"] == "code_differs"
    assert "1 recorded input(s) did not run in the replay" in order["explanation"]
    assert session.notebook.read_bytes() == before  # the original notebook is never modified


def test_os_urandom_and_the_clock_differ_as_unseeded_randomness(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", "entropy", "--store", str(session.store)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert ": differs" in out
    assert "[unseeded randomness / nondeterminism] metric entropy" in out
    assert "[unseeded randomness / nondeterminism] metric clock" in out


def test_a_changed_csv_value_differs_naming_the_file(session: Session) -> None:
    lookup = session.root / "lookup.csv"
    lookup.write_text(lookup.read_text().replace("k3,4.5", "k3,4.6"))

    replay = trackbook.replay("lookup", store=str(session.store))

    assert replay.verdict == "differs"
    by_facet = {d.facet: d for d in replay.differences if d.facet in ("input", "metric")}
    assert by_facet["input"].key == str(lookup)
    assert by_facet["input"].cause == "input_data_changed" and str(lookup) in by_facet["input"].explanation
    assert by_facet["metric"].key == "total" and by_facet["metric"].cause == "input_data_changed"
    assert str(lookup) in by_facet["metric"].explanation


def test_a_cell_that_now_raises_fails_with_cell_index_and_exception(session: Session) -> None:
    (session.root / "fragile.csv").write_text("a,c\n1,2\n3,4\n")

    replay = trackbook.replay("fragile", store=str(session.store))

    assert replay.verdict == "failed"
    assert replay.failure is not None
    assert (replay.failure.ename, replay.failure.evalue) == ("KeyError", "'b'")
    with open_store(str(session.store)) as store:
        cells = json.loads(store.blobs.get_bytes(replay.notebook_artifact))["cells"]
        assert cell_source(cells[replay.failure.cell_index]) == NOTEBOOK["fragile"]
        assert store.get_replay(replay.id).failure == replay.failure
        assert store.get_run_by_id(replay.replay_run_id).status == "failed"


def test_overrides_change_the_tracked_cell_and_link_the_variant(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    original = session.runs["tuned"]

    code = main(["replay", original.id, "-p", "alpha", "0.25", "-p", "label", NASTY, "-p", "threshold", "10",
                 "--store", str(session.store), "--json"])

    (replay,) = json.loads(capsys.readouterr().out)["replays"]
    assert code == 1 and replay["verdict"] == "differs"
    assert replay["overrides"] == {"alpha": 0.25, "label": NASTY, "threshold": 10}
    with open_store(str(session.store)) as store:
        variant = store.get_run_by_id(replay["replay_run_id"])
    assert variant.replay_of == original.id
    assert variant.params["alpha"] == 0.25 and variant.params["label"] == NASTY
    assert variant.metrics == {"score": 2.5, "label_length": float(len(NASTY))}
    assert variant.stdout == NASTY + "\n"
    causes = {d["key"]: d["cause"] for d in replay["differences"]}
    assert causes["alpha"] == causes["label"] == causes["threshold"] == causes["score"] == "parameter_override"


def test_a_replay_of_a_missing_notebook_asks_for_history_mode(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = session.root / "moved.ipynb"
    shutil.copy(session.notebook, moved)
    session.notebook.unlink()
    try:
        code = main(["replay", "forest", "--mode", "notebook", "--store", str(session.store)])
        assert code == 2
        assert "--mode history" in capsys.readouterr().err
    finally:
        moved.rename(session.notebook)
