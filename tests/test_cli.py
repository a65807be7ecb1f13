"""The ``trackbook`` command on a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from trackbook.cli import main


def record_two_runs(shell: Any) -> None:
    for lr in (0.1, 0.2):
        result = shell.run_cell(f"%%track train --tag team=ml\nlr = {lr}\nacc = 0.5 + lr", store_history=True)
        assert result.success


def test_runs_show_diff_json(shell: Any, store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record_two_runs(shell)
    capsys.readouterr()  # the summaries shown under the cells are not CLI output
    assert main(["runs", "--json", "--store", str(store_dir)]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["params"]["lr"] for r in runs] == [0.2, 0.1]
    newest, oldest = runs[0]["id"], runs[1]["id"]

    assert main(["show", newest[:10], "--json", "--store", str(store_dir)]) == 0
    shown = json.loads(capsys.readouterr().out)
    for key in ("id", "name", "status", "notebook", "cell_id", "execution_count", "started_at", "ended_at",
                "duration_s", "code", "params", "metrics", "seeds", "environment", "inputs", "artifacts",
                "warnings", "error", "replay_of", "tags"):
        assert key in shown, key
    assert shown["started_at"].endswith("Z")
    assert shown["environment"]["packages"]

    assert main(["diff", oldest, newest, "--json", "--store", str(store_dir)]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert {c["key"]: (c["a"], c["b"]) for c in diff["params"]} == {"lr": (0.1, 0.2)}
    assert diff["metrics"][0]["key"] == "acc"

    assert main(["runs", "--store", str(store_dir)]) == 0
    table = capsys.readouterr().out
    assert "train" in table and newest in table


def test_text_views(shell: Any, store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record_two_runs(shell)
    capsys.readouterr()
    assert main(["show", "train", "--store", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "lr" in out and "acc" in out and "code:" in out
    runs = json.loads((main(["runs", "--json", "--store", str(store_dir)]), capsys.readouterr().out)[1])
    assert main(["diff", runs[1]["id"], runs[0]["id"], "--store", str(store_dir)]) == 0
    assert "lr" in capsys.readouterr().out


def test_unknown_run_is_a_clear_error(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trackbook.store import open_store

    open_store(str(store_dir)).close()
    assert main(["show", "nosuchrun", "--store", str(store_dir)]) == 2
    assert "trackbook runs" in capsys.readouterr().err
    assert main(["show", "nosuchrun", "--json", "--store", str(store_dir)]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "RunNotFoundError"


def test_store_info_and_verify(shell: Any, store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record_two_runs(shell)
    capsys.readouterr()
    assert main(["store", "info", "--json", "--store", str(store_dir)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "sqlite"
    assert main(["store", "verify", "--store", str(store_dir)]) == 0
    assert "ok" in capsys.readouterr().out


def test_python_dash_m_and_a_missing_store(store_dir: Path) -> None:
    command = [sys.executable, "-m", "trackbook", "runs", "--json", "--store", str(store_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3  # nothing is created by a read
    assert "run a %%track cell" in json.loads(done.stdout)["message"]
    assert not store_dir.exists()
    from trackbook.store import open_store

    open_store(str(store_dir)).close()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
