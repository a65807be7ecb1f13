"""The audit report of a run: one document, rendered as self-contained HTML or as JSON.

::

    content.py     build_document(store, run_id) -> dict: every facet, replays, integrity
    replays.py     the run's replays with verdicts, differences and their runs' figures
    integrity.py   full or targeted store verification, saying which checks ran
    figures.py     figure thumbnails as data: URLs
    html.py        render_html(document) -> bytes (Jinja2, autoescaped, strict CSP)
    api.py         audit_report(run_id, path=None, store=None, format="html")

``audit-report.schema.json`` describes the JSON form. No IPython or server
imports: the replay engine stores a report for each replay with
:func:`build_document` and :func:`render_html`.
"""

from __future__ import annotations

from .api import audit_report
from .content import SCHEMA_VERSION, build_document
from .html import render_html

__all__ = ["SCHEMA_VERSION", "audit_report", "build_document", "render_html"]
