"""Budget: capturing the environment, warm, takes <= 5 ms.

trackbook: ``capture_environment()`` in a fresh interpreter (its working
directory inside a git repository, so the git facet has work to do); the
first call builds the caches, the figure is the median of the calls after it.

Peer: ``python -m pip freeze`` as a subprocess, which is what a tool that
records "the installed packages" without caching pays on every run (MLflow's
requirement inference for a model is heavier still).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import Result, log, median_ms, now, run_worker, spread_ms, worker_main

NAME = "environment"
BUDGET_MS = 5.0


def _trackbook_worker(params: dict[str, Any]) -> dict[str, Any]:
    # A kernel that did some work has a data stack imported: their versions are recorded.
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import sklearn.ensemble  # noqa: F401

    from trackbook.capture.environment import capture_environment

    start = now()
    env = capture_environment(kernel_name="python3")
    first = now() - start
    samples = []
    for _ in range(params["repeat"]):
        start = now()
        capture_environment(kernel_name="python3")
        samples.append(now() - start)
    return {
        "first": first,
        "samples": samples,
        "packages": len(env.packages),
        "modules": len(env.modules),
        "git": bool(env.git),
    }


def _git_repo(tmp: str) -> Path:
    """A small repository with a commit, where the worker runs."""
    repo = Path(tmp) / "repo"
    repo.mkdir()
    (repo / "notebook.ipynb").write_text("{}")
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.email=b@example.org", "-c", "user.name=bench", "commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], check=True, cwd=repo,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return repo


def measure(quick: bool) -> list[Result]:
    repeat = 50 if quick else 500
    with tempfile.TemporaryDirectory(prefix="tb-env-") as tmp:
        try:
            cwd: Path | str = _git_repo(tmp)
            git_note = "inside a git repository"
        except (OSError, subprocess.CalledProcessError):
            cwd, git_note = tmp, "git unavailable: no repository"
        log("environment: capture_environment()")
        tb = run_worker(__file__, "trackbook", {"repeat": repeat}, cwd=cwd)
    log("environment: pip freeze")
    freeze = []
    for _ in range(3 if quick else 5):
        start = now()
        subprocess.run([sys.executable, "-m", "pip", "freeze"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        freeze.append(now() - start)
    return [
        Result(
            "environment capture, warm",
            median_ms(tb["samples"]),
            "ms",
            peer=statistics.median(freeze) * 1000,
            peer_label=f"python -m pip freeze subprocess, median of {len(freeze)}",
            budget=BUDGET_MS,
            notes=[(f"{spread_ms(tb['samples'])}; {tb['packages']} distributions, "
                    f"{tb['modules']} imported modules, {git_note}")],
        ),
        Result(
            "environment capture, first call in a process",
            tb["first"] * 1000,
            "ms",
            peer=statistics.median(freeze) * 1000,
            peer_label="python -m pip freeze",
        ),
    ]


if __name__ == "__main__":
    worker_main({"trackbook": _trackbook_worker})
