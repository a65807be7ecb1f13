"""Turn a finished cell into the facets of its run.

Called by :meth:`trackbook.tracking.Tracker.finish` after the body ran and
the recorders were closed. Each facet is one guarded step, so one failing
facet costs only that facet. Redaction runs last and over everything that
holds user text, so no later step can reintroduce a secret.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .entities import Artifact, HistoryEntry, InputRecord, Metric, RunError

if TYPE_CHECKING:
    from .tracking import ActiveRun, Tracker

Guard = Callable[..., Any]

#: Data inputs larger than this are fingerprinted but not profiled twice per run.
_MAX_INPUTS = 50


def capture_facets(tracker: Tracker, active: ActiveRun, guard: Guard) -> None:
    """Fill every facet of ``active.run`` that the kernel's state can still change.

    Runs on the cell's critical path, right after the body. The environment
    is the one facet left to :func:`capture_environment_facet`: it does not
    depend on the user's namespace, so the keeper thread captures it.
    Failures become warnings.
    """
    names = guard(active, "code", _code_facts, active)
    if names is None:
        from .capture.assignments import CellFacts

        names = CellFacts()
    guard(active, "history", _history, active)
    guard(active, "dependencies", _dependencies, active)
    guard(active, "parameters", _parameters, active, names)
    guard(active, "metrics", _metrics, active, names)
    guard(active, "seeds", _seeds, active)
    guard(active, "streams", _streams, active)
    if active.options.data:
        guard(active, "inputs", _inputs, active, names)
    if active.options.models:
        guard(active, "models", _models, tracker, active, names)
    guard(active, "figures", _figures, tracker, active)
    active.run.artifacts.extend(active.logged_artifacts)
    guard(active, "redaction", _redact, active)


def _code_facts(active: ActiveRun) -> Any:
    from .capture.assignments import cell_facts

    return cell_facts(active.context.source, active.context.transform)


def _history(active: ActiveRun) -> None:
    from .capture.history import build_history

    ctx = active.context
    active.run.history = build_history(ctx.history_inputs, ctx.cell_ids, upto=ctx.execution_count)


def _dependencies(active: ActiveRun) -> None:
    from .capture.dependencies import analyze_dependencies

    history = active.run.history
    earlier = [entry for entry in history if entry.execution_count != active.run.execution_count]
    deps, warnings = analyze_dependencies(
        active.context.source,
        earlier,
        namespace_names=active.context.namespace.keys(),
        transform=active.context.transform,
    )
    active.run.dependencies = deps
    active.run.warnings.extend(warnings)


def _parameters(active: ActiveRun, names: Any) -> None:
    from .capture.params import estimator_params, named_params, papermill_params

    params: dict[str, Any] = {}
    params.update(papermill_params(active.run.history))
    params.update(names.literals)
    ns = active.context.namespace
    for name in names.stored:
        value = ns.get(name)
        if value is not None and hasattr(value, "get_params"):
            params.update(estimator_params(name, value))
    params.update(named_params(active.options.params, ns))
    params.update(active.logged_params)
    active.run.params = params


def _metrics(active: ActiveRun, names: Any) -> None:
    from .capture.metrics import scalar_metrics

    metrics, problems = scalar_metrics(
        names.stored,
        active.context.namespace,
        # Literals are parameters; loop counters are rarely results.
        exclude=set(names.literals) | set(active.run.params) | set(names.loop_targets),
        only=active.options.metrics,
    )
    for problem in problems:
        active.warn("capture_error", f"metrics: {problem}")
    history = [Metric(key, value, 0) for key, value in metrics.items()]
    history.extend(active.logged_metrics)
    latest: dict[str, Metric] = {}
    for metric in history:
        current = latest.get(metric.key)
        if current is None or metric.step >= current.step:
            latest[metric.key] = metric
    active.run.metric_history = _dedupe_steps(history)
    active.run.metrics = {key: metric.value for key, metric in latest.items()}


def _dedupe_steps(metrics: list[Metric]) -> list[Metric]:
    """One value per (key, step): the last logged wins, as a user would expect."""
    by_step: dict[tuple[str, int], Metric] = {}
    for metric in metrics:
        by_step[(metric.key, metric.step)] = metric
    return list(by_step.values())


def _seeds(active: ActiveRun) -> None:
    if active.seeds is not None:
        active.run.seeds = dict(active.seeds.record)


def capture_environment_facet(active: ActiveRun, process_env: Mapping[str, str], guard: Guard) -> None:
    """Fill the environment facet; ``process_env`` is ``os.environ`` as the cell left it."""
    guard(active, "environment", _environment, active, process_env)


def _environment(active: ActiveRun, process_env: Mapping[str, str]) -> None:
    from .capture.environment import capture_environment
    from .capture.secrets import allowed_env_vars

    env = capture_environment(
        kernel_name=active.context.kernel_name,
        cwd=active.context.cwd,
        env_vars=allowed_env_vars(process_env),
    )
    active.run.environment = env
    active.run.environment_id = env.id


def _streams(active: ActiveRun) -> None:
    if active.streams is not None:
        active.run.stdout = active.streams.stdout
        active.run.stderr = active.streams.stderr


def _inputs(active: ActiveRun, names: Any) -> None:
    from .capture.inputs import describe_file, describe_input

    if not _data_libraries_loaded():
        records: list[InputRecord] = []
    else:
        ns = active.context.namespace
        records = []
        for name in sorted(names.loaded):
            if name in ns and len(records) < _MAX_INPUTS:
                record = describe_input(name, ns[name])
                if record is not None:
                    records.append(record)
    if active.files is not None:
        for path in active.files.paths:
            try:
                records.append(describe_file(path))
            except OSError as exc:
                active.warn("capture_error", f"inputs: cannot fingerprint {path}: {exc}")
    active.run.inputs = records


def _data_libraries_loaded() -> bool:
    # A cell can only hold DataFrames or arrays if their libraries are imported;
    # checking first keeps untouched kernels from importing them.
    return "numpy" in sys.modules or "pandas" in sys.modules


def _models(tracker: Tracker, active: ActiveRun, names: Any) -> None:
    from .capture.outputs import dump_model, is_model

    ns = active.context.namespace
    for name in names.stored:
        value = ns.get(name)
        if value is None or not is_model(value):
            continue
        try:
            blob_id, size = dump_model(value, tracker.blobs.writer())
        except Exception as exc:
            active.warn("capture_error", f"models: {name}: {type(exc).__name__}: {exc}")
            continue
        media = "application/vnd.trackbook.joblib"
        active.run.artifacts.append(Artifact(blob_id, name, "model", media, size))


def _figures(tracker: Tracker, active: ActiveRun) -> None:
    from .capture.outputs import figures_png, open_figures

    figures = [fig for fig in open_figures() if id(fig) not in active.figures_before]
    if not figures:
        figures = open_figures()  # figures the cell drew on but did not create
    for label, png in figures_png(figures):
        ref = tracker.blobs.put_bytes(png)
        active.run.artifacts.append(Artifact(ref.id, f"{label}.png", "figure", "image/png", ref.size))


def _redact(active: ActiveRun) -> None:
    from .capture.secrets import redactor_for

    redactor = redactor_for(os.environ)
    run = active.run
    before = _fingerprint_text(run)
    run.code = redactor.redact(run.code)
    run.name = redactor.redact(run.name) if run.name else run.name
    run.history = [_redact_entry(redactor, entry) for entry in run.history]
    run.params = {key: redactor.redact_value(key, value) for key, value in run.params.items()}
    run.tags = {key: str(redactor.redact_value(key, value)) for key, value in run.tags.items()}
    run.stdout = redactor.redact(run.stdout)
    run.stderr = redactor.redact(run.stderr)
    if run.error is not None:
        run.error = RunError(
            run.error.ename,
            redactor.redact(run.error.evalue),
            [redactor.redact(line) for line in run.error.traceback],
        )
    run.inputs = [
        _redact_input(redactor, record) for record in run.inputs
    ]
    if _fingerprint_text(run) != before:
        active.warn("redacted", "values that look like credentials were redacted before storage")


def _redact_entry(redactor: Any, entry: HistoryEntry) -> HistoryEntry:
    source = redactor.redact(entry.source)
    if source is entry.source or source == entry.source:  # the common case: keep the entry
        return entry
    return HistoryEntry(entry.execution_count, source, entry.cell_id)


def _redact_input(redactor: Any, record: InputRecord) -> InputRecord:
    if record.path is None:
        return record
    from dataclasses import replace

    return replace(record, path=redactor.redact(record.path))


def _fingerprint_text(run: Any) -> int:
    return hash((run.code, run.stdout, run.stderr, tuple(map(repr, run.params.values())),
                 tuple(e.source for e in run.history), run.error and run.error.evalue))
