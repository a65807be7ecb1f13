"""Notebook files as plain JSON: the few operations replay needs, without importing nbformat.

Importing nbformat costs seconds in this environment (its jsonschema import
pulls in ``rfc3987_syntax``, which builds a grammar at import time:
python-jsonschema/jsonschema#1521), and a server or a CLI that replays must
not pay that. v4 notebooks are plain JSON; only older formats are handed to
nbformat for upgrading. The worker process, which runs papermill, uses
nbformat itself.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

#: The notebook format written (cell ids need 4.5).
NBFORMAT, NBFORMAT_MINOR = 4, 5


def read_notebook(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a notebook as a v4 dict (older formats are upgraded by nbformat).

    Raises
    ------
    OSError, ValueError
        The file cannot be read or is not a notebook.
    """
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("cells", []), list):
        raise ValueError(f"{os.fspath(path)} is not a notebook")
    if int(data.get("nbformat", 0)) < NBFORMAT:
        import nbformat

        upgraded: dict[str, Any] = nbformat.read(os.fspath(path), as_version=4)  # type: ignore[no-untyped-call]
        return upgraded
    return data


def write_notebook(nb: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``nb`` to ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(notebook_text(nb))


def notebook_text(nb: dict[str, Any]) -> str:
    """``nb`` as its file content (nbformat's layout: one-space indent, sorted keys)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (files may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def new_notebook() -> dict[str, Any]:
    """An empty v4 notebook."""
    return {"cells": [], "metadata": {}, "nbformat": NBFORMAT, "nbformat_minor": NBFORMAT_MINOR}


def new_code_cell(source: str) -> dict[str, Any]:
    """A code cell with a fresh id."""
    return {"cell_type": "code", "id": _new_id(), "metadata": {}, "execution_count": None,
            "outputs": [], "source": source}


def new_markdown_cell(source: str) -> dict[str, Any]:
    """A markdown cell with a fresh id."""
    return {"cell_type": "markdown", "id": _new_id(), "metadata": {}, "source": source}


def _new_id() -> str:
    return uuid.uuid4().hex[:12]
