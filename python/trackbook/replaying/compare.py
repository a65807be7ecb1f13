"""Compare a replayed run with its original: differences, their causes, the verdict.

Facets fall in two groups:

* **results** decide the verdict: metrics, model/figure/file artifacts,
  stdout, the error a cell raised, parameters that changed by themselves,
  and input data (a replay that read other data did not reproduce the run,
  even if a metric happens to agree).
* **context** explains: the environment (package by package), the tracked
  cell's code, the executed history (cell order). They are listed, but a
  replay whose results all agree is ``reproduced`` whatever changed around it.

Metrics are compared exactly unless ``rtol``/``atol`` are given; then a
metric within ``math.isclose(a, b, rel_tol=rtol, abs_tol=atol)`` is
*tolerated* and the verdict becomes ``reproduced_within_tolerance``. With a
tolerance, model/figure bytes and stdout that differ are tolerated too when
every metric is within tolerance: they render the same floating-point
numbers the tolerance accepts, and bytes have no tolerance of their own.

Each difference is attributed its most likely cause (:func:`.causes.attribute`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..entities import Difference, Run, Verdict
from .causes import Context, attribute, context_differences, read_context


@dataclass(frozen=True)
class Finding:
    """One difference and how it counts for the verdict."""

    difference: Difference
    decisive: bool
    tolerated: bool = False


@dataclass
class Comparison:
    """Every finding of one comparison, and the verdict they give."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def differences(self) -> list[Difference]:
        """The differences, results first, then context."""
        return [f.difference for f in self.findings]

    @property
    def verdict(self) -> Verdict:
        """``reproduced``, ``reproduced_within_tolerance`` or ``differs``."""
        decisive = [f for f in self.findings if f.decisive]
        if not decisive:
            return "reproduced"
        if all(f.tolerated for f in decisive):
            return "reproduced_within_tolerance"
        return "differs"


def compare(
    original: Run,
    replayed: Run,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    overrides: Mapping[str, Any] | None = None,
) -> Comparison:
    """Compare every facet; see the module docstring for the rules."""
    context = read_context(original, replayed, overrides or {})
    tolerance = rtol > 0 or atol > 0
    metric_findings = _metrics(original, replayed, context, rtol, atol)
    metrics_within = tolerance and bool(original.metrics) and all(f.tolerated for f in metric_findings)
    findings = [
        *_params(original, replayed, context),
        *_inputs(context),
        *metric_findings,
        *_artifacts(original, replayed, context, tolerated=metrics_within),
        *_stdout(original, replayed, context, tolerated=metrics_within),
        *_errors(original, replayed, context),
        *(Finding(d, decisive=False) for d in context_differences(context)),
    ]
    return Comparison(findings)


