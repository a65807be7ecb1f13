"""Plain-text views of runs for the terminal (the CLI's non-JSON output)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .entities import Run, RunSummary

_MAX_METRIC_COLUMNS = 4


def _time(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A left-aligned text table with a header rule."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def runs_table(runs: Sequence[RunSummary]) -> str:
    """``trackbook runs``: one line per run with its first metrics."""
    if not runs:
        return "no runs yet: add %%track to a notebook cell (see `trackbook demo`)"
    metric_keys: list[str] = []
    for run in runs:
        for key in run.metrics:
            if key not in metric_keys and len(metric_keys) < _MAX_METRIC_COLUMNS:
                metric_keys.append(key)
    headers = ["id", "name", "status", "started (UTC)", "duration_s", *metric_keys, "notebook"]
    rows = [
        [run.id, run.name or "", run.status, _time(run.started_at), _num(run.duration_s),
         *[_num(run.metrics.get(k)) for k in metric_keys], run.notebook or ""]
        for run in runs
    ]
    return table(headers, rows)


def run_details(run: Run) -> str:
    """``trackbook show``: every facet, in the order an auditor reads them."""
    out = [f"run {run.id}" + (f"  {run.name}" if run.name else "")]
    out.append(mapping({
        "status": run.status, "user": run.user, "host": run.host,
        "notebook": run.notebook, "cell_id": run.cell_id, "execution_count": run.execution_count,
        "started_at": _time(run.started_at), "ended_at": _time(run.ended_at),
        "duration_s": _num(run.duration_s), "replay_of": run.replay_of,
        "environment": run.environment_id,
    }))
    _section(out, "params", mapping(run.params) if run.params else "")
    _section(out, "metrics", mapping({k: _num(v) for k, v in run.metrics.items()}) if run.metrics else "")
    _section(out, "seeds", mapping(run.seeds) if run.seeds else "")
    _section(out, "tags", mapping(run.tags) if run.tags else "")
    if run.inputs:
        _section(out, "inputs", table(
            ["name", "kind", "shape", "fingerprint"],
            [[i.name, i.kind, "x".join(map(str, i.shape or [])) or "-", i.fingerprint] for i in run.inputs],
        ))
    if run.artifacts:
        _section(out, "artifacts", table(
            ["name", "kind", "size", "id"], [[a.name, a.kind, a.size, a.id[:16]] for a in run.artifacts],
        ))
    if run.dependencies:
        _section(out, "reads", ", ".join(
            f"{d.name} (In[{d.execution_count}])" if d.execution_count else f"{d.name} (outside history)"
            for d in run.dependencies
        ))
    if run.warnings:
        _section(out, "warnings", "\n".join(f"[{w.kind}] {w.message}" for w in run.warnings))
    if run.error:
        _section(out, "error", f"{run.error.ename}: {run.error.evalue}")
    _section(out, "code", run.code)
    if run.environment:
        env = run.environment
        _section(out, "environment", mapping({
            "python": env.python, "platform": env.platform, "kernel": env.kernel,
            "packages": len(env.packages), "git": json.dumps(env.git) if env.git else "-",
        }))
    _section(out, "history", "\n".join(
        f"In[{h.execution_count}]: {h.source.splitlines()[0] if h.source else ''}" for h in run.history
    ))
    return "\n".join(out)


def _section(out: list[str], title: str, body: str) -> None:
    if body:
        out.append(f"\n{title}:")
        out.append("\n".join(f"  {line}" for line in body.splitlines()))


def mapping(values: Mapping[str, Any]) -> str:
    """``key: value`` lines, keys aligned."""
    if not values:
        return ""
    width = max(len(str(k)) for k in values)
    return "\n".join(f"{str(k).ljust(width)}  {'-' if v is None else v}" for k, v in values.items())


def run_diff(diff: Mapping[str, Any]) -> str:
    """``trackbook diff``: only what differs."""
    a, b = diff["runs"]
    out = [f"diff {a} -> {b}"]
    for facet in ("params", "metrics", "inputs", "artifacts", "seeds", "tags"):
        changes = diff.get(facet) or []
        if changes:
            _section(out, facet, table(["key", a[:10], b[:10]], [[c["key"], _num(c["a"]), _num(c["b"])] for c in changes]))
    env = diff.get("environment") or {}
    env_rows = _environment_rows(env)
    if env_rows:
        _section(out, "environment", table(["package", a[:10], b[:10]], env_rows))
    if diff.get("code"):
        _section(out, "code", "\n".join(diff["code"]))
    if len(out) == 1:
        out.append("no differences in params, metrics, inputs, artifacts, seeds, tags, environment or code")
    return "\n".join(out)


def _environment_rows(env: Mapping[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for change in env.get("packages", []) if isinstance(env.get("packages"), list) else []:
        rows.append([change.get("name", "?"), change.get("a") or "-", change.get("b") or "-"])
    for key in ("python", "platform"):
        if key in env and isinstance(env[key], Mapping):
            rows.append([key, str(env[key].get("a")), str(env[key].get("b"))])
    return rows


def verify_report(report: Any) -> str:
    """``trackbook store verify``."""
    lines = [f"store verify: {'ok' if report.ok else 'FAILED'}"]
    lines.extend(f"  {k}: {v}" for k, v in report.checked.items())
    lines.extend(f"  problem: {p}" for p in report.problems)
    return "\n".join(lines)


def demo_result(result: Mapping[str, Any]) -> str:
    """``trackbook demo``: where things went and which runs were recorded."""
    out = [f"executed {result['notebook']} -> {result['output']}", f"store: {result['store']}", ""]
    runs = result.get("runs", [])
    out.append(runs_table(runs) if runs else "no runs recorded")
    return "\n".join(out)
