"""Shared fixtures: a real IPython shell and real stores in temporary directories."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store directory that discovery finds (via TRACKBOOK_STORE)."""
    path = tmp_path / "store"
    monkeypatch.setenv("TRACKBOOK_STORE", str(path))
    monkeypatch.setenv("TRACKBOOK_SPOOL_DIR", str(tmp_path / "spool"))
    return path


@pytest.fixture
def shell(store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real IPython shell with trackbook loaded, fresh history and namespace."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(tmp_path)
    # IPython installs its namespace module as __main__; multiprocessing's spawn
    # (used by other tests) needs the real one back afterwards.
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    ip = InteractiveShell.instance()
    ip.reset(new_session=True)
    result = ip.run_cell("%load_ext trackbook", store_history=True)
    assert result.success, result.error_in_exec
    yield ip
    ip.run_cell("%unload_ext trackbook")
    ip.reset(new_session=True)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A server that loads trackbook and requires authentication everywhere."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"trackbook": True},
            "allow_unauthenticated_access": False,
        },
        "TrackbookApp": {"store": str(tmp_path / "server-store")},
    }


def grep_store(root: Path, needles: list[str]) -> list[tuple[str, str]]:
    """Every (file, needle) where a needle occurs in any file under ``root``."""
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                if needle.encode() in data:
                    found.append((str(path.relative_to(root)), needle))
    return found


@pytest.fixture(autouse=True)
def _no_leaked_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own TRACKBOOK_STORE must never receive test runs.
    if "TRACKBOOK_STORE" in os.environ:
        monkeypatch.delenv("TRACKBOOK_STORE")
