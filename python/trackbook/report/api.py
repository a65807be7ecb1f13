"""``trackbook.audit_report``: the audit report of a run, as HTML or JSON, from Python.

Both forms come from one document (:func:`~trackbook.report.content.build_document`);
files are written atomically (a temporary file in the target directory,
then a rename), so a reader never sees half a report and an existing report
is replaced only by a complete one.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from ..atomic import write_atomically
from ..exceptions import UsageError
from .content import build_document
from .html import render_html
from .integrity import Mode as IntegrityMode

if TYPE_CHECKING:
    from ..store import Store

ReportFormat = Literal["html", "json"]
FORMATS: tuple[str, ...] = ("html", "json")


@overload
def audit_report(
    run_id: str,
    path: None = None,
    store: str | os.PathLike[str] | Store | None = None,
    format: ReportFormat = "html",
    *,
    integrity: IntegrityMode = "auto",
) -> str: ...


@overload
def audit_report(
    run_id: str,
    path: str | os.PathLike[str],
    store: str | os.PathLike[str] | Store | None = None,
    format: ReportFormat = "html",
    *,
    integrity: IntegrityMode = "auto",
) -> Path: ...


def audit_report(
    run_id: str,
    path: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    format: ReportFormat = "html",
    *,
    integrity: IntegrityMode = "auto",
) -> str | Path:
    """The audit report of a run: who ran what, when and where, its results and every replay.

    Parameters
    ----------
    run_id:
        Run id, unique id prefix (6+ characters) or run name.
    path:
        Write the report to this file (atomically) and return its path;
        ``None`` returns the report as text.
    store:
        An open :class:`~trackbook.store.Store`, a store path or URL, or
        ``None`` for the kernel's store (else DESIGN's discovery).
    format:
        ``"html"``: a self-contained page (no scripts, no network, figures as
        thumbnails). ``"json"``: the same content for machines (figure
        thumbnails left out; blobs are named by their sha256).
    integrity:
        ``"auto"``, ``"full"`` or ``"targeted"``: how much of the store to verify
        (see :func:`~trackbook.report.content.build_document`).

    Returns
    -------
    str or pathlib.Path
        The report's text, or the path written.

    Raises
    ------
    RunNotFoundError
        No run matches ``run_id``.
    UsageError
        An unknown ``format``.
    """
    if format not in FORMATS:
        raise UsageError(f"format: must be 'html' or 'json', not {format!r}")
    with _opened(store) as target:
        document = build_document(
            target, run_id, thumbnails=format == "html", integrity=integrity
        )
    data = encode(document, format)
    if path is None:
        return data.decode("utf-8")
    return write_atomic(Path(path), data)


def encode(document: dict[str, Any], format: ReportFormat) -> bytes:
    """The bytes of a report in ``format`` (JSON is strict: no NaN, UTF-8)."""
    if format == "html":
        return render_html(document)
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, readable like any file the user writes; returns ``path``."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: the directory {directory} does not exist")
    write_atomically(path, data, shared=True)
    return path


@contextlib.contextmanager
def _opened(store: str | os.PathLike[str] | Store | None) -> Any:
    """The store to read: the one given, one opened (and closed) here, or the kernel's."""
    from ..store import Store, open_store

    if isinstance(store, Store):
        yield store
    elif store is None:
        from .. import api

        yield api._store(None)
    else:
        with open_store(store, create=False) as opened:
            yield opened
