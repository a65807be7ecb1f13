"""Render an audit document (:func:`~trackbook.report.content.build_document`) as HTML.

The page must be safe to open from an email or an archive, years later:
no scripts, no requests of any kind (a strict CSP says so to the browser as
well), figures as ``data:`` URLs, and every string from the store escaped,
since run names, code and outputs are written by users. Jinja2 with
autoescaping does the escaping; the few values this module puts into
attributes (numbers for sparklines, CSS class names) are computed here from
numbers or checked against a fixed set, never copied from the store.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import TYPE_CHECKING, Any

from ..entities import VERDICTS

if TYPE_CHECKING:
    import jinja2

#: What the page may load: nothing but inline styles and data: images.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
TEMPLATE = "report.html.j2"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_SPARK_WIDTH, _SPARK_HEIGHT = 160, 32
_SPARK_POINTS = 200  # more than the sparkline has pixels for


def render_html(document: dict[str, Any]) -> bytes:
    """The self-contained HTML page of an audit document, UTF-8 encoded.

    Parameters
    ----------
    document:
        What :func:`~trackbook.report.content.build_document` returned (or
        its JSON form read back).
    """
    page = _environment().get_template(TEMPLATE).render(
        doc=document,
        csp=CONTENT_SECURITY_POLICY,
        verdicts=VERDICTS,
    )
    return page.encode("utf-8")


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The Jinja2 environment (built once: compiling the template is the slow part)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("trackbook.report", "templates"),
        autoescape=True,  # every file, whatever its extension: all store text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=format_number,
        size=format_size,
        value=format_value,
        plain=strip_ansi,
        sparkline=sparkline_points,
        verdict_class=verdict_class,
    )
    return env


def format_number(value: Any) -> str:
    """A metric value for people: up to 6 significant digits; non-finite as spelled."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def format_size(size: Any) -> str:
    """Bytes in B, KB, MB or GB (powers of 1024)."""
    if not isinstance(size, (int, float)) or isinstance(size, bool):
        return ""
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"  # pragma: no cover  (the loop always returns)


def format_value(value: Any) -> str:
    """A parameter or difference value as JSON text, so ``"1"`` and ``1`` look different."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except ValueError:  # circular or otherwise unserialisable: show what it is
        return str(value)


def strip_ansi(text: Any) -> str:
    """Text without terminal colour codes (IPython tracebacks carry them)."""
    return _ANSI.sub("", "" if text is None else str(text))


def sparkline_points(steps: list[dict[str, Any]]) -> str:
    """SVG polyline points for a step series (finite values only; empty when < 2)."""
    points = [
        (float(s["step"]), float(s["value"]))
        for s in steps
        if isinstance(s.get("value"), (int, float)) and math.isfinite(s["value"])
    ]
    if len(points) < 2:
        return ""
    if len(points) > _SPARK_POINTS:  # a long series: every k-th point, and the last one
        stride = math.ceil(len(points) / _SPARK_POINTS)
        points = [*points[:-1:stride], points[-1]]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_span = (max(xs) - min(xs)) or 1.0
    y_span = (max(ys) - min(ys)) or 1.0
    pad = 2.0
    return " ".join(
        f"{pad + (x - min(xs)) / x_span * (_SPARK_WIDTH - 2 * pad):.1f},"
        f"{_SPARK_HEIGHT - pad - (y - min(ys)) / y_span * (_SPARK_HEIGHT - 2 * pad):.1f}"
        for x, y in points
    )


def verdict_class(verdict: Any) -> str:
    """The CSS class of a verdict badge; anything unknown (or still running) is ``pending``."""
    return str(verdict) if verdict in VERDICTS else "pending"
