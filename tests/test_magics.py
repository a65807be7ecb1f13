"""``%%track`` in a real IPython shell: the cell behaves as without it, and the run is complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def run(shell: Any, code: str, ok: bool = True) -> Any:
    result = shell.run_cell(code, store_history=True)
    assert result.success is ok, result.error_in_exec or result.error_before_exec
    return result


def last(shell: Any) -> Any:
    import trackbook

    run_ = trackbook.last_run()
    assert run_ is not None
    return trackbook.get_run(run_.id)


def test_cell_behaves_as_without_the_magic(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(shell, "%%track first\nx = 2\nprint('hello from the cell')\nx * 21")
    assert result.result == 42
    assert shell.user_ns["x"] == 2
    assert "hello from the cell" in capsys.readouterr().out
    stored = last(shell)
    assert stored.status == "finished"
    assert stored.name == "first"
    assert "hello from the cell" in stored.stdout
    assert stored.code.strip().startswith("x = 2")
    assert stored.params == {"x": 2}
    assert stored.execution_count == 2


def test_quoted_name_and_tag(shell: Any) -> None:
    run(shell, "%%track \"my run\" --tag 'note=two words'\nv = 1")
    stored = last(shell)
    assert (stored.name, stored.tags) == ("my run", {"note": "two words"})
    result = run(shell, "%%track \"unclosed\nv = 2", ok=False)
    assert "quotation" in str(result.error_in_exec)


def test_trailing_semicolon_suppresses_the_value(shell: Any) -> None:
    assert run(shell, "%%track\n1 + 1;").result is None


def test_params_metrics_tags_and_seed(shell: Any) -> None:
    run(shell, "import math\nbase = 3")
    run(shell, "%%track train --seed 7 --params base --tag dataset=iris --tag owner=me\n"
               "lr = 0.1\ndepth = -3\nname = 'forest'\nscore = math.sqrt(base) * lr\nn = 10\n"
               "import trackbook\nfor step in range(3):\n    trackbook.log_metric('loss', 1.0 / (step + 1))\n")
    stored = last(shell)
    assert stored.params["lr"] == 0.1 and stored.params["depth"] == -3 and stored.params["name"] == "forest"
    assert stored.params["base"] == 3
    assert stored.metrics["score"] == pytest.approx(3 ** 0.5 * 0.1)
    assert stored.metrics["loss"] == pytest.approx(1 / 3)
    assert [m.step for m in stored.metric_history if m.key == "loss"] == [0, 1, 2]
    assert "n" not in stored.metrics  # a literal is a parameter, not a metric
    assert stored.tags == {"dataset": "iris", "owner": "me"}
    assert stored.seeds["seed"] == 7


def test_metrics_option_narrows(shell: Any) -> None:
    run(shell, "%%track --metrics b\na = 1.5 * 2\nb = a + 1")
    assert last(shell).metrics == {"b": 4.0}


def test_failing_cell_records_failed_and_still_raises(shell: Any) -> None:
    result = run(shell, "%%track broken\nvalue = 1\nraise ValueError('bad input 42')", ok=False)
    assert isinstance(result.error_in_exec, ValueError)
    stored = last(shell)
    assert stored.status == "failed"
    assert stored.error is not None
    assert (stored.error.ename, stored.error.evalue) == ("ValueError", "bad input 42")
    assert any("bad input 42" in line for line in stored.error.traceback)


def test_bad_options_are_a_usage_error_and_the_cell_does_not_run(shell: Any) -> None:
    result = run(shell, "%%track --seed lots\nran = True", ok=False)
    assert "--seed needs an integer" in str(result.error_in_exec)
    assert "ran" not in shell.user_ns
    result = run(shell, "%%track --tag novalue\nran = True", ok=False)
    assert "key=value" in str(result.error_in_exec)


def test_history_is_in_execution_order_with_hidden_state_warning(shell: Any) -> None:
    run(shell, "x = 1")          # In[2] (cell A)
    run(shell, "y = x * 2")      # In[3] (cell B) uses x=1
    run(shell, "x = 5")          # In[4] (cell A edited and re-run)
    run(shell, "%%track\nz = y + 1")
    stored = last(shell)
    counts = [entry.execution_count for entry in stored.history]
    assert counts == sorted(counts) and counts[-1] == stored.execution_count
    assert [entry.source for entry in stored.history][1:4] == ["x = 1", "y = x * 2", "x = 5"]
    hidden = [w.message for w in stored.warnings if w.kind == "hidden_state"]
    assert any("y" in message and "x" in message for message in hidden), stored.warnings
    assert {d.name: d.execution_count for d in stored.dependencies}["y"] == 3


def test_name_from_outside_the_history_is_hidden_state(shell: Any) -> None:
    shell.user_ns["injected"] = 5  # as %run or another tool would do, invisibly
    run(shell, "%%track\ntotal = injected + 1")
    hidden = [w.message for w in last(shell).warnings if w.kind == "hidden_state"]
    assert any("injected" in message for message in hidden)


def test_unseeded_default_rng_is_reproducible_from_the_recorded_seed(shell: Any) -> None:
    code = "import numpy as np\nrng = np.random.default_rng()\nv = float(rng.random())\nw = float(np.random.rand())"
    run(shell, "%%track\n" + code)
    first = last(shell)
    values = (shell.user_ns["v"], shell.user_ns["w"])
    run(shell, "%%track\n" + code)
    assert (shell.user_ns["v"], shell.user_ns["w"]) != values  # fresh seed each run
    run(shell, f"%%track --seed {first.seeds['seed']}\n" + code)
    assert (shell.user_ns["v"], shell.user_ns["w"]) == values


def test_model_figure_and_dataframe_are_stored(shell: Any, store_dir: Path) -> None:
    run(shell, "import matplotlib\nmatplotlib.use('Agg')\nimport pandas as pd, numpy as np\n"
               "from sklearn.datasets import load_iris\n"
               "frame = load_iris(as_frame=True).frame\narr = np.arange(12.0).reshape(3, 4)")
    run(shell, "%%track fit\nimport matplotlib.pyplot as plt\n"
               "from sklearn.tree import DecisionTreeClassifier\n"
               "clf = DecisionTreeClassifier(max_depth=2, random_state=0).fit(frame.drop(columns='target'), frame['target'])\n"
               "fig, ax = plt.subplots()\nax.plot(arr[0])\ntotal = float(arr.sum())")
    stored = last(shell)
    kinds = {a.kind: a for a in stored.artifacts}
    assert kinds["model"].name == "clf" and kinds["model"].size > 0
    assert kinds["figure"].media_type == "image/png"
    inputs = {i.name: i for i in stored.inputs}
    assert inputs["frame"].kind == "dataframe" and inputs["frame"].shape == [150, 5]
    assert inputs["frame"].schema is not None and "sepal length (cm)" in inputs["frame"].schema
    assert inputs["arr"].fingerprint.startswith("xxh3_128:")
    assert stored.params["clf.max_depth"] == 2
    from trackbook.store import open_store

    store = open_store(str(store_dir))
    import joblib, io

    model = joblib.load(io.BytesIO(store.blobs.get_bytes(kinds["model"].id)))
    assert model.get_depth() <= 2
    assert store.blobs.get_bytes(kinds["figure"].id)[:8] == b"\x89PNG\r\n\x1a\n"


def test_files_read_are_fingerprinted(shell: Any, tmp_path: Path) -> None:
    csv = tmp_path / "data.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    run(shell, f"%%track\nimport pandas as pd\ndf = pd.read_csv({str(csv)!r})\nmean_a = float(df['a'].mean())")
    files = [i for i in last(shell).inputs if i.kind == "file"]
    assert [Path(f.path).name for f in files] == ["data.csv"]
    assert files[0].fingerprint.startswith("sha256:")


def test_planted_secrets_never_reach_the_store(shell: Any, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import grep_store

    aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    gh = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws)
    monkeypatch.setenv("GITHUB_TOKEN", gh)
    run(shell, "%%track secrets\nimport os\n"
               "url = 'postgresql://analyst:hunter2pass@db.internal:5432/sales'\n"
               "api_token = 'tok_live_9f8e7d6c5b4a39281706'\n"
               "print(os.environ['AWS_SECRET_ACCESS_KEY'], os.environ['GITHUB_TOKEN'], url)\n"
               "n = 1")
    stored = last(shell)
    assert stored.status == "finished"
    assert any(w.kind == "redacted" for w in stored.warnings)
    from trackbook.store import open_store

    open_store(str(store_dir)).close()  # checkpoint the WAL so the main file is complete too
    leaks = grep_store(store_dir, [aws, gh, "hunter2pass", "tok_live_9f8e7d6c5b4a39281706"])
    assert leaks == []


def test_trackbook_line_magic(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    run(shell, "%trackbook last")
    assert "no run tracked" in capsys.readouterr().out
    run(shell, "%%track\nq = 1")
    run(shell, "%trackbook status")
    assert "last run:" in capsys.readouterr().out
    run(shell, "%trackbook nonsense", ok=False)


def test_logging_outside_a_tracked_cell_says_what_to_do(shell: Any) -> None:
    result = run(shell, "import trackbook\ntrackbook.log_metric('x', 1)", ok=False)
    assert "inside a %%track cell" in str(result.error_in_exec)


def test_runs_dataframe(shell: Any) -> None:
    run(shell, "%%track a\nlr = 0.1\nacc = 0.5 + lr")
    run(shell, "%%track b\nlr = 0.2\nacc = 0.5 + lr")
    import trackbook

    frame = trackbook.runs()
    assert list(frame.columns[:6]) == ["run_id", "name", "status", "notebook", "started_at", "duration_s"]
    assert list(frame["name"]) == ["b", "a"]
    assert list(frame["params.lr"]) == [0.2, 0.1]
    assert list(frame["metrics.acc"]) == pytest.approx([0.7, 0.6])


def test_running_row_is_written_only_for_cells_that_run_a_while(shell: Any, store_dir: Path) -> None:
    # The cell itself looks into the store (from its own connection) while it runs.
    peek = ("from trackbook.store import open_store\n"
            f"with open_store({str(store_dir)!r}) as s:\n"
            "    seen = sorted(r.name for r in s.list_runs(status='running'))\n")
    run(shell, "%%track short\n" + peek)
    assert shell.user_ns["seen"] == []
    run(shell, "%%track long\nimport time\ntime.sleep(0.6)\n" + peek)
    assert shell.user_ns["seen"] == ["long"]
    import trackbook

    assert [trackbook.get_run(name).status for name in ("short", "long")] == ["finished", "finished"]
