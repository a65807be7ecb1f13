"""The shipped examples and ``trackbook demo``, executed as a user runs them.

papermill executes each notebook in a real kernel into a fresh store; the
replays inside start real kernels of their own.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from trackbook.store import open_store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _cell_text(notebook: dict[str, Any], cell_id: str) -> str:
    """Everything a cell printed or displayed as text."""
    (cell,) = [cell for cell in notebook["cells"] if cell.get("id") == cell_id]
    parts = []
    for output in cell["outputs"]:
        assert output["output_type"] != "error", (cell_id, output)
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        parts.append("".join(text))
    return "\n".join(parts)


@pytest.mark.kernel
def test_the_replay_and_audit_example_runs_top_to_bottom(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import papermill

    project = tmp_path / "project"
    project.mkdir()
    data_home = tmp_path / "sklearn-data"
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(data_home))
    # As `papermill NOTEBOOK OUT` from a shell: no notebook name for the kernel,
    # and a store outside the working directory, so replays run elsewhere.
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    output = project / "executed.ipynb"

    papermill.execute_notebook(
        str(EXAMPLES / "02-replay-and-audit.ipynb"), str(output), cwd=str(project),
        kernel_name="python3", progress_bar=False,
    )

    executed = json.loads(output.read_text(encoding="utf-8"))
    csv = data_home / "trackbook-example" / "breast_cancer.csv"
    assert "verdict: reproduced" in _cell_text(executed, "replay")
    changed = _cell_text(executed, "changed")
    assert "verdict: differs" in changed
    assert f"[input_data_changed] input {csv}: the file {csv} changed since the run" in changed
    variant = _cell_text(executed, "variant")
    assert "verdict: differs" in variant
    assert "[parameter_override] param n_estimators: n_estimators was set to 10" in variant
    assert "input_data_changed" not in variant  # the data was put back first
    reported = _cell_text(executed, "report")
    assert "replays in the report: reproduced, differs, differs" in reported
    assert "store integrity: ok" in reported

    with open_store(str(store_dir)) as store:
        (original,) = [run for run in store.list_runs() if run.replay_of is None]
        run = store.get_run(original.id)
        replays = list(reversed(store.list_replays(run.id)))
        replayed = [store.get_run_by_id(replay.replay_run_id or "") for replay in replays]
        assert store.verify().ok
    assert [r.verdict for r in replays] == ["reproduced", "differs", "differs"]
    assert [r.overrides for r in replays] == [{}, {}, {"n_estimators": 10, "max_depth": 2}]
    assert all(r.replay_of == run.id for r in replayed)
    assert replayed[0].metrics == run.metrics and replayed[0].seeds == run.seeds
    assert run.seeds["default_rng"], "the training cell drew from an unseeded default_rng()"
    (csv_input,) = [i for i in run.inputs if i.kind == "file"]
    assert csv_input.path == str(csv)
    assert csv_input.fingerprint == "sha256:" + hashlib.sha256(csv.read_bytes()).hexdigest()  # restored
    report = project / f"audit-{run.id}.html"
    assert f"audit report: {report}" in reported
    page = report.read_text(encoding="utf-8")
    assert run.id in page and str(csv) in page and "<script" not in page


@pytest.mark.kernel
def test_demo_runs_the_quickstart_replays_it_and_writes_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trackbook.cli import main

    assert main(["demo", "--output-dir", str(tmp_path / "demo"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    originals = [run for run in result["runs"] if run["replay_of"] is None]
    names = {run["name"]: run for run in originals}
    assert len(originals) == 2
    assert names["train-forest"]["status"] == "finished"
    assert "acc" in names["train-forest"]["metrics"]
    assert names["learning-curve"]["status"] == "finished"
    store = open_store(str(tmp_path / "demo" / ".trackbook"))
    forest = store.get_run(names["train-forest"]["id"])  # by id: the replays have the same names
    assert {a.kind for a in forest.artifacts} == {"model"}
    assert {"X_train", "y_train", "X_test", "y_test"} <= {i.name for i in forest.inputs}
    curve = store.get_run(names["learning-curve"]["id"])
    assert [m.step for m in curve.metric_history if m.key == "test_accuracy"] == [0, 1, 2, 3, 4]
    assert any(a.kind == "figure" for a in curve.artifacts)
    # Both runs were replayed, in recording order, and reproduced: the same
    # forest without random_state, the same default_rng() draws, the same figure.
    assert [r["run_id"] for r in result["replays"]] == [forest.id, curve.id]
    assert [r["verdict"] for r in result["replays"]] == ["reproduced", "reproduced"], result["replays"]
    for replay in result["replays"]:
        assert store.get_run_by_id(replay["replay_run_id"]).replay_of == replay["run_id"]
    assert len(result["runs"]) == 4
    store.close()
    report = Path(result["report"])
    assert report.parent == (tmp_path / "demo").resolve() and report.name == f"audit-{curve.id}.html"
    page = report.read_text(encoding="utf-8")
    assert curve.id in page and result["replays"][1]["id"] in page


def test_the_wheel_ships_every_example() -> None:
    pyproject = (EXAMPLES.parent / "pyproject.toml").read_text(encoding="utf-8")
    for notebook in sorted(EXAMPLES.glob("*.ipynb")):
        assert f'"examples/{notebook.name}" = "trackbook/examples/{notebook.name}"' in pyproject


def test_examples_are_saved_without_outputs() -> None:
    # A user's first run must not be confused with someone else's results.
    for path in sorted(EXAMPLES.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, (path.name, cell.get("id"))
