"""``trackbook demo``: execute the quickstart notebook headless into a fresh store, replay it, audit it.

The notebook runs through papermill in a real kernel, exactly as a user's
would, so the demo exercises the same path as a tracked notebook. Its runs
are then replayed in fresh kernels, two at a time, by the code behind
``trackbook replay --jobs 2``, and the audit report of one of them is
written next to the executed notebook.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

QUICKSTART = "01-quickstart.ipynb"
#: Replays at a time: one kernel each, and this is a 2-core laptop's demo.
DEMO_JOBS = 2


def quickstart_notebook() -> Path:
    """The quickstart notebook shipped in the wheel (or the repository's ``examples/``)."""
    packaged = resources.files("trackbook") / "examples" / QUICKSTART
    if packaged.is_file():
        return Path(str(packaged))
    in_repository = Path(__file__).resolve().parents[2] / "examples" / QUICKSTART
    if in_repository.is_file():
        return in_repository
    raise FileNotFoundError(f"{QUICKSTART} is missing from this installation; reinstall trackbook")


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    # papermill's kernel inherits this process's environment: the simplest,
    # documented way to point it at the demo's store.
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_demo(
    store: str | None = None, output_dir: str | None = None, echo: bool = True, jobs: int = DEMO_JOBS
) -> dict[str, Any]:
    """Execute the quickstart into ``store`` (default: a fresh temporary store), replay its runs, audit one.

    Parameters
    ----------
    store:
        Store path or URL; default ``.trackbook`` in the output directory.
    output_dir:
        Where the executed notebook and the audit report go; default a new
        temporary directory.
    echo:
        Print progress, each replay's verdict and the report's path.
    jobs:
        Replays at a time (each starts a kernel).

    Returns
    -------
    dict
        ``notebook`` (the quickstart), ``output`` (the executed copy),
        ``store``, ``runs`` (every run now in the store, replays' runs
        included, newest first), ``replays`` (one per quickstart run, in
        recording order: the finished replay, or ``{run_id, error}``) and
        ``report`` (the audit report's path).
    """
    import papermill

    from .entities import utcnow
    from .store import open_store

    workdir = Path(output_dir or tempfile.mkdtemp(prefix="trackbook-demo-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    store_ref = store or str(workdir / ".trackbook")
    source = quickstart_notebook()
    output = workdir / QUICKSTART.replace(".ipynb", ".output.ipynb")
    if echo:
        print(f"running {source.name} in a fresh kernel (store: {store_ref}) ...", flush=True)
    # The executed copy is the runs' notebook, as a notebook a user saves is:
    # the kernel's working directory is its directory, which is where the
    # replays run too (the packaged original may sit in a read-only place).
    started = utcnow()
    with _environment(TRACKBOOK_STORE=store_ref, JPY_SESSION_NAME=str(output)):
        papermill.execute_notebook(
            str(source), str(output), cwd=str(workdir), kernel_name="python3",
            progress_bar=False, log_output=False,
        )
    with open_store(store_ref) as target:
        # Only this execution's runs: a store given with --store may hold others.
        recorded = [run for run in reversed(target.list_runs(notebook=str(output)))
                    if run.started_at >= started and run.replay_of is None]
        store_url = target.location.export_value
        display_url = target.location.display_url
    replays = _replay(store_url, recorded, jobs, echo)
    report = _audit(store_url, recorded[-1], workdir, echo) if recorded else None
    with open_store(store_ref) as target:
        runs = target.list_runs()
    return {
        "notebook": str(source),
        "output": str(output),
        "store": display_url,
        "runs": runs,
        "replays": replays,
        "report": str(report) if report is not None else None,
    }


def _replay(store_url: str, recorded: list[Any], jobs: int, echo: bool) -> list[Any]:
    """Replay every recorded run, ``jobs`` at a time; each verdict printed as it arrives."""
    from .replaying.batch import BatchResult, ReplayOptions, replay_many

    if not recorded:
        return []
    names = {run.id: run.name or run.id for run in recorded}
    width = max(len(name) for name in names.values())
    at_once = max(1, min(jobs, len(recorded)))
    if echo:
        print(f"replaying {len(recorded)} runs in fresh kernels, {at_once} at a time ...", flush=True)

    def say(result: BatchResult) -> None:
        outcome = result.replay.verdict if result.replay is not None else f"error: {result.error}"
        print(f"  {names[result.run_id]:<{width}}  {result.run_id}  {outcome}", flush=True)

    results = replay_many(
        store_url, [run.id for run in recorded], ReplayOptions(), jobs=at_once,
        progress=False, on_result=say if echo else None,
    )
    return [result.replay if result.replay is not None else {"run_id": result.run_id, "error": result.error}
            for result in results]


def _audit(store_url: str, run: Any, workdir: Path, echo: bool) -> Path:
    """Write the audit report of ``run`` (with the replays just made) next to the notebook."""
    from .report.api import audit_report

    path = audit_report(run.id, workdir / f"audit-{run.id}.html", store=store_url)
    if echo:
        print(f"audit report of {run.name or run.id}: {path}", flush=True)
    return path
