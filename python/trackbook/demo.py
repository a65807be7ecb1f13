"""``trackbook demo``: execute the quickstart notebook headless, into a fresh store.

The notebook runs through papermill in a real kernel, exactly as a user's
would, so the demo exercises the same path as a tracked notebook.
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


def run_demo(store: str | None = None, output_dir: str | None = None, echo: bool = True) -> dict[str, Any]:
    """Execute the quickstart into ``store`` (default: a fresh temporary store).

    Returns the notebook paths, the store and the recorded run summaries.
    """
    import papermill

    from .store import open_store

    workdir = Path(output_dir or tempfile.mkdtemp(prefix="trackbook-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    store_ref = store or str(workdir / ".trackbook")
    source = quickstart_notebook()
    output = workdir / QUICKSTART.replace(".ipynb", ".output.ipynb")
    if echo:
        print(f"running {source.name} in a fresh kernel (store: {store_ref}) ...", flush=True)
    with _environment(TRACKBOOK_STORE=store_ref, JPY_SESSION_NAME=str(source)):
        papermill.execute_notebook(
            str(source), str(output), cwd=str(workdir), kernel_name="python3",
            progress_bar=False, log_output=False,
        )
    target = open_store(store_ref)
    try:
        runs = target.list_runs()
        return {
            "notebook": str(source),
            "output": str(output),
            "store": target.location.display_url,
            "runs": runs,
        }
    finally:
        target.close()