def compare_runs(
    original: Run,
    replayed: Run,
    rtol: float = 0.0,
    atol: float = 0.0,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> list[Difference]:
    """Every difference between ``original`` and its replay ``replayed``, each with its cause.

    Parameters
    ----------
    original, replayed:
        The recorded run and the run its replay recorded.
    rtol, atol:
        Relative and absolute tolerance for metrics (0: exact).
    overrides:
        Parameters the replay changed on purpose (``-p``).
    """
    return compare(original, replayed, rtol=rtol, atol=atol, overrides=overrides).differences


def verdict(
    original: Run,
    replayed: Run | None,
    rtol: float = 0.0,
    atol: float = 0.0,
    *,
    overrides: Mapping[str, Any] | None = None,
    failed: bool = False,
) -> Verdict:
    """The verdict of a replay: ``failed`` when it did not record a finished run."""
    if failed or replayed is None:
        return "failed"
    return compare(original, replayed, rtol=rtol, atol=atol, overrides=overrides).verdict


# -- result facets -----------------------------------------------------------------


def _params(original: Run, replayed: Run, context: Context) -> list[Finding]:
    findings = []
    for key in sorted(set(original.params) | set(replayed.params) | set(context.overrides)):
        old, new = original.params.get(key, _ABSENT), replayed.params.get(key, _ABSENT)
        if key in context.overrides:
            new = context.overrides[key]
            if _same(old, new):
                continue
            findings.append(Finding(Difference(
                "param", key, _shown(old), new, "parameter_override",
                f"{key} was set to {new!r} for this replay (was {_text(old)})",
            ), decisive=False))
            continue
        if _same(old, new):
            continue
        cause, why = attribute(context, f"parameter {key}")
        findings.append(Finding(Difference(
            "param", key, _shown(old), _shown(new), cause, f"{key}: {_text(old)} -> {_text(new)}; {why}",
        ), decisive=True))
    return findings


def _inputs(context: Context) -> list[Finding]:
    return [Finding(d, decisive=True) for d in context.input_differences]


def _metrics(original: Run, replayed: Run, context: Context, rtol: float, atol: float) -> list[Finding]:
    findings = []
    for key in sorted(set(original.metrics) | set(replayed.metrics)):
        old, new = original.metrics.get(key), replayed.metrics.get(key)
        if old is not None and new is not None and _same(old, new):
            continue
        tolerated = (
            old is not None and new is not None and (rtol > 0 or atol > 0)
            and math.isclose(old, new, rel_tol=rtol, abs_tol=atol)
        )
        cause, why = attribute(context, f"metric {key}")
        if tolerated:
            why = f"within tolerance (rtol={rtol:g}, atol={atol:g}); {why}"
        findings.append(Finding(Difference(
            "metric", key, old, new, cause, f"{key}: {_text(old)} -> {_text(new)}; {why}",
        ), decisive=True, tolerated=tolerated))
    return findings


_COMPARED_KINDS = ("model", "figure", "file")


def _artifacts(original: Run, replayed: Run, context: Context, *, tolerated: bool) -> list[Finding]:
    old = {(a.kind, a.name): a.id for a in original.artifacts if a.kind in _COMPARED_KINDS}
    new = {(a.kind, a.name): a.id for a in replayed.artifacts if a.kind in _COMPARED_KINDS}
    findings = []
    for kind, name in sorted(set(old) | set(new)):
        a, b = old.get((kind, name)), new.get((kind, name))
        if a == b:
            continue
        cause, why = attribute(context, f"{kind} {name}")
        if a is None or b is None:
            what = f"{kind} {name} was {'not ' if b is None else 'only '}produced by the replay"
            tolerated_here = False
        else:
            what = f"{kind} {name}: content differs (sha256 {a[:12]}… -> {b[:12]}…)"
            tolerated_here = tolerated
        findings.append(Finding(Difference(
            "artifact", f"{kind}:{name}", a, b, cause, f"{what}; {why}",
        ), decisive=True, tolerated=tolerated_here))
    return findings


def _stdout(original: Run, replayed: Run, context: Context, *, tolerated: bool) -> list[Finding]:
    if original.stdout == replayed.stdout:
        return []
    line = _first_differing_line(original.stdout, replayed.stdout)
    cause, why = attribute(context, "stdout")
    return [Finding(Difference(
        "stdout", "stdout", original.stdout, replayed.stdout, cause,
        f"printed output differs from line {line}; {why}",
    ), decisive=True, tolerated=tolerated)]


def _errors(original: Run, replayed: Run, context: Context) -> list[Finding]:
    old = (original.error.ename, original.error.evalue) if original.error else None
    new = (replayed.error.ename, replayed.error.evalue) if replayed.error else None
    if old == new and original.status == replayed.status:
        return []
    cause, why = attribute(context, "outcome")
    shown = [f"{e[0]}: {e[1]}" if e else None for e in (old, new)]
    return [Finding(Difference(
        "error", "status", f"{original.status} {shown[0] or ''}".strip(),
        f"{replayed.status} {shown[1] or ''}".strip(), cause,
        f"the original {original.status}, the replay {replayed.status}; {why}",
    ), decisive=True)]


# -- helpers ----------------------------------------------------------------------------


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and bool(a == b)


def _shown(value: Any) -> Any:
    return None if value is _ABSENT else value


def _text(value: Any) -> str:
    return "absent" if value is _ABSENT or value is None else repr(value)


def _first_differing_line(a: str, b: str) -> int:
    for number, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), start=1):
        if x != y:
            return number
    return min(len(a.splitlines()), len(b.splitlines())) + 1
